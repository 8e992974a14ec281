"""The install manifests are accepted by the real API server (server-side dry run of every object)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import AlreadyExists
from rollouts.kube.resources import NAMESPACE

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("bundle", ["install.yaml", "rollouts-only.yaml"])
async def test_install_bundle_passes_server_side_dry_run(kube: KubeClient, crds: None, bundle: str) -> None:
    docs = [d for d in yaml.safe_load_all((REPO / "manifests" / bundle).read_text()) if d]
    # namespaced objects need their namespace to exist for a dry run; create it for real (idempotent)
    try:
        await kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rollouts"}})
    except AlreadyExists:
        pass
    applied = 0
    for doc in docs:
        kind = await kube.resolve(doc["apiVersion"], doc["kind"])
        await kube.apply(kind, doc, field_manager="install-test", dry_run=True)
        applied += 1
    assert applied == len(docs) >= 10
