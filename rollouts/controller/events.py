"""Kubernetes Events on Rollouts and AnalysisRuns, with Argo's reason strings.

Events are how `kubectl describe rollout` and Argo CD's UI tell the story of an update, so they use the same
reasons Argo Rollouts uses (RolloutUpdated, NewReplicaSetCreated, ScalingReplicaSet, ...). Failing to record
an event never fails a reconcile: it is logged and dropped.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import structlog

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError
from rollouts.kube.resources import EVENT

COMPONENT = "rollouts-controller"
log = structlog.get_logger("rollouts.events")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventRecorder:
    def __init__(self, client: KubeClient, *, component: str = COMPONENT) -> None:
        self.client = client
        self.component = component

    async def record(self, obj: dict[str, Any], *, type: str, reason: str, message: str) -> None:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        stamp = _now()
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{time.time_ns():x}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": meta.get("name"),
                "namespace": namespace, "uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason, "message": message, "type": type, "count": 1,
            "firstTimestamp": stamp, "lastTimestamp": stamp,
            "source": {"component": self.component}, "reportingComponent": self.component,
        }
        try:
            await self.client.create(EVENT, event, namespace)
        except ApiError as exc:
            log.warning("could not record event", reason=reason, error=str(exc))
