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
from datetime import datetime
from typing import Any

from rollouts.api.rollout import Rollout, RolloutPhase
from rollouts.api.validation import SpecProblem, invalid_spec_message
from rollouts.planning.bluegreen import plan_blue_green
from rollouts.planning.canary import plan_canary
from rollouts.planning.conditions import conditions_by_type, set_condition
from rollouts.planning.context import PlanContext
from rollouts.planning.hashing import revision_hash
from rollouts.planning.observed import ObservedRollout, format_timestamp
from rollouts.planning.plan import EmitEvent, Plan
from rollouts.planning.references import reference_problems
from rollouts.planning.spec_facts import spec_facts
from rollouts.planning.status import base_status
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
    if spec.strategy.canary is not None:
        plan_canary(ctx, template, template_hash)
    else:
        plan_blue_green(ctx, template, template_hash)
    plan_workload_scale_down(ctx)
    return ctx.finish()


def desired_template(rollout: Rollout, workload_template: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The pod template the Rollout asks for: the workloadRef Deployment's, or ``spec.template``."""
    if rollout.spec.workload_ref is not None and workload_template:
        return workload_template
    return rollout.spec.template or {}


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
