"""Runs one step of a sync operation: observe the cluster, ask ``sync.py`` what to do, perform it.

Why this module exists: it is the only place a sync touches the cluster. ``step`` reads what the pure
planner needs (the destination namespace, the live objects whose health gates the current wave), performs
the planned actions in order - server-side apply with the field manager ``rollouts-gitops``, hook creation
(replacing an earlier copy under BeforeHookCreation), pruning with foreground deletion - and records each
outcome in ``operationState.syncResult.resources``. A kind whose CRD is applied earlier in the same wave is
resolved again after discovery is refreshed. API errors on reads propagate (the reconciler retries the
whole pass); errors on writes become the step's failure, which the planner turns into a retry or Failed.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rollouts.api.application import Application, OperationPhase, ResultCode
from rollouts.api.appproject import AppProjectSpec
from rollouts.gitops.compare import FIELD_MANAGER
from rollouts.gitops.comparison import Comparison, ComparisonError, Outcome
from rollouts.gitops.custom_health import HealthAssessor
from rollouts.gitops.hooks import hook_name, hook_object, hooks_with_policy
from rollouts.gitops.impersonation import SyncIdentity
from rollouts.gitops.live import LiveState
from rollouts.gitops.project import ResolvedDestination
from rollouts.gitops.sync import (
    ApplyWave,
    CreateNamespace,
    DeleteHooks,
    DryRun,
    Prune,
    Report,
    RunHooks,
    SyncAction,
    SyncObservation,
    SyncStep,
    begin_operation,
    conclude_step,
    plan_sync_step,
    readiness_targets,
    records_of,
    summary,
    sync_context,
)
from rollouts.gitops.tracking import ResourceKey, key_of
from rollouts.gitops.waves import HookDeletePolicy, SyncPhase, SyncTask, delete_policies
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import AlreadyExists, ApiError, Forbidden, NotFound
from rollouts.kube.resources import NAMESPACE, ResourceKind

Obj = dict[str, Any]
Applied = Callable[[ResourceKind, Obj, Obj], None]


def _base_record(task: SyncTask) -> Obj:
    return {"group": task.key.group, "version": str(task.obj["apiVersion"]).rpartition("/")[2],
            "kind": task.key.kind, "namespace": task.key.namespace, "syncPhase": task.phase.value}


class SyncRunner:
    """Reads with ``client`` and writes with ``writer``: the same client, or one acting as the ServiceAccount
    the project names (``acting_as``), so the API server judges every write by that account's rights."""

    def __init__(self, client: KubeClient, live: LiveState, on_applied: Applied | None = None,
                 health: HealthAssessor | None = None, *, namespace_scoped: bool = False) -> None:
        self.client = client
        self.writer = client
        self.health = health or HealthAssessor()
        self.live = live
        self.on_applied = on_applied
        self.namespace_scoped = namespace_scoped
        """The cluster's credentials reach only some namespaces: Namespaces themselves may not be readable."""

    def acting_as(self, user: str | None) -> SyncRunner:
        """This runner, writing as ``user`` (None: as itself)."""
        if user is None:
            return self
        sibling = copy.copy(self)
        sibling.writer = self.client.impersonating(user)
        return sibling

    async def step(self, app: Application, comparison: Outcome, *, now: datetime,
                   project: AppProjectSpec | None = None, destination: ResolvedDestination | None = None,
                   identity: SyncIdentity | None = None) -> SyncStep:
        """Advance ``app``'s sync operation by one step: observe -> plan -> perform -> conclude."""
        operation = app.operation
        if operation is None or operation.sync is None:
            raise ValueError("step() needs an application with operation.sync")
        state, waiting = begin_operation(app, operation, now)
        if waiting is not None:
            return waiting
        assert state is not None
        observed = await self.observe(app, comparison, state)
        plan = plan_sync_step(app, comparison, state, observed, project, now=now, destination=destination,
                              identity=identity)
        runner = self.acting_as(identity.user if identity is not None else None)
        work = _Work(runner, comparison, plan.state)
        step, more = conclude_step(plan, await work.perform(plan.actions), operation, now=now)
        if more:
            await _Work(runner, comparison, step.state).perform(more, best_effort=True)
        return step

    # -- observe ---------------------------------------------------------------------------------------

    async def observe(self, app: Application, comparison: Outcome, state: Obj) -> SyncObservation:
        assert app.operation is not None and app.operation.sync is not None
        if isinstance(comparison, ComparisonError) or app.operation.sync.dry_run:
            return SyncObservation()
        exists, error = await self._namespace(app.spec.destination.namespace or "")
        hook_kinds = {key_of(obj): kind for kind, obj in comparison.hooks}
        live: dict[ResourceKey, Obj | None] = {}
        for task, key in readiness_targets(sync_context(app, comparison), state):
            kind = hook_kinds[task.key] if task.is_hook else await self.kind_of(task, comparison)
            live[key] = await self._get(kind, key) if kind is not None else None
        health = {key: await self.health.health(obj) for key, obj in live.items()}
        return SyncObservation(namespace_exists=exists, namespace_error=error, live=live, health=health)

    async def _namespace(self, namespace: str) -> tuple[bool, str | None]:
        if not namespace:
            return True, None
        try:
            await self.client.get(NAMESPACE, namespace)
        except NotFound:
            return False, None
        except Forbidden:
            if self.namespace_scoped:  # credentials for some namespaces only: writes will tell
                return True, None
            raise
        except ApiError as exc:
            return False, exc.message
        return True, None

    async def kind_of(self, task: SyncTask, comparison: Comparison[ResourceKind]) -> ResourceKind | None:
        """The task's kind; one whose CRD this sync applied is looked up again after discovery is refreshed."""
        kind = comparison.kinds.get(task.key)
        if kind is not None:
            return kind
        self.client.forget_discovery()
        try:
            return await self.client.resolve(str(task.obj["apiVersion"]), str(task.obj["kind"]))
        except NotFound:
            return None

    async def _get(self, kind: ResourceKind, key: ResourceKey) -> Obj | None:
        try:
            return await self.client.get(kind, key.name, key.namespace or None)
        except NotFound:
            return None


