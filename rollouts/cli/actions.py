"""Runs the plugin's mutating commands: read the Rollout, plan the patches (rollouts.cli.patches),
send them, print one line.

Read-plan-send is repeated on 409 Conflict for the JSON patches that depend on what was read
(undo and set image carry `test` operations and indexes), as Argo's plugin retries `set image`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rollouts.cli.errors import CliError, Target, explain
from rollouts.cli.patches import ActionPlan, ActionRefused

if TYPE_CHECKING:
    from rollouts.kube.client import KubeClient

_ATTEMPTS = 5


async def _get_rollout(client: KubeClient, name: str, namespace: str, verb: str) -> dict[str, Any]:
    from rollouts.cli.fetch import get_rollout

    return await get_rollout(client, name, namespace, verb=verb)


async def send(client: KubeClient, name: str, namespace: str, plan: ActionPlan, verb: str) -> None:
    from rollouts.kube.resources import ROLLOUT

    for patch in plan.patches:
        kind = "rollouts/status" if patch.subresource else "rollout"
        try:
            await client.patch(ROLLOUT, name, patch.body, namespace, patch_type=patch.patch_type,
                               subresource=patch.subresource)
        except Exception as exc:
            raise explain(exc, Target(verb, kind, name, namespace)) from exc


async def run_action(
    client: KubeClient,
    name: str,
    namespace: str,
    *,
    verb: str,
    planner: Callable[[dict[str, Any]], ActionPlan],
) -> str:
    """Read, plan, send; returns the line to print. Planners that read only the rollout."""
    from rollouts.kube.errors import Conflict, Invalid

    for attempt in range(_ATTEMPTS):
        rollout = await _get_rollout(client, name, namespace, verb)
        try:
            plan = planner(rollout)
        except ActionRefused as exc:
            raise CliError(str(exc)) from exc
        try:
            await send(client, name, namespace, plan, verb)
        except CliError as exc:
            # a JSON patch whose `test` failed (422) or a conflicting write: re-read and re-plan
            if isinstance(exc.__cause__, Conflict | Invalid) and attempt < _ATTEMPTS - 1 and _is_json(plan):
                continue
            raise
        return plan.message
    raise CliError(f"rollout '{name}' in namespace '{namespace}' kept changing; run the command again")


def _is_json(plan: ActionPlan) -> bool:
    return any(p.patch_type == "json" for p in plan.patches)


async def undo(client: KubeClient, name: str, namespace: str, *, to_revision: int | None) -> str:
    from rollouts.cli.fetch import list_kind, selector_of
    from rollouts.cli.patches import plan_undo

    rollout = await _get_rollout(client, name, namespace, "undo")
    replicasets = await list_kind(client, "replicasets", namespace, selector_of(rollout))
    try:
        plan = plan_undo(rollout, replicasets, to_revision=to_revision)
    except ActionRefused as exc:
        raise CliError(str(exc)) from exc
    await send(client, name, namespace, plan, "undo")
    return plan.message


def restart_planner(at: datetime) -> Callable[[dict[str, Any]], ActionPlan]:
    from rollouts.cli.patches import plan_restart

    def planner(rollout: dict[str, Any]) -> ActionPlan:
        return plan_restart(rollout, at=at)

    return planner
