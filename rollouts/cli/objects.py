"""Reading Kubernetes objects as the API server returns them (plain dicts), defensively.

The plugin must draw whatever is in the cluster, including objects written by an older or newer
controller, so every reader here tolerates missing fields and wrong types (a counter written as a
string, a list where a map was expected) instead of raising. Also: kubectl's short age format and
the few labels and annotations that tie ReplicaSets, Pods and AnalysisRuns to a Rollout revision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION

Obj = Mapping[str, Any]



def dig(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., or None as soon as a step is missing or not a map."""
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def status_of(rollout: Obj) -> Mapping[str, Any]:
    status = rollout.get("status")
    return status if isinstance(status, Mapping) else {}


def as_int(value: Any, default: int = 0) -> int:
    """An int from an int or a numeric string (Argo writes some counters as strings); else `default`."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def parse_time(value: Any) -> datetime | None:
    """Parses a Kubernetes RFC 3339 timestamp ("2024-01-02T03:04:05Z"); None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """Kubernetes' `duration.HumanDuration` (what kubectl and Argo's plugin print as AGE): 45s, 2m30s,
    17m, 5h10m, 20h, 3d4h, 30d, 2y45d, 9y. A clock skew of up to a second reads 0s; more is "<invalid>"."""
    whole = int(seconds)  # Go truncates towards zero
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest_m = minutes % 60
        return f"{hours}h{rest_m}m" if rest_m else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest_h = hours % 24
        return f"{hours // 24}d{rest_h}h" if rest_h else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest_d = (hours // 24) % 365
        return f"{hours // 24 // 365}y{rest_d}d" if rest_d else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def age(created: datetime | None, now: datetime) -> str:
    """The AGE column for an object created at `created`."""
    if created is None:
        return "<unknown>"
    return human_duration((now - created).total_seconds())


def created_of(obj: Obj) -> datetime | None:
    return parse_time(dig(obj, "metadata", "creationTimestamp"))


def age_of(obj: Obj, now: datetime) -> str:
    return age(created_of(obj), now)


def revision_of(obj: Obj) -> int:
    return as_int(dig(obj, "metadata", "annotations", REVISION_ANNOTATION))


def pod_template_hash_of(obj: Obj) -> str:
    value = dig(obj, "metadata", "labels", POD_TEMPLATE_HASH_LABEL)
    return value if isinstance(value, str) else ""


def is_owned_by(obj: Obj, owner_uid: str) -> bool:
    refs = as_list(dig(obj, "metadata", "ownerReferences"))
    return any(isinstance(r, Mapping) and r.get("uid") == owner_uid for r in refs)



def owned_children(rollout: Obj, objects: Sequence[Obj]) -> list[Obj]:
    """The objects whose controller is this Rollout (by uid; by nothing when the rollout has none)."""
    uid = dig(rollout, "metadata", "uid")
    if not uid:
        return list(objects)
    return [o for o in objects if is_owned_by(o, str(uid))]


def strategy_of(rollout: Obj) -> str:
    """"Canary", "BlueGreen" or "Unknown"."""
    strategy = dig(rollout, "spec", "strategy")
    if not isinstance(strategy, Mapping):
        return "Unknown"
    if "blueGreen" in strategy:
        return "BlueGreen"
    if "canary" in strategy:
        return "Canary"
    return "Unknown"
