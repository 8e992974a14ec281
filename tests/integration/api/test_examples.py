"""Every manifest under examples/ validates against our models and is accepted by the real API server.

The docs point users at these files, so a broken example is a broken promise: each document is parsed by
the models (and Rollouts by the controller's own spec validation), then applied to the API server with a
server-side dry run, which runs the CRD's structural schema and every admission check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.api.analysis import AnalysisTemplate, ClusterAnalysisTemplate
from rollouts.api.application import Application
from rollouts.api.appproject import AppProject
from rollouts.api.validation import check_rollout
from rollouts.kube.client import KubeClient
from rollouts.notifications.config import ARGOCD_CONFIGMAP, ROLLOUTS_CONFIGMAP, parse_config
from rollouts.notifications.delivery import Deliverer
from tests.support.gateway_api import install_gateway_api_crds
from tests.support.router_crds import install_router_crds

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
# examples/demo/ holds the demo's repository templates and is proven by its own test (tests/integration/demo).
EXAMPLES = sorted(p for p in (REPO / "examples").rglob("*.yaml") if "demo" not in p.relative_to(REPO / "examples").parts)

MODELS: dict[str, Any] = {
    "AnalysisTemplate": AnalysisTemplate,
    "ClusterAnalysisTemplate": ClusterAnalysisTemplate,
    "Application": Application,
    "AppProject": AppProject,
}


NOTIFICATION_CONFIGMAPS = (ROLLOUTS_CONFIGMAP, ARGOCD_CONFIGMAP)


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(REPO / "examples")) for p in EXAMPLES])
async def test_example_validates_and_applies(path: Path, kube: KubeClient, namespace: str, crds: None) -> None:
    await install_gateway_api_crds(kube)
    for router in ("traefik", "apisix", "ambassador", "istio"):
        if router in path.name:
            await install_router_crds(kube, router)
    docs = documents(path)
    assert docs, f"{path} has no documents"
    for index, doc in enumerate(docs):
        kind = doc.get("kind", "")
        where = f"{path.name} document {index} ({kind})"
        if kind == "Rollout":
            _, problems = check_rollout(doc)
            assert problems == [], f"{where}: {problems}"
        elif kind in MODELS:
            MODELS[kind].model_validate(doc)
        elif kind == "ConfigMap" and doc["metadata"]["name"] in NOTIFICATION_CONFIGMAPS:
            secret = next((d for d in docs if d.get("kind") == "Secret"), {})
            config = parse_config(doc.get("data") or {}, {k: str(v).encode() for k, v in
                                                          (secret.get("stringData") or {}).items()})
            assert config.problems == () and Deliverer(config).problems == [], f"{where}: {config.problems}"
        resource = await kube.resolve(doc["apiVersion"], kind)
        body = dict(doc)
        meta = dict(body.get("metadata") or {})
        if resource.namespaced:
            meta["namespace"] = namespace
        body["metadata"] = meta
        await kube.apply(resource, body, field_manager="examples-test", dry_run=True)
