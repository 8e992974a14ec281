"""Experiments on the real control plane: templates -> ReplicaSets and Services, duration, scale-down delay,
terminate and retry, analyses deciding the phase (Successful, Failed, Inconclusive) and an invalid spec.

Expected phases, messages and event reasons are Argo's (experiments/experiment.go, test/e2e/experiment_test.go
of v1.10.2). Analyses use the web provider against a small local server whose answer decides the verdict.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import ANALYSISRUN, ANALYSISTEMPLATE, EVENT, EXPERIMENT, REPLICASET, SERVICE
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


def _template(name: str, *, service: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name, "replicas": 1, "selector": {"matchLabels": {"app": f"exp-{name}"}},
        "template": {"metadata": {"labels": {"app": f"exp-{name}"}}, "spec": {"containers": [
            {"name": "app", "image": f"example/{name}:1", "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]}},
    }
    if service is not None:
        out["service"] = service
    return out


def _experiment(name: str, templates: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "metadata": {"name": name},
            "spec": {"templates": templates, **spec}}


async def _get(kube: KubeClient, ns: str, name: str) -> dict[str, Any]:
    return await kube.get(EXPERIMENT, name, ns)


async def _phase(kube: KubeClient, ns: str, name: str, phase: str, timeout: float = 60) -> dict[str, Any]:
    return await eventually(lambda: _get(kube, ns, name), lambda e: (e.get("status") or {}).get("phase") == phase,
                            timeout=timeout, expected=f"Experiment {name} in phase {phase}")


async def _replicas(kube: KubeClient, ns: str, rs: str) -> int:
    return int((await kube.get(REPLICASET, rs, ns))["spec"]["replicas"])


async def _reasons(kube: KubeClient, ns: str, name: str) -> list[str]:
    events, _ = await kube.list(EVENT, ns, field_selector=f"involvedObject.kind=Experiment,involvedObject.name={name}")
    return [e["reason"] for e in events]


@pytest.fixture
async def verdicts() -> AsyncIterator[str]:
    """http://127.0.0.1:PORT/<n> answers {"value": n}."""
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"value": int(request.match_info["n"])})

    app = web.Application()
    app.router.add_get("/{n}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_service_duration_and_scale_down_delay(kube: KubeClient, namespace: str, controller: Controller
                                                     ) -> None:
    """Argo's TestExperimentWithServiceAndScaleDownDelay, plus the named Service of ...WithServiceName."""
    await kube.create(EXPERIMENT, _experiment("svc", [_template("test", service={}),
                                                      _template("named", service={"name": "my-named"})],
                                              duration="3s", scaleDownDelaySeconds=2), namespace)
    ex = await _phase(kube, namespace, "svc", "Running")
    assert ex["status"]["availableAt"]
    service = await kube.get(SERVICE, "svc-test", namespace)
    assert service["spec"]["selector"]["app"] == "exp-test" and service["spec"]["ports"][0]["port"] == 8080
    assert (await kube.get(SERVICE, "my-named", namespace))["metadata"]["ownerReferences"][0]["kind"] == "Experiment"
    statuses = {t["name"]: t for t in ex["status"]["templateStatuses"]}
    assert statuses["named"]["serviceName"] == "my-named" and statuses["test"]["status"] == "Running"
    ex = await _phase(kube, namespace, "svc", "Successful")
    assert await _replicas(kube, namespace, "svc-test") == 1  # kept for scaleDownDelaySeconds
    await eventually(lambda: _replicas(kube, namespace, "svc-test"), lambda n: n == 0, timeout=30,
                     expected="svc-test scaled to 0 after the scale-down delay")

    async def service_gone() -> bool:
        try:
            await kube.get(SERVICE, "svc-test", namespace)
        except NotFound:
            return True
        return False

    await eventually(service_gone, bool, timeout=30, expected="Service svc-test deleted once its pods are gone")
    reasons = await _reasons(kube, namespace, "svc")
    for reason in ("ExperimentPending", "ExperimentRunning", "TemplateRunning", "TemplateSuccessful",
                   "ExperimentSuccessful", "ScalingReplicaSet"):
        assert reason in reasons


