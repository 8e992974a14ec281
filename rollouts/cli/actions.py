"""The plugin's mutating commands: read the object, plan the patches (rollouts.cli.patches), send them, print
the line Argo's plugin prints ("rollout 'web' promoted").

abort, pause, resume, retry and terminate take several names, one line each, stopping at the first error.
Read-plan-send is repeated on 409 Conflict and on a failed JSON-patch `test` (422) for the patches that
depend on what was read (undo, set image), as Argo's plugin retries `set image` up to five times.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rollouts.cli.errors import CliError, Target, explain
from rollouts.cli.patches import ActionPlan, ActionRefused, Patch

if TYPE_CHECKING:
    from rollouts.cli.invocation import Invocation
    from rollouts.kube.client import KubeClient

_ATTEMPTS = 5
_SINGULAR = {"rollouts": "rollout", "deployments": "deployment", "replicasets": "replicaset",
             "podtemplates": "podtemplate", "analysisruns": "analysisrun", "experiments": "experiment"}


def _kind(plural: str) -> Any:
    from rollouts.kube import resources
    from rollouts.kube.resources import ResourceKind

    return {"rollouts": resources.ROLLOUT, "deployments": resources.DEPLOYMENT, "replicasets": resources.REPLICASET,
            "analysisruns": resources.ANALYSISRUN, "experiments": resources.EXPERIMENT,
            "podtemplates": ResourceKind("", "v1", "PodTemplate", "podtemplates")}[plural]


async def _patch(client: KubeClient, plural: str, name: str, namespace: str, patch: Patch, verb: str, *,
                 status: bool = False) -> None:
    try:
        await client.patch(_kind(plural), name, patch.body, namespace, patch_type=patch.patch_type,
                           subresource="status" if status else None)
    except Exception as exc:
        what = f"{plural}/status" if status else _SINGULAR.get(plural, plural)
        raise explain(exc, Target(verb, what, name, namespace)) from exc


async def send(client: KubeClient, name: str, namespace: str, plan: ActionPlan, verb: str) -> None:
    """Argo's order: the status patch first; if the status subresource is missing (404), the combined patch
    to the main resource in place of the spec patch; then the spec patch."""
    from rollouts.kube.errors import NotFound

    target = plan.name or name
    spec = plan.spec
    if plan.status is not None:
        try:
            await _patch(client, plan.kind, target, namespace, plan.status, verb, status=True)
        except CliError as exc:
            if not isinstance(exc.__cause__, NotFound) or plan.unified is None:
                raise
            spec = plan.unified
    if spec is not None:
        await _patch(client, plan.kind, target, namespace, spec, verb)


async def _read(client: KubeClient, plural: str, name: str, namespace: str, verb: str) -> dict[str, Any]:
    from rollouts.cli.fetch import get_rollout

    if plural == "rollouts":
        return await get_rollout(client, name, namespace, verb=verb)
    try:
        obj: dict[str, Any] = await client.get(_kind(plural), name, namespace)
    except Exception as exc:
        raise explain(exc, Target(verb, _SINGULAR.get(plural, plural), name, namespace)) from exc
    return obj


async def run_action(client: KubeClient, name: str, namespace: str, *, verb: str,
                     planner: Callable[[dict[str, Any]], ActionPlan], plural: str = "rollouts") -> str:
    """Read, plan, send; returns the line to print."""
    from rollouts.kube.errors import Conflict, Invalid

    for attempt in range(_ATTEMPTS):
        obj = await _read(client, plural, name, namespace, verb)
        try:
            plan = planner(obj)
        except ActionRefused as exc:
            raise CliError(str(exc)) from exc
        try:
            await send(client, name, namespace, plan, verb)
        except CliError as exc:
            # a JSON patch whose `test` failed (422) or a conflicting write: read again and plan again
            json_patch = any(p.patch_type == "json" for p in plan.patches)
            if isinstance(exc.__cause__, Conflict | Invalid) and json_patch and attempt < _ATTEMPTS - 1:
                continue
            raise
        return plan.message
    raise CliError(f"rollout '{name}' in namespace '{namespace}' kept changing; run the command again")


async def _each(inv: Invocation, verb: str, planner: Callable[[dict[str, Any]], ActionPlan],
                plural: str = "rollouts") -> int:
    async with inv.client() as client:
        for name in inv.args.names:
            inv.print(await run_action(client, name, inv.namespace, verb=verb, planner=planner, plural=plural))
    return 0


def planner_for(verb: str, *, full: bool = False, skip_current_step: bool = False, skip_all_steps: bool = False,
                at: datetime | None = None, delay_text: str = "0s") -> Callable[[dict[str, Any]], ActionPlan]:
    """The planner of a Rollout verb that needs no more than the Rollout itself: abort, pause, resume, retry,
    promote (`full`, Argo's deprecated skip flags) and restart (`at`). The plugin's commands and the dashboard's
    buttons both take their planner here, so a button sends exactly what the command sends."""
    from rollouts.cli import patches

    if verb == "promote":
        if skip_current_step and skip_all_steps:
            raise CliError(patches.SKIP_FLAGS_TOGETHER)
        return lambda ro: patches.plan_promote(ro, full=full, skip_current_step=skip_current_step,
                                               skip_all_steps=skip_all_steps)
    if verb == "restart":
        moment = at or datetime.now(UTC)
        return lambda ro: patches.plan_restart(ro, at=moment, delay_text=delay_text)
    simple: dict[str, Callable[[dict[str, Any]], ActionPlan]] = {
        "abort": patches.plan_abort, "pause": patches.plan_pause, "resume": patches.plan_resume,
        "retry": patches.plan_retry}
    if verb not in simple:
        raise CliError(f"unknown rollout action {verb!r}")
    return simple[verb]


async def abort_cmd(inv: Invocation) -> int:
    return await _each(inv, "abort", planner_for("abort"))


async def pause_cmd(inv: Invocation) -> int:
    return await _each(inv, "pause", planner_for("pause"))


async def resume_cmd(inv: Invocation) -> int:
    return await _each(inv, "resume", planner_for("resume"))


async def retry_cmd(inv: Invocation) -> int:
    return await _each(inv, "retry", planner_for("retry"))


async def terminate_analysisrun_cmd(inv: Invocation) -> int:
    from rollouts.cli.patches import plan_terminate_analysisrun

    return await _each(inv, "terminate", plan_terminate_analysisrun, plural="analysisruns")


async def retry_experiment_cmd(inv: Invocation) -> int:
    from rollouts.cli.patches import plan_retry_experiment

    return await _each(inv, "retry", plan_retry_experiment, plural="experiments")


async def terminate_experiment_cmd(inv: Invocation) -> int:
    from rollouts.cli.patches import plan_terminate_experiment

    return await _each(inv, "terminate", plan_terminate_experiment, plural="experiments")


async def promote_cmd(inv: Invocation) -> int:
    args = inv.args
    planner = planner_for("promote", full=args.full, skip_current_step=args.skip_current_step,
                          skip_all_steps=args.skip_all_steps)
    async with inv.client() as client:
        inv.print(await run_action(client, args.name, inv.namespace, verb="promote", planner=planner))
    return 0


def restart_time(text: str) -> datetime:
    """When `restart --in TEXT` restarts: now plus the Go duration (now for "")."""
    from rollouts.api.common import parse_duration

    delay = 0.0
    if text:
        try:
            delay = parse_duration(text)
        except ValueError as exc:
            raise CliError(f'invalid argument "{text}" for "-i, --in" flag: {exc}') from exc
    return datetime.now(UTC) + timedelta(seconds=delay)


async def restart_cmd(inv: Invocation) -> int:
    text = inv.args.restart_in
    planner = planner_for("restart", at=restart_time(text), delay_text=text or "0s")
    async with inv.client() as client:
        inv.print(await run_action(client, inv.args.name, inv.namespace, verb="restart", planner=planner))
    return 0


def image_assignment(text: str) -> tuple[str, str]:
    """`CONTAINER=IMAGE` checked before anything is sent (a bad image never reaches the cluster)."""
    from rollouts.cli.patches import parse_image_assignment

    try:
        return parse_image_assignment(text)
    except ValueError as exc:
        raise CliError(str(exc)) from exc


async def set_image(client: KubeClient, name: str, namespace: str, assignment: tuple[str, str]) -> str:
    """`set image NAME CONTAINER=IMAGE`: on the workloadRef'd Deployment when the Rollout has one, as Argo's
    plugin does; returns the line to print."""
    from rollouts.cli.patches import plan_set_image

    container, image = assignment
    rollout = await _read(client, "rollouts", name, namespace, "set image")
    ref = (rollout.get("spec") or {}).get("workloadRef")
    if isinstance(ref, dict):
        target = ref.get("name")
        if not isinstance(target, str) or not target:
            raise CliError(f"spec.workloadRef.name is not a string: {target!r}")
        # Argo's plugin edits the Deployment the Rollout takes its template from
        return await run_action(client, target, namespace, verb="set image", plural="deployments",
                                planner=lambda d: plan_set_image({"kind": "Deployment", **d}, container, image))
    return await run_action(client, name, namespace, verb="set image",
                            planner=lambda ro: plan_set_image(ro, container, image))


async def set_image_cmd(inv: Invocation) -> int:
    assignment = image_assignment(inv.args.assignment)
    async with inv.client() as client:
        line = await set_image(client, inv.args.name, inv.namespace, assignment)
    inv.print(line)
    return 0


def check_revision(to_revision: int) -> None:
    if to_revision < 0:
        raise CliError(f"unable to find specified revision {to_revision} in history")


async def undo(client: KubeClient, name: str, namespace: str, to_revision: int = 0) -> str:
    """`undo NAME [--to-revision N]`: put an earlier revision's template back; returns the line to print."""
    from rollouts.cli.fetch import list_kind, selector_of
    from rollouts.cli.patches import plan_undo

    check_revision(to_revision)
    rollout = await _read(client, "rollouts", name, namespace, "undo")
    replicasets = await list_kind(client, "replicasets", namespace, selector_of(rollout))
    try:
        plan = plan_undo(rollout, replicasets, to_revision=to_revision)
    except ActionRefused as exc:
        raise CliError(str(exc)) from exc
    await send(client, name, namespace, plan, "undo")
    return plan.message


async def undo_cmd(inv: Invocation) -> int:
    check_revision(inv.args.to_revision)
    async with inv.client() as client:
        line = await undo(client, inv.args.name, inv.namespace, inv.args.to_revision)
    inv.print(line)
    return 0
