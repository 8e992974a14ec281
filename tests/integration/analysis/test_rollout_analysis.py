"""Metric-gated canaries end to end: the real controller, the AnalysisRun reconciler and a real Prometheus.

The template's query selects the canary by its pod-template hash (`{{args.canary-hash}}`, filled from the
Rollout's `valueFrom.podTemplateHashValue: Latest`), so the exporter publishes a series per hash and the
test decides how healthy the canary is.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rollouts.controller.analysis_runs import run_analysis_runs
from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ANALYSISRUN, ANALYSISTEMPLATE, ROLLOUT, SERVICE
from rollouts.planning.hashing import pod_template_hash
from tests.integration.analysis.conftest import Prometheus, free_port
from tests.support.controller import controller_in_process
from tests.support.rollouts import HASH, canary_rollout, create_services, get_rollout, wait_phase, wait_pods
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

NAME = "shop"
STEPS = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "error-rate"}], "args": [
    {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]}}, {"setWeight": 60}]


@pytest.fixture
async def full_controller(kubeconfig: Path, namespace: str, crds: None) -> AsyncIterator[Controller]:
    """The controller with the AnalysisRun reconciler as one of its components."""
    async with controller_in_process(kubeconfig, namespace=namespace,
                                     extra_components=[("analysis-runs", run_analysis_runs)]) as running:
        yield running


def _template(address: str, tag: str, **metric: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "error-rate"},
        "spec": {"args": [{"name": "canary-hash"}], "metrics": [{
            "name": "error-rate", "interval": "1s", "count": 3, "initialDelay": "1s",
            "successCondition": "result[0] < 0.05",
            "provider": {"prometheus": {"address": address, "timeout": 5, "query":
                                        f"error_rate{{test='{tag}', hash='{{{{args.canary-hash}}}}'}}"}},
            **metric}]},
    }


async def _start(kube: KubeClient, namespace: str, prometheus: Prometheus, template: dict[str, Any],
                 canary_error_rate: float) -> tuple[str, str]:
    """Healthy stable, then an update whose canary reports `canary_error_rate`; returns (stable, canary) hashes."""
    await kube.create(ANALYSISTEMPLATE, template, namespace)
    await create_services(kube, namespace, NAME, f"{NAME}-stable", f"{NAME}-canary")
    manifest = canary_rollout(NAME, steps=STEPS, stableService=f"{NAME}-stable", canaryService=f"{NAME}-canary")
    await kube.create(ROLLOUT, manifest, namespace)
    ro = await wait_phase(kube, namespace, NAME, "Healthy")
    stable = ro["status"]["stableRS"]
    updated = copy.deepcopy(ro["spec"]["template"])
    updated["spec"]["containers"][0]["image"] = "example/app:green"
    canary = pod_template_hash(updated)
    tag = template["spec"]["metrics"][0]["provider"]["prometheus"]["query"].split("'")[1]
    prometheus.exporter.set("error_rate", {"test": tag, "hash": canary}, canary_error_rate)
    await eventually(lambda: prometheus.query(f"error_rate{{test='{tag}'}}"), lambda r: len(r) == 1, timeout=30,
                     expected="the canary's error rate in Prometheus")
    await kube.patch(ROLLOUT, NAME, {"spec": {"template": updated}}, namespace)
    return stable, canary


async def _step_run(kube: KubeClient, namespace: str) -> dict[str, Any]:
    async def runs() -> list[dict[str, Any]]:
        items, _ = await kube.list(ANALYSISRUN, namespace)
        return items

    found = await eventually(runs, lambda items: len(items) == 1, timeout=60, expected="one step AnalysisRun")
    return found[0]


async def test_healthy_canary_is_promoted_through_the_analysis_step(
        kube: KubeClient, namespace: str, full_controller: Controller, prometheus: Prometheus) -> None:
    tag = uuid.uuid4().hex[:8]
    _, canary = await _start(kube, namespace, prometheus, _template(prometheus.address, tag), 0.01)
    ro = await wait_phase(kube, namespace, NAME, "Healthy", timeout=120)
    assert ro["status"]["stableRS"] == canary
    run = await _step_run(kube, namespace)
    assert run["status"]["phase"] == "Successful"
    assert run["metadata"]["labels"]["rollout-type"] == "Step"
    assert run["spec"]["args"] == [{"name": "canary-hash", "value": canary}]
    await wait_pods(kube, namespace, NAME, {canary: 5})


async def test_error_rate_regression_aborts_and_traffic_returns_to_stable(
        kube: KubeClient, namespace: str, full_controller: Controller, prometheus: Prometheus) -> None:
    tag = uuid.uuid4().hex[:8]
    stable, canary = await _start(kube, namespace, prometheus, _template(prometheus.address, tag), 0.30)
    ro = await wait_phase(kube, namespace, NAME, "Degraded", timeout=120)
    assert ro["status"].get("abort") is True
    assert "error-rate" in ro["status"]["message"] and "Failed" in ro["status"]["message"]
    await wait_pods(kube, namespace, NAME, {stable: 5})
    for service in (f"{NAME}-stable", f"{NAME}-canary"):
        got = await kube.get(SERVICE, service, namespace)
        assert got["spec"]["selector"][HASH] == stable, f"{service} still selects the canary {canary}"


async def test_prometheus_down_errors_and_aborts_with_the_reason(
        kube: KubeClient, namespace: str, full_controller: Controller, prometheus: Prometheus) -> None:
    tag = uuid.uuid4().hex[:8]
    template = _template(f"http://127.0.0.1:{free_port()}", tag, consecutiveErrorLimit=1)
    template["spec"]["metrics"][0]["provider"]["prometheus"]["query"] = f"error_rate{{test='{tag}'}}"
    stable, _ = await _start(kube, namespace, prometheus, template, 0.0)
    ro = await wait_phase(kube, namespace, NAME, "Degraded", timeout=120)
    message = ro["status"]["message"]
    assert "Error" in message and "consecutiveErrors (2) > consecutiveErrorLimit (1)" in message, message
    await wait_pods(kube, namespace, NAME, {stable: 5})


async def test_inconclusive_run_pauses_the_rollout(
        kube: KubeClient, namespace: str, full_controller: Controller, prometheus: Prometheus) -> None:
    tag = uuid.uuid4().hex[:8]
    template = _template(prometheus.address, tag, failureCondition="result[0] > 0.2")
    await _start(kube, namespace, prometheus, template, 0.10)

    def paused_inconclusive(ro: dict[str, Any]) -> bool:
        reasons = [c.get("reason") for c in (ro.get("status") or {}).get("pauseConditions") or []]
        return "InconclusiveAnalysisRun" in reasons

    ro = await eventually(lambda: get_rollout(kube, namespace, NAME), paused_inconclusive, timeout=120,
                          expected="a pause with reason InconclusiveAnalysisRun")
    assert ro["status"]["phase"] == "Paused"
    run = await _step_run(kube, namespace)
    assert run["status"]["phase"] == "Inconclusive"
