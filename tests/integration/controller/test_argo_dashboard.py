"""Argo Rollouts' own Grafana dashboard (examples/dashboard.json, read from the Argo Rollouts module) and
alert-style queries, run against a real Prometheus scraping the controller during canaries with analysis.

Rollouts are put in each of Argo's metric phases (Completed, Progressing with analysis running, Paused,
Abort, Timeout, Error, InvalidSpec); every dashboard query must return series.
"""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ANALYSISTEMPLATE, ROLLOUT
from tests.integration.analysis.conftest import _prometheus_binary, _start, free_port
from tests.support.controller import controller_in_process
from tests.support.oracles import module_dir
from tests.support.rollouts import canary_rollout, create_services, get_rollout, patch_status, set_image, wait_phase
from tests.support.vendors import vendors
from tests.support.wait import eventually
from tests.unit.notifications.anchors import ROLLOUTS

pytestmark = pytest.mark.integration
JOB = "argo-rollouts-metrics"
ALERTS = [
    'rollout_info{phase="Abort"} == 1',
    'rollout_phase{phase="Abort"} == 1',
    'sum by (namespace, name) (rollout_events_total{reason="RolloutAborted"}) > 0',
    'rollout_events_total{type="Warning",reason="AnalysisRunFailed"}',
    'analysis_run_info{phase="Failed"} == 1',
    'analysis_run_metric_phase{phase="Failed"} == 1',
    'rollout_info_replicas_unavailable > 0',
    'rate(controller_clientset_k8s_request_total{kind="rollouts"}[1m]) >= 0',
    'workqueue_depth{name="Rollouts"}', 'workqueue_adds_total{name="AnalysisRuns"} > 0',
    'histogram_quantile(0.9, sum(rate(workqueue_work_duration_seconds_bucket{name="Rollouts"}[1m])) by (le))',
    'rollout_reconcile_count', 'argo_rollouts_controller_info', 'process_resident_memory_bytes',
    'analysis_run_reconcile_count', 'analysis_template_info',
]


def dashboard_queries(namespace: str, name: str) -> list[str]:
    board = json.loads((module_dir(*ROLLOUTS) / "examples" / "dashboard.json").read_text())
    found: list[str] = []

    def walk(panel: dict[str, Any]) -> None:
        for target in panel.get("targets") or ():
            if "expr" in target:
                found.append(target["expr"].replace("$rollout_namespace", namespace).replace("$rollout_name", name))
        for child in panel.get("panels") or ():
            walk(child)

    walk(board)
    return found


class Prometheus:
    def __init__(self, address: str) -> None:
        self.address = address

    async def query(self, expression: str) -> list[Any]:
        async with aiohttp.ClientSession() as session, session.get(
                f"{self.address}/api/v1/query", params={"query": expression}) as response:
            body = await response.json()
        if body.get("status") != "success":
            raise AssertionError(f"{expression}: {body}")
        result: list[Any] = body["data"]["result"]
        return result


@contextlib.asynccontextmanager
async def prometheus_scraping(port: int) -> AsyncIterator[Prometheus]:
    workdir = Path(tempfile.mkdtemp(prefix="rollouts-dashboard-"))
    listen = free_port()
    config = workdir / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n"
                      f"  - job_name: {JOB}\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n")
    log = (workdir / "prometheus.log").open("w")
    process = _start(_prometheus_binary(), config, workdir, listen, log)
    try:
        server = Prometheus(f"http://127.0.0.1:{listen}")
        await eventually(lambda: server.query(f'up{{job="{JOB}"}} == 1'), lambda r: len(r) == 1, timeout=60,
                         expected="Prometheus scraping the controller's /metrics")
        yield server
    finally:
        process.terminate()
        with contextlib.suppress(Exception):
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.asynccontextmanager
async def controller_with_metrics(kubeconfig: Path, namespace: str, port: int) -> AsyncIterator[Controller]:
    from rollouts.cli.components import default_components
    from rollouts.controller.runtime import ControllerConfig

    config = ControllerConfig(namespace=namespace, disable_applications=True)
    components = default_components(config)
    async with controller_in_process(kubeconfig, namespace=namespace, metrics_port=port, bind_address="127.0.0.1",
                                     extra_components=components, collectors=config.collectors) as running:
        yield running


def template(base: str, name: str, condition: str) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": name},
            "spec": {"metrics": [{"name": "error-rate", "interval": "1s", "count": 1000, "failureLimit": 0,
                                  "successCondition": condition,
                                  "provider": {"web": {"url": f"{base}/metric", "jsonPath": "{$.errorRate}"}}}]}}


