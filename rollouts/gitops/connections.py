"""One connection per destination cluster: its client, watches, comparer and sync runner, and whether it answers.

Why this module exists: Argo CD keeps a cache per cluster, and a cluster that stops answering must not hold
back the Applications of the others. Each cluster named by a cluster Secret (``clusters.py``) gets its own
client on its own credentials, its own label-filtered watches (``live.py``, the 410-safe informer with its
own reconnect and backoff), its own comparer (dry-run cache, Helm capabilities) and sync runner. The local
cluster uses the controller's own client.

Reachability is known, not discovered per request: a watchdog per remote cluster asks ``/version`` every
few seconds (every second or two, backing off to 10 s, while it is down). While a cluster is down its
Applications get a ComparisonError naming it at once, without touching the network, so the workers keep
serving the other clusters; when it answers again the watchdog wakes its Applications. A request that
finds the cluster gone during a pass marks it down at once too. A Secret that changes (a new token, CA or
namespace list) replaces the connection; a Secret that disappears closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from rollouts.gitops.clusters import (
    CLUSTER_SECRET_SELECTOR,
    LOCAL,
    Cluster,
    Clusters,
    kubeconfig,
    unreachable_message,
)
from rollouts.gitops.compare import Comparer
from rollouts.gitops.custom_health import HealthAssessor
from rollouts.gitops.live import LiveState
from rollouts.gitops.renderers import ManifestCache
from rollouts.gitops.runner import SyncRunner
from rollouts.gitops.sources import Sources
from rollouts.kube.client import KubeClient, Obj
from rollouts.kube.errors import ApiError, Unauthorized
from rollouts.kube.informer import Informer
from rollouts.kube.resources import SECRET

log = structlog.get_logger("rollouts.gitops.clusters")
Wake = Callable[[str], None]

REQUEST_TIMEOUT = 20.0
"""Seconds one request to a remote cluster may take (a blackholed cluster costs a worker at most this, once)."""
SYNC_TIMEOUT = 20.0
"""Seconds to wait for a new watch on a remote cluster to list (the local cluster keeps 60)."""
PROBE_TIMEOUT = 10.0
PROBE_INTERVAL = 5.0
"""Seconds between reachability probes of a cluster that answers."""
RETRY_BACKOFF = (1.0, 2.0, 4.0, 8.0, 10.0)
"""Seconds between probes of a cluster that does not answer (then every 10 s, Argo CD's cluster retry)."""


@dataclass
class Reachability:
    """Whether a cluster answers, as the last probe or request found; ``waiting`` hear when that changes."""

    down: str | None = None
    """Why it does not answer (the transport's or API server's words); None while it does."""
    waiting: set[str] = field(default_factory=set)


class ClusterConnection:
    """Everything the reconciler uses on one destination cluster."""

    def __init__(self, cluster: Cluster, client: KubeClient, *, owns_client: bool, context: ConnectionContext,
                 on_expired: Callable[[], None] | None = None) -> None:
        self.cluster = cluster
        self._on_expired = on_expired
        self.client = client
        self._owns_client = owns_client
        local = not owns_client
        self.live = LiveState(client, context.wake, sync_timeout=60 if local else SYNC_TIMEOUT,
                              namespaces=cluster.namespaces, cluster_resources=cluster.cluster_resources)
        self.comparer = Comparer(client, context.sources, self.live, namespace=context.namespace,
                                 manifests=context.manifests, health=context.health, cluster=cluster,
                                 control=context.control)
        self.runner = SyncRunner(client, self.live, on_applied=self.comparer.remember, health=context.health,
                                 namespace_scoped=cluster.namespace_scoped)
        self.reachability = Reachability()
        self._wake = context.wake
        self._watchdog: asyncio.Task[None] | None = None
        if owns_client:
            self._watchdog = asyncio.create_task(self._watch(), name=f"gitops-cluster-{cluster.server}")

    @property
    def down(self) -> str | None:
        """The ComparisonError message of this cluster's applications while it does not answer."""
        reason = self.reachability.down
        return unreachable_message(self.cluster, reason) if reason is not None else None

    def waits(self, app: str) -> None:
        """``app`` was told the cluster is down: wake it when the cluster answers again."""
        self.reachability.waiting.add(app)

    def mark_down(self, reason: str) -> None:
        if self._watchdog is None:  # the local cluster: if it is gone, so are the Applications
            return
        if self.reachability.down is None:
            log.warning("cluster unreachable", cluster=self.cluster.server, name=self.cluster.name, error=reason)
        self.reachability.down = reason

    def _mark_up(self) -> None:
        if self.reachability.down is None:
            return
        log.info("cluster reachable again", cluster=self.cluster.server, name=self.cluster.name)
        self.reachability.down = None
        waiting, self.reachability.waiting = self.reachability.waiting, set()
        for app in sorted(waiting):
            self._wake(app)

    async def _watch(self) -> None:
        probe = self.client.with_timeout(PROBE_TIMEOUT)
        failures = 0
        while True:
            try:
                await probe.version()
            except ApiError as exc:
                if exc.status == 0 or isinstance(exc, Unauthorized):
                    failures += 1
                    self.mark_down(exc.message)
                if isinstance(exc, Unauthorized) and self.cluster.config.exec_provider and self._on_expired:
                    self._on_expired()  # the exec credential expired: a new connection runs the command again
                    return
            else:
                failures = 0
                self._mark_up()
            delay = PROBE_INTERVAL if not failures else RETRY_BACKOFF[min(failures, len(RETRY_BACKOFF)) - 1]
            await asyncio.sleep(delay)

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        await self.live.close()
        if self._owns_client:
            await self.client.close()


@dataclass(frozen=True)
class ConnectionContext:
    """What every connection shares: the control plane (Applications, repository Secrets), the Git sources,
    the render cache, the health assessor, and how to wake an application."""

    control: KubeClient
    namespace: str
    sources: Sources
    manifests: ManifestCache
    health: HealthAssessor
    wake: Wake


class Unavailable(Exception):
    """No connection can be made to a cluster (its credentials cannot be loaded, its exec command fails)."""


class Connections:
    """The clusters the cluster Secrets declare, and a connection to each, made on first use."""

    def __init__(self, context: ConnectionContext, *, on_change: Callable[[], None] | None = None) -> None:
        self.context = context
        self.in_cluster_enabled = True
        self.secrets = Informer(context.control, SECRET, namespace=context.namespace,
                                label_selector=CLUSTER_SECRET_SELECTOR, handler=self._on_secret)
        self._on_change = on_change
        self._connections: dict[str, tuple[str, ClusterConnection]] = {}
        self._failed: dict[str, tuple[str, str, float]] = {}
        self._lock = asyncio.Lock()
        self.local = ClusterConnection(LOCAL, context.control, owns_client=False, context=context)
        self._connections[LOCAL.server] = (LOCAL.identity(), self.local)
        self._logged: set[str] = set()
        self._background: set[asyncio.Task[None]] = set()

    def _on_secret(self, _etype: str, _obj: Obj) -> None:
        task = asyncio.create_task(self.forget_stale(), name="gitops-cluster-secrets-changed")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        if self._on_change is not None:
            self._on_change()

    def clusters(self) -> Clusters:
        """The destinations as they are now (Secrets that cannot be read are logged once, by name)."""
        registry = Clusters.from_secrets(self.secrets.items(), in_cluster_enabled=self.in_cluster_enabled)
        for problem in registry.problems:
            if problem not in self._logged:
                self._logged.add(problem)
                log.warning("cluster secret ignored", problem=problem)
        return registry

    async def get(self, cluster: Cluster) -> ClusterConnection:
        """The connection to ``cluster``, made or replaced when its Secret changed; raises Unavailable."""
        identity = cluster.identity()
        held = self._connections.get(cluster.server)
        if held is not None and held[0] == identity:
            return held[1]
        failed = self._failed.get(cluster.server)
        if failed is not None and failed[0] == identity and time.monotonic() - failed[2] < RETRY_BACKOFF[-1]:
            raise Unavailable(failed[1])
        async with self._lock:
            held = self._connections.get(cluster.server)
            if held is not None and held[0] == identity:
                return held[1]
            if held is not None:
                await self._drop(cluster.server)
            connection = await self._connect(cluster, identity)
            self._connections[cluster.server] = (identity, connection)
            return connection

    async def _connect(self, cluster: Cluster, identity: str) -> ClusterConnection:
        if cluster.is_local:
            return ClusterConnection(cluster, self.context.control, owns_client=False, context=self.context)
        try:
            client = await KubeClient.from_config(kubeconfig(cluster), field_manager=self.context.control.field_manager,
                                                  request_timeout=REQUEST_TIMEOUT)
        except ApiError as exc:
            message = f"cannot connect to cluster {cluster.server}: {exc.message}"
            self._failed[cluster.server] = (identity, message, time.monotonic())
            log.warning("cluster connection failed", cluster=cluster.server, error=exc.message)
            raise Unavailable(message) from None
        self._failed.pop(cluster.server, None)
        log.info("cluster connection made", cluster=cluster.server, name=cluster.name,
                 namespaces=list(cluster.namespaces) or None)

        def expired() -> None:
            task = asyncio.create_task(self.reconnect(cluster), name=f"gitops-reconnect-{cluster.server}")
            self._background.add(task)
            task.add_done_callback(self._background.discard)

        return ClusterConnection(cluster, client, owns_client=True, context=self.context, on_expired=expired)

    async def _drop(self, server: str) -> None:
        _, connection = self._connections.pop(server)
        if connection is self.local:
            return
        await connection.close()

    async def forget_stale(self) -> None:
        """Close the connections of clusters whose Secret was deleted or changed (new ones are made on use)."""
        known = {c.server: c.identity() for c in self.clusters().all()}
        async with self._lock:
            for server, (identity, connection) in list(self._connections.items()):
                if connection is not self.local and known.get(server) != identity:
                    await self._drop(server)
            for server, (identity, _, _at) in list(self._failed.items()):
                if known.get(server) != identity:
                    self._failed.pop(server)

    async def reconnect(self, cluster: Cluster) -> None:
        """Drop the connection (an exec credential expired: the next use runs the command again) and wake the
        applications that were waiting for it."""
        async with self._lock:
            held = self._connections.get(cluster.server)
            if held is None or held[1] is self.local:
                return
            waiting = held[1].reachability.waiting
            await self._drop(cluster.server)
        for app in sorted(waiting):
            self.context.wake(app)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        async with self._lock:
            for server in list(self._connections):
                await self._drop(server)
        await self.local.close()
