"""An Application whose source no source type reads is refused with InvalidSpecError, and nothing is applied.

Before, ``spec.source.chart`` was treated as a Git directory: the chart repository's URL went to ``git`` and
the user saw a misleading "repository ... is not reachable" ComparisonError.
"""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION
from tests.integration.gitops.conftest import app_probe, application, status_of
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


async def test_helm_chart_repository_source_is_an_invalid_spec_error(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    body = application("chart", repo, namespace, automated={"prune": True})
    body["spec"]["source"] = {"repoURL": "https://charts.example.com", "chart": "nginx", "targetRevision": "15.0.0"}
    await kube.create(APPLICATION, body, namespace)

    def refused(app: dict[str, Any]) -> bool:
        return any(c["type"] == "InvalidSpecError" for c in status_of(app).get("conditions", []))

    app = await eventually(app_probe(kube, "chart", namespace), refused, timeout=60,
                           expected="an InvalidSpecError condition for spec.source.chart")
    st = status_of(app)
    (condition,) = st["conditions"]
    assert condition["message"].startswith(
        "spec.source.chart 'nginx': a Helm chart repository is not a supported source type yet"), condition
    assert "git" not in condition["message"].replace("Git repositories", ""), "the URL must not reach git"
    assert st["sync"]["status"] == "Unknown" and st["health"]["status"] == "Unknown"
    assert app.get("operation") is None and "operationState" not in st, "nothing may be synced"
