"""The scratchpad of one planning pass: what was observed, the status being built, the actions so far.

Strategy planners (canary, blue-green) and the concerns they share (pauses, analysis, restarts, conditions)
all write into one :class:`PlanContext`, in the order Argo performs the same work, and ``finish`` freezes it
into a :class:`~rollouts.planning.plan.Plan`. Nothing here reads a clock: ``now`` is given, and every timed
wait becomes a ``wake`` deadline that turns into ``Plan.requeue_after``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rollouts.api.rollout import Rollout, RolloutSpec, RolloutStatus
from rollouts.planning.observed import ObservedReplicaSet, ObservedRollout, format_timestamp
from rollouts.planning.plan import Action, EmitEvent, Plan


@dataclass(slots=True)
class PlanContext:
    """Mutable while planning one Rollout; ``finish()`` returns the frozen result."""

    observed: ObservedRollout
    now: datetime
    status: dict[str, Any] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    wake_at: datetime | None = None
    now_text: str = ""
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Conditions by type while planning; ``finish`` writes them into the status as a list."""
    rollout: Rollout = field(init=False)
    spec: RolloutSpec = field(init=False)
    old: RolloutStatus = field(init=False)
    """The observed status (empty for a new Rollout)."""

    def __post_init__(self) -> None:
        self.now_text = format_timestamp(self.now)
        self.rollout = self.observed.rollout
        self.spec = self.rollout.spec
        self.old = self.rollout.status_or_empty

    def act(self, action: Action) -> None:
        self.actions.append(action)

    def event(self, reason: str, message: str, *, warning: bool = False) -> None:
        self.actions.append(EmitEvent("Warning" if warning else "Normal", str(reason), message))

    def wake(self, at: datetime) -> None:
        """Ask to be planned again no later than ``at`` (the earliest request wins)."""
        if self.wake_at is None or at < self.wake_at:
            self.wake_at = at

    def finish(self) -> Plan:
        requeue: float | None = None
        if self.wake_at is not None:
            requeue = max(0.0, (self.wake_at - self.now).total_seconds())
        if self.conditions:
            self.status["conditions"] = list(self.conditions.values())
        else:
            self.status.pop("conditions", None)
        return Plan(actions=tuple(self.actions), status=self.status, requeue_after=requeue)


@dataclass(frozen=True, slots=True)
class RevisionSets:
    """The Rollout's ReplicaSets sorted into the roles a strategy cares about.

    ``new`` runs the current pod template (None until created), ``stable`` the hash in ``status.stableRS``
    (may be the same object as ``new``), ``others`` everything else, newest revision first.
    """

    current_hash: str
    new: ObservedReplicaSet | None
    stable: ObservedReplicaSet | None
    others: tuple[ObservedReplicaSet, ...]
    revision: int
    """The revision of the current template: ``new``'s revision, or the next free number."""
    all: tuple[ObservedReplicaSet, ...] = field(init=False)
    """Every ReplicaSet once: new, stable (unless it is new), then the others."""
    stable_is_new: bool = field(init=False)

    def __post_init__(self) -> None:
        same = self.new is not None and self.stable is not None and self.new.name == self.stable.name
        first = tuple(rs for rs in (self.new, None if same else self.stable) if rs is not None)
        object.__setattr__(self, "stable_is_new", same)
        object.__setattr__(self, "all", (*first, *self.others))
