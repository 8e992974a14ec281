"""`get rollout` shows real AnalysisRuns (phase, successes, failures) under their revision.

The controller runs with the AnalysisRun reconciler; the metric is a `web` provider answering from a
local HTTP server, so the test decides whether the analysis passes.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from rollouts.controller.analysis_runs import run_analysis_runs
from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ANALYSISTEMPLATE, ROLLOUT
from tests.support.controller import controller_in_process
from tests.support.plugin import GREEN, Kubectl, create
from tests.support.rollouts import wait_phase

pytestmark = pytest.mark.integration

STEPS = [{"setWeight": 25}, {"analysis": {"templates": [{"templateName": "health"}]}}, {"setWeight": 50},
         {"pause": {}}]


@pytest.fixture
async def controller_with_analysis(kubeconfig: Path, namespace: str, crds: None) -> AsyncIterator[Controller]:
    async with controller_in_process(kubeconfig, namespace=namespace,
                                     extra_components=[("analysis-runs", run_analysis_runs)]) as running:
        yield running


@pytest.fixture
async def health_server() -> AsyncIterator[str]:
    async def ok(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/health", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def kubectl(kubectl_bin: str, kubeconfig: Path) -> Kubectl:
    return Kubectl(kubectl_bin, kubeconfig)


async def test_get_rollout_shows_the_analysis_run(kube: KubeClient, namespace: str,
                                                  controller_with_analysis: Controller, health_server: str,
                                                  kubectl: Kubectl) -> None:
    await kube.create(ANALYSISTEMPLATE, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "health"},
        "spec": {"metrics": [{"name": "health", "count": 3, "interval": "1s", "successCondition": "result.ok == true",
                              "provider": {"web": {"url": f"{health_server}/health"}}}]}}, namespace)
    await create(kube, namespace, "shop", STEPS)

    await kubectl("rollouts", "set", "image", "shop", f"app={GREEN}", "-n", namespace)
    ro = await wait_phase(kube, namespace, "shop", "Paused", step=3, timeout=120)
    canary_hash = ro["status"]["currentPodHash"]

    shown = await kubectl("rollouts", "get", "rollout", "shop", "-n", namespace)
    assert shown.code == 0, shown.err
    lines = [line.rstrip() for line in shown.out.splitlines()]
    run_lines = [line for line in lines if "AnalysisRun" in line]
    assert len(run_lines) == 1, shown.out
    assert "✔ Successful" in run_lines[0] and run_lines[0].rstrip().endswith("✔ 3"), run_lines[0]
    # the run hangs under revision 2, next to the canary ReplicaSet
    revision_2 = lines.index("├──# revision:2")
    revision_1 = lines.index("└──# revision:1")
    assert revision_2 < lines.index(run_lines[0]) < revision_1, shown.out
    assert any(f"shop-{canary_hash}" in line and "canary" in line for line in lines[revision_2:revision_1])
    assert "Step:          3/4" in shown.out and "SetWeight:     50" in shown.out, shown.out

    await kube.patch(ROLLOUT, "shop", {"status": {"pauseConditions": None}}, namespace, subresource="status")
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=120)
