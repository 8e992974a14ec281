"""Kubernetes Events on Rollouts and AnalysisRuns, with Argo's reason strings.

Events are how `kubectl describe rollout` and Argo CD's UI tell the story of an update, so they use the same
reasons Argo Rollouts uses (RolloutUpdated, NewReplicaSetCreated, ScalingReplicaSet, ...).

Events are written in the background: a reconcile only stamps and enqueues them, so the 5-6 events of a
canary step add nothing to reconcile latency (at 1,000 Rollouts they were half of all API requests on the
critical path). Each object's events go through the same sender in order, and the event name carries the
enqueue time in nanoseconds, so `kubectl get events --sort-by` shows Argo's order. Failing to record an
event never fails a reconcile: it is logged and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from datetime import UTC, datetime
from typing import Any

import structlog

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError
from rollouts.kube.resources import EVENT

COMPONENT = "rollouts-controller"
SENDERS = 4
log = structlog.get_logger("rollouts.events")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_manifest(obj: dict[str, Any], *, type: str, reason: str, message: str, component: str) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    stamp = _now()
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{meta.get('name')}.{time.time_ns():x}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": meta.get("name"),
            "namespace": namespace, "uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion"),
        },
        "reason": reason, "message": message, "type": type, "count": 1,
        "firstTimestamp": stamp, "lastTimestamp": stamp,
        "source": {"component": component}, "reportingComponent": component,
    }


class EventRecorder:
    def __init__(self, client: KubeClient, *, component: str = COMPONENT) -> None:
        self.client = client
        self.component = component
        self._queues: list[asyncio.Queue[dict[str, Any]]] = []
        self._senders: list[asyncio.Task[None]] = []

    async def record(self, obj: dict[str, Any], *, type: str, reason: str, message: str) -> None:
        event = event_manifest(obj, type=type, reason=reason, message=message, component=self.component)
        if not self._start():
            await self._send(event)
            return
        meta = obj.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}".encode()
        self._queues[zlib.crc32(key) % len(self._queues)].put_nowait(event)

    def _start(self) -> bool:
        if self._senders:
            return True
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._queues = [asyncio.Queue() for _ in range(SENDERS)]
        self._senders = [asyncio.create_task(self._drain(q), name=f"events-{i}") for i, q in enumerate(self._queues)]
        return True

    async def _drain(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            event = await queue.get()
            await self._send(event)
            queue.task_done()

    async def _send(self, event: dict[str, Any]) -> None:
        try:
            await self.client.create(EVENT, event, event["metadata"]["namespace"])
        except ApiError as exc:
            log.warning("could not record event", reason=event["reason"], error=str(exc))

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait (bounded) until queued events are written; used on shutdown."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(q.join() for q in self._queues)), timeout)

    async def close(self) -> None:
        await self.flush()
        for task in self._senders:
            task.cancel()
        for task in self._senders:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._senders = []
