"""Runs the controller process: informers, workers, leader election, probes and metrics.

Start-up order matters: probes first (so a slow start is visible, and /healthz reports liveness from the
first second), then leader election and the informers together: a standby keeps its caches warm (it lists
and watches like the leader; only writes are gated on leadership), so when it takes over its workers plan at
once instead of listing everything first. Informers must have synced before any worker plans (planning from
a half-filled cache would create duplicate ReplicaSets). Every write goes through a client guarded by the
elector (fencing: no valid lease, no write). Losing the lease stops the process: a former leader must
never keep acting. On SIGTERM the workers stop, queued events are flushed, then the Lease is released so the
standby takes over within about a second.

Sharded (``--shards N``, see ``rollouts.kube.shards``): there is no leader; every replica runs its workers at
once and acts only for the objects of the shards whose Leases it holds, its writes fenced by those Leases.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.controller.events import EventRecorder
from rollouts.controller.experiments import ExperimentReconciler
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.observe import Caches
from rollouts.controller.rollouts import RolloutReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError, Forbidden
from rollouts.kube.informer import Informer
from rollouts.kube.leader import LeaderElector, LeaseTimings, default_identity
from rollouts.kube.resources import (
    ANALYSISRUN,
    ANALYSISTEMPLATE,
    APISIXROUTE,
    CLUSTERANALYSISTEMPLATE,
    DEPLOYMENT,
    DESTINATIONRULES,
    EXPERIMENT,
    HTTPROUTE,
    INGRESS,
    MAPPING,
    REPLICASET,
    ROLLOUT,
    SERVICE,
    TRAEFIKSERVICE,
    TRAFFICSPLITS,
    VIRTUALSERVICES,
)
from rollouts.kube.shards import Sharding, ShardSet
from rollouts.traffic.router import RouterOptions

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
    lease_timings: LeaseTimings = field(default_factory=LeaseTimings)
    evaluation_deadline: float = 10.0
    """Seconds a condition, JSONPath or judge may run in its worker process before it is stopped."""
    disable_rollouts: bool = False
    """Run only the extra components (the Application reconciler alone: `--disable-rollouts`)."""
    extra_components: list[tuple[str, Component]] = field(default_factory=list)
    collectors: list[Any] = field(default_factory=list)
    """Prometheus collectors of the extra components (notifications), served on /metrics with ours."""
    aws_verify_target_group: bool = False
    """Argo's ``--aws-verify-target-group`` (off by default): see ``rollouts.traffic.alb``."""
    traffic_split_api_version: str = "v1alpha1"
    """Argo's ``--traffic-split-api-version``: the SMI TrafficSplit version written (``rollouts.traffic.smi``)."""
    istio_api_version: str = "v1alpha3"
    """Argo's ``--istio-api-version``: the version VirtualServices/DestinationRules are watched and patched at."""
    shards: int = 1
    """``--shards``: how many shards the objects are spread over (1: not sharded)."""
    shard: int | None = None
    """``--shard``: the one shard this replica holds (static); None with shards > 1: assigned by membership."""
    shard_set: ShardSet | None = None
    """The live shard Leases of this process, set by Controller; the components filter their work by it."""

    def sharding(self) -> Sharding:
        """The shard flags as one value, the Leases named after the lease name (``<lease>-shard-<k>``)."""
        return Sharding(shards=self.shards, shard=self.shard, group=self.lease_name, namespace=self.lease_namespace)


@dataclass(frozen=True)
class _Gate:
    acting: asyncio.Event
    lost: asyncio.Event
    what: str