class _Work:
    """The actions of one plan, performed in order against one operationState."""

    def __init__(self, runner: SyncRunner, comparison: Outcome, state: Obj) -> None:
        self.runner = runner
        self.client = runner.writer
        self.comparison = comparison
        self.state = state

    @property
    def records(self) -> list[Obj]:
        """This attempt's records; created only when an action writes one (a plan without actions, such as
        an operation held by a sync window, leaves operationState as it was)."""
        return records_of(self.state)

    async def perform(self, actions: Sequence[SyncAction], *, best_effort: bool = False) -> Report:
        note = None
        for action in actions:
            failure = None
            match action:
                case CreateNamespace(name=name):
                    failure = await self._create_namespace(name)
                case DryRun():
                    failure = await self._dry_run(action)
                case ApplyWave():
                    note = await self._apply_wave(action)
                case Prune(keys=keys):
                    failure = await self._prune(keys)
                case RunHooks(tasks=tasks):
                    await self._run_hooks(tasks)
                case DeleteHooks(policy=policy):
                    await self._delete_hooks(policy)
            if failure is not None and not best_effort:
                return Report(failure=failure, note=note)
        return Report(note=note)

    @property
    def _comparison(self) -> Comparison[ResourceKind]:
        assert not isinstance(self.comparison, ComparisonError)
        return self.comparison

    async def _create_namespace(self, name: str) -> str | None:
        try:
            await self.client.apply(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                                    field_manager=FIELD_MANAGER)
        except ApiError as exc:
            return exc.message
        return None

    async def _dry_run_one(self, task: SyncTask, limit: asyncio.Semaphore) -> str | None:
        """The API server's refusal of this write as a dry run, or None."""
        async with limit:
            try:
                if task.is_hook:
                    await self.client.create(self._hook_kind(task), hook_object(task, hook_name(task, self.state)),
                                             task.key.namespace or None, dry_run=True, field_manager=FIELD_MANAGER)
                    return None
                kind = await self.runner.kind_of(task, self._comparison)
                if kind is not None:
                    await self.client.apply(kind, task.obj, field_manager=FIELD_MANAGER, force=True, dry_run=True)
            except AlreadyExists:
                return None
            except ApiError as exc:
                self.records.append({**_base_record(task), "name": task.key.name,
                                     "status": ResultCode.SYNC_FAILED.value, "message": exc.message[:500]})
                return f"{task.key.kind}/{task.key.name}: {exc.message}"
        return None

    async def _dry_run_prune(self, key: ResourceKey) -> str | None:
        kind = self._comparison.kinds.get(key)
        if kind is None:
            return None
        try:
            await self.client.delete(kind, key.name, key.namespace or None, propagation="Foreground", dry_run=True)
        except NotFound:
            return None
        except ApiError as exc:
            return f"{key.kind}/{key.name} (prune): {exc.message}"
        return None

    async def _dry_run(self, action: DryRun) -> str | None:
        """gitops-engine's dry run before the first write (here server-side, as the writing identity)."""
        limit = asyncio.Semaphore(8)
        refused = [r for r in await asyncio.gather(*(self._dry_run_one(t, limit) for t in action.tasks),
                                                   *(self._dry_run_prune(k) for k in action.prune)) if r]
        if not refused:
            return None
        return "one or more objects failed to apply (dry run): " + summary(refused)

    def _hook_kind(self, task: SyncTask) -> ResourceKind:
        return {key_of(obj): kind for kind, obj in self._comparison.hooks}[task.key]

    async def _replace(self, task: SyncTask, kind: ResourceKind, *, force: bool) -> Obj:
        """``Replace=true``: PUT over the live object (created when missing); with ``Force=true``, a refused
        replace deletes the object and creates it again (``kubectl replace --force``). Every write names the
        reconciler's field manager, as its server-side applies do."""
        namespace = task.key.namespace or None
        try:
            live = await self.client.get(kind, task.key.name, namespace)
        except NotFound:
            return await self.client.create(kind, task.obj, namespace, field_manager=FIELD_MANAGER)
        body = {**task.obj, "metadata": {**(task.obj.get("metadata") or {}),
                                         "resourceVersion": live["metadata"]["resourceVersion"]}}
        try:
            return await self.client.replace(kind, body, field_manager=FIELD_MANAGER)
        except ApiError:
            if not force:
                raise
        return await self._recreate(task, kind)

    async def _recreate(self, task: SyncTask, kind: ResourceKind) -> Obj:
        """``Force=true``: delete the object and create it again once its name is free."""
        namespace = task.key.namespace or None
        await self.client.delete(kind, task.key.name, namespace, propagation="Foreground")
        for _ in range(100):  # the deletion is asynchronous: create once the name is free
            try:
                return await self.client.create(kind, task.obj, namespace, field_manager=FIELD_MANAGER)
            except AlreadyExists:
                await asyncio.sleep(0.1)
        raise ApiError(409, "AlreadyExists", f"{task.key} was still being deleted after 10s (Force=true)")

    async def _apply(self, task: SyncTask, kind: ResourceKind, *, force: bool) -> Obj:
        """Server-side apply; with ``Force=true`` (and no ServerSideApply=true), an apply the API server refuses
        as invalid (an immutable field) or conflicting deletes and creates the object, as ``kubectl apply
        --force`` does for Argo CD's client-side apply."""
        try:
            return await self.client.apply(kind, task.obj, field_manager=FIELD_MANAGER, force=True)
        except ApiError as exc:
            if not force or exc.status not in (409, 422):
                raise
        return await self._recreate(task, kind)

    async def _apply_one(self, task: SyncTask, kind: ResourceKind, limit: asyncio.Semaphore,
                         applied: list[str], wave: ApplyWave) -> None:
        async with limit:
            try:
                if task.key in wave.replace:
                    live = await self._replace(task, kind, force=task.key in wave.force)
                else:
                    live = await self._apply(task, kind, force=task.key in wave.force)
            except ApiError as exc:
                self.records.append({**_base_record(task), "name": task.key.name,
                                     "status": ResultCode.SYNC_FAILED.value, "message": exc.message[:500]})
                return
        self.runner.live.record(kind, live)
        if self.runner.on_applied is not None:
            self.runner.on_applied(kind, dict(task.obj), live)
        # No message on success: an app of thousands of objects must keep its status well under 1 MB.
        self.records.append({**_base_record(task), "name": task.key.name, "status": ResultCode.SYNCED.value})
        applied.append(str(task.key))

    async def _apply_wave(self, wave: ApplyWave) -> str:
        """Apply a wave in order. Runs of objects of one kind go in parallel (their order never matters);
        hooks, and a kind whose CRD is still being established, stop the wave until the next pass."""
        applied: list[str] = []
        limit = asyncio.Semaphore(8)
        for (is_hook_run, _kind), run in itertools.groupby(wave.tasks, key=lambda t: (t.is_hook, t.key.kind)):
            batch: list[tuple[SyncTask, ResourceKind]] = []
            for task in run:
                if is_hook_run:
                    outcome = await self._create_hook(task)
                    if outcome is None:
                        return f"waiting for the previous {task.key.kind} hook {task.key.name!r} to be deleted"
                    self.records.append({**_base_record(task), **outcome})
                    applied.append(f"{task.key.kind}/{outcome['name']}")
                    continue
                kind = await self.runner.kind_of(task, self._comparison)
                if kind is None and task.key in self._comparison.unverified_kinds:
                    self.records.append({**_base_record(task), "name": task.key.name,
                                         "status": ResultCode.SYNC_FAILED.value,
                                         "message": self._comparison.unverified_kinds[task.key]})
                    continue
                if kind is None:
                    await asyncio.gather(*(self._apply_one(t, k, limit, applied, wave) for t, k in batch))
                    return f"waiting for the CRD of {task.key.kind} to be established before applying {task.key}"
                if task.key in wave.unchanged:
                    self.records.append({**_base_record(task), "name": task.key.name, "status": ResultCode.SYNCED.value,
                                         "message": "unchanged (ApplyOutOfSyncOnly)"})
                    continue
                batch.append((task, kind))
            await asyncio.gather(*(self._apply_one(t, k, limit, applied, wave) for t, k in batch))
        return f"applied {summary(applied)}" if applied else "nothing to apply in this wave"

    async def _create_hook(self, task: SyncTask) -> Obj | None:
        """Create a hook; None while an older copy is being deleted (BeforeHookCreation)."""
        kind = self._hook_kind(task)
        name = hook_name(task, self.state)
        namespace = task.key.namespace or None
        base: Obj = {"name": name, "hookType": task.hook_type.value if task.hook_type else None}
        if HookDeletePolicy.BEFORE_HOOK_CREATION in delete_policies(task.obj):
            try:
                existing = await self.client.get(kind, name, namespace)
            except NotFound:
                existing = None
            if existing is not None:
                if not (existing.get("metadata") or {}).get("deletionTimestamp"):
                    await self.client.delete(kind, name, namespace, propagation="Foreground")
                return None
        try:
            await self.client.create(kind, hook_object(task, name), namespace, field_manager=FIELD_MANAGER)
        except AlreadyExists:
            return {**base, "status": ResultCode.SYNC_FAILED.value, "hookPhase": OperationPhase.FAILED.value,
                    "message": f"hook {kind.kind} {name!r} already exists; add hook-delete-policy "
                               "BeforeHookCreation to replace it"}
        except ApiError as exc:
            return {**base, "status": ResultCode.SYNC_FAILED.value, "hookPhase": OperationPhase.FAILED.value,
                    "message": exc.message[:500]}
        return {**base, "status": ResultCode.SYNCED.value, "hookPhase": OperationPhase.RUNNING.value,
                "message": f"{kind.kind.lower()} created"}

    async def _prune(self, keys: Sequence[ResourceKey]) -> str | None:
        for key in keys:
            kind = self._comparison.kinds[key]
            try:
                await self.client.delete(kind, key.name, key.namespace or None, propagation="Foreground")
            except NotFound:
                pass
            except ApiError as exc:
                return f"failed to prune {key}: {exc.message}"
            self.runner.live.forget(kind, key.namespace, key.name)
            self.records.append({"group": key.group, "kind": key.kind, "namespace": key.namespace, "name": key.name,
                                 "status": ResultCode.PRUNED.value, "message": "pruned",
                                 "syncPhase": SyncPhase.SYNC.value})
        return None

    async def _run_hooks(self, tasks: Sequence[SyncTask]) -> None:
        for task in tasks:
            try:
                outcome = await self._create_hook(task)
            except ApiError:
                continue
            if outcome is not None:
                self.records.append({"group": task.key.group, "kind": task.key.kind, "namespace": task.key.namespace,
                                     "syncPhase": task.phase.value, **outcome})

    async def _delete_hooks(self, policy: HookDeletePolicy) -> None:
        comparison = self._comparison
        kinds = {key_of(obj): kind for kind, obj in comparison.hooks}
        for template, name, namespace in hooks_with_policy(self.records, comparison.hook_manifests(), policy):
            try:
                await self.client.delete(kinds[template], name, namespace or None, propagation="Foreground")
            except ApiError:  # NotFound included: best effort
                continue
