"""What a canary update wants right now: the shared per-reconcile state and the weights it implies.

The weight in force is that of the current step (``setWeight``), the whole once all steps are done or
``promoteFull`` is set, and 0 once aborted or fully promoted. With ``dynamicStableScale`` an abort can only
hand traffic back to the stable as fast as stable pods become available.
"""

from __future__ import annotations

from dataclasses import dataclass

from rollouts.api.rollout import CanaryStep, CanaryStrategy
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.replicas import (
    CanaryCounts,
)
from rollouts.planning.steps import (
    set_weight_in_force,
)


@dataclass(slots=True)
class CanaryState:
    """What this reconcile knows about the update, shared by the phases of the canary plan."""

    strategy: CanaryStrategy
    steps: list[CanaryStep]
    sets: RevisionSets
    aborted: bool
    max_surge: int
    max_unavailable: int
    traffic_routed: bool = False
    has_canary: bool = False
    """There is a distinct stable to canary against (not an initial deploy, not back at stable)."""
    counts: CanaryCounts | None = None
    counts_key: tuple[object, ...] = ()
    """Desired counts, computed once per plan (keyed by what can change while planning)."""

    def __post_init__(self) -> None:
        self.traffic_routed = self.strategy.traffic_routing is not None
        self.has_canary = self.sets.stable is not None and not self.sets.stable_is_new


def step_weight(ctx: PlanContext, state: CanaryState) -> int:
    """The weight the steps ask for now, out of maxTrafficWeight: the nearest setWeight at or before the
    current step, or the whole (maxTrafficWeight) once every step is done or promoteFull is set."""
    max_weight = state.strategy.effective_max_traffic_weight()
    if ctx.status.get("promoteFull"):
        return max_weight
    return set_weight_in_force(state.steps, ctx.status.get("currentStepIndex"), max_weight=max_weight)


def desired_weight(ctx: PlanContext, state: CanaryState) -> int:
    """The canary traffic weight for this reconcile (0 when aborted or fully promoted).

    With dynamicStableScale an abort can only hand traffic back as fast as the stable has available pods:
    10 replicas, 4 stable pods available -> canary keeps 60.
    """
    if state.aborted and state.strategy.dynamic_stable_scale and state.sets.stable is not None:
        max_weight = state.strategy.effective_max_traffic_weight()
        replicas = max(1, ctx.spec.replicas)
        stable_available = min(state.sets.stable.available_replicas, replicas)
        return min(previous_weight(ctx), max(0, max_weight - stable_available * max_weight // replicas))
    if state.aborted or not state.has_canary:
        return 0
    return step_weight(ctx, state)


def previous_weight(ctx: PlanContext) -> int:
    canary = ctx.old.canary
    if canary is None or canary.weights is None:
        return 0
    return canary.weights.canary.weight
