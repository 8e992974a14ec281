"""Notifications for Rollouts, as Argo Rollouts sends them, delivered at least once and never twice.

Argo Rollouts sends a notification when it records an event on a Rollout (``RolloutAborted`` ->
``on-rollout-aborted``), from inside the reconcile. Here the Kubernetes Events the controller writes *are*
the outbox: this component watches them (``involvedObject.kind=Rollout``), and for each event whose
trigger has subscribers renders and sends, then records ``<event>:<trigger>:<condition>:<service>:
<recipient>`` in the Rollout's ``notified.notifications.argoproj.io`` annotation. So:

* a slow or failing service never delays a reconcile (own queue and workers; a send has a 30 s budget);
* a failed send is retried with per-event backoff (1 s doubling to 5 min) until it succeeds; a
  destination that can never succeed (bad template, unknown service) is reported and not retried;
* after a restart (or a leader change) the events of the last ``recovery_window`` seconds that are not
  recorded are delivered: at least once, and only a crash between a send and its record repeats one.

Configuration is the ``argo-rollouts-notification-configmap`` ConfigMap and
``argo-rollouts-notification-secret`` Secret in the controller's namespace, watched and re-parsed on change.
Metrics (Argo's names): ``notification_send_success`` / ``notification_send_error`` {namespace, name, type,
reason} and the ``notification_send`` histogram {namespace, name}.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client import Histogram
from prometheus_client.core import Metric

from rollouts.api.common import parse_time
from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.controller.events import COMPONENT
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError, NotFound
from rollouts.kube.informer import Informer
from rollouts.kube.resources import ANALYSISRUN, CONFIGMAP, EVENT, ROLLOUT, SECRET, ResourceKind
from rollouts.kube.shards import ShardSet
from rollouts.kube.worker import run_worker
from rollouts.kube.workqueue import WorkQueue
from rollouts.notifications.config import ROLLOUTS_CONFIGMAP, ROLLOUTS_SECRET, NotificationConfig, parse_config
from rollouts.notifications.delivery import Deliverer
from rollouts.notifications.expressions import ExprEvaluator, rollout_env
from rollouts.notifications.plan import Send, rollout_event_sends
from rollouts.notifications.services.base import SendError
from rollouts.notifications.state import NotifiedState
from rollouts.notifications.subscriptions import NOTIFIED_ANNOTATION
from rollouts.notifications.variables import rollout_vars

log = structlog.get_logger("rollouts.notifications")
REVISION_ANNOTATION = "rollout.argoproj.io/revision"


class DeliveryFailed(ApiError):
    """Some destinations failed and will be retried (run_worker backs off on ApiError)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "NotificationFailed", message)


# -- configuration ----------------------------------------------------------------------------------


class NotificationSource:
    """One ConfigMap + Secret pair, watched; ``current()`` is the parsed config and its services."""

    def __init__(self, client: KubeClient, *, namespace: str, configmap: str, secret: str) -> None:
        self.namespace, self.configmap_name, self.secret_name = namespace, configmap, secret
        self.configmaps = Informer(client, CONFIGMAP, namespace=namespace, field_selector=f"metadata.name={configmap}")
        self.secrets = Informer(client, SECRET, namespace=namespace, field_selector=f"metadata.name={secret}")
        self._version: tuple[str, str] | None = None
        self._current: tuple[NotificationConfig, Deliverer] | None = None

    @property
    def informers(self) -> list[Informer]:
        return [self.configmaps, self.secrets]

    def secret_data(self) -> dict[str, bytes]:
        import base64

        secret = self.secrets.get(self.namespace, self.secret_name) or {}
        data = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
        data.update({k: str(v).encode() for k, v in (secret.get("stringData") or {}).items()})
        return data

    def current(self) -> tuple[NotificationConfig, Deliverer] | None:
        cm = self.configmaps.get(self.namespace, self.configmap_name)
        if cm is None:
            return None
        secret = self.secrets.get(self.namespace, self.secret_name) or {}
        version = (_rv(cm), _rv(secret))
        if version != self._version or self._current is None:
            config = parse_config(cm.get("data") or {}, self.secret_data(), namespace=self.namespace)
            deliverer = Deliverer(config)
            for problem in [*config.problems, *deliverer.problems]:
                log.warning("notification configuration problem", configmap=f"{self.namespace}/{self.configmap_name}",
                            problem=problem)
            self._version, self._current = version, (config, deliverer)
        return self._current


