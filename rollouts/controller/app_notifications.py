"""Notifications for Applications, as Argo CD's notifications controller sends them.

Level-driven, like the engine's controller: on every change of an Application, each trigger it is
subscribed to is evaluated (``when`` in expr-lang over ``app``); a condition that is true sends its
templates once to each destination, and is armed again when it turns false (or, with ``oncePer``, once per
value: once per revision for the catalog's triggers). What was sent is recorded in the Application's
``notified.notifications.argoproj.io`` annotation, the same key and format Argo CD writes, so moving
between Argo CD and this controller does not repeat notifications. Configuration: ``argocd-notifications-cm``
and ``argocd-notifications-secret`` in the Applications' namespace (``context`` included). Metrics: Argo CD's
``argocd_notifications_deliveries_total{trigger,service,succeeded}`` and
``argocd_notifications_trigger_eval_total{name,triggered}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from prometheus_client import Counter
from prometheus_client.core import Metric

from rollouts.controller.notifications import DeliveryFailed, NotificationSource, deliver, patch_state
from rollouts.kube.client import KubeClient
from rollouts.kube.informer import Informer
from rollouts.kube.resources import APPLICATION
from rollouts.kube.shards import ShardSet
from rollouts.kube.worker import run_worker
from rollouts.kube.workqueue import WorkQueue
from rollouts.notifications.config import ARGOCD_CONFIGMAP, ARGOCD_SECRET
from rollouts.notifications.expressions import ExprEvaluator, application_env
from rollouts.notifications.plan import Send, application_sends
from rollouts.notifications.state import NotifiedState
from rollouts.notifications.variables import application_vars

log = structlog.get_logger("rollouts.notifications")


@dataclass(eq=False)
class ApplicationNotificationMetrics:
    deliveries: Counter = field(default_factory=lambda: Counter(
        "argocd_notifications_deliveries", "Number of delivered notifications.", ["trigger", "service", "succeeded"],
        registry=None))
    evaluations: Counter = field(default_factory=lambda: Counter(
        "argocd_notifications_trigger_eval", "Number of trigger evaluations.", ["name", "triggered"], registry=None))

    def collect(self) -> Iterator[Metric]:
        yield from self.deliveries.collect()
        yield from self.evaluations.collect()


class ApplicationNotifier:
    def __init__(self, client: KubeClient, source: NotificationSource, *, namespace: str,
                 metrics: ApplicationNotificationMetrics) -> None:
        self.client, self.source, self.namespace, self.metrics = client, source, namespace, metrics
        self.apps = Informer(client, APPLICATION, namespace=namespace, handler=self._on_app)
        self.queue: WorkQueue[str] = WorkQueue(base_delay=1.0, max_delay=300.0, name="ApplicationNotifications")

    def _on_app(self, etype: str, app: dict[str, Any]) -> None:
        if etype != "DELETED":
            self.queue.add(str((app.get("metadata") or {}).get("name") or ""))

    async def reconcile(self, name: str) -> float | None:
        app = self.apps.get(self.namespace, name)
        current = self.source.current()
        if app is None or current is None:
            return None
        config, deliverer = current
        secrets = self.source.secret_data()
        state = NotifiedState.from_annotations((app.get("metadata") or {}).get("annotations"))
        sends, new_state, errors = application_sends(
            config, app, env=application_env(app, secrets, config.context), evaluator=ExprEvaluator(), state=state,
            now=int(time.time()))
        for error in errors:
            log.warning("notification trigger failed", namespace=self.namespace, application=name, error=error)
        for trigger in {s.trigger for s in sends}:
            self.metrics.evaluations.labels(trigger, "true").inc()

        def on_result(send: Send, error: str | None) -> None:
            self.metrics.deliveries.labels(send.trigger, send.dest.service, str(error is None).lower()).inc()
            fields = {"namespace": self.namespace, "application": name, "trigger": send.trigger,
                      "destination": str(send.dest)}
            if error is None:
                log.info("notification sent", **fields)
            else:
                log.warning("notification failed", **fields, error=error)

        retry = await deliver(deliverer, sends, application_vars(app, secrets, config.context), new_state,
                              now=int(time.time()), on_result=on_result) if sends else []
        await patch_state(self.client, APPLICATION, app, new_state)
        if retry:
            raise DeliveryFailed("; ".join(retry))
        return None


async def run_application_notifications(client: KubeClient, *, namespace: str, workers: int,
                                        metrics: ApplicationNotificationMetrics, stop: asyncio.Event,
                                        shards: ShardSet | None = None) -> None:
    source = NotificationSource(client, namespace=namespace, configmap=ARGOCD_CONFIGMAP, secret=ARGOCD_SECRET)
    notifier = ApplicationNotifier(client, source, namespace=namespace, metrics=metrics)
    tasks = [asyncio.create_task(i.run(), name=f"app-notifications-{i.kind.plural}")
             for i in [*source.informers, notifier.apps]]
    await asyncio.gather(*(i.synced.wait() for i in source.informers))
    tasks.append(asyncio.create_task(notifier.queue.run_timers(), name="app-notifications-timers"))
    if shards is not None:
        shards.requeue_on_acquire(notifier.apps, lambda key: notifier.queue.add(key[1]))
    tasks += [asyncio.create_task(run_worker(
        notifier.queue, notifier.reconcile, kind="application notification", log=log,
        fields=lambda k: {"namespace": namespace, "application": k}, shards=shards,
        shard_key=lambda k: f"{namespace}/{k}"), name=f"app-notifications-{n}")
        for n in range(workers)]
    try:
        await stop.wait()
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
