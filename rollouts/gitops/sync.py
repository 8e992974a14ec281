"""One step of a sync operation, decided from ``status.operationState`` and what the cluster shows. Pure.

Why this module exists: a sync that waits for health between waves can take minutes, and the controller may
restart in the middle. Like Argo CD, each reconcile advances the operation by one step and records what it
did in ``operationState.syncResult.resources`` (one entry per applied resource, hook or pruned object):
apply the next wave's objects, or check that the current wave is healthy (with a message naming what it
waits for), or prune, or finish. Everything needed to continue is in that record, so killing the process at
any point and starting again converges on the same result. Failure runs the SyncFail hooks; a retry policy
re-runs the whole operation after a backoff.

This module decides; ``runner.py`` observes and performs. A step is
``begin_operation`` (new, continued, or waiting for a retry backoff) -> ``plan_sync_step`` (the actions of
the current wave and what the step ends as) -> the runner performs the actions -> ``conclude_step`` (the
operationState to write; on failure, a retry or the SyncFail hooks to run).

Sync options honoured: CreateNamespace, PruneLast, ApplyOutOfSyncOnly, Replace (and Force with it),
FailOnSharedResource, WaveReadyWhenPaused (ours); SkipDryRunOnMissingResource is the comparison's. Applying is
otherwise server-side apply with the field manager ``rollouts-gitops`` (so ServerSideApply=true is the
default) and the API server does schema validation (Validate=false changes nothing).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.application import (
    Application,
    ApplicationSource,
    HealthStatusCode,
    Operation,
    OperationPhase,
    ResultCode,
    RevisionMetadata,
)
from rollouts.api.appproject import AppProjectSpec
from rollouts.api.common import format_time
from rollouts.gitops.comparison import Comparison, ComparisonError, Outcome
from rollouts.gitops.diff import keep_ignored_fields, matching_rules
from rollouts.gitops.health import Health, resource_health
from rollouts.gitops.hooks import hook_record_id, sync_fail_tasks
from rollouts.gitops.impersonation import SyncIdentity
from rollouts.gitops.operation import can_retry, retry_delay
from rollouts.gitops.project import ResolvedDestination, destination_cluster, resource_violation
from rollouts.gitops.prune import PrunePlan, plan_prune
from rollouts.gitops.status import shared_resources
from rollouts.gitops.tracking import ResourceKey
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
    resource_sync_options,
    sync_tasks,
)
from rollouts.gitops.windows import can_sync

Obj = dict[str, Any]
RecordId = tuple[str, str, str, str, str]
_MAX_NAMES_IN_MESSAGE = 5
APPLY_REQUEUE = 0.2
"""Seconds after applying a wave before its health is looked at."""
WAIT_REQUEUE = 1.0
"""Seconds between looks at a wave that is not healthy yet."""
WINDOW_REQUEUE = 10.0
"""Seconds between looks at an operation a sync window holds back."""


# -- actions: what the runner performs -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateNamespace:
    """``CreateNamespace=true`` and the destination namespace does not exist."""

    name: str


@dataclass(frozen=True, slots=True)
class ApplyWave:
    """Apply (resources) or create (hooks) these tasks in order; a run of one kind goes in parallel. A hook
    whose previous copy is still being deleted, or a kind whose CRD is not established yet, stops the wave
    until the next step. ``unchanged`` (ApplyOutOfSyncOnly) are recorded without being applied."""

    tasks: tuple[SyncTask, ...]
    unchanged: frozenset[ResourceKey] = frozenset()
    replace: frozenset[ResourceKey] = frozenset()
    """``Replace=true``: written with PUT (created when missing) instead of server-side apply."""
    force: frozenset[ResourceKey] = frozenset()
    """``Force=true``: deleted and created again when the replace (with Replace) or the apply is refused; not
    with ``ServerSideApply=true`` alone, where Argo CD ignores it (``kubectl apply --server-side`` has no
    ``--force``)."""


@dataclass(frozen=True, slots=True)
class Prune:
    """Delete these objects (deletion order), recording each; the first API error fails the step."""

    keys: tuple[ResourceKey, ...]


@dataclass(frozen=True, slots=True)
class RunHooks:
    """Create these hooks (SyncFail hooks of a failed operation), best effort."""

    tasks: tuple[SyncTask, ...]


@dataclass(frozen=True, slots=True)
class DeleteHooks:
    """Delete this operation's hooks whose delete policy is ``policy`` (best effort)."""

    policy: HookDeletePolicy


