"""Sync ordering: phase, then ``argocd.argoproj.io/sync-wave``, then kind, then name, as Argo CD orders a sync.

Why this module exists: a sync applies many objects whose order matters (a Namespace before what lives in it,
a CRD before its custom resources, a database migration Job before the Deployment that needs it). Argo CD's
contract is: hooks run in phases (PreSync, Sync, PostSync; SyncFail when the sync fails), each phase is cut
into waves by the integer annotation ``argocd.argoproj.io/sync-wave`` (default 0, may be negative), inside a
wave kinds go in a fixed order (Namespaces first, unknown kinds - usually custom resources - last), then by
name. A wave starts only when every resource of the previous one is healthy. Pure planning, no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from rollouts.api.application import HealthStatusCode, HookType
from rollouts.gitops.health import Health, is_paused_on_step
from rollouts.gitops.tracking import ResourceKey, key_of

HOOK_ANNOTATION = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY_ANNOTATION = "argocd.argoproj.io/hook-delete-policy"
SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS_ANNOTATION = "argocd.argoproj.io/sync-options"
WAVE_READY_WHEN_PAUSED_ANNOTATION = "rollouts.argoproj.io/wave-ready-when-paused"
WAVE_READY_WHEN_PAUSED_OPTION = "WaveReadyWhenPaused"


class SyncPhase(StrEnum):
    PRE_SYNC = "PreSync"
    SYNC = "Sync"
    POST_SYNC = "PostSync"
    SYNC_FAIL = "SyncFail"


PHASE_ORDER: tuple[SyncPhase, ...] = (SyncPhase.PRE_SYNC, SyncPhase.SYNC, SyncPhase.POST_SYNC)


class HookDeletePolicy(StrEnum):
    HOOK_SUCCEEDED = "HookSucceeded"
    HOOK_FAILED = "HookFailed"
    BEFORE_HOOK_CREATION = "BeforeHookCreation"


# Argo CD's kind order inside a wave; kinds not listed go after all of these.
KIND_ORDER: tuple[str, ...] = (
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
    "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
    "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job",
    "CronJob", "IngressClass", "Ingress", "APIService",
)
_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}


def kind_rank(kind: str) -> int:
    """Position of a kind in the sync order; unknown kinds (custom resources) come last."""
    return _KIND_RANK.get(kind, len(KIND_ORDER))


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def sync_wave(obj: Mapping[str, Any]) -> int:
    """The object's wave: ``argocd.argoproj.io/sync-wave: "-1"`` -> -1; absent -> 0; not an integer -> error."""
    raw = _annotations(obj).get(SYNC_WAVE_ANNOTATION)
    if raw is None or str(raw).strip() == "":
        return 0
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError(
            f"{key_of(obj)}: annotation {SYNC_WAVE_ANNOTATION}={raw!r} is not an integer"
        ) from None


def hook_types(obj: Mapping[str, Any]) -> list[HookType]:
    """Hook types named by ``argocd.argoproj.io/hook`` (comma-separated); empty for a normal resource."""
    raw = _annotations(obj).get(HOOK_ANNOTATION)
    if not raw:
        return []
    out = []
    for part in str(raw).split(","):
        name = part.strip()
        try:
            out.append(HookType(name))
        except ValueError:
            raise ValueError(
                f"{key_of(obj)}: unknown hook type {name!r} in {HOOK_ANNOTATION} "
                f"(expected one of {', '.join(h.value for h in HookType)})"
            ) from None
    return out


def delete_policies(obj: Mapping[str, Any]) -> frozenset[HookDeletePolicy]:
    """Delete policies of a hook; none given means BeforeHookCreation, as in Argo CD."""
    raw = _annotations(obj).get(HOOK_DELETE_POLICY_ANNOTATION)
    if not raw:
        return frozenset({HookDeletePolicy.BEFORE_HOOK_CREATION})
    out = set()
    for part in str(raw).split(","):
        try:
            out.add(HookDeletePolicy(part.strip()))
        except ValueError:
            raise ValueError(
                f"{key_of(obj)}: unknown delete policy {part.strip()!r} in {HOOK_DELETE_POLICY_ANNOTATION}"
            ) from None
    return frozenset(out)


def resource_sync_options(obj: Mapping[str, Any]) -> dict[str, str]:
    """``argocd.argoproj.io/sync-options: Prune=false,Replace=true`` -> {"Prune": "false", ...}."""
    return parse_sync_options(str(_annotations(obj).get(SYNC_OPTIONS_ANNOTATION) or "").split(","))


def parse_sync_options(options: Iterable[str] | None) -> dict[str, str]:
    """``["CreateNamespace=true", "PruneLast=true"]`` -> {"CreateNamespace": "true", "PruneLast": "true"}."""
    out: dict[str, str] = {}
    for option in options or ():
        name, _, value = option.strip().partition("=")
        if name:
            out[name.strip()] = value.strip()
    return out


def option_enabled(options: Mapping[str, str], name: str) -> bool:
    return options.get(name, "").lower() == "true"


