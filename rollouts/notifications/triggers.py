"""Triggers: conditions over the object, and which templates each sends.

    trigger.on-deployed: |
      - when: app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'
        oncePer: app.status.sync.revision
        send: [app-deployed]

Conditions are expr-lang expressions (evaluated by the project's expr-lang interpreter through the
``Evaluator`` protocol). Each condition result carries the engine's key ``[<index>].<sha1 of when>``, which
is part of the state key recorded on the object, so editing a condition re-arms it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rollouts.notifications.config import Condition


class ConditionError(Exception):
    """A condition that does not compile or fails at run time (logged; the condition counts as false)."""


class Evaluator(Protocol):
    def evaluate(self, source: str, env: Mapping[str, Any]) -> Any:
        """The expression's value; raises ConditionError."""
        ...

    def describe(self, value: Any) -> str:
        """Go's %v of a value (an oncePer key)."""
        ...


def condition_hash(when: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha1(when.encode()).digest()).decode().rstrip("=")


EMPTY_CONDITION = condition_hash("")


@dataclass(frozen=True)
class ConditionResult:
    key: str
    templates: tuple[str, ...]
    triggered: bool
    once_per: str = ""
    empty: bool = False
    error: str = ""


def run_trigger(conditions: Sequence[Condition], env: Mapping[str, Any], evaluator: Evaluator | None
                ) -> list[ConditionResult]:
    """Evaluate each condition (the engine's triggers.Run); an empty ``when`` never triggers here."""
    results = []
    for i, c in enumerate(conditions):
        key = f"[{i}].{condition_hash(c.when)}"
        if not c.when:
            results.append(ConditionResult(key, c.send, False, empty=True))
            continue
        if evaluator is None:
            results.append(ConditionResult(key, c.send, False, error="no expression evaluator configured"))
            continue
        try:
            value = evaluator.evaluate(c.when, env)
        except ConditionError as exc:
            results.append(ConditionResult(key, c.send, False, error=f"failed to execute when condition: {exc}"))
            continue
        triggered = value is True
        once_per = ""
        error = ""
        if triggered and c.once_per:
            try:
                once_per = evaluator.describe(evaluator.evaluate(c.once_per, env))
            except ConditionError as exc:
                error = f"failed to execute oncePer condition: {exc}"
        results.append(ConditionResult(key, c.send, triggered, once_per, error=error))
    return results


def trigger_for_reason(reason: str) -> str:
    """Argo Rollouts' translateReasonToTrigger: RolloutStepCompleted -> on-rollout-step-completed."""
    import re

    text = re.sub(r"(.)([A-Z][a-z]+)", r"\1-\2", reason)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text)
    return "on-" + text.lower()