@dataclass(frozen=True, slots=True)
class DryRun:
    """Before the first write of an impersonated sync: a server-side dry run of every write as the account
    (apply, hook creation, prune), so a right the account lacks fails the sync with the API server's message
    before anything is applied. Objects whose Namespace or CRD comes with this sync are left out."""

    tasks: tuple[SyncTask, ...]
    prune: tuple[ResourceKey, ...] = ()


SyncAction = CreateNamespace | DryRun | ApplyWave | Prune | RunHooks | DeleteHooks


# -- outcomes: what the step ends as when every action succeeded --------------------------------------------


@dataclass(frozen=True, slots=True)
class Progressing:
    """Still running; look again after ``requeue`` seconds. ``message`` None: the apply's own report."""

    message: str | None
    requeue: float


@dataclass(frozen=True, slots=True)
class Succeeded:
    message: str


@dataclass(frozen=True, slots=True)
class Failed:
    message: str
    run_sync_fail_hooks: bool = True
    """False when there is no comparison to take the SyncFail hooks from."""
    phase: OperationPhase = OperationPhase.FAILED
    """Error (Argo CD's phase for an operation that could not start, e.g. no account to impersonate)."""


StepOutcome = Progressing | Succeeded | Failed


@dataclass(frozen=True, slots=True)
class SyncStepPlan:
    state: Obj
    """The operationState to write; the runner appends the records of what it performed."""
    actions: tuple[SyncAction, ...]
    outcome: StepOutcome
    sync_fail_hooks: tuple[SyncTask, ...] = ()
    revision: str | None = None
    source: ApplicationSource | None = None
    revision_metadata: RevisionMetadata | None = None
    revisions: tuple[str, ...] = ()
    """Multi-source: what was synced, per source (then ``revision`` is their joint key)."""
    sources: tuple[ApplicationSource, ...] = ()


@dataclass(frozen=True, slots=True)
class SyncStep:
    """What one step of an operation leaves behind."""

    state: Obj
    """The operationState to write."""
    done: bool
    """The operation is over: clear the ``operation`` field."""
    requeue: float | None = None
    succeeded: bool = False
    """Add a history entry (of ``revision``/``source``)."""
    revision: str | None = None
    source: ApplicationSource | None = None
    revision_metadata: RevisionMetadata | None = None
    revisions: tuple[str, ...] = ()
    sources: tuple[ApplicationSource, ...] = ()


@dataclass(frozen=True, slots=True)
class Report:
    """What the runner saw while performing a plan's actions."""

    failure: str | None = None
    """The first action that failed, in words; the remaining actions were not performed."""
    note: str | None = None
    """The apply's summary ("applied ConfigMap/ns/a, ...", "waiting for the CRD of ...")."""


@dataclass(frozen=True, slots=True)
class SyncObservation:
    """The cluster as one step needs it: the destination namespace and the objects whose health gates a wave."""

    namespace_exists: bool = True
    namespace_error: str | None = None
    """Reading the namespace failed (RBAC, API down): the step fails with this message."""
    live: Mapping[ResourceKey, Obj | None] = field(default_factory=dict)
    """Fresh live objects by ``readiness_targets`` key (a hook under its created name)."""
    health: Mapping[ResourceKey, Health | None] = field(default_factory=dict)
    """Their health as the reconciler assessed it (argocd-cm Lua checks included); a key that is absent gets
    the built-in rules."""

    def health_of(self, key: ResourceKey) -> Health | None:
        return self.health[key] if key in self.health else resource_health(self.live.get(key))


# -- helpers ----------------------------------------------------------------------------------------------------


def _dump(model: Any) -> Obj:
    out: Obj = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return out


def _record_id(rec: Mapping[str, Any]) -> RecordId:
    return (str(rec.get("group") or ""), str(rec.get("kind") or ""), str(rec.get("namespace") or ""),
            str(rec.get("name") or ""), str(rec.get("syncPhase") or ""))


def summary(names: Sequence[str]) -> str:
    """At most five names, then "and N more": messages stay short for apps of thousands of objects."""
    shown = ", ".join(names[:_MAX_NAMES_IN_MESSAGE])
    more = len(names) - _MAX_NAMES_IN_MESSAGE
    return shown + (f" and {more} more" if more > 0 else "")


