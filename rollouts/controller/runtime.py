"""Runs the controller process: informers, workers, leader election, probes and metrics.

Start-up order matters: probes first (so a slow start is visible, and /healthz reports liveness from the
first second), then leader election (a standby replica keeps its caches cold and does nothing), then
informers, which must have synced before any worker plans (planning from a half-filled cache would create
duplicate ReplicaSets). Losing the lease stops the process: a former leader must never keep acting.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.controller.events import EventRecorder
from rollouts.controller.leader import LeaderElector
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.observe import Caches
from rollouts.controller.rollouts import RolloutReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.informer import Informer
from rollouts.kube.resources import (
    ANALYSISRUN,
    ANALYSISTEMPLATE,
    CLUSTERANALYSISTEMPLATE,
    DEPLOYMENT,
    HTTPROUTE,
    INGRESS,
    REPLICASET,
    ROLLOUT,
    SERVICE,
)

log = structlog.get_logger("rollouts.runtime")

# Extra loops started beside the Rollout workers once leading: (name, factory(client, config, stop)).
Component = Callable[[KubeClient, "ControllerConfig", asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class ControllerConfig:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    workers: int = 10
    leader_elect: bool = False
    lease_name: str = "rollouts-controller-lock"
    lease_namespace: str = field(default_factory=lambda: os.environ.get("POD_NAMESPACE", "default"))
    metrics_port: int = 0
    healthz_port: int = 0
    bind_address: str = "127.0.0.1"
    disable_applications: bool = False
    disable_analysis: bool = False
    identity: str | None = None
    extra_components: list[tuple[str, Component]] = field(default_factory=list)


class Controller:
    def __init__(self, client: KubeClient, config: ControllerConfig) -> None:
        self.client = client
        self.config = config
        self.metrics = ControllerMetrics()
        ns = config.namespace
        self.caches = Caches(
            rollouts=Informer(client, ROLLOUT, namespace=ns),
            replica_sets=Informer(client, REPLICASET, namespace=ns, label_selector=POD_TEMPLATE_HASH_LABEL),
            services=Informer(client, SERVICE, namespace=ns),
            analysis_runs=Informer(client, ANALYSISRUN, namespace=ns),
            analysis_templates=Informer(client, ANALYSISTEMPLATE, namespace=ns),
            cluster_analysis_templates=Informer(client, CLUSTERANALYSISTEMPLATE),
            ingresses=Informer(client, INGRESS, namespace=ns),
            http_routes=Informer(client, HTTPROUTE, namespace=ns),
            deployments=Informer(client, DEPLOYMENT, namespace=ns),
        )
        self.recorder = EventRecorder(client)
        self.rollouts = RolloutReconciler(client, self.caches, metrics=self.metrics, recorder=self.recorder)
        self.ready = asyncio.Event()
        self.elector: LeaderElector | None = None
        if config.leader_elect:
            self.elector = LeaderElector(client, name=config.lease_name, namespace=config.lease_namespace,
                                         identity=config.identity)

    @property
    def is_leader(self) -> bool:
        return self.elector is None or self.elector.leading.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        tasks: list[asyncio.Task[None]] = []
        runner = await self._start_probes()
        try:
            if self.elector is not None:
                tasks.append(asyncio.create_task(self.elector.run(), name="leader-election"))
                waiter = asyncio.create_task(self.elector.leading.wait())
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()
                if stop.is_set():
                    return
                self.metrics.is_leader.set(1)
            informers = [self.caches.rollouts, self.caches.replica_sets, self.caches.services,
                         self.caches.analysis_runs, self.caches.analysis_templates,
                         self.caches.cluster_analysis_templates, self.caches.ingresses, self.caches.http_routes,
                         self.caches.deployments]
            tasks += [asyncio.create_task(i.run(), name=f"informer-{i.kind.plural}") for i in informers]
            # CRD-backed template kinds may be missing on a cluster; they must not block Rollouts.
            await asyncio.wait_for(
                asyncio.gather(*(i.synced.wait() for i in [*informers[:4], self.caches.deployments])), timeout=120,
            )
            tasks.append(asyncio.create_task(self.rollouts.queue.run_timers(), name="requeue-timers"))
            tasks += [asyncio.create_task(self.rollouts.worker(), name=f"worker-{n}")
                      for n in range(self.config.workers)]
            for name, component in self.config.extra_components:
                tasks.append(asyncio.create_task(component(self.client, self.config, stop), name=name))
            self.ready.set()
            log.info("controller started", namespace=self.config.namespace or "(all)",
                     workers=self.config.workers, rollouts=len(self.caches.rollouts))
            waits = [asyncio.create_task(stop.wait())]
            if self.elector is not None:
                waits.append(asyncio.create_task(self.elector.lost.wait()))
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()
            if self.elector is not None and self.elector.lost.is_set():
                raise SystemExit("leadership lost; exiting so a fresh process can stand by")
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            await self.recorder.close()
            if self.elector is not None and self.elector.leading.is_set():
                await self.elector.release()
            if runner is not None:
                await runner.cleanup()

    async def _start_probes(self) -> web.AppRunner | None:
        cfg = self.config
        if not cfg.metrics_port and not cfg.healthz_port:
            return None
        app = web.Application()

        async def healthz(_: web.Request) -> web.Response:
            return web.Response(text="ok")

        async def readyz(_: web.Request) -> web.Response:
            if self.ready.is_set() or (self.elector is not None and not self.is_leader):
                return web.Response(text="ok")
            return web.Response(status=503, text="caches not synced")

        async def metrics(_: web.Request) -> web.Response:
            for verb, count in self.client.requests.items():
                self.metrics.api_requests.labels(verb).set(count)
            self.metrics.queue_depth.labels("rollouts").set(len(self.rollouts.queue))
            body = generate_latest(self.metrics.registry)
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

        app.router.add_get("/healthz", healthz)
        app.router.add_get("/readyz", readyz)
        app.router.add_get("/metrics", metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for port in {cfg.metrics_port, cfg.healthz_port} - {0}:
            await web.TCPSite(runner, cfg.bind_address, port).start()
        return runner


async def run_controller(config: ControllerConfig, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    client = await KubeClient.connect(config.kubeconfig, config.context)
    try:
        await Controller(client, config).run(stop)
    finally:
        await client.close()
