"""Which notifications an object needs now: pure decisions over the config, the object and its state.

Two models, as the anchors have them:

* **Rollouts (Argo Rollouts)**: event-driven. Each Kubernetes event the controller records on a Rollout
  names a trigger (``RolloutAborted`` -> ``on-rollout-aborted``); every subscribed destination gets each
  condition's templates when the condition is empty or true. The event's name scopes the state key
  (``oncePer``), so one event is delivered once per destination, and a restart re-delivers only what is
  not recorded yet.
* **Applications (Argo CD)**: level-driven. Every trigger an Application is subscribed to is evaluated on
  each change; a true condition sends once until it turns false again (or once per ``oncePer`` value).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rollouts.notifications.config import NotificationConfig
from rollouts.notifications.state import NotifiedState, state_key
from rollouts.notifications.subscriptions import (
    Destination,
    Destinations,
    annotation_destinations,
    global_destinations,
    merge,
)
from rollouts.notifications.triggers import Evaluator, run_trigger, trigger_for_reason


@dataclass(frozen=True)
class Send:
    trigger: str
    templates: tuple[str, ...]
    dest: Destination
    key: str


def destinations(config: NotificationConfig, obj: Mapping[str, Any]) -> Destinations:
    meta = obj.get("metadata") or {}
    return merge(
        global_destinations(config.subscriptions, config.default_triggers, meta.get("labels") or {}),
        annotation_destinations(meta.get("annotations") or {}, config.default_triggers,
                                config.service_default_triggers),
    )


def rollout_event_sends(config: NotificationConfig, rollout: Mapping[str, Any], *, reason: str, event: str,
                        env: Mapping[str, Any], evaluator: Evaluator | None, state: NotifiedState
                        ) -> tuple[list[Send], list[str]]:
    """The sends an event on a Rollout calls for that ``state`` has not recorded; and condition errors."""
    trigger = trigger_for_reason(reason)
    conditions = config.triggers.get(trigger)
    dests = destinations(config, rollout).get(trigger) or []
    if not conditions or not dests:
        return [], []
    results = run_trigger(conditions, env, evaluator)
    errors = [f"trigger {trigger}: {r.error}" for r in results if r.error]
    sends = []
    for dest in dests:
        for r in results:
            if r.empty or r.triggered:
                key = state_key(trigger, r.key, dest, once_per=event)
                if key not in state:
                    sends.append(Send(trigger, r.templates, dest, key))
    return sends, errors


def application_sends(config: NotificationConfig, app: Mapping[str, Any], *, env: Mapping[str, Any],
                      evaluator: Evaluator | None, state: NotifiedState, now: int
                      ) -> tuple[list[Send], NotifiedState, list[str]]:
    """The engine's processResourceWithAPI: sends due now, the state with cleared keys, condition errors."""
    new_state = NotifiedState(state)
    sends: list[Send] = []
    errors: list[str] = []
    for trigger, dests in destinations(config, app).items():
        conditions = config.triggers.get(trigger)
        if conditions is None:
            errors.append(f"trigger '{trigger}' is not configured")
            continue
        for r in run_trigger(conditions, env, evaluator):
            if r.error:
                errors.append(f"trigger {trigger}: {r.error}")
            for dest in dests:
                key = state_key(trigger, r.key, dest, once_per=r.once_per)
                if not r.triggered:
                    new_state.set_notified(key, False, now=now, once_per=r.once_per)
                elif key not in new_state:
                    sends.append(Send(trigger, r.templates, dest, key))
    return sends, new_state, errors
