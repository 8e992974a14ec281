"""The live side of every Application: one watch per resource kind, over objects that carry our label.

Why this module exists: drift must be seen in seconds, not at the next 3-minute poll, and pruning needs every
object an application owns, including kinds it no longer renders. Watching whole kinds cluster-wide would
cache every Pod in the cluster; instead each kind used by any application gets one informer filtered by the
``app.kubernetes.io/instance`` label we set on what we apply (see ``tracking.py``). A change to any such
object wakes the owning application at once. Kinds are added on demand, as applications render them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import structlog

from rollouts.gitops.tracking import INSTANCE_LABEL, ResourceKey, key_of, owning_app
from rollouts.kube.client import KubeClient
from rollouts.kube.informer import Informer
from rollouts.kube.resources import ResourceKind

log = structlog.get_logger("rollouts.gitops.live")
Obj = dict[str, Any]


class LiveState:
    """Informers per kind; ``on_change(app_name)`` hears which application a changed object belongs to.

    On a cluster whose Secret lists ``namespaces`` (credentials that may only read those namespaces, as
    ``cluster add --namespace`` grants), namespaced kinds are watched per namespace, and cluster-scoped
    kinds only with ``cluster_resources``: a cluster-wide watch would be forbidden there."""

    def __init__(self, client: KubeClient, on_change: Callable[[str], None], *, sync_timeout: float = 60,
                 namespaces: Sequence[str] = (), cluster_resources: bool = False) -> None:
        self.client = client
        self.on_change = on_change
        self.sync_timeout = sync_timeout
        self.namespaces = tuple(namespaces)
        self.cluster_resources = cluster_resources
        self._informers: dict[tuple[ResourceKind, str | None], Informer] = {}
        self._tasks: dict[tuple[ResourceKind, str | None], asyncio.Task[None]] = {}

    def _handle(self, _etype: str, obj: Obj) -> None:
        app = owning_app(obj)
        if app is not None:
            self.on_change(app)

    def _scopes(self, kind: ResourceKind) -> tuple[str | None, ...]:
        """The namespaces to watch ``kind`` in (None: cluster-wide); () when this cluster cannot hold it."""
        if not self.namespaces:
            return (None,)
        if kind.namespaced:
            return self.namespaces
        return (None,) if self.cluster_resources else ()

    async def ensure(self, kind: ResourceKind) -> None:
        """Start the informers for ``kind`` and wait until they synced (TimeoutError if a list never completes)."""
        waiting = []
        for scope in self._scopes(kind):
            informer = self._informers.get((kind, scope))
            if informer is None:
                informer = Informer(self.client, kind, namespace=scope, label_selector=INSTANCE_LABEL,
                                    handler=self._handle)
                self._informers[(kind, scope)] = informer
                self._tasks[(kind, scope)] = asyncio.create_task(
                    informer.run(), name=f"gitops-informer-{kind}" + (f"-{scope}" if scope else ""))
            if not informer.synced.is_set():
                waiting.append(informer.synced.wait())
        if waiting:
            await asyncio.wait_for(asyncio.gather(*waiting), timeout=self.sync_timeout)

    def _informer(self, kind: ResourceKind, namespace: str) -> Informer | None:
        scope = namespace if self.namespaces and kind.namespaced else None
        return self._informers.get((kind, scope))

    def get(self, kind: ResourceKind, namespace: str, name: str) -> Obj | None:
        informer = self._informer(kind, namespace)
        return informer.get(namespace if kind.namespaced else "", name) if informer else None

    def record(self, kind: ResourceKind, obj: Obj) -> None:
        """Our own write, visible at once to the next comparison."""
        informer = self._informer(kind, str((obj.get("metadata") or {}).get("namespace") or ""))
        if informer is not None:
            informer.upsert(obj)

    def forget(self, kind: ResourceKind, namespace: str, name: str) -> None:
        informer = self._informer(kind, namespace)
        if informer is not None:
            informer.forget(namespace if kind.namespaced else "", name)

    def owned_by(self, app_name: str) -> Iterator[tuple[ResourceKind, ResourceKey, Obj]]:
        """Every watched object whose tracking annotation names ``app_name``."""
        for (kind, _scope), informer in list(self._informers.items()):
            for obj in informer.items():
                if owning_app(obj) == app_name:
                    yield kind, key_of(obj), obj

    def kinds(self) -> list[ResourceKind]:
        return list(dict.fromkeys(kind for kind, _scope in self._informers))

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