class Controller:
    def __init__(self, client: KubeClient, config: ControllerConfig) -> None:
        self.config = config
        self.elector: LeaderElector | None = None
        self.shards: ShardSet | None = None
        sharding = config.sharding()
        if sharding.enabled:
            if config.leader_elect:
                raise ValueError("--leader-elect and --shards are exclusive: sharded replicas hold one Lease per "
                                 "shard instead of one leader Lease")
            self.shards = ShardSet(client, sharding, identity=config.identity or default_identity(),
                                   timings=config.lease_timings)
            client = client.guarded(self.shards.check_write)
            config.shard_set = self.shards
        if config.leader_elect:
            self.elector = LeaderElector(client, name=config.lease_name, namespace=config.lease_namespace,
                                         identity=config.identity, timings=config.lease_timings)
            client = client.guarded(self.elector.check_write)
        self.client = client
        ns = config.namespace
        experiments = Informer(client, EXPERIMENT, namespace=ns)
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
            routing=tuple(Informer(client, kind, namespace=ns)
                          for kind in (TRAEFIKSERVICE, APISIXROUTE, MAPPING,
                                       *(k for k in (*VIRTUALSERVICES, *DESTINATIONRULES)
                                         if k.version == config.istio_api_version),
                                       *(k for k in TRAFFICSPLITS if k.version == config.traffic_split_api_version))),
            experiments=experiments,
        )
        self.metrics = ControllerMetrics(self.caches, client)
        for collector in config.collectors:
            self.metrics.registry.register(collector)
        identity = self.elector.identity if self.elector else self.shards.identity if self.shards else config.identity
        self.recorder = EventRecorder(client, instance=identity,
                                      on_record=self.metrics.count_event)
        self.rollouts = RolloutReconciler(
            client, self.caches, metrics=self.metrics, recorder=self.recorder, shards=self.shards,
            router_options=RouterOptions(verify_alb_target_groups=config.aws_verify_target_group,
                                         traffic_split_api_version=config.traffic_split_api_version,
                                         istio_api_version=config.istio_api_version))
        self.experiments = ExperimentReconciler(client, self.caches, experiments, recorder=self.recorder,
                                                shards=self.shards)
        self.synced = asyncio.Event()
        self.ready = asyncio.Event()

    @property
    def is_leader(self) -> bool:
        return self.elector is None or self.elector.leading.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        tasks: list[asyncio.Task[None]] = []  # informers and the elector: they run as long as the process
        acting: list[asyncio.Task[None]] = []  # workers and components: only while leading
        runner = await self._start_probes()
        stopper = asyncio.create_task(stop.wait())
        try:
            if self.elector is not None:
                tasks.append(asyncio.create_task(self.elector.run(), name="leader-election"))
            if self.shards is not None:
                tasks.append(asyncio.create_task(self.shards.run(), name="shards"))
            informers = [] if self.config.disable_rollouts else [
                self.caches.rollouts, self.caches.replica_sets, self.caches.services, self.caches.analysis_runs,
                self.caches.analysis_templates, self.caches.cluster_analysis_templates, self.caches.ingresses,
                self.caches.http_routes, *self.caches.routing, self.experiments.experiments, self.caches.deployments]
            if self.config.namespace and not await self._may_read_cluster_templates():
                informers.remove(self.caches.cluster_analysis_templates)
            tasks += [asyncio.create_task(i.run(), name=f"informer-{i.kind.plural}") for i in informers]
            # CRD-backed template kinds may be missing on a cluster; they must not block Rollouts.
            required = [*informers[:4], *informers[-1:]]
            synced = asyncio.create_task(asyncio.wait_for(
                asyncio.gather(*(i.synced.wait() for i in required)), timeout=120))
            await asyncio.wait({synced, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                synced.cancel()
                return
            synced.result()
            self.synced.set()
            gate = self._gate()
            if gate is not None and not await self._wait_to_act(gate, stopper):
                return
            acting += self._start_acting(stop)
            self.ready.set()
            log.info("controller started", namespace=self.config.namespace or "(all)",
                     workers=0 if self.config.disable_rollouts else self.config.workers,
                     rollouts=len(self.caches.rollouts))
            waits = [stopper] if gate is None else [stopper, asyncio.create_task(gate.lost.wait())]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if gate is not None and gate.lost.is_set():
                self.metrics.is_leader.set(0)
                raise SystemExit(f"{gate.what} lost; exiting so a fresh process can stand by")
        finally:
            stopper.cancel()
            # Hand over in order: stop acting, write the events already decided, give the lease up, stop.
            await _cancel(acting)
            await self.recorder.close(timeout=2.0)
            if self.elector is not None:
                await self.elector.release()
            await _cancel(tasks)
            if runner is not None:
                await runner.cleanup()

    def _gate(self) -> _Gate | None:
        """What this replica waits for before acting: the leader Lease, its shard group's membership, or nothing."""
        if self.elector is not None:
            log.info("standing by with warm caches", lease=self.elector.lease, identity=self.elector.identity,
                     rollouts=len(self.caches.rollouts))
            return _Gate(self.elector.leading, self.elector.lost, "leadership")
        if self.shards is not None:
            return _Gate(self.shards.joined, self.shards.lost, "shard membership")
        return None

    async def _wait_to_act(self, gate: _Gate, stopper: asyncio.Task[Any]) -> bool:
        """Wait until the gate opens (False: stopped first); a gate lost before it opened ends the process."""
        opened = asyncio.create_task(gate.acting.wait())
        lost = asyncio.create_task(gate.lost.wait())
        await asyncio.wait({opened, stopper, lost}, return_when=asyncio.FIRST_COMPLETED)
        opened.cancel()
        lost.cancel()
        if stopper.done():
            return False
        if gate.lost.is_set():
            raise SystemExit(f"{gate.what} ended before this replica acted; exiting")
        self.metrics.is_leader.set(1)
        if self.shards is not None:
            log.info("acting for the shards it holds", group=self.shards.sharding.group,
                     identity=self.shards.identity, shards=self.shards.shards, shard=self.shards.sharding.shard)
        return True

    async def _may_read_cluster_templates(self) -> bool:
        """Whether a controller limited to one namespace may list ClusterAnalysisTemplates.

        A namespace install has Roles only and cannot read the cluster-scoped kind: as Argo's --namespaced, it
        then does not watch it (a Rollout naming one reports it as not found) instead of retrying a forbidden
        watch forever. With cluster rights, --namespace still sees them."""
        try:
            await self.client.list(CLUSTERANALYSISTEMPLATE, limit=50)
        except Forbidden:
            log.info("ClusterAnalysisTemplates are not readable with namespace rights; not watching them",
                     namespace=self.config.namespace)
            return False
        except ApiError:
            return True  # not served yet, or unreachable: the informer waits and retries as for any kind
        return True

    def _start_acting(self, stop: asyncio.Event) -> list[asyncio.Task[None]]:
        """What only the leader runs: the Rollout workers and their timers, then the extra components."""
        acting: list[asyncio.Task[None]] = []
        if not self.config.disable_rollouts:
            acting.append(asyncio.create_task(self.rollouts.queue.run_timers(), name="requeue-timers"))
            acting += [asyncio.create_task(self.rollouts.worker(), name=f"worker-{n}")
                       for n in range(self.config.workers)]
            acting.append(asyncio.create_task(self.experiments.queue.run_timers(), name="experiment-requeue-timers"))
            acting += [asyncio.create_task(self.experiments.worker(), name=f"experiment-worker-{n}")
                       for n in range(max(1, self.config.workers // 2))]
        for name, component in self.config.extra_components:
            acting.append(asyncio.create_task(component(self.client, self.config, stop), name=name))
        return acting

    async def _start_probes(self) -> web.AppRunner | None:
        cfg = self.config
        if not cfg.metrics_port and not cfg.healthz_port:
            return None
        app = web.Application()

        async def healthz(_: web.Request) -> web.Response:
            return web.Response(text="ok")

        async def readyz(_: web.Request) -> web.Response:
            # A standby with synced caches is ready: it can take over at once.
            if self.ready.is_set() or (self.elector is not None and self.synced.is_set()):
                return web.Response(text="ok")
            return web.Response(status=503, text="caches not synced")

        async def metrics(_: web.Request) -> web.Response:
            for verb, count in self.client.requests.items():
                self.metrics.api_requests.labels(verb).set(count)
            self.metrics.queue_depth.labels("rollouts").set(len(self.rollouts.queue))
            if self.shards is not None:
                held = set(self.shards.held())
                for shard in range(self.shards.shards):
                    self.metrics.shard_held.labels(str(shard)).set(1 if shard in held else 0)
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


async def _cancel(tasks: list[asyncio.Task[None]], timeout: float = 5.0) -> None:
    """Cancel and wait, bounded: a task that swallows its cancellation must not keep the process alive."""
    for t in tasks:
        t.cancel()
    if tasks:
        done, stuck = await asyncio.wait(tasks, timeout=timeout)
        for t in done:
            if not t.cancelled() and t.exception() is not None:
                log.debug("task ended with an error on shutdown", task=t.get_name(), error=str(t.exception()))
        for t in stuck:
            log.warning("task did not stop when cancelled", task=t.get_name())


async def run_controller(config: ControllerConfig, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    client = await KubeClient.connect(config.kubeconfig, config.context)
    try:
        await Controller(client, config).run(stop)
    finally:
        await client.close()
