"""An Application whose source no source type reads is refused with a ComparisonError naming the shape, and
nothing is fetched or applied.

Before, ``spec.source.chart`` was treated as a Git directory: the chart repository's URL went to ``git`` and
the user saw a misleading "repository ... is not reachable" ComparisonError. Charts from HTTP(S) repositories
are read by the Helm source type now (test_chart_repository.py); OCI registries are still refused by name.
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


async def test_oci_chart_source_is_refused_by_name(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    body = application("oci", repo, namespace, automated={"prune": True})
    body["spec"]["source"] = {"repoURL": "oci://registry.example.com/charts", "chart": "nginx",
                              "targetRevision": "15.0.0"}
    await kube.create(APPLICATION, body, namespace)

    def refused(app: dict[str, Any]) -> bool:
        return any(c["type"] == "ComparisonError" for c in status_of(app).get("conditions", []))

    app = await eventually(app_probe(kube, "oci", namespace), refused, timeout=60,
                           expected="a ComparisonError condition for the OCI repoURL")
    st = status_of(app)
    (condition,) = st["conditions"]
    assert condition["message"].startswith(
        "spec.source.repoURL 'oci://registry.example.com/charts': an OCI registry is not a supported source type"), \
        condition
    assert "git" not in condition["message"].replace("Git repositories", ""), "the URL must not reach git"
    assert st["sync"]["status"] == "Unknown" and st["health"]["status"] == "Unknown"
    assert app.get("operation") is None and "operationState" not in st, "nothing may be synced"
