"""Resource hooks of a sync: naming, creation with delete policies, and clean-up.

Why this module exists: hooks are not applied like the application's resources. Argo CD *creates* them in
their phase (PreSync, Sync, PostSync, SyncFail), names a ``generateName`` hook once per operation, replaces an
earlier copy first when the policy is ``BeforeHookCreation`` (the default), and deletes them after success
(``HookSucceeded``) or failure (``HookFailed``). Hooks are not tracked as application resources and are never
pruned; their outcome lives in ``operationState.syncResult.resources`` (``hookType``, ``hookPhase``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from rollouts.api.application import OperationPhase, ResultCode
from rollouts.gitops.compare import Comparison
from rollouts.gitops.tracking import ResourceKey, key_of
from rollouts.gitops.waves import HookDeletePolicy, SyncPhase, SyncTask, delete_policies, sync_tasks
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import AlreadyExists, ApiError, NotFound
from rollouts.kube.resources import ResourceKind

Obj = dict[str, Any]


class Hooks:
    def __init__(self, client: KubeClient) -> None:
        self.client = client

    @staticmethod
    def name(task: SyncTask, state: Mapping[str, Any]) -> str:
        """The hook's name: its own, or ``generateName`` plus a suffix fixed for this operation attempt."""
        meta = task.obj.get("metadata") or {}
        if meta.get("name"):
            return str(meta["name"])
        seed = f"{state.get('startedAt')}/{task.phase}/{meta.get('generateName')}"
        return f"{meta.get('generateName', 'hook-')}{hashlib.sha256(seed.encode()).hexdigest()[:5]}"

    def record_id(self, task: SyncTask, state: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
        return (task.key.group, task.key.kind, task.key.namespace, self.name(task, state), task.phase.value)

    async def create(self, task: SyncTask, kind: ResourceKind, state: Mapping[str, Any]) -> Obj | None:
        """Create a hook; None while an older copy is being deleted (BeforeHookCreation)."""
        name = self.name(task, state)
        namespace = task.key.namespace or None
        obj = dict(task.obj)
        meta = dict(obj.get("metadata") or {})
        meta.pop("generateName", None)
        meta["name"] = name
        obj["metadata"] = meta
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
            await self.client.create(kind, obj, namespace)
        except AlreadyExists:
            return {**base, "status": ResultCode.SYNC_FAILED.value, "hookPhase": OperationPhase.FAILED.value,
                    "message": f"hook {kind.kind} {name!r} already exists; add hook-delete-policy "
                               "BeforeHookCreation to replace it"}
        except ApiError as exc:
            return {**base, "status": ResultCode.SYNC_FAILED.value, "hookPhase": OperationPhase.FAILED.value,
                    "message": exc.message[:500]}
        return {**base, "status": ResultCode.SYNCED.value, "hookPhase": OperationPhase.RUNNING.value,
                "message": f"{kind.kind.lower()} created"}

    async def delete_by_policy(self, records: list[Obj], comparison: Comparison, policy: HookDeletePolicy) -> None:
        """Delete the hooks of this operation whose delete policy is ``policy`` (best effort)."""
        hook_kinds: dict[ResourceKey, ResourceKind] = {key_of(obj): kind for kind, obj in comparison.hooks}
        templates = {key_of(obj): obj for _, obj in comparison.hooks}
        for rec in records:
            if not rec.get("hookType"):
                continue
            match = next((k for k in templates if (k.group, k.kind, k.namespace) == (
                rec.get("group"), rec.get("kind"), rec.get("namespace") or "")
                and (k.name == rec.get("name") or str(rec.get("name", "")).startswith(
                    str((templates[k].get("metadata") or {}).get("generateName") or "\0")))), None)
            if match is None or policy not in delete_policies(templates[match]):
                continue
            try:
                await self.client.delete(hook_kinds[match], str(rec["name"]), rec.get("namespace") or None,
                                         propagation="Foreground")
            except NotFound:
                pass
            except ApiError:
                continue

    async def run_sync_fail(self, comparison: Comparison, state: Obj) -> None:
        """A failed operation: create its SyncFail hooks, then delete the HookFailed ones."""
        result = state.setdefault("syncResult", {"revision": comparison.revision})
        records: list[Obj] = result.setdefault("resources", [])
        hook_kinds = {key_of(obj): kind for kind, obj in comparison.hooks}
        for task in sync_tasks([obj for _, obj in comparison.hooks]):
            if task.phase is not SyncPhase.SYNC_FAIL:
                continue
            try:
                outcome = await self.create(task, hook_kinds[task.key], state)
            except ApiError:
                continue
            if outcome is not None:
                records.append({"group": task.key.group, "kind": task.key.kind, "namespace": task.key.namespace,
                                "syncPhase": task.phase.value, **outcome})
        await self.delete_by_policy(records, comparison, HookDeletePolicy.HOOK_FAILED)