@dataclass(frozen=True, slots=True)
class SyncTask:
    """One object to apply in a sync: a resource (hook_type None) or a hook in one of its phases."""

    key: ResourceKey
    obj: Mapping[str, Any] = field(compare=False, hash=False)
    phase: SyncPhase
    wave: int
    hook_type: HookType | None = None

    @property
    def is_hook(self) -> bool:
        return self.hook_type is not None

    def order(self) -> tuple[int, int, int, str]:
        """gitops-engine's ``syncTasks.Less``: phase, wave, kind order, name (two unknown kinds tie on kind)."""
        phase_rank = PHASE_ORDER.index(self.phase) if self.phase in PHASE_ORDER else len(PHASE_ORDER)
        return (phase_rank, self.wave, kind_rank(self.key.kind), self.key.name)


def sync_tasks(manifests: Iterable[Mapping[str, Any]]) -> list[SyncTask]:
    """All tasks of a sync in the order they run (SyncFail hooks last, run only when the sync fails).

    A resource with ``hook: Skip`` is left out; a hook with two types (``PreSync,PostSync``) runs twice.
    After sorting, as gitops-engine's ``syncTasks.Sort``: a Namespace moves just before the first task of
    an object in it, and a CRD before the first of its custom resources, taking that task's phase and wave
    (a Namespace in wave 5 whose PreSync hook Job lives in it is created in PreSync wave 0).
    """
    tasks = []
    for obj in manifests:
        hooks = hook_types(obj)
        wave = sync_wave(obj)
        key = key_of(obj)
        if not hooks:
            tasks.append(SyncTask(key, obj, SyncPhase.SYNC, wave))
            continue
        for hook in hooks:
            if hook is HookType.SKIP:
                continue
            tasks.append(SyncTask(key, obj, SyncPhase(hook.value), wave, hook))
    ordered = sorted(tasks, key=SyncTask.order)
    ordered = _bubble_up(ordered, _namespace_defined, _namespace_used)
    return _bubble_up(ordered, _kind_defined, _kind_used)


DependencyKey = Callable[[Mapping[str, Any]], str | None]


def _namespace_defined(obj: Mapping[str, Any]) -> str | None:
    if obj.get("kind") == "Namespace" and "/" not in str(obj.get("apiVersion") or "v1"):
        return str((obj.get("metadata") or {}).get("name") or "")
    return None


def _namespace_used(obj: Mapping[str, Any]) -> str | None:
    return str((obj.get("metadata") or {}).get("namespace") or "") or None


def _kind_defined(obj: Mapping[str, Any]) -> str | None:
    if obj.get("kind") != "CustomResourceDefinition":
        return None
    spec = obj.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    return f"{group}/{kind}" if isinstance(group, str) and isinstance(kind, str) else None


def _kind_used(obj: Mapping[str, Any]) -> str | None:
    return f"{str(obj.get('apiVersion') or '').rpartition('/')[0]}/{obj.get('kind')}"


def _bubble_up(tasks: Sequence[SyncTask], defines: DependencyKey, uses: DependencyKey) -> list[SyncTask]:
    """Move each dependency (a Namespace, a CRD) before the first task that uses it, in that task's phase and
    wave. Tasks that come after their dependency already stay where they are."""
    out = list(tasks)
    first_use: dict[str, int] = {}
    for index in range(len(out)):
        task = out[index]
        defined = defines(task.obj)
        if defined is not None:
            target = first_use.get(defined)
            if target is None:
                continue
            del out[index]
            out.insert(target, replace(task, phase=out[target].phase, wave=out[target].wave))
            first_use = {key: at + 1 if at >= target else at for key, at in first_use.items()}
            continue
        used = uses(task.obj) if task.phase is not SyncPhase.SYNC_FAIL else None  # split off first, as there
        if used is not None:
            first_use.setdefault(used, index)
    return out


def is_hook(obj: Mapping[str, Any]) -> bool:
    return bool(hook_types(obj))


@dataclass(frozen=True, slots=True)
class Wave:
    phase: SyncPhase
    wave: int
    tasks: tuple[SyncTask, ...]

    def __str__(self) -> str:
        return f"{self.phase} wave {self.wave}"


def group_waves(tasks: Sequence[SyncTask]) -> list[Wave]:
    """Consecutive (phase, wave) groups of already ordered tasks; SyncFail hooks are not part of them."""
    ordered = sorted((t for t in tasks if t.phase is not SyncPhase.SYNC_FAIL), key=SyncTask.order)
    return [Wave(phase, wave, tuple(group))
            for (phase, wave), group in itertools.groupby(ordered, key=lambda t: (t.phase, t.wave))]


def is_ready_for_next_wave(
    health: Health | None, live: Mapping[str, Any] | None, *, paused_is_ready: bool
) -> bool:
    """Whether a synced resource lets the next wave start: Healthy, or no health check (ConfigMap...).

    ``paused_is_ready`` (app sync option ``WaveReadyWhenPaused=true`` or the resource annotation
    ``rollouts.argoproj.io/wave-ready-when-paused: "true"``): a Rollout Suspended on a canary pause step
    counts as ready, so later waves are not blocked behind a manual promotion.
    """
    if health is None:
        return live is not None
    if health.status is HealthStatusCode.HEALTHY:
        return True
    if health.status is HealthStatusCode.SUSPENDED and live is not None:
        wants = paused_is_ready or str(_annotations(live).get(WAVE_READY_WHEN_PAUSED_ANNOTATION, "")).lower() == "true"
        return wants and is_paused_on_step(live)
    return False
