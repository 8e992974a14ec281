"""Resource hooks of a sync: naming, matching records to templates, delete policies. Pure.

Why this module exists: hooks are not applied like the application's resources. Argo CD *creates* them in
their phase (PreSync, Sync, PostSync, SyncFail), names a ``generateName`` hook once per operation, replaces an
earlier copy first when the policy is ``BeforeHookCreation`` (the default), and deletes them after success
(``HookSucceeded``) or failure (``HookFailed``). Hooks are not tracked as application resources and are never
pruned; their outcome lives in ``operationState.syncResult.resources`` (``hookType``, ``hookPhase``). The
runner (``runner.py``) performs the creations and deletions these functions decide.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rollouts.gitops.tracking import ResourceKey, key_of
from rollouts.gitops.waves import HookDeletePolicy, SyncPhase, SyncTask, delete_policies, sync_tasks

Obj = dict[str, Any]


def hook_name(task: SyncTask, state: Mapping[str, Any]) -> str:
    """The hook's name: its own, or ``generateName`` plus a suffix fixed for this operation attempt."""
    meta = task.obj.get("metadata") or {}
    if meta.get("name"):
        return str(meta["name"])
    seed = f"{state.get('startedAt')}/{task.phase}/{meta.get('generateName')}"
    return f"{meta.get('generateName', 'hook-')}{hashlib.sha256(seed.encode()).hexdigest()[:5]}"


def hook_record_id(task: SyncTask, state: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    return (task.key.group, task.key.kind, task.key.namespace, hook_name(task, state), task.phase.value)


def hook_object(task: SyncTask, name: str) -> Obj:
    """The object to create for a hook: its manifest under its final name (no ``generateName``)."""
    obj = dict(task.obj)
    meta = dict(obj.get("metadata") or {})
    meta.pop("generateName", None)
    meta["name"] = name
    obj["metadata"] = meta
    return obj


def _template_of(rec: Mapping[str, Any], templates: Mapping[ResourceKey, Mapping[str, Any]]) -> ResourceKey | None:
    for key, template in templates.items():
        if (key.group, key.kind, key.namespace) != (rec.get("group"), rec.get("kind"), rec.get("namespace") or ""):
            continue
        generate = str((template.get("metadata") or {}).get("generateName") or "\0")
        if key.name == rec.get("name") or str(rec.get("name", "")).startswith(generate):
            return key
    return None


def hooks_with_policy(
    records: Iterable[Mapping[str, Any]], hook_manifests: Sequence[Mapping[str, Any]], policy: HookDeletePolicy
) -> list[tuple[ResourceKey, str, str]]:
    """The hooks of this operation to delete under ``policy``: (template key, live name, namespace)."""
    templates = {key_of(obj): obj for obj in hook_manifests}
    out = []
    for rec in records:
        if not rec.get("hookType"):
            continue
        match = _template_of(rec, templates)
        if match is not None and policy in delete_policies(templates[match]):
            out.append((match, str(rec["name"]), str(rec.get("namespace") or "")))
    return out


def sync_fail_tasks(hook_manifests: Iterable[Mapping[str, Any]]) -> tuple[SyncTask, ...]:
    """The SyncFail hooks, in sync order: created when an operation fails for good."""
    return tuple(t for t in sync_tasks(hook_manifests) if t.phase is SyncPhase.SYNC_FAIL)
