"""kube-score (v1.20.0, its own checks through tests/oracles/kubescore) finds nothing wrong with the bundles
beyond two findings kept on purpose.

Issue 18 named the gaps kube-score reported on install.yaml: no PodDisruptionBudget for the two replicas, no
host anti-affinity, no NetworkPolicy, no ephemeral-storage requests and limits. On the old bundle this test
reports exactly those (CRITICAL/WARNING) and fails.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.oracles import oracle_binary

REPO = Path(__file__).resolve().parents[3]

ACCEPTED = {
    # Versioned tags are immutable (<repository>:v<version>): IfNotPresent keeps a restart from depending on the
    # registry. kube-score wants Always, which only matters for mutable tags such as `latest`.
    "container-image-pull-policy": None,
    # The Application reconciler runs one acting replica on purpose (Git checkouts in /tmp; its own Lease).
    "deployment-replicas": "Deployment/rollouts/rollouts-applications",
}


def findings(path: Path) -> list[dict[str, Any]]:
    res = subprocess.run([str(oracle_binary("kubescore")), str(path)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines()]


def _accepted(finding: dict[str, Any]) -> bool:
    if finding["check"] not in ACCEPTED:
        return False
    only = ACCEPTED[finding["check"]]
    return only is None or finding["object"] == only


@pytest.mark.parametrize("bundle", ["install.yaml", "rollouts-only.yaml", "namespace-install.yaml"])
def test_kube_score_finds_nothing_but_the_accepted_findings(bundle: str) -> None:
    results = findings(REPO / "manifests" / bundle)
    assert {r["check"] for r in results} >= {"pod-networkpolicy", "deployment-has-poddisruptionbudget",
                                             "deployment-has-host-podantiaffinity",
                                             "container-ephemeral-storage-request-and-limit"}, \
        "kube-score did not run the checks issue 18 names"
    bad = [f"{r['grade']} {r['object']} {r['check']}: {'; '.join(r['comments'])}" for r in results if not r["skipped"] and r["grade"] in ("CRITICAL", "WARNING") and not _accepted(r)]
    assert not bad, "kube-score on manifests/" + bundle + ":\n" + "\n".join(bad)
