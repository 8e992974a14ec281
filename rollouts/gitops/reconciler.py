"""The Application reconciler: observe (Git + cluster) -> decide (auto-sync, sync step) -> one status write.

Why this module exists: it is the loop users rely on to make the cluster follow Git. Each pass of an
application compares its source with the cluster (``compare.py``), advances a running sync operation by one
step (``sync.py``), starts an automated sync when the policy says so (``autosync.py``), and writes the whole
status with a single JSON patch. The Application CRD has no status subresource (as in Argo CD), so the patch
goes to the main resource; clearing ``operation`` is guarded by a JSON-patch ``test`` so a sync requested by
the CLI in the meantime is never lost.

When Git is read: a fetch happens when the polling interval (default 3 minutes, plus jitter so thousands of
applications do not fetch together) has expired, when the ``argocd.argoproj.io/refresh`` annotation asks for
it (``hard`` also drops cached renders), or when a webhook push names the repository. Between fetches the
pass is cheap: renders and dry-run results are cached, and live objects come from label-filtered watches
(``live.py``) that also wake the owning application on every change, which is how drift is seen in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from pydantic import ValidationError

from rollouts.api.application import (
    REFRESH_ANNOTATION,
    Application,
    ApplicationConditionType,
    HealthStatusCode,
    SyncStatusCode,
)
from rollouts.api.common import format_time
from rollouts.gitops.autosync import decide_auto_sync
from rollouts.gitops.compare import Comparer, Comparison, ComparisonError
from rollouts.gitops.live import LiveState
from rollouts.gitops.operation import next_history
from rollouts.gitops.source import GitSource
from rollouts.gitops.status import apply_comparison, conditions_with_times, started_at
from rollouts.gitops.sync import SyncRunner, SyncStep
from rollouts.gitops.webhook import DEFAULT_MAX_PAYLOAD_MB, webhook_app
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError, NotFound
from rollouts.kube.informer import Informer
from rollouts.kube.resources import APPLICATION
from rollouts.kube.worker import run_worker
from rollouts.kube.workqueue import WorkQueue

log = structlog.get_logger("rollouts.gitops")
Obj = dict[str, Any]
Clock = Callable[[], datetime]
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class GitopsConfig:
    namespace: str = "argocd"
    """Namespace of the Application objects (and of repository credential Secrets)."""
    workers: int = 4
    poll_interval: float = 180.0
    poll_jitter: float = 0.1
    """Fraction of the poll interval added at random to each application's next poll."""
    cache_dir: Path | None = None
    webhook_port: int = 0
    webhook_bind: str = "127.0.0.1"
    webhook_secret: str | None = None
    webhook_max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_MB * 1024 * 1024
    """Push payloads above this are answered 413 (GitHub sends up to 25 MB)."""