def records_of(state: Obj) -> list[Obj]:
    result: Obj = state.setdefault("syncResult", {})
    records: list[Obj] = result.setdefault("resources", [])
    return records


@dataclass(frozen=True, slots=True)
class SyncContext:
    """Everything a step derives from the operation and the comparison, before looking at the cluster."""

    operation: Operation
    options: Mapping[str, str]
    namespace: str
    tasks: tuple[SyncTask, ...]
    task_error: str | None
    waves: tuple[Wave, ...]
    in_sync: frozenset[ResourceKey]
    prune: PrunePlan
    hook_manifests: tuple[Obj, ...]
    prune_enabled: bool
    violations: tuple[tuple[SyncTask, str], ...] = ()
    """Tasks the project forbids, with Argo CD's message: the whole sync fails before anything is applied."""

    def enabled(self, option: str) -> bool:
        return option_enabled(self.options, option)


def _violations(app: Application, tasks: Sequence[SyncTask], project: AppProjectSpec | None,
                destination: ResolvedDestination | None) -> tuple[tuple[SyncTask, str], ...]:
    if project is None:
        return ()
    destination = destination or ResolvedDestination(destination_cluster(app.spec.destination))
    found = ((t, resource_violation(project, app.spec.project, destination.cluster, group=t.key.group,
                                    kind=t.key.kind, name=t.key.name, namespace=t.key.namespace,
                                    namespaced=bool(t.key.namespace), scoped=destination.scoped))
             for t in tasks)
    return tuple((t, v) for t, v in found if v is not None)


def sync_context(app: Application, comparison: Comparison[Any], project: AppProjectSpec | None = None,
                 destination: ResolvedDestination | None = None) -> SyncContext:
    """Tasks, waves, options and the prune plan of ``app``'s operation against ``comparison``; with the
    application's ``project``, the tasks it does not permit at ``destination`` (default: the local cluster)."""
    operation = app.operation
    assert operation is not None and operation.sync is not None
    policy = app.spec.sync_policy
    options = parse_sync_options([*(policy.sync_options or [] if policy else []),
                                  *(operation.sync.sync_options or [])])
    selected = {(r.group, r.kind, r.name) for r in operation.sync.resources or ()}
    manifests = _desired_manifests(app, comparison, respect=option_enabled(options, "RespectIgnoreDifferences"))
    if not selected:
        manifests += comparison.hook_manifests()
    tasks: list[SyncTask] = []
    task_error = None
    try:
        tasks = sync_tasks(manifests)
    except ValueError as exc:
        task_error = str(exc)
    extra = comparison.owned_extra()
    if selected:
        tasks = [t for t in tasks if (t.key.group, t.key.kind, t.key.name) in selected]
        extra = {k: v for k, v in extra.items() if (k.group, k.kind, k.name) in selected}
    prune = plan_prune({r.key for r in comparison.desired()}, extra, prune_enabled=operation.sync.prune)
    return SyncContext(
        operation=operation, options=options, namespace=app.spec.destination.namespace or "", tasks=tuple(tasks),
        task_error=task_error, waves=tuple(group_waves(tasks)),
        in_sync=frozenset(r.key for r in comparison.desired() if not r.diff.modified), prune=prune,
        hook_manifests=tuple(comparison.hook_manifests()), prune_enabled=operation.sync.prune,
        violations=_violations(app, tasks, project, destination))


def _desired_manifests(app: Application, comparison: Comparison[Any], *, respect: bool) -> list[Obj]:
    """What to write: the desired objects; with ``RespectIgnoreDifferences=true`` the fields the application's
    ``ignoreDifferences`` names keep their live values (Argo CD: ignored differences are not synced either)."""
    rules = list(app.spec.ignore_differences or ())
    out = []
    for res in comparison.desired():
        assert res.desired is not None
        matching = matching_rules(rules, res.key) if respect and res.live is not None else []
        out.append(keep_ignored_fields(res.desired, res.live, matching) if matching and res.live else res.desired)
    return out


# -- begin ------------------------------------------------------------------------------------------------------


def _new_state(op_json: Obj, now: datetime) -> Obj:
    return {"operation": op_json, "phase": OperationPhase.RUNNING.value, "startedAt": format_time(now),
            "message": "syncing"}


