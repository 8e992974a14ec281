"""``plan_rollout``: the single entry point of the Rollout brain.

Given everything observed about one Rollout and the current time, return what should happen: an ordered tuple
of actions, the complete desired status, and when to look again. Pure: no clock, no I/O, no randomness; the
same observation and ``now`` always give the same plan.

An invalid spec (static problems from ``rollouts.api.validation`` or missing references) yields a plan with
no mutating action, condition InvalidSpec, phase Degraded and one Warning event when the problem first
appears, so one bad Rollout never stops the controller or the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.rollout import Rollout, RolloutPhase
from rollouts.api.validation import SpecProblem, invalid_spec_message
from rollouts.planning.bluegreen import plan_blue_green
from rollouts.planning.canary import plan_canary
from rollouts.planning.conditions import conditions_by_type, set_condition
from rollouts.planning.context import PlanContext
from rollouts.planning.hashing import replica_set_name, revision_hash
from rollouts.planning.observed import ObservedRollout, format_timestamp
from rollouts.planning.plan import EmitEvent, Plan, ReleaseService
from rollouts.planning.references import reference_problems
from rollouts.planning.spec_facts import spec_facts
from rollouts.planning.status import base_status
from rollouts.planning.tolerant import tolerant_template
from rollouts.planning.vocabulary import Condition, Event, Reason
from rollouts.planning.workload import plan_workload_scale_down


def plan_rollout(observed: ObservedRollout, *, now: datetime) -> Plan:
    """Decide the next move for one Rollout. See ``rollouts.planning.plan`` for the executor contract."""
    ctx = PlanContext(observed, now)
    facts = spec_facts(observed.rollout)
    problems = list(facts.problems) or reference_problems(observed, facts.references)
    if problems:
        return _invalid(ctx, problems)
    spec = observed.rollout.spec
    template = desired_template(observed.rollout, observed.workload_template)
    template_hash = desired_hash(observed.rollout, template, facts.template_hash)
    if observed.replica_set_create_error is not None:
        return _replica_set_create_failed(ctx, template_hash, observed.replica_set_create_error)
    if spec.strategy.canary is not None:
        plan_canary(ctx, template, template_hash)
    else:
        plan_blue_green(ctx, template, template_hash)
    plan_workload_scale_down(ctx)
    for service in observed.released_services:
        ctx.act(ReleaseService(service))
    return ctx.finish()


INVALID_SPEC_RETRY = timedelta(seconds=20)
"""Argo's requeue of a Rollout with a validation error (rollout/controller.go, enqueueRolloutAfter 20s)."""


def desired_template(rollout: Rollout, workload_template: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The pod template the Rollout asks for: the workloadRef Deployment's, or ``spec.template`` as Argo's
    tolerant decoding reads it (a malformed quantity ends it there: rollouts.planning.tolerant)."""
    if rollout.spec.workload_ref is not None and workload_template:
        return workload_template
    return tolerant_template(rollout.spec.template or {})[0]


def desired_hash(rollout: Rollout, template: Mapping[str, Any], memoised: str = "") -> str:
    """Argo's hash of the desired template with ``status.collisionCount`` (``memoised``: the spec facts'
    hash without a collision count, reused when the status has none)."""
    collision_count = rollout.status.collision_count if rollout.status is not None else None
    if memoised and collision_count is None:
        return memoised
    return revision_hash(template, collision_count)


def _invalid(ctx: PlanContext, problems: list[SpecProblem]) -> Plan:
    message = invalid_spec_message(problems)
    ctx.status = base_status(ctx, ctx.old.current_pod_hash or "")
    if not ctx.status["currentPodHash"]:
        del ctx.status["currentPodHash"]
    previous = ctx.conditions.get(Condition.INVALID_SPEC)
    set_condition(ctx.conditions, Condition.INVALID_SPEC, "True", Reason.INVALID_SPEC, message, ctx.now_text)
    if previous is None or previous.get("message") != message or previous.get("status") != "True":
        ctx.event(Event.INVALID_SPEC, message, warning=True)
    ctx.status["phase"] = str(RolloutPhase.DEGRADED)
    ctx.status["message"] = f"{Condition.INVALID_SPEC}: {message}"
    # Argo plans an invalid Rollout again after 20 s: the problem may be timing (the Rollout applied before
    # its Service) or an object no informer here watches. Events on watched references come sooner.
    ctx.wake(ctx.now + INVALID_SPEC_RETRY)
    return ctx.finish()


REPLICA_SET_CREATE_RETRY = timedelta(seconds=30)


def _replica_set_create_failed(ctx: PlanContext, template_hash: str, reason: str) -> Plan:
    """The API server refused the new revision's ReplicaSet (label value "ünï", containerPort 99999999, ...):
    Argo's condition (Progressing=False, ReplicaSetCreateError, `Failed to create new replica set "<name>":
    <the API server's message>`) and Warning event (once per message), phase Degraded, nothing else done in
    this pass; the create is tried again in 30 s and at once when the spec changes, so fixing the template
    recovers by itself.

    Example: rollout "shop", hash "6f9c8d7b5", reason 'ReplicaSet.apps "shop-6f9c8d7b5" is invalid: ...' ->
    condition message 'Failed to create new replica set "shop-6f9c8d7b5": ReplicaSet.apps ... is invalid: ...'.
    """
    message = f'Failed to create new replica set "{replica_set_name(ctx.rollout.name, template_hash)}": {reason}'
    ctx.status = base_status(ctx, ctx.old.current_pod_hash or "")
    if not ctx.status["currentPodHash"]:
        del ctx.status["currentPodHash"]
    previous = ctx.conditions.get(Condition.PROGRESSING)
    set_condition(ctx.conditions, Condition.PROGRESSING, "False", Reason.REPLICA_SET_CREATE_ERROR, message,
                  ctx.now_text)
    if previous is None or previous.get("reason") != Reason.REPLICA_SET_CREATE_ERROR \
            or previous.get("message") != message:
        ctx.event(Event.REPLICA_SET_CREATE_ERROR, message, warning=True)
    ctx.status["phase"] = str(RolloutPhase.DEGRADED)
    ctx.status["message"] = f"{Reason.REPLICA_SET_CREATE_ERROR}: {message}"
    ctx.wake(ctx.now + REPLICA_SET_CREATE_RETRY)
    return ctx.finish()


def plan_unparseable(
    old_status: Mapping[str, Any], problems: list[SpecProblem], *, generation: int, now: datetime
) -> Plan:
    """For an object that does not even parse as a Rollout: only the InvalidSpec status and one event."""

    now_text = format_timestamp(now)
    message = invalid_spec_message(problems)
    status: dict[str, Any] = {k: v for k, v in old_status.items() if k not in ("phase", "message")}
    conditions = conditions_by_type(status.get("conditions") or ())
    previous = conditions.get(Condition.INVALID_SPEC)
    set_condition(conditions, Condition.INVALID_SPEC, "True", Reason.INVALID_SPEC, message, now_text)
    status["conditions"] = list(conditions.values())
    status["observedGeneration"] = str(generation)
    status["phase"] = str(RolloutPhase.DEGRADED)
    status["message"] = f"{Condition.INVALID_SPEC}: {message}"
    events: tuple[EmitEvent, ...] = ()
    if previous is None or previous.get("message") != message:
        events = (EmitEvent("Warning", Event.INVALID_SPEC, message),)
    return Plan(actions=events, status=status, requeue_after=None)
