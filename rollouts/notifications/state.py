"""What was already sent where: the engine's ``notified.notifications.argoproj.io`` annotation.

The annotation maps a state key to the Unix time it was sent; Argo CD's notifications controller writes
exactly this, so an object keeps its history when it moves between controllers. Key format (the engine's
StateItemKey): ``[<oncePer>:]<trigger>:<conditionKey>:<service>:<recipient>``. A condition that turns
false clears its keys (so it can fire again), unless it is ``oncePer``-scoped; at most 100 keys are kept,
oldest dropped first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from rollouts.notifications.subscriptions import NOTIFIED_ANNOTATION, Destination

MAX_ENTRIES = 100


def state_key(trigger: str, condition_key: str, dest: Destination, *, once_per: str = "") -> str:
    key = f"{trigger}:{condition_key}:{dest.service}:{dest.recipient}"
    return f"{once_per}:{key}" if once_per else key


class NotifiedState(dict[str, int]):
    @classmethod
    def from_annotations(cls, annotations: Mapping[str, str] | None) -> NotifiedState:
        raw = (annotations or {}).get(NOTIFIED_ANNOTATION) or ""
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls({str(k): int(v) for k, v in data.items() if isinstance(v, (int, float))})

    def set_notified(self, key: str, notified: bool, *, now: int, once_per: str = "") -> bool:
        """Record (or clear) a key; True when that changed anything (the engine's SetAlreadyNotified)."""
        if (key in self) == notified:
            return False
        if notified:
            self[key] = now
            return True
        if once_per:
            return False
        del self[key]
        return True

    def truncated(self) -> NotifiedState:
        if len(self) <= MAX_ENTRIES:
            return NotifiedState(self)
        keep = sorted(self.items(), key=lambda kv: (kv[1], kv[0]))[len(self) - MAX_ENTRIES:]
        return NotifiedState(keep)

    def annotation_value(self) -> str | None:
        """The annotation's new value (None: remove it), compact JSON with sorted keys as Go writes it."""
        state = self.truncated()
        if not state:
            return None
        return json.dumps(dict(sorted(state.items())), separators=(",", ":"))