def begin_operation(app: Application, operation: Operation, now: datetime) -> tuple[Obj | None, SyncStep | None]:
    """The state to work on, or a step that only waits (a retry whose backoff has not expired).

    As in Argo CD, an operation that is present while the last state is completed is a *new* operation:
    finishing one writes the final state and clears ``operation`` in the same patch. A retry stays
    Running, with ``startedAt`` set to when the next attempt is due and ``retryCount`` counting attempts.
    """
    op_json = _dump(operation)
    prev = app.status.operation_state if app.status else None
    if prev is None or prev.phase.is_completed() or _dump(prev.operation) != op_json:
        return _new_state(op_json, now), None
    prev_json = _dump(prev)
    wait = (prev.started_at - now).total_seconds()
    if wait > 0:
        return None, SyncStep(prev_json, done=False, requeue=wait)
    return prev_json, None


# -- plan -------------------------------------------------------------------------------------------------------


class _Records:
    """The records of this attempt, looked up by task (a hook by the name it gets in this attempt)."""

    def __init__(self, state: Obj) -> None:
        self.state = state
        self.by_id = {_record_id(r): r for r in (state.get("syncResult") or {}).get("resources") or ()}

    def of(self, task: SyncTask) -> Obj | None:
        if task.is_hook:
            return self.by_id.get(hook_record_id(task, self.state))
        return self.by_id.get((task.key.group, task.key.kind, task.key.namespace, task.key.name, task.phase.value))

    def pruned(self) -> set[tuple[str, str, str, str]]:
        return {(str(r.get("group")), str(r.get("kind")), str(r.get("namespace")), str(r.get("name")))
                for r in self.by_id.values() if r.get("status") == ResultCode.PRUNED.value}


def _hook_live_key(task: SyncTask, rec: Mapping[str, Any]) -> ResourceKey:
    return ResourceKey(task.key.group, task.key.kind, task.key.namespace, str(rec["name"]))


def readiness_targets(ctx: SyncContext, state: Obj) -> list[tuple[SyncTask, ResourceKey]]:
    """What the runner reads before planning: every recorded hook not yet Succeeded, and every recorded
    resource whose health gates a later wave, in the waves that are fully applied."""
    records = _Records(state)
    out: list[tuple[SyncTask, ResourceKey]] = []
    for index, wave in enumerate(ctx.waves):
        if any(records.of(t) is None for t in wave.tasks):
            break
        later_waves = index < len(ctx.waves) - 1
        for task in wave.tasks:
            rec = records.of(task)
            assert rec is not None
            if task.is_hook and rec.get("hookPhase") != OperationPhase.SUCCEEDED.value:
                out.append((task, _hook_live_key(task, rec)))
            elif not task.is_hook and later_waves and not str(rec.get("message", "")).startswith("unchanged"):
                out.append((task, task.key))
    return out


def _hook_progress(task: SyncTask, rec: Obj, live: Obj | None, health: Health | None) -> tuple[bool, str | None]:
    """(still running, failure) of a created hook; marks the record Succeeded or Failed."""
    if live is None:
        return False, f"hook {task.key.kind}/{rec['name']} was deleted before it completed"
    if health is None or health.status is HealthStatusCode.HEALTHY:
        rec["hookPhase"] = OperationPhase.SUCCEEDED.value
        rec["message"] = (health.message if health else "") or "hook completed"
        return False, None
    if health.status is HealthStatusCode.DEGRADED:
        rec["hookPhase"] = OperationPhase.FAILED.value
        rec["message"] = health.message
        return False, f"{task.phase} hook {task.key.kind}/{rec['name']} failed: {health.message}"
    return True, None


def _wave_progress(
    wave: Wave, records: _Records, observed: SyncObservation, *, later_waves: bool, paused_is_ready: bool
) -> tuple[list[str], str | None]:
    """(what the wave still waits for, a failure message)."""
    waiting: list[str] = []
    for task in wave.tasks:
        rec = records.of(task)
        assert rec is not None
        if task.is_hook:
            if rec.get("hookPhase") == OperationPhase.SUCCEEDED.value:
                continue
            hook_key = _hook_live_key(task, rec)
            running, failure = _hook_progress(task, rec, observed.live.get(hook_key), observed.health_of(hook_key))
            if failure:
                return waiting, failure
            if running:
                waiting.append(f"{task.key.kind}/{rec['name']}")
            continue
        if not later_waves or str(rec.get("message", "")).startswith("unchanged"):
            continue
        live = observed.live.get(task.key)
        health = observed.health_of(task.key)
        if not is_ready_for_next_wave(health, live, paused_is_ready=paused_is_ready):
            status = f" ({health.status}{': ' + health.message if health.message else ''})" if health else ""
            waiting.append(f"{task.key}{status}")
    return waiting, None