class ApplicationReconciler:
    def __init__(self, client: KubeClient, config: GitopsConfig, *, clock: Clock = utc_now) -> None:
        self.client = client
        self.config = config
        self.clock = clock
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        cache_dir = config.cache_dir
        if cache_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="rollouts-gitops-")
            cache_dir = Path(self._tmp.name)
        self.git = GitSource(cache_dir)
        self.queue: WorkQueue[str] = WorkQueue()
        self.live = LiveState(client, self.queue.add)
        self.comparer = Comparer(client, self.git, self.live, namespace=config.namespace)
        self.runner = SyncRunner(client, self.live, on_applied=self.comparer.remember)
        self.apps = Informer(client, APPLICATION, namespace=config.namespace, handler=self._on_app_event)
        self._next_poll: dict[str, float] = {}
        self._forced: dict[str, float] = {}
        self.reconciles = 0

    def _on_app_event(self, etype: str, obj: Obj) -> None:
        name = str((obj.get("metadata") or {}).get("name") or "")
        if etype == "DELETED":
            self._next_poll.pop(name, None)
            return
        self.queue.add(name)

    def refresh(self, name: str) -> None:
        """Fetch Git for this application on its next pass (webhook, CLI)."""
        self._forced.setdefault(name, time.monotonic())
        self.queue.add(name)

    def _poll_due(self, name: str) -> bool:
        due = self._next_poll.get(name)
        return due is None or time.monotonic() >= due

    def _schedule_poll(self, name: str) -> float:
        interval = self.config.poll_interval * (1 + random.uniform(0, self.config.poll_jitter))
        self._next_poll[name] = time.monotonic() + interval
        return interval

    # -- one pass --------------------------------------------------------------------------------------

    async def reconcile(self, name: str) -> float | None:
        """One pass over one application; returns when to look again (seconds) or None."""
        self.reconciles += 1
        try:
            obj = await self.client.get(APPLICATION, name, self.config.namespace)
        except NotFound:
            self._next_poll.pop(name, None)
            return None
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            return await self._finalize(obj)
        now = self.clock()
        try:
            app = Application.model_validate(obj)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
            await self._write_status(obj, {**(obj.get("status") or {}), "conditions": conditions_with_times(
                (obj.get("status") or {}).get("conditions") or [],
                [(ApplicationConditionType.INVALID_SPEC_ERROR.value, f"invalid Application spec: {problems}")],
                now)}, clear_operation=False)
            return None
        annotations = app.metadata.annotations or {}
        refresh = annotations.get(REFRESH_ANNOTATION)
        if refresh == "hard":
            self.comparer.invalidate(name)
        forced_at = self._forced.pop(name, None)
        started = time.monotonic()
        poll_due = self._poll_due(name)
        fetch = bool(refresh) or forced_at is not None or poll_due
        # Fetches are shared per repository: a refresh needs one that started after it was asked for; a poll
        # accepts one from the last quarter interval (so N apps on one repo do not fetch N times).
        newer_than = (started if refresh else forced_at) if (refresh or forced_at is not None) else (
            started - self.config.poll_interval / 4)
        await self._watch_status_kinds(app)

        comparison: Comparison | ComparisonError
        try:
            comparison = await self.comparer.compare_app(app, fetch=fetch, newer_than=newer_than)
        except ComparisonError as exc:
            comparison = exc
        except ApiError as exc:
            comparison = ComparisonError(f"cannot compare with the cluster: {exc.message}")
        requeue: float | None = None
        if fetch:
            requeue = self._schedule_poll(name)
        else:
            due = self._next_poll.get(name)
            requeue = max(due - time.monotonic(), 0.5) if due is not None else self._schedule_poll(name)

        status: Obj = dict(obj.get("status") or {})
        conditions: list[tuple[str, str]] = []
        if isinstance(comparison, ComparisonError):
            conditions.append((ApplicationConditionType.COMPARISON_ERROR.value, str(comparison)))
            status["sync"] = {**(status.get("sync") or {}), "status": SyncStatusCode.UNKNOWN.value}
            if not status.get("health"):
                status["health"] = {"status": HealthStatusCode.UNKNOWN.value}
        else:
            apply_comparison(status, app, comparison)
        if fetch or not status.get("reconciledAt"):
            status["reconciledAt"] = format_time(now)

        step: SyncStep | None = None
        new_operation: Obj | None = None
        if app.operation is not None and app.operation.sync is not None:
            op_comparison = await self._operation_comparison(app, comparison)
            try:
                step = await self.runner.step(app, op_comparison, now=now)
            except ApiError as exc:
                log.warning("sync step failed, retrying", app=name, error=exc.message)
                return 2.0
            status["operationState"] = step.state
            if step.succeeded and not isinstance(op_comparison, ComparisonError):
                status["history"] = next_history(
                    app.status.history or [] if app.status else [], revision=op_comparison.revision,
                    source=op_comparison.source, deployed_at=now, started_at=started_at(step.state),
                    initiated_by=app.operation.initiated_by, limit=app.spec.revision_history_limit)
            if step.requeue is not None:
                requeue = min(requeue, step.requeue) if requeue is not None else step.requeue
            if step.done:
                requeue = 0.1  # show the post-sync comparison at once
        elif not isinstance(comparison, ComparisonError):
            decision = decide_auto_sync(
                app, sync_status=comparison.sync_status, revision=comparison.revision,
                desired_count=len(comparison.desired()), owned_count=len(comparison.owned_extra()) + sum(
                    1 for r in comparison.desired() if r.live is not None), now=now)
            if decision.error:
                conditions.append((ApplicationConditionType.SYNC_ERROR.value, decision.reason))
            if decision.operation is not None:
                new_operation = decision.operation
                requeue = 0.0
            elif decision.retry_after is not None:
                requeue = min(requeue or decision.retry_after, decision.retry_after)
        previous_conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
        if conditions or previous_conditions:
            status["conditions"] = conditions_with_times(previous_conditions, conditions, now)
        if not status.get("conditions"):
            status.pop("conditions", None)

        await self._write_status(obj, status, clear_operation=step is not None and step.done,
                                 new_operation=new_operation)
        if refresh:
            with contextlib.suppress(ApiError):
                await self.client.patch(APPLICATION, name, {"metadata": {"annotations": {REFRESH_ANNOTATION: None}}},
                                        self.config.namespace)
        return requeue

    async def _finalize(self, obj: Obj) -> float | None:
        """Cascade deletion, as Argo CD's resources finalizer: delete what the app owns, then let it go."""
        meta = obj["metadata"]
        name = str(meta["name"])
        finalizers = list(meta.get("finalizers") or [])
        if RESOURCES_FINALIZER not in finalizers:
            return None
        remaining = 0
        found: dict[tuple[str, str, str, str], tuple[Any, Obj]] = {}
        for res in (obj.get("status") or {}).get("resources") or []:
            group, version = str(res.get("group") or ""), str(res.get("version") or "")
            if not version:
                continue
            with contextlib.suppress(ApiError, TimeoutError):
                kind = await self.client.resolve(f"{group}/{version}" if group else version, str(res["kind"]))
                await self.live.ensure(kind)
        for kind, key, live in self.live.owned_by(name):
            found[(key.group, key.kind, key.namespace, key.name)] = (kind, live)
        for kind, live in found.values():
            live_meta = live.get("metadata") or {}
            remaining += 1
            if live_meta.get("deletionTimestamp"):
                continue
            with contextlib.suppress(NotFound):
                await self.client.delete(kind, str(live_meta["name"]), live_meta.get("namespace"),
                                         propagation="Foreground")
        if remaining:
            return 1.0
        finalizers.remove(RESOURCES_FINALIZER)
        with contextlib.suppress(NotFound):
            await self.client.patch(APPLICATION, name, [
                {"op": "test", "path": "/metadata/resourceVersion", "value": meta["resourceVersion"]},
                {"op": "replace", "path": "/metadata/finalizers", "value": finalizers}],
                self.config.namespace, patch_type="json")
        return None

    async def _operation_comparison(
        self, app: Application, comparison: Comparison | ComparisonError
    ) -> Comparison | ComparisonError:
        """The comparison at the operation's revision/source (a rollback names an older commit)."""
        assert app.operation is not None and app.operation.sync is not None
        sync = app.operation.sync
        if sync.source is None and isinstance(comparison, Comparison) and (
                not sync.revision or comparison.revision.startswith(sync.revision)
                or sync.revision == app.spec.source.target_revision):
            return comparison
        try:
            return await self.comparer.compare_app(app, fetch=False, revision=sync.revision, source=sync.source)
        except ComparisonError as exc:
            return exc
        except ApiError as exc:
            return ComparisonError(f"cannot compare with the cluster: {exc.message}")

    async def _watch_status_kinds(self, app: Application) -> None:
        """Watch every kind this application had, so objects that left Git are still found for pruning."""
        for res in (app.status.resources or []) if app.status else []:
            api_version = f"{res.group}/{res.version}" if res.group else res.version
            if not res.version:
                continue
            try:
                kind = await self.client.resolve(api_version, res.kind)
                await self.live.ensure(kind)
            except (ApiError, TimeoutError):
                continue

    async def _write_status(self, obj: Obj, status: Obj, *, clear_operation: bool,
                            new_operation: Obj | None = None) -> None:
        name = str(obj["metadata"]["name"])
        ops: list[Obj] = []
        if status != (obj.get("status") or {}):
            ops.append({"op": "add", "path": "/status", "value": status})
        if clear_operation and obj.get("operation") is not None:
            ops += [{"op": "test", "path": "/operation", "value": obj["operation"]},
                    {"op": "remove", "path": "/operation"}]
        if new_operation is not None:
            ops.append({"op": "add", "path": "/operation", "value": new_operation})
            if obj.get("operation") is None:
                ops.insert(0, {"op": "test", "path": "/metadata/resourceVersion",
                               "value": obj["metadata"]["resourceVersion"]})
        if not ops:
            return
        updated = await self.client.patch(APPLICATION, name, ops, self.config.namespace, patch_type="json")
        self.apps.upsert(updated)

    # -- loops -----------------------------------------------------------------------------------------

    async def worker(self) -> None:
        await run_worker(self.queue, self.reconcile, kind="application", log=log, fields=lambda name: {"app": name})

    def _webhook_targets(self) -> list[tuple[str, str, str]]:
        out = []
        for obj in self.apps.items():
            source = (obj.get("spec") or {}).get("source") or {}
            out.append((str(obj["metadata"]["name"]), str(source.get("repoURL") or ""),
                        str(source.get("targetRevision") or "HEAD")))
        return out

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [asyncio.create_task(self.apps.run(), name="gitops-applications"),
                 asyncio.create_task(self.queue.run_timers(), name="gitops-timers")]
        runner: web.AppRunner | None = None
        try:
            if self.config.webhook_port:
                runner = web.AppRunner(webhook_app(self._webhook_targets, self.refresh,
                                                   secret=self.config.webhook_secret,
                                                   max_payload_bytes=self.config.webhook_max_payload_bytes),
                                       access_log=None)
                await runner.setup()
                await web.TCPSite(runner, self.config.webhook_bind, self.config.webhook_port).start()
            await self.apps.synced.wait()
            tasks += [asyncio.create_task(self.worker(), name=f"gitops-worker-{n}")
                      for n in range(self.config.workers)]
            log.info("application reconciler started", namespace=self.config.namespace,
                     applications=len(self.apps), webhook_port=self.config.webhook_port or None)
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.live.close()
            if runner is not None:
                await runner.cleanup()
            if self._tmp is not None:
                self._tmp.cleanup()


async def run_applications(
    client: KubeClient,
    *,
    namespace: str,
    stop_event: asyncio.Event,
    workers: int = 4,
    poll_interval: float = 180.0,
    cache_dir: Path | None = None,
    webhook_port: int = 0,
    webhook_bind: str = "127.0.0.1",
    webhook_secret: str | None = None,
    webhook_max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_MB * 1024 * 1024,
) -> None:
    """Run the Application reconciler until ``stop_event`` is set (started by ``rollouts controller``)."""
    config = GitopsConfig(namespace=namespace, workers=workers, poll_interval=poll_interval, cache_dir=cache_dir,
                          webhook_port=webhook_port, webhook_bind=webhook_bind, webhook_secret=webhook_secret,
                          webhook_max_payload_bytes=webhook_max_payload_bytes)
    await ApplicationReconciler(client, config).run(stop_event)
