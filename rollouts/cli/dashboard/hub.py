"""One shared watch per kind for the whole dashboard process, and a change signal for every open page.

Each kind the pages show has one informer (rollouts.kube.informer: list, then watch, relist on 410), whatever
the number of browser tabs. A change marks the state dirty; at most every `settle` seconds each subscriber
(one per open event stream) is told "something changed, version N" and the page reads the server's caches
again. A burst of a thousand pod updates is therefore one refresh per page, and the API server sees one watch
per kind.

A kind the user may not list (RBAC 403) or the server does not serve (no Application CRD) does not stop the
others: its informer keeps its error, and the pages that need it show that error as a sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rollouts.cli.errors import Target, explain
from rollouts.kube import resources
from rollouts.kube.errors import NotFound
from rollouts.kube.informer import Informer

if TYPE_CHECKING:
    from rollouts.kube.client import KubeClient
    from rollouts.kube.resources import ResourceKind

Obj = dict[str, Any]

KINDS: dict[str, ResourceKind] = {
    "rollouts": resources.ROLLOUT, "replicasets": resources.REPLICASET, "pods": resources.POD,
    "analysisruns": resources.ANALYSISRUN, "applications": resources.APPLICATION,
    "deployments": resources.DEPLOYMENT, "events": resources.EVENT,
    "services": resources.SERVICE, "ingresses": resources.INGRESS, "httproutes": resources.HTTPROUTE,
}
"""What the pages read, by plural: one informer each. Secrets are deliberately absent."""
OPTIONAL = frozenset({"httproutes"})
"""Kinds many clusters do not serve (Gateway API not installed): not served means there are none to show,
not a problem to report."""


def _typed(obj: Obj, kind: ResourceKind) -> Obj:
    if obj.get("kind") and obj.get("apiVersion"):
        return obj
    return {**obj, "apiVersion": kind.api_version, "kind": kind.kind}


class Hub:
    def __init__(self, client: KubeClient, namespace: str | None, *, settle: float = 0.25) -> None:
        self.namespace = namespace
        self.version = 0
        self._kind_versions = dict.fromkeys(KINDS, 0)
        self._settle = settle
        self._pending: asyncio.TimerHandle | None = None
        self._subscribers: set[asyncio.Queue[int]] = set()
        self.informers = {plural: Informer(client, kind, namespace=namespace, handler=self._changed_for(plural))
                          for plural, kind in KINDS.items()}

    async def run(self) -> None:
        """Run every informer until cancelled (each retries its own errors)."""
        async with asyncio.TaskGroup() as group:
            for informer in self.informers.values():
                group.create_task(informer.run())

    async def wait_synced(self, timeout: float) -> None:
        """Wait until every kind has listed once or failed (a forbidden kind never syncs)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if all(i.synced.is_set() or i.error is not None for i in self.informers.values()):
                return
            await asyncio.sleep(0.05)

    # -- reads ----------------------------------------------------------------------------------

    def items(self, plural: str, namespace: str | None = None) -> list[Obj]:
        """The cached objects of a kind, each with its `apiVersion` and `kind`: a list's items come without
        them (a watch event's object has them), and health rules tell a Pod by both."""
        return [_typed(obj, KINDS[plural]) for obj in self.informers[plural].items(namespace)]

    def get(self, plural: str, namespace: str, name: str) -> Obj | None:
        obj = self.informers[plural].get(namespace, name)
        return obj if obj is None else _typed(obj, KINDS[plural])

    def problems(self, *plurals: str) -> list[str]:
        """Why some of these kinds cannot be shown, one sentence each ("permission denied (RBAC 403) to list
        rollouts ..."); empty when all are current."""
        found = []
        for plural in plurals:
            error = self.informers[plural].error
            if error is not None and not (plural in OPTIONAL and isinstance(error, NotFound)):
                found.append(str(explain(error, Target("list", plural, None, self.namespace))))
        return found

    # -- change notifications -------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[int]:
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[int]) -> None:
        self._subscribers.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def versions(self, *plurals: str) -> tuple[int, ...]:
        """How many changes each of these kinds has seen: what a page computed from them depends on (the
        Rollouts list does not change when only Events did)."""
        return tuple(self._kind_versions[plural] for plural in plurals)

    def _changed_for(self, plural: str) -> Callable[[str, Obj], None]:
        def changed(_etype: str, _obj: Obj) -> None:
            self._kind_versions[plural] += 1
            self._changed()
        return changed

    def _changed(self) -> None:
        self.version += 1
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self._settle, self._flush)

    def _flush(self) -> None:
        self._pending = None
        for queue in self._subscribers:
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()  # a page that has not read the last signal needs only the newest
            queue.put_nowait(self.version)