def _creates_namespace(ctx: SyncContext) -> bool:
    """A Namespace of that name is part of this sync: kind order applies it before what lives in it."""
    return any(t.key.kind == "Namespace" and t.key.group == "" and t.key.name == ctx.namespace and not t.is_hook
               for t in ctx.tasks)


def _namespace_actions(ctx: SyncContext, observed: SyncObservation) -> tuple[list[SyncAction], str | None]:
    if not ctx.namespace or observed.namespace_exists:
        return [], None
    if observed.namespace_error:
        return [], observed.namespace_error
    if _creates_namespace(ctx):
        return [], None
    if not ctx.enabled("CreateNamespace"):
        return [], (f"namespace {ctx.namespace!r} does not exist: create it or add the sync option "
                    "CreateNamespace=true")
    return [CreateNamespace(ctx.namespace)], None


class _Pruning:
    """Prune actions of one step, never naming an object twice (pruned earlier, or earlier in this step)."""

    def __init__(self, plan: PrunePlan, records: _Records) -> None:
        self.plan = plan
        self.done = records.pruned()

    def action(self) -> list[SyncAction]:
        keys = tuple(k for k in self.plan.prune if (k.group, k.kind, k.namespace, k.name) not in self.done)
        self.done |= {(k.group, k.kind, k.namespace, k.name) for k in keys}
        return [Prune(keys)] if keys else []


def _with_option(ctx: SyncContext, tasks: Sequence[SyncTask], option: str) -> frozenset[ResourceKey]:
    """Tasks with a sync option on: the resource's ``argocd.argoproj.io/sync-options`` wins over the app's."""
    out = set()
    for task in tasks:
        own = resource_sync_options(task.obj).get(option)
        if (own.lower() == "true") if own is not None else ctx.enabled(option):
            out.add(task.key)
    return frozenset(out)


def _walk_waves(ctx: SyncContext, state: Obj, observed: SyncObservation,
                actions: list[SyncAction]) -> StepOutcome:
    records = _Records(state)
    pruning = _Pruning(ctx.prune, records)
    prune_last = ctx.enabled("PruneLast")
    for index, wave in enumerate(ctx.waves):
        if wave.phase is SyncPhase.POST_SYNC and not prune_last:
            actions += pruning.action()
        pending = tuple(t for t in wave.tasks if records.of(t) is None)
        if pending:
            unchanged = ctx.in_sync if ctx.enabled("ApplyOutOfSyncOnly") else frozenset()
            replace = _with_option(ctx, pending, "Replace")
            server_side = _with_option(ctx, pending, "ServerSideApply")
            actions.append(ApplyWave(pending, frozenset(t.key for t in pending if t.key in unchanged),
                                     replace=replace,
                                     force=frozenset(k for k in _with_option(ctx, pending, "Force")
                                                     if k in replace or k not in server_side)))
            return Progressing(None, APPLY_REQUEUE)
        waiting, failure = _wave_progress(
            wave, records, observed, later_waves=index < len(ctx.waves) - 1,
            paused_is_ready=ctx.enabled(WAVE_READY_WHEN_PAUSED_OPTION))
        if failure:
            return Failed(failure)
        if waiting:
            return Progressing(f"waiting for healthy state of {summary(waiting)} ({wave})", WAIT_REQUEUE)
    actions += pruning.action()
    actions.append(DeleteHooks(HookDeletePolicy.HOOK_SUCCEEDED))
    message = "successfully synced (all tasks run)"
    if ctx.prune.skipped and not ctx.prune_enabled:
        message += f"; {len(ctx.prune.skipped)} resource(s) require pruning"
    return Succeeded(message)