async def test_terminate_ends_a_running_experiment(kube: KubeClient, namespace: str, controller: Controller) -> None:
    await kube.create(EXPERIMENT, _experiment("term", [_template("baseline")], scaleDownDelaySeconds=0), namespace)
    await _phase(kube, namespace, "term", "Running")
    await kube.patch(EXPERIMENT, "term", {"spec": {"terminate": True}}, namespace)
    ex = await _phase(kube, namespace, "term", "Successful")
    assert ex["status"]["templateStatuses"][0]["status"] == "Successful"
    await eventually(lambda: _replicas(kube, namespace, "term-baseline"), lambda n: n == 0, timeout=30,
                     expected="term-baseline scaled to 0 at once (scaleDownDelaySeconds 0)")
    # `retry experiment` (Argo's plugin merge-patches the object's status away): it starts again
    await kube.patch(EXPERIMENT, "term", {"spec": {"terminate": False}, "status": None}, namespace)
    await _phase(kube, namespace, "term", "Running")
    assert await _replicas(kube, namespace, "term-baseline") == 1


@pytest.mark.parametrize(("answer", "phase"), [(1, "Successful"), (0, "Failed"), (5, "Inconclusive")])
async def test_analysis_decides_the_phase(kube: KubeClient, namespace: str, controller: Controller, verdicts: str,
                                         answer: int, phase: str) -> None:
    await kube.create(ANALYSISTEMPLATE, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "verdict"},
        "spec": {"args": [{"name": "hash"}, {"name": "n"}], "metrics": [{
            "name": "verdict", "successCondition": "result == 1", "failureCondition": "result == 0",
            "provider": {"web": {"url": f"{verdicts}/{{{{args.n}}}}?h={{{{args.hash}}}}", "jsonPath": "{$.value}"}},
        }]}}, namespace)
    await kube.create(EXPERIMENT, _experiment("an", [_template("baseline"), _template("canary")], analyses=[{
        "name": "compare", "templateName": "verdict", "requiredForCompletion": True,
        "args": [{"name": "hash", "value": "{{templates.canary.podTemplateHash}}"}, {"name": "n", "value": str(answer)}],
    }]), namespace)
    ex = await _phase(kube, namespace, "an", phase)
    run = await kube.get(ANALYSISRUN, "an-compare", namespace)
    canary_hash = (await kube.get(REPLICASET, "an-canary", namespace))["metadata"]["labels"]["rollouts-pod-template-hash"]
    assert {"name": "hash", "value": canary_hash} in run["spec"]["args"]
    assert ex["status"]["analysisRuns"] == [{"name": "compare", "analysisRun": "an-compare", "phase": phase,
                                             **({"message": run["status"]["message"]}
                                                if run["status"].get("message") else {})}]
    if phase == "Successful":
        assert ex["status"]["message"] == "Required AnalysisRuns completed"
    assert f"Experiment{phase}" in await _reasons(kube, namespace, "an")


async def test_invalid_spec_is_reported_and_nothing_is_created(kube: KubeClient, namespace: str,
                                                               controller: Controller) -> None:
    await kube.create(EXPERIMENT, _experiment("bad", [_template("a"), _template("a")]), namespace)
    ex = await eventually(lambda: _get(kube, namespace, "bad"), lambda e: bool((e.get("status") or {}).get("conditions")),
                          timeout=30, expected="an InvalidSpec condition")
    (condition,) = ex["status"]["conditions"]
    assert (condition["type"], condition["message"]) == ("InvalidSpec",
                                                         "Experiment bad has repeated template name 'a' in templates")
    replica_sets, _ = await kube.list(REPLICASET, namespace)
    assert not replica_sets
