"""The plan for a Rollout whose spec cannot even be parsed into the model.

A Rollout with, say, `replicas: "three"` never reaches the main planner (it takes a parsed model), but the
user must still see why nothing happens: Argo reports such a spec as condition InvalidSpec and phase
Degraded. Everything else in the status is kept, so a fixed spec continues from where it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rollouts.planning.plan import EmitEvent, Plan

INVALID_SPEC = "InvalidSpec"


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_unparseable(
    status: Mapping[str, Any] | None, problems: Sequence[str], *, generation: int | None, now: datetime
) -> Plan:
    """Status with InvalidSpec=True naming the problems; a Warning event only when the message changes.

    Example: problems ["spec.replicas: Input should be a valid integer"] -> phase Degraded, message
    "InvalidSpec: The Rollout \"x\" is invalid: spec.replicas: Input should be a valid integer".
    """
    message = "; ".join(problems) or "the spec could not be parsed"
    new: dict[str, Any] = dict(status or {})
    conditions = [dict(c) for c in new.get("conditions") or () if c.get("type") != INVALID_SPEC]
    previous = next((c for c in new.get("conditions") or () if c.get("type") == INVALID_SPEC), None)
    changed = previous is None or previous.get("message") != message
    stamp = _stamp(now)
    conditions.append(
        {
            "type": INVALID_SPEC,
            "status": "True",
            "reason": INVALID_SPEC,
            "message": message,
            "lastUpdateTime": stamp if changed or previous is None else previous.get("lastUpdateTime", stamp),
            "lastTransitionTime": stamp if previous is None else previous.get("lastTransitionTime", stamp),
        }
    )
    new["conditions"] = conditions
    new["phase"] = "Degraded"
    new["message"] = f"{INVALID_SPEC}: {message}"
    if generation is not None:
        new["observedGeneration"] = str(generation)
    actions = (EmitEvent("Warning", INVALID_SPEC, message),) if changed else ()
    return Plan(actions=actions, status=new, requeue_after=None)