def _window_allows(app: Application, project: AppProjectSpec, now: datetime) -> bool:
    """Argo CD's syncWindowPreventsSync: a manual operation (not initiated by automation) may pass a window
    that allows manual syncs; the operation stays Running until the window lets it through."""
    initiated = app.operation.initiated_by if app.operation else None
    manual = not (initiated is not None and initiated.automated)
    state = app.status.operation_state if app.status else None
    started = state.started_at if state is not None and not state.phase.is_completed() else None
    return can_sync(project.sync_windows or (), app, manual=manual, now=now, started_at=started).allowed


def _refuse_invalid_tasks(ctx: SyncContext, state: Obj) -> Failed:
    """Argo CD's "one or more synchronization tasks are not valid": each forbidden task recorded, none applied."""
    records = state["syncResult"]["resources"]
    for task, message in ctx.violations:
        records.append({"group": task.key.group, "version": str(task.obj.get("apiVersion", "")).rpartition("/")[2],
                        "kind": task.key.kind, "namespace": task.key.namespace, "name": task.key.name,
                        "syncPhase": task.phase.value, "status": ResultCode.SYNC_FAILED.value, "message": message})
    return Failed("one or more synchronization tasks are not valid: " + summary(
        [f"{t.key.kind}/{t.key.name}: {m}" for t, m in ctx.violations]))


BLOCKED_BY_WINDOW = "Sync operation blocked by sync window"


def plan_sync_step(app: Application, comparison: Outcome, state: Obj, observed: SyncObservation,
                   project: AppProjectSpec | None = None, *, now: datetime | None = None,
                   destination: ResolvedDestination | None = None,
                   identity: SyncIdentity | None = None) -> SyncStepPlan:
    """The actions of the current wave and what the step ends as.

    Two waves (ConfigMap in wave 0, Deployment in wave 1), nothing recorded yet -> ApplyWave(ConfigMap),
    Progressing; both recorded and the Deployment Progressing -> no action, Progressing("waiting for healthy
    state of apps/Deployment/ns/web (Progressing: ...) (Sync wave 1)") only if a later wave exists; all
    healthy -> Prune(what left Git, when prune is on), DeleteHooks(HookSucceeded), Succeeded.
    """
    if project is not None and project.sync_windows and now is not None and not _window_allows(app, project, now):
        return SyncStepPlan(copy.deepcopy(state), (), Progressing(BLOCKED_BY_WINDOW, WINDOW_REQUEUE))
    if isinstance(comparison, ComparisonError):
        return SyncStepPlan(state, (), Failed(f"{comparison.condition}: {comparison}", run_sync_fail_hooks=False))
    if identity is not None and identity.refusal is not None:
        return SyncStepPlan(copy.deepcopy(state), (), Failed(identity.refusal, run_sync_fail_hooks=False,
                                                             phase=OperationPhase.ERROR))
    state = copy.deepcopy(state)
    result = state.setdefault("syncResult", {"revision": comparison.revision})
    if comparison.multi_source:  # as Argo CD writes it: revision "", revisions and sources per source
        result.update({"revision": "", "revisions": list(comparison.revisions),
                       "sources": [_dump(s) for s in comparison.sources]})
    else:
        result["revision"] = comparison.revision
        result["source"] = _dump(comparison.source)
    result.setdefault("resources", [])
    operation = app.operation
    assert operation is not None and operation.sync is not None
    done = _plan(state, comparison)
    if operation.sync.dry_run:
        return done((), Succeeded("successfully synced (dry run: nothing applied)"))
    ctx = sync_context(app, comparison, project, destination)
    if ctx.violations:
        return done((), _refuse_invalid_tasks(ctx, state), ctx.hook_manifests)
    shared = shared_resources(app, comparison)
    if shared and ctx.enabled("FailOnSharedResource"):
        return done((), Failed("Shared resource found: " + shared[0]), ctx.hook_manifests)
    actions, failure = _namespace_actions(ctx, observed)
    if failure is None:
        failure = ctx.task_error
    if failure is not None:
        return done(actions, Failed(failure), ctx.hook_manifests)
    if identity is not None and identity.user is not None and not state["syncResult"]["resources"]:
        actions.append(_dry_run(ctx))
    outcome = _walk_waves(ctx, state, observed, actions)
    return done(actions, outcome, ctx.hook_manifests)


