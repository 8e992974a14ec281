"""The canary ``experiment`` step on the real control plane: Rollout -> Experiment -> verdict -> next step or abort.

Expected names, labels, messages and event reasons are Argo v1.10.2's (rollout/experiment.go, test/e2e/
experiment_test.go TestRolloutWithExperimentAndAnalysis). The analysis uses the web provider against a small local
server whose answer decides the verdict (1 = success, 0 = failure).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ANALYSISRUN, ANALYSISTEMPLATE, EXPERIMENT, REPLICASET, ROLLOUT
from tests.support.rollouts import (
    HASH,
    canary_rollout,
    event_reasons,
    get_rollout,
    replica_sets,
    set_image,
    wait_phase,
)
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


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


async def _setup(kube: KubeClient, ns: str, verdicts: str, answer: int) -> None:
    await kube.create(ANALYSISTEMPLATE, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "compare"},
        "spec": {"args": [{"name": "n"}, {"name": "stable-hash"}, {"name": "baseline-hash"}], "metrics": [{
            "name": "compare", "successCondition": "result == 1", "failureCondition": "result == 0",
            "provider": {"web": {"url": f"{verdicts}/{{{{args.n}}}}", "jsonPath": "{$.value}"}},
        }]}}, ns)
    step = {"experiment": {
        "templates": [{"name": "baseline", "specRef": "stable"}, {"name": "canary", "specRef": "canary"}],
        "analyses": [{"name": "compare", "templateName": "compare", "requiredForCompletion": True, "args": [
            {"name": "n", "value": str(answer)},
            {"name": "stable-hash", "valueFrom": {"podTemplateHashValue": "Stable"}},
            {"name": "baseline-hash", "value": "{{templates.baseline.podTemplateHash}}"},
        ]}],
    }}
    await kube.create(ROLLOUT, canary_rollout("exp", replicas=2, steps=[step, {"pause": {}}]), ns)
    await wait_phase(kube, ns, "exp", "Healthy")
    await set_image(kube, ns, "exp", "example/app:green")


async def _experiment_of(kube: KubeClient, ns: str) -> dict[str, Any]:
    async def owned() -> list[dict[str, Any]]:
        items, _ = await kube.list(EXPERIMENT, ns)
        return items

    (ex,) = await eventually(owned, lambda items: len(items) == 1, timeout=60, expected="one Experiment")
    return ex


async def test_experiment_step_runs_an_experiment_and_moves_on_when_it_succeeds(
    kube: KubeClient, namespace: str, controller: Controller, verdicts: str
) -> None:
    await _setup(kube, namespace, verdicts, answer=1)
    ex = await _experiment_of(kube, namespace)
    rollout = await get_rollout(kube, namespace, "exp")
    rss = await replica_sets(kube, namespace, "exp")
    stable_hash = rollout["status"]["stableRS"]
    canary_hash = next(h for h in rss if h != stable_hash)
    assert ex["metadata"]["name"] == f"exp-{canary_hash}-2-0"
    assert ex["metadata"]["labels"][HASH] == canary_hash
    assert ex["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    assert ex["metadata"]["ownerReferences"][0]["kind"] == "Rollout"

    paused = await wait_phase(kube, namespace, "exp", "Paused", timeout=90)
    assert paused["status"]["currentStepIndex"] == 1
    assert "currentExperiment" not in paused["status"]["canary"]
    ex = await kube.get(EXPERIMENT, ex["metadata"]["name"], namespace)
    assert ex["status"]["phase"] == "Successful"
    # the experiment's ReplicaSets run the stable and canary pod specs under their own hashes, owned by the
    # Experiment: the Rollout still has exactly its two revisions
    baseline = await kube.get(REPLICASET, f"{ex['metadata']['name']}-baseline", namespace)
    canary = await kube.get(REPLICASET, f"{ex['metadata']['name']}-canary", namespace)
    assert baseline["spec"]["template"]["spec"] == rss[stable_hash]["spec"]["template"]["spec"]
    assert canary["spec"]["template"]["spec"] == rss[canary_hash]["spec"]["template"]["spec"]
    baseline_hash = baseline["metadata"]["labels"][HASH]
    assert baseline_hash not in (stable_hash, canary_hash)
    assert baseline["metadata"]["ownerReferences"][0]["kind"] == "Experiment"
    assert sorted(await replica_sets(kube, namespace, "exp")) == sorted([stable_hash, canary_hash])
    run = await kube.get(ANALYSISRUN, f"{ex['metadata']['name']}-compare", namespace)
    args = {a["name"]: a.get("value") for a in run["spec"]["args"]}
    assert args == {"n": "1", "stable-hash": stable_hash, "baseline-hash": baseline_hash}
    reasons = await event_reasons(kube, namespace, "exp")
    assert "ExperimentCreated" in reasons and "RolloutStepCompleted" in reasons


async def test_a_failing_experiment_analysis_aborts_the_rollout(
    kube: KubeClient, namespace: str, controller: Controller, verdicts: str
) -> None:
    await _setup(kube, namespace, verdicts, answer=0)
    ex = await _experiment_of(kube, namespace)
    degraded = await wait_phase(kube, namespace, "exp", "Degraded", timeout=90)
    status = degraded["status"]
    assert status["abort"] is True
    assert status["message"].startswith(
        "RolloutAborted: Rollout aborted update to revision 2: Experiment analysis phase is error/failed")
    ex = await kube.get(EXPERIMENT, ex["metadata"]["name"], namespace)
    assert ex["status"]["phase"] == "Failed"
    rss = await replica_sets(kube, namespace, "exp")
    assert {h: rs["spec"]["replicas"] for h, rs in rss.items()} == {status["stableRS"]: 2, status["currentPodHash"]: 0}


async def test_abort_terminates_the_running_experiment(kube: KubeClient, namespace: str, controller: Controller,
                                                       verdicts: str) -> None:
    await _setup(kube, namespace, verdicts, answer=5)  # neither success nor failure: the run keeps measuring
    ex = await _experiment_of(kube, namespace)
    await kube.patch(ROLLOUT, "exp", {"status": {"abort": True}}, namespace, subresource="status")
    name = ex["metadata"]["name"]
    await eventually(lambda: kube.get(EXPERIMENT, name, namespace), lambda e: e["spec"].get("terminate") is True,
                     timeout=60, expected=f"Experiment {name} terminated by the abort")
    await wait_phase(kube, namespace, "exp", "Degraded", timeout=60)
