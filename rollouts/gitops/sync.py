"""One step of a sync operation, resumable from ``status.operationState`` alone.

Why this module exists: a sync that waits for health between waves can take minutes, and the controller may
restart in the middle. Like Argo CD, each reconcile advances the operation by one step and records what it
did in ``operationState.syncResult.resources`` (one entry per applied resource, hook or pruned object):
apply the next wave's objects, or check that the current wave is healthy (with a message naming what it
waits for), or prune, or finish. Everything needed to continue is in that record, so killing the process at
any point and starting again converges on the same result. Failure runs the SyncFail hooks; a retry policy
re-runs the whole operation after a backoff.

Sync options honoured: CreateNamespace, PruneLast, ApplyOutOfSyncOnly, WaveReadyWhenPaused (ours); applying
is always server-side apply with the field manager ``rollouts-gitops`` (so ServerSideApply=true is the
default) and the API server does schema validation (Validate=false changes nothing).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.application import (
    Application,
    HealthStatusCode,
    Operation,
    OperationPhase,
    ResultCode,
)
from rollouts.api.common import format_time
from rollouts.gitops.compare import FIELD_MANAGER, Comparison, ComparisonError
from rollouts.gitops.health import resource_health
from rollouts.gitops.hooks import Hooks
from rollouts.gitops.live import LiveState
from rollouts.gitops.operation import can_retry, retry_delay
from rollouts.gitops.prune import plan_prune
from rollouts.gitops.tracking import ResourceKey, key_of
from rollouts.gitops.waves import (
    WAVE_READY_WHEN_PAUSED_OPTION,
    HookDeletePolicy,
    SyncPhase,
    SyncTask,
    Wave,
    group_waves,
    is_ready_for_next_wave,
    option_enabled,
    parse_sync_options,
    sync_tasks,
)
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError, NotFound
from rollouts.kube.resources import NAMESPACE, ResourceKind

Obj = dict[str, Any]
_MAX_NAMES_IN_MESSAGE = 5


@dataclass(frozen=True, slots=True)
class SyncStep:
    state: Obj
    """The operationState to write."""
    done: bool
    """The operation is over: clear the ``operation`` field."""
    requeue: float | None = None
    succeeded: bool = False
    """Add a history entry."""


def _dump(model: Any) -> Obj:
    out: Obj = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return out


def _record_id(rec: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    return (str(rec.get("group") or ""), str(rec.get("kind") or ""), str(rec.get("namespace") or ""),
            str(rec.get("name") or ""), str(rec.get("syncPhase") or ""))


def _summary(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_NAMES_IN_MESSAGE])
    more = len(names) - _MAX_NAMES_IN_MESSAGE
    return shown + (f" and {more} more" if more > 0 else "")


class SyncRunner:
    def __init__(self, client: KubeClient, live: LiveState,
                 on_applied: Callable[[ResourceKind, Obj, Obj], None] | None = None) -> None:
        self.client = client
        self.live = live
        self.on_applied = on_applied
        self.hooks = Hooks(client)

    # -- operation state -------------------------------------------------------------------------------

    def begin(self, app: Application, operation: Operation, now: datetime) -> tuple[Obj | None, SyncStep | None]:
        """The state to work on, or a step that only waits (a retry whose backoff has not expired).

        As in Argo CD, an operation that is present while the last state is completed is a *new* operation:
        finishing one writes the final state and clears ``operation`` in the same patch. A retry stays
        Running, with ``startedAt`` set to when the next attempt is due and ``retryCount`` counting attempts.
        """
        op_json = _dump(operation)
        prev = app.status.operation_state if app.status else None
        if prev is None or prev.phase.is_completed() or _dump(prev.operation) != op_json:
            return self._new_state(op_json, now, retry_count=0), None
        prev_json = _dump(prev)
        wait = (prev.started_at - now).total_seconds()
        if wait > 0:
            return None, SyncStep(prev_json, done=False, requeue=wait)
        return prev_json, None

    @staticmethod
    def _new_state(op_json: Obj, now: datetime, *, retry_count: int) -> Obj:
        state: Obj = {"operation": op_json, "phase": OperationPhase.RUNNING.value, "startedAt": format_time(now),
                      "message": "syncing"}
        if retry_count:
            state["retryCount"] = retry_count
        return state

    # -- the step --------------------------------------------------------------------------------------

    async def step(
        self, app: Application, comparison: Comparison | ComparisonError, *, now: datetime
    ) -> SyncStep:
        operation = app.operation
        if operation is None or operation.sync is None:
            raise ValueError("step() needs an application with operation.sync")
        state, finished = self.begin(app, operation, now)
        if finished is not None:
            return finished
        assert state is not None
        if isinstance(comparison, ComparisonError):
            return await self._fail(operation, state, f"ComparisonError: {comparison}", now, None)
        result = state.setdefault("syncResult", {"revision": comparison.revision})
        result["revision"] = comparison.revision
        result["source"] = _dump(comparison.source)
        records: list[Obj] = result.setdefault("resources", [])
        if operation.sync.dry_run:
            return self._succeed(state, now, "successfully synced (dry run: nothing applied)")

        policy = app.spec.sync_policy
        options = parse_sync_options([*(policy.sync_options or [] if policy else []),
                                      *(operation.sync.sync_options or [])])
        namespace = app.spec.destination.namespace or ""
        try:
            await self._ensure_namespace(namespace, create=option_enabled(options, "CreateNamespace"))
        except ApiError as exc:
            return await self._fail(operation, state, exc.message, now, comparison)

        selected = {(r.group, r.kind, r.name) for r in operation.sync.resources or ()}
        manifests = [r.desired for r in comparison.desired() if r.desired is not None]
        if not selected:
            manifests += [obj for _, obj in comparison.hooks]
        try:
            tasks = sync_tasks(manifests)
        except ValueError as exc:
            return await self._fail(operation, state, str(exc), now, comparison)
        if selected:
            tasks = [t for t in tasks if (t.key.group, t.key.kind, t.key.name) in selected]
        hook_kinds = {key_of(obj): kind for kind, obj in comparison.hooks}
        in_sync = {r.key for r in comparison.desired() if not r.diff.modified}
        extra = comparison.owned_extra()
        if selected:
            extra = {k: v for k, v in extra.items() if (k.group, k.kind, k.name) in selected}
        prune = plan_prune({r.key for r in comparison.desired()}, extra, prune_enabled=operation.sync.prune)
        by_id = {_record_id(r): r for r in records}

        def record_of(task: SyncTask) -> Obj | None:
            if task.is_hook:
                return by_id.get(self.hooks.record_id(task, state))
            return by_id.get((task.key.group, task.key.kind, task.key.namespace, task.key.name, task.phase.value))

        prune_last = option_enabled(options, "PruneLast")
        waves = group_waves(tasks)
        for index, wave in enumerate(waves):
            if wave.phase is SyncPhase.POST_SYNC and not prune_last:
                pruned = await self._prune(prune.prune, comparison, records)
                if pruned is not None:
                    return await self._fail(operation, state, pruned, now, comparison)
            pending = [t for t in wave.tasks if record_of(t) is None]
            if pending:
                message = await self._apply_wave(
                    pending, comparison, hook_kinds, records, state,
                    skip_unchanged=option_enabled(options, "ApplyOutOfSyncOnly"), in_sync=in_sync)
                failed = [r for r in records if r.get("status") == ResultCode.SYNC_FAILED.value]
                if failed:
                    return await self._fail(operation, state, "one or more objects failed to apply: " +
                                            _summary([f"{r['kind']}/{r['name']}: {r.get('message')}"
                                                      for r in failed]), now, comparison)
                state["message"] = message
                return SyncStep(state, done=False, requeue=0.2)
            later_waves = index < len(waves) - 1
            waiting, failure = await self._wave_progress(
                wave, record_of, hook_kinds, comparison, later_waves=later_waves,
                paused_is_ready=option_enabled(options, WAVE_READY_WHEN_PAUSED_OPTION))
            if failure:
                return await self._fail(operation, state, failure, now, comparison)
            if waiting:
                state["message"] = f"waiting for healthy state of {_summary(waiting)} ({wave})"
                return SyncStep(state, done=False, requeue=1.0)
        pruned = await self._prune(prune.prune, comparison, records)
        if pruned is not None:
            return await self._fail(operation, state, pruned, now, comparison)
        await self.hooks.delete_by_policy(records, comparison, HookDeletePolicy.HOOK_SUCCEEDED)
        message = "successfully synced (all tasks run)"
        if prune.skipped and not operation.sync.prune:
            message += f"; {len(prune.skipped)} resource(s) require pruning"
        return self._succeed(state, now, message)

    # -- pieces ----------------------------------------------------------------------------------------

    async def _ensure_namespace(self, namespace: str, *, create: bool) -> None:
        if not namespace:
            return
        try:
            await self.client.get(NAMESPACE, namespace)
        except NotFound:
            if not create:
                raise NotFound(404, "NotFound", f"namespace {namespace!r} does not exist: create it or add the "
                                                "sync option CreateNamespace=true") from None
            await self.client.apply(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": namespace}}, field_manager=FIELD_MANAGER)

    async def _resolve_pending(self, task: SyncTask) -> ResourceKind | None:
        self.client.forget_discovery()
        try:
            return await self.client.resolve(str(task.obj["apiVersion"]), str(task.obj["kind"]))
        except NotFound:
            return None

    async def _apply_wave(
        self,
        pending: list[SyncTask],
        comparison: Comparison,
        hook_kinds: Mapping[ResourceKey, ResourceKind],
        records: list[Obj],
        state: Mapping[str, Any],
        *,
        skip_unchanged: bool,
        in_sync: set[ResourceKey],
    ) -> str:
        """Apply a wave in order. Runs of objects of one kind go in parallel (their order never matters);
        hooks, and a kind whose CRD is still being established, stop the wave until the next pass."""
        applied: list[str] = []
        limit = asyncio.Semaphore(8)

        def base(task: SyncTask) -> Obj:
            return {"group": task.key.group, "version": str(task.obj["apiVersion"]).rpartition("/")[2],
                    "kind": task.key.kind, "namespace": task.key.namespace, "syncPhase": task.phase.value}

        async def apply_one(task: SyncTask, kind: ResourceKind) -> None:
            async with limit:
                try:
                    live = await self.client.apply(kind, task.obj, field_manager=FIELD_MANAGER, force=True)
                except ApiError as exc:
                    records.append({**base(task), "name": task.key.name, "status": ResultCode.SYNC_FAILED.value,
                                    "message": exc.message[:500]})
                    return
            self.live.record(kind, live)
            if self.on_applied is not None:
                self.on_applied(kind, dict(task.obj), live)
            # No message on success: an app of thousands of objects must keep its status well under 1 MB.
            records.append({**base(task), "name": task.key.name, "status": ResultCode.SYNCED.value})
            applied.append(str(task.key))

        for (is_hook_run, _kind), run in itertools.groupby(pending, key=lambda t: (t.is_hook, t.key.kind)):
            batch: list[tuple[SyncTask, ResourceKind]] = []
            for task in run:
                if is_hook_run:
                    outcome = await self.hooks.create(task, hook_kinds[task.key], state)
                    if outcome is None:
                        return f"waiting for the previous {task.key.kind} hook {task.key.name!r} to be deleted"
                    records.append({**base(task), **outcome})
                    applied.append(f"{task.key.kind}/{outcome['name']}")
                    continue
                kind = comparison.kinds.get(task.key) or await self._resolve_pending(task)
                if kind is None:
                    await asyncio.gather(*(apply_one(t, k) for t, k in batch))
                    return f"waiting for the CRD of {task.key.kind} to be established before applying {task.key}"
                if skip_unchanged and task.key in in_sync:
                    records.append({**base(task), "name": task.key.name, "status": ResultCode.SYNCED.value,
                                    "message": "unchanged (ApplyOutOfSyncOnly)"})
                    continue
                batch.append((task, kind))
            await asyncio.gather(*(apply_one(t, k) for t, k in batch))
        return f"applied {_summary(applied)}" if applied else "nothing to apply in this wave"

    async def _get(self, kind: ResourceKind, namespace: str, name: str) -> Obj | None:
        try:
            return await self.client.get(kind, name, namespace or None)
        except NotFound:
            return None

    async def _wave_progress(
        self,
        wave: Wave,
        record_of: Any,
        hook_kinds: Mapping[ResourceKey, ResourceKind],
        comparison: Comparison,
        *,
        later_waves: bool,
        paused_is_ready: bool,
    ) -> tuple[list[str], str | None]:
        """(what the wave still waits for, a failure message)."""
        waiting: list[str] = []
        for task in wave.tasks:
            rec = record_of(task)
            if task.is_hook:
                if rec.get("hookPhase") in (OperationPhase.SUCCEEDED.value,):
                    continue
                live = await self._get(hook_kinds[task.key], task.key.namespace, str(rec["name"]))
                health = resource_health(live)
                if live is None:
                    return waiting, f"hook {task.key.kind}/{rec['name']} was deleted before it completed"
                if health is None or health.status is HealthStatusCode.HEALTHY:
                    rec["hookPhase"] = OperationPhase.SUCCEEDED.value
                    rec["message"] = (health.message if health else "") or "hook completed"
                elif health.status is HealthStatusCode.DEGRADED:
                    rec["hookPhase"] = OperationPhase.FAILED.value
                    rec["message"] = health.message
                    return waiting, f"{task.phase} hook {task.key.kind}/{rec['name']} failed: {health.message}"
                else:
                    waiting.append(f"{task.key.kind}/{rec['name']}")
                continue
            if not later_waves or rec.get("message", "").startswith("unchanged"):
                continue
            kind = comparison.kinds.get(task.key) or await self._resolve_pending(task)
            live = await self._get(kind, task.key.namespace, task.key.name) if kind else None
            health = resource_health(live)
            if not is_ready_for_next_wave(health, live, paused_is_ready=paused_is_ready):
                status = f" ({health.status}{': ' + health.message if health.message else ''})" if health else ""
                waiting.append(f"{task.key}{status}")
        return waiting, None

    async def _prune(self, keys: tuple[ResourceKey, ...], comparison: Comparison, records: list[Obj]) -> str | None:
        done = {(r.get("group"), r.get("kind"), r.get("namespace"), r.get("name"))
                for r in records if r.get("status") == ResultCode.PRUNED.value}
        for key in keys:
            if (key.group, key.kind, key.namespace, key.name) in done:
                continue
            kind = comparison.kinds[key]
            try:
                await self.client.delete(kind, key.name, key.namespace or None, propagation="Foreground")
            except NotFound:
                pass
            except ApiError as exc:
                return f"failed to prune {key}: {exc.message}"
            self.live.forget(kind, key.namespace, key.name)
            records.append({"group": key.group, "kind": key.kind, "namespace": key.namespace, "name": key.name,
                            "status": ResultCode.PRUNED.value, "message": "pruned",
                            "syncPhase": SyncPhase.SYNC.value})
        return None

    def _succeed(self, state: Obj, now: datetime, message: str) -> SyncStep:
        state.update({"phase": OperationPhase.SUCCEEDED.value, "message": message, "finishedAt": format_time(now)})
        return SyncStep(state, done=True, succeeded=True)

    async def _fail(
        self, operation: Operation, state: Obj, message: str, now: datetime, comparison: Comparison | None,
    ) -> SyncStep:
        """Retry after a backoff while the policy allows; otherwise Failed: run the SyncFail hooks and delete
        the HookFailed ones."""
        retry_count = int(state.get("retryCount") or 0)
        if can_retry(operation.retry, retry_count):
            delay = retry_delay(operation.retry, retry_count)
            state.update({"phase": OperationPhase.RUNNING.value, "retryCount": retry_count + 1,
                          "startedAt": format_time(now + timedelta(seconds=delay)),
                          "message": f"Retrying attempt #{retry_count + 1} in {delay:.0f}s: {message}"[:2000]})
            state.pop("syncResult", None)  # the next attempt runs every task again
            return SyncStep(state, done=False, requeue=delay)
        if comparison is not None:
            await self.hooks.run_sync_fail(comparison, state)
        state.update({"phase": OperationPhase.FAILED.value, "message": message[:2000], "finishedAt": format_time(now)})
        return SyncStep(state, done=True)
