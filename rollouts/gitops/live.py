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
from collections.abc import Callable, Iterator
from typing import Any

import structlog

from rollouts.gitops.tracking import INSTANCE_LABEL, ResourceKey, key_of, owning_app
from rollouts.kube.client import KubeClient
from rollouts.kube.informer import Informer
from rollouts.kube.resources import ResourceKind

log = structlog.get_logger("rollouts.gitops.live")
Obj = dict[str, Any]


class LiveState:
    """Informers per kind; ``on_change(app_name)`` hears which application a changed object belongs to."""

    def __init__(self, client: KubeClient, on_change: Callable[[str], None], *, sync_timeout: float = 60) -> None:
        self.client = client
        self.on_change = on_change
        self.sync_timeout = sync_timeout
        self._informers: dict[ResourceKind, Informer] = {}
        self._tasks: dict[ResourceKind, asyncio.Task[None]] = {}
        self._failed: dict[ResourceKind, str] = {}

    def _handle(self, _etype: str, obj: Obj) -> None:
        app = owning_app(obj)
        if app is not None:
            self.on_change(app)

    async def ensure(self, kind: ResourceKind) -> Informer:
        """The informer for ``kind``, started and synced (raises TimeoutError if the list never completes)."""
        informer = self._informers.get(kind)
        if informer is None:
            informer = Informer(self.client, kind, label_selector=INSTANCE_LABEL, handler=self._handle)
            self._informers[kind] = informer
            self._tasks[kind] = asyncio.create_task(informer.run(), name=f"gitops-informer-{kind}")
        if not informer.synced.is_set():
            await asyncio.wait_for(informer.synced.wait(), timeout=self.sync_timeout)
        return informer

    def get(self, kind: ResourceKind, namespace: str, name: str) -> Obj | None:
        informer = self._informers.get(kind)
        return informer.get(namespace if kind.namespaced else "", name) if informer else None

    def record(self, kind: ResourceKind, obj: Obj) -> None:
        """Our own write, visible at once to the next comparison."""
        informer = self._informers.get(kind)
        if informer is not None:
            informer.upsert(obj)

    def forget(self, kind: ResourceKind, namespace: str, name: str) -> None:
        informer = self._informers.get(kind)
        if informer is not None:
            informer.forget(namespace if kind.namespaced else "", name)

    def owned_by(self, app_name: str) -> Iterator[tuple[ResourceKind, ResourceKey, Obj]]:
        """Every watched object whose tracking annotation names ``app_name``."""
        for kind, informer in list(self._informers.items()):
            for obj in informer.items():
                if owning_app(obj) == app_name:
                    yield kind, key_of(obj), obj

    def kinds(self) -> list[ResourceKind]:
        return list(self._informers)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