def _dry_run(ctx: SyncContext) -> DryRun:
    """Every write of the operation, except objects whose Namespace or CRD is created by this sync (the API
    server cannot judge them before it exists) and unchanged objects under ApplyOutOfSyncOnly."""
    created = {t.key.name for t in ctx.tasks if t.key.kind == "Namespace" and t.key.group == "" and not t.is_hook}
    crds = {(str((t.obj.get("spec") or {}).get("group") or ""), str(((t.obj.get("spec") or {}).get("names") or {})
                                                                       .get("kind") or ""))
            for t in ctx.tasks if t.key.kind == "CustomResourceDefinition"}
    unchanged = ctx.in_sync if ctx.enabled("ApplyOutOfSyncOnly") else frozenset()
    tasks = tuple(t for t in ctx.tasks if t.key.namespace not in created and (t.key.group, t.key.kind) not in crds
                  and t.key not in unchanged)
    return DryRun(tasks, tuple(ctx.prune.prune) if ctx.prune_enabled else ())


def _plan(state: Obj, comparison: Comparison[Any]) -> Callable[..., SyncStepPlan]:
    def done(actions: Sequence[SyncAction], outcome: StepOutcome, hooks: Sequence[Obj] = ()) -> SyncStepPlan:
        return SyncStepPlan(state, tuple(actions), outcome, sync_fail_tasks(hooks), comparison.revision,
                            comparison.source, comparison.revision_metadata, comparison.revisions,
                            comparison.sources)
    return done


# -- conclude ---------------------------------------------------------------------------------------------------


def _apply_failure(plan: SyncStepPlan) -> str | None:
    if not any(isinstance(a, ApplyWave) for a in plan.actions):
        return None
    failed = [r for r in records_of(plan.state) if r.get("status") == ResultCode.SYNC_FAILED.value]
    if not failed:
        return None
    return "one or more objects failed to apply: " + summary([f"{r['kind']}/{r['name']}: {r.get('message')}"
                                                              for r in failed])


def conclude_step(plan: SyncStepPlan, report: Report, operation: Operation, *,
                  now: datetime) -> tuple[SyncStep, tuple[SyncAction, ...]]:
    """The step as performed: the state to write, and the actions a final failure still needs (SyncFail)."""
    state = plan.state
    outcome = plan.outcome
    failure = report.failure or _apply_failure(plan)
    if failure is not None:
        outcome = Failed(failure)
    if isinstance(outcome, Failed):
        return fail_operation(operation, state, outcome.message, now,
                              sync_fail_hooks=plan.sync_fail_hooks if outcome.run_sync_fail_hooks else None,
                              phase=outcome.phase)
    if isinstance(outcome, Progressing):
        state["message"] = outcome.message if outcome.message is not None else (report.note or "")
        return SyncStep(state, done=False, requeue=outcome.requeue), ()
    state.update({"phase": OperationPhase.SUCCEEDED.value, "message": outcome.message,
                  "finishedAt": format_time(now)})
    return SyncStep(state, done=True, succeeded=True, revision=plan.revision, source=plan.source,
                    revision_metadata=plan.revision_metadata, revisions=plan.revisions, sources=plan.sources), ()


def fail_operation(
    operation: Operation, state: Obj, message: str, now: datetime, *, sync_fail_hooks: Sequence[SyncTask] | None,
    phase: OperationPhase = OperationPhase.FAILED,
) -> tuple[SyncStep, tuple[SyncAction, ...]]:
    """Retry after a backoff while the policy allows; otherwise Failed, with the SyncFail hooks to create
    and the HookFailed ones to delete (``sync_fail_hooks`` None: no comparison, no hooks)."""
    retry_count = int(state.get("retryCount") or 0)
    if can_retry(operation.retry, retry_count):
        delay = retry_delay(operation.retry, retry_count)
        state.update({"phase": OperationPhase.RUNNING.value, "retryCount": retry_count + 1,
                      "startedAt": format_time(now + timedelta(seconds=delay)),
                      "message": f"Retrying attempt #{retry_count + 1} in {delay:.0f}s: {message}"[:2000]})
        state.pop("syncResult", None)  # the next attempt runs every task again
        return SyncStep(state, done=False, requeue=delay), ()
    actions: tuple[SyncAction, ...] = ()
    if sync_fail_hooks is not None:
        actions = (RunHooks(tuple(sync_fail_hooks)), DeleteHooks(HookDeletePolicy.HOOK_FAILED))
    state.update({"phase": phase.value, "message": message[:2000], "finishedAt": format_time(now)})
    return SyncStep(state, done=True), actions
