"""Resource health with the outcomes Argo CD gives for the same live objects.

Why this package exists: users read ``status.health`` the way Argo CD taught them, and sync waves wait on it.
Argo CD decides a resource's health in this order (gitops-engine ``health.GetResourceHealth`` with Argo CD's
``lua.ResourceHealthOverrides``): a user's Lua script from argocd-cm (exact group/kind, then wildcards), else
Argo CD's own Lua script for the kind (``argo.py``, ``addons.py``: our rules with those scripts' outcomes),
else gitops-engine's Go check (``builtin.py``); a script that returns nil falls through to the Go check.
Kinds with no rule have no health (``None``) and do not count toward the application's health. An object
being deleted is Progressing "Pending deletion" (naming the finalizers that block it) unless Argo CD's hook
finalizer holds it. This package is pure; user scripts run through ``rollouts/gitops/custom_health.py``, in
worker processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.api.application import HealthStatusCode
from rollouts.gitops.health.addons import ADDON_CHECKS, ScriptFailure, wildcard_check
from rollouts.gitops.health.argo import ARGO_CHECKS
from rollouts.gitops.health.builtin import BUILTIN_CHECKS, UnsupportedVersion, is_hook
from rollouts.gitops.health.model import (
    HEALTH_ORDER,
    Health,
    HealthCheck,
    Obj,
    group_of,
    is_worse,
    meta_of,
    status_of,
    worst,
)

__all__ = [
    "HEALTH_ORDER", "HOOK_FINALIZER", "Health", "HealthCheck", "checked_health", "group_of", "is_hook",
    "is_paused_on_step", "is_worse", "lua_check", "pending_deletion", "resource_health", "worst",
]

HOOK_FINALIZER = "argocd.argoproj.io/hook-finalizer"


def lua_check(group: str, kind: str) -> HealthCheck | None:
    """Argo CD's built-in Lua script for this kind (exact directory first, then its wildcard ones)."""
    return ARGO_CHECKS.get((group, kind)) or ADDON_CHECKS.get((group, kind)) or wildcard_check(group, kind)


def pending_deletion(obj: Obj, health: Health | None, deletion_message: str = "") -> Health | None:
    """The health of an object being deleted, or None when it is not (or Argo CD's hook finalizer holds it).

    deletionTimestamp set, finalizers [a, b] -> Progressing "Pending deletion; blocked by finalizers: a, b";
    a Lua script's ``deletionMessage`` keeps the script's status with that message instead.
    """
    meta = meta_of(obj)
    finalizers = [f for f in meta.get("finalizers") or [] if isinstance(f, str)]
    if not meta.get("deletionTimestamp") or HOOK_FINALIZER in finalizers:
        return None
    if health is not None and deletion_message:
        return Health(health.status, deletion_message)
    if finalizers:
        return Health(HealthStatusCode.PROGRESSING, "Pending deletion; blocked by finalizers: " + ", ".join(finalizers))
    return Health(HealthStatusCode.PROGRESSING, "Pending deletion")


def checked_health(obj: Obj, *, skip_lua: bool = False) -> tuple[Health | None, bool]:
    """Health by Argo CD's built-in rules (its Lua scripts, then gitops-engine's Go checks), before deletion,
    and whether it is the rule's error (Argo CD reports an error as Unknown without the deletion overlay)."""
    group, kind = group_of(obj), str(obj.get("kind") or "")
    check = None if skip_lua else lua_check(group, kind)
    check = check or BUILTIN_CHECKS.get((group, kind))
    if check is None:
        return None, False
    try:
        return check(obj), False
    except (UnsupportedVersion, ScriptFailure) as exc:
        return Health(HealthStatusCode.UNKNOWN, str(exc)), True


def resource_health(obj: Obj | None) -> Health | None:
    """Health of one live object by Argo CD's built-in rules; ``None`` for a kind without a rule (ConfigMap...).

    A missing object is Missing; one being deleted is Progressing "Pending deletion", like Argo CD.
    """
    if obj is None:
        return Health(HealthStatusCode.MISSING)
    health, failed = checked_health(obj)
    return health if failed else pending_deletion(obj, health) or health


def is_paused_on_step(obj: Mapping[str, Any]) -> bool:
    """A Rollout that waits on a pause step of its canary (``pauseConditions`` reason CanaryPauseStep).

    Used by the ``rollouts.argoproj.io/wave-ready-when-paused`` option: such a Rollout counts as done for wave
    progression although Argo CD would show it Suspended.
    """
    if group_of(obj) != "argoproj.io" or obj.get("kind") != "Rollout":
        return False
    conditions = status_of(obj).get("pauseConditions") or []
    return any(isinstance(c, Mapping) and c.get("reason") == "CanaryPauseStep" for c in conditions)