def _rv(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


# -- metrics ------------------------------------------------------------------------------------------


@dataclass(eq=False)
class NotificationMetrics:
    """Argo Rollouts' notification metrics, exposed under exactly Argo's names."""

    success: dict[tuple[str, str, str, str], float] = field(default_factory=dict)
    error: dict[tuple[str, str, str, str], float] = field(default_factory=dict)
    send_seconds: Histogram = field(default_factory=lambda: Histogram(
        "notification_send", "Notification send performance.", ["namespace", "name"], registry=None,
        buckets=(0.01, 0.15, 0.25, 0.5, 1)))

    def collect(self) -> Iterator[Metric]:
        labels = ("namespace", "name", "type", "reason")
        for name, doc, values in (("notification_send_success", "Notification send success.", self.success),
                                  ("notification_send_error", "Error sending the notification", self.error)):
            metric = Metric(name, doc, "unknown")  # untyped: prometheus_client would name a counter *_total
            for key, value in values.items():
                metric.add_sample(name, dict(zip(labels, key, strict=True)), value)
            yield metric
        yield from self.send_seconds.collect()

    def count(self, ok: bool, key: tuple[str, str, str, str]) -> None:
        target = self.success if ok else self.error
        target[key] = target.get(key, 0.0) + 1


# -- delivery shared by Rollouts and Applications --------------------------------------------------------


async def deliver(deliverer: Deliverer, sends: list[Send], variables: Mapping[str, Any], state: NotifiedState, *,
                  now: int, on_result: Callable[[Send, str | None], None]) -> list[str]:
    """Send each; record successes (and hopeless failures) in ``state``; return retryable failures."""
    retry: list[str] = []
    for send in sends:
        try:
            await deliverer.send(send, variables)
        except SendError as exc:
            on_result(send, str(exc))
            if exc.retryable:
                retry.append(f"{send.dest}: {exc}")
                continue
            log.warning("notification will not be retried", trigger=send.trigger, destination=str(send.dest),
                        error=str(exc))
        else:
            on_result(send, None)
        state.set_notified(send.key, True, now=now)
    return retry


async def patch_state(client: KubeClient, kind: ResourceKind, obj: Mapping[str, Any], state: NotifiedState) -> None:
    meta = obj.get("metadata") or {}
    old = (meta.get("annotations") or {}).get(NOTIFIED_ANNOTATION)
    new = state.annotation_value()
    if old == new:
        return
    await client.patch(kind, meta["name"], {"metadata": {"annotations": {NOTIFIED_ANNOTATION: new}}},
                       meta.get("namespace"), patch_type="merge")


# -- Rollouts -----------------------------------------------------------------------------------------


def _event_time(event: Mapping[str, Any]) -> datetime | None:
    for value in (event.get("lastTimestamp"), event.get("eventTime"), event.get("firstTimestamp"),
                  (event.get("metadata") or {}).get("creationTimestamp")):
        if value:
            with contextlib.suppress(ValueError, TypeError):
                return parse_time(str(value))
    return None


_EVENT_FIELDS = ("reason", "type", "source", "reportingComponent", "lastTimestamp", "eventTime", "firstTimestamp")


def notified_event(event: dict[str, Any]) -> dict[str, Any]:
    """What the notifier reads of an Event (which Rollout, why, whose, when): the informer keeps only this, as
    it holds every Rollout Event of the watched namespaces (about 15 per Rollout update, most never notified)."""
    meta = event.get("metadata") or {}
    involved = event.get("involvedObject") or {}
    slim: dict[str, Any] = {k: event[k] for k in _EVENT_FIELDS if k in event}
    slim["metadata"] = {k: meta[k] for k in ("name", "namespace", "resourceVersion", "creationTimestamp") if k in meta}
    slim["involvedObject"] = {k: involved[k] for k in ("kind", "name", "namespace", "uid") if k in involved}
    return slim


class RolloutNotifier:
    """Events are queued per Rollout, so one worker at a time reads, extends and writes its notified state."""

    def __init__(self, client: KubeClient, source: NotificationSource, *, namespace: str | None,
                 metrics: NotificationMetrics, recovery_window: float = 600.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client, self.source, self.metrics, self.clock = client, source, metrics, clock
        self.events = Informer(client, EVENT, namespace=namespace, field_selector="involvedObject.kind=Rollout",
                               handler=self._on_event, transform=notified_event)
        self.queue: WorkQueue[tuple[str, str]] = WorkQueue(base_delay=1.0, max_delay=300.0, name="Notifications")
        self.pending: dict[tuple[str, str], set[str]] = {}
        self.started = clock()
        self.recovery_window = recovery_window

    def _on_event(self, etype: str, event: dict[str, Any]) -> None:
        if etype == "DELETED" or ((event.get("source") or {}).get("component") or
                                  event.get("reportingComponent")) != COMPONENT:
            return
        at = _event_time(event)
        if at is not None and (self.started - at).total_seconds() > self.recovery_window:
            return  # older than the recovery window at start-up: not this process's to deliver
        meta = event.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str((event.get("involvedObject") or {}).get("name") or ""))
        self.pending.setdefault(key, set()).add(str(meta.get("name") or ""))
        self.queue.add(key)

    async def _analysis_runs(self, rollout: Mapping[str, Any]) -> list[dict[str, Any]]:
        status, meta = rollout.get("status") or {}, rollout.get("metadata") or {}
        pod_hash = status.get("currentPodHash")
        if not pod_hash:
            return []
        runs, _ = await self.client.list(ANALYSISRUN, meta.get("namespace"),
                                         label_selector=f"{POD_TEMPLATE_HASH_LABEL}={pod_hash}")
        revision = (meta.get("annotations") or {}).get(REVISION_ANNOTATION)
        runs = [r for r in runs if ((r.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION)
                == revision]
        return sorted(runs, key=lambda r: str(r["metadata"].get("creationTimestamp") or ""), reverse=True)

    def _ordered_events(self, key: tuple[str, str]) -> list[dict[str, Any]]:
        events = []
        for name in list(self.pending.get(key, ())):
            event = self.events.get(key[0], name)
            if event is None:
                self.pending[key].discard(name)
            else:
                events.append(event)
        return sorted(events, key=lambda e: (str(e.get("firstTimestamp") or ""), e["metadata"]["name"]))

    async def reconcile(self, key: tuple[str, str]) -> float | None:
        events = self._ordered_events(key)
        current = self.source.current()
        if not events or current is None:
            self.pending.pop(key, None)
            return None
        try:
            rollout = await self.client.get(ROLLOUT, key[1], key[0])
        except NotFound:
            self.pending.pop(key, None)
            return None
        state = NotifiedState.from_annotations((rollout.get("metadata") or {}).get("annotations"))
        retry: list[str] = []
        variables: dict[str, Any] | None = None
        for event in events:
            name = event["metadata"]["name"]
            sends = self._plan(current[0], rollout, event, state)
            if sends:
                if variables is None:
                    variables = rollout_vars(rollout, self.source.secret_data(), await self._analysis_runs(rollout))
                failed = await self._deliver(current[1], key, event, sends, variables, state)
                if failed:
                    retry += failed
                    continue
            self.pending[key].discard(name)
        await patch_state(self.client, ROLLOUT, rollout, state)
        if retry:
            raise DeliveryFailed("; ".join(retry))
        return None

    def _plan(self, config: NotificationConfig, rollout: dict[str, Any], event: Mapping[str, Any],
              state: NotifiedState) -> list[Send]:
        sends, errors = rollout_event_sends(config, rollout, reason=str(event.get("reason") or ""),
                                            event=event["metadata"]["name"],
                                            env=rollout_env(rollout, self.source.secret_data()),
                                            evaluator=ExprEvaluator(), state=state)
        for error in errors:
            log.warning("notification trigger failed", namespace=rollout["metadata"].get("namespace"),
                        rollout=rollout["metadata"]["name"], error=error)
        return sends

    async def _deliver(self, deliverer: Deliverer, key: tuple[str, str], event: Mapping[str, Any],
                       sends: list[Send], variables: Mapping[str, Any], state: NotifiedState) -> list[str]:
        labels = (key[0], key[1], str(event.get("type") or "Normal"), str(event.get("reason") or ""))

        def on_result(send: Send, error: str | None) -> None:
            self.metrics.count(error is None, labels)
            fields = {"namespace": key[0], "rollout": key[1], "trigger": send.trigger, "destination": str(send.dest)}
            if error is None:
                log.info("notification sent", **fields)
            else:
                log.warning("notification failed", **fields, error=error)

        started = time.monotonic()
        try:
            return await deliver(deliverer, sends, variables, state, now=int(time.time()), on_result=on_result)
        finally:
            self.metrics.send_seconds.labels(key[0], key[1]).observe(time.monotonic() - started)


@dataclass(frozen=True)
class NotificationOptions:
    namespace: str = "argo-rollouts"
    """Where the controller's ConfigMap and Secret live (the controller's own namespace)."""
    workers: int = 4
    recovery_window: float = 600.0


async def run_rollout_notifications(client: KubeClient, *, options: NotificationOptions, watch_namespace: str | None,
                                    metrics: NotificationMetrics, stop: asyncio.Event,
                                    shards: ShardSet | None = None) -> None:
    """Deliver the Rollouts' notifications until ``stop``; sharded, each replica those of its shards' Rollouts
    (what was delivered is recorded on the Rollout, so a new owner goes on where the old one stopped)."""
    source = NotificationSource(client, namespace=options.namespace, configmap=ROLLOUTS_CONFIGMAP,
                                secret=ROLLOUTS_SECRET)
    notifier = RolloutNotifier(client, source, namespace=watch_namespace, metrics=metrics,
                               recovery_window=options.recovery_window)
    tasks = [asyncio.create_task(i.run(), name=f"notifications-{i.kind.plural}")
             for i in [*source.informers, notifier.events]]
    await asyncio.gather(*(i.synced.wait() for i in source.informers))
    tasks.append(asyncio.create_task(notifier.queue.run_timers(), name="notifications-timers"))
    if shards is not None:
        def deliver_for(shard: int) -> None:  # the previous owner may have left some undelivered
            for key in list(notifier.pending):
                if shards.shard_of(f"{key[0]}/{key[1]}") == shard:
                    notifier.queue.add(key)

        shards.on_acquired(deliver_for)
    tasks += [asyncio.create_task(run_worker(
        notifier.queue, notifier.reconcile, kind="notification", log=log,
        fields=lambda k: {"namespace": k[0], "rollout": k[1]}, shards=shards,
        shard_key=lambda k: f"{k[0]}/{k[1]}"), name=f"notifications-{n}")
        for n in range(options.workers)]
    try:
        await stop.wait()
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