async def rollout(kube: KubeClient, ns: str, name: str, steps: list[dict[str, Any]], **spec: Any) -> None:
    await create_services(kube, ns, name, f"{name}-stable", f"{name}-canary")
    manifest = canary_rollout(name, replicas=2, steps=steps, stableService=f"{name}-stable",
                              canaryService=f"{name}-canary")
    manifest["spec"].update(spec)
    await kube.create(ROLLOUT, manifest, ns)
    await wait_phase(kube, ns, name, "Healthy")


async def test_argo_dashboard_and_alert_queries_return_series(kube: KubeClient, namespace: str, kubeconfig: Path,
                                                               crds: None) -> None:
    port = free_port()
    def analysis(name: str) -> list[dict[str, Any]]:
        return [{"setWeight": 50}, {"analysis": {"templates": [{"templateName": name}]}}, {"pause": {}}]

    async with vendors() as v, controller_with_metrics(kubeconfig, namespace, port), prometheus_scraping(port) as prom:
        await kube.create(ANALYSISTEMPLATE, template(v.base, "good", "result < 0.05"), namespace)
        await kube.create(ANALYSISTEMPLATE, template(v.base, "bad", "result < 0"), namespace)
        await rollout(kube, namespace, "stable", [{"setWeight": 50}, {"pause": {}}])
        for name in ("analysing", "paused", "aborted", "failing", "slow", "rejected"):
            steps = analysis("good") if name == "analysing" else analysis("bad") if name == "failing" else [
                {"setWeight": 50}, {"pause": {}}]
            await rollout(kube, namespace, name, steps, **({"progressDeadlineSeconds": 3} if name == "slow" else {}))
        invalid = canary_rollout("invalid", steps=[{"setWeight": 150}])
        await kube.create(ROLLOUT, invalid, namespace)
        for name in ("analysing", "paused", "aborted"):
            await set_image(kube, namespace, name, "example/app:green")
        await wait_phase(kube, namespace, "paused", "Paused")
        await wait_phase(kube, namespace, "aborted", "Paused")
        await patch_status(kube, namespace, "aborted", {"abort": True})
        await _break(kube, namespace, "slow")
        await _reject(kube, namespace, "rejected")
        await eventually(lambda: get_rollout(kube, namespace, "analysing"),
                         lambda ro: ((ro.get("status") or {}).get("canary") or {}).get("currentStepAnalysisRunStatus"),
                         timeout=60, expected="the analysing rollout running its step analysis")
        await set_image(kube, namespace, "failing", "example/app:green")
        await wait_phase(kube, namespace, "failing", "Degraded", timeout=90)
        await _wait_argo_phases(prom)

        failures = []
        for expression in [*dashboard_queries(namespace, "aborted"), *ALERTS]:
            try:
                await eventually(lambda e=expression: prom.query(e), lambda r: len(r) > 0, timeout=90,
                                 expected=f"series for {expression}")
            except AssertionError as exc:
                failures.append(str(exc))
        assert not failures, "\n".join(failures)
        assert len(dashboard_queries(namespace, "aborted")) == 17


async def _break(kube: KubeClient, ns: str, name: str) -> None:
    ro = await get_rollout(kube, ns, name)
    updated = copy.deepcopy(ro["spec"]["template"])
    updated["spec"]["nodeSelector"] = {"no-such-node": "true"}
    updated["spec"]["containers"][0]["image"] = "example/app:broken"
    await kube.patch(ROLLOUT, name, {"spec": {"template": updated}}, ns)


async def _reject(kube: KubeClient, ns: str, name: str) -> None:
    """A pod template the API server refuses in a ReplicaSet: Argo's ReplicaSetCreateError (phase Error)."""
    ro = await get_rollout(kube, ns, name)
    updated = copy.deepcopy(ro["spec"]["template"])
    updated["spec"]["containers"][0]["ports"] = [{"containerPort": 99999999}]
    await kube.patch(ROLLOUT, name, {"spec": {"template": updated}}, ns)


async def _wait_argo_phases(prom: Prometheus) -> None:
    want = {"Completed", "Progressing", "Paused", "Abort", "Timeout", "Error", "InvalidSpec"}

    async def phases() -> set[str]:
        return {r["metric"]["phase"] for r in await prom.query(f'rollout_info{{job="{JOB}"}} == 1')}

    await eventually(phases, lambda got: want <= got, timeout=120,
                     expected=f"rollouts in each of Argo's phases {sorted(want)}")
