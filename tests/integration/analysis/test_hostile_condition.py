"""A hostile condition does not freeze the controller: probes answer and other Rollouts are served meanwhile.

The condition is issue 11's: `all(result,{all(result,{all(result,{# > 0})})})` over 300 numbers is 27
million predicate calls, about 85 s of CPU in the evaluator. It runs in a worker process with a deadline, so
while it is evaluated the controller process (a real `rollouts controller` against the real control plane)
keeps answering /healthz and carries a neighbour Rollout through an update; then the measurement ends as an
Error that says why, and nothing is left running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ANALYSISRUN, ROLLOUT
from tests.integration.analysis.conftest import free_port
from tests.support.controller import controller_process
from tests.support.rollouts import canary_rollout, create_services, get_rollout, phase, set_image, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

HOSTILE = "all(result,{all(result,{all(result,{# > 0})})})"
DEADLINE = 20  # seconds the hostile evaluation is allowed before its worker is killed


class Numbers:
    def __init__(self) -> None:
        self.requested_at: float | None = None


@pytest.fixture
async def numbers() -> AsyncIterator[tuple[str, Numbers]]:
    state = Numbers()

    async def handle(_: web.Request) -> web.Response:
        state.requested_at = state.requested_at or time.monotonic()
        return web.json_response(list(range(1, 301)))

    app = web.Application()
    app.router.add_get("/numbers", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/numbers", state
    finally:
        await runner.cleanup()


async def _healthz(session: aiohttp.ClientSession, url: str) -> float:
    started = time.monotonic()
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
        assert response.status == 200
    return time.monotonic() - started


async def test_probes_and_a_neighbour_rollout_are_served_while_a_hostile_condition_runs(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path,
    numbers: tuple[str, Numbers],
) -> None:
    url, served = numbers
    port = free_port()
    await create_services(kube, namespace, "neighbour", "neighbour-stable", "neighbour-canary")
    await kube.create(ROLLOUT, canary_rollout("neighbour", replicas=2, steps=[{"setWeight": 50}, {"pause": {}}],
                                              stableService="neighbour-stable", canaryService="neighbour-canary"),
                      namespace)
    healthz = f"http://127.0.0.1:{port}/healthz"
    with controller_process(kubeconfig, f"--namespace={namespace}", f"--healthz-port={port}",
                            f"--evaluation-deadline={DEADLINE}s", log_path=tmp_path / "controller.log"):
        await wait_phase(kube, namespace, "neighbour", "Healthy")
        await kube.create(ANALYSISRUN, {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
            "metadata": {"name": "hostile", "namespace": namespace},
            "spec": {"metrics": [{"name": "nested", "successCondition": HOSTILE, "consecutiveErrorLimit": 0,
                                  "provider": {"web": {"url": url}}}]}}, namespace)
        await eventually(_async(lambda: served.requested_at), lambda at: at is not None, timeout=60,
                         expected="the controller to fetch the hostile run's result")
        evaluating_since = served.requested_at
        assert evaluating_since is not None
        latencies: list[float] = []
        async with aiohttp.ClientSession() as session:
            await set_image(kube, namespace, "neighbour", "example/app:green")
            while True:
                latencies.append(await _healthz(session, healthz))
                ro = await get_rollout(kube, namespace, "neighbour")
                if phase(ro) == "Paused" and (ro.get("status") or {}).get("currentStepIndex") == 1:
                    break
                assert time.monotonic() - evaluating_since < DEADLINE, (
                    f"the neighbour did not reach its pause while the hostile condition ran; it is {phase(ro)}")
                await asyncio.sleep(0.2)
            progressed_at = time.monotonic()
            run = await kube.get(ANALYSISRUN, "hostile", namespace)
            assert (run.get("status") or {}).get("phase") in (None, "", "Pending", "Running"), (
                "the hostile run finished before the neighbour progressed; the test proved nothing", run)
            # keep probing until the evaluation is stopped: the process must answer throughout
            finished = None
            while finished is None:
                latencies.append(await _healthz(session, healthz))
                run = await kube.get(ANALYSISRUN, "hostile", namespace)
                if (run.get("status") or {}).get("phase") in ("Error", "Failed", "Successful", "Inconclusive"):
                    finished = run
                assert time.monotonic() - evaluating_since < DEADLINE + 60, "the hostile evaluation was never stopped"
                await asyncio.sleep(0.25)
    assert progressed_at - evaluating_since < DEADLINE
    assert max(latencies) < 2.0, f"/healthz answered in up to {max(latencies):.2f}s while the condition ran"
    # The evaluation may end early (its step budget) on a fast machine, so the number of probes is not fixed;
    # what matters is that probes ran on both sides of the neighbour's progress while the run was still open.
    assert len(latencies) >= 2
    assert finished["status"]["phase"] == "Error", finished["status"]
    message = finished["status"]["metricResults"][0]["measurements"][-1].get("message", "")
    assert "deadline" in message or "budget" in message, message


def _async(fn: Any) -> Any:
    async def probe() -> Any:
        return fn()

    return probe
