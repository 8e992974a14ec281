"""The health vocabulary Argo CD users read, and small readers of live objects shared by the rule modules.

Why this module exists: every rule returns the same ``Health`` (status + message), and the application's
health is the worst of its resources' in Argo CD's order (Degraded is worse than Missing). The readers
(``status_of``, ``conditions_of``, ...) accept any shape a live object may have without raising: a rule never
fails on a missing or mistyped field, it reads it as Go's zero value, like gitops-engine's typed conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rollouts.api.application import HealthStatusCode

Obj = Mapping[str, Any]

# Argo CD's order, best to worst (gitops-engine health.go healthOrder).
HEALTH_ORDER: tuple[HealthStatusCode, ...] = (
    HealthStatusCode.HEALTHY,
    HealthStatusCode.SUSPENDED,
    HealthStatusCode.PROGRESSING,
    HealthStatusCode.MISSING,
    HealthStatusCode.DEGRADED,
    HealthStatusCode.UNKNOWN,
)


@dataclass(frozen=True, slots=True)
class Health:
    status: HealthStatusCode
    message: str = ""


HealthCheck = Callable[[Obj], "Health | None"]


def is_worse(current: HealthStatusCode, candidate: HealthStatusCode) -> bool:
    """Whether ``candidate`` is worse than ``current`` in Argo CD's order (Degraded is worse than Missing)."""
    return HEALTH_ORDER.index(candidate) > HEALTH_ORDER.index(current)


def worst(healths: Iterable[Health | None]) -> Health:
    """The worst health of ``healths`` (the first of equals), Healthy when nothing has a health."""
    result = Health(HealthStatusCode.HEALTHY)
    for health in healths:
        if health is not None and is_worse(result.status, health.status):
            result = health
    return result


def code_of(value: Any) -> HealthStatusCode | None:
    try:
        return HealthStatusCode(value)
    except ValueError:
        return None


# -- readers --------------------------------------------------------------------------------------------------


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Mapping[str, Any]]:
    """The mapping entries of a list (conditions, container statuses); anything else reads as empty."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def status_of(obj: Obj) -> Mapping[str, Any]:
    return mapping(obj.get("status"))


def spec_of(obj: Obj) -> Mapping[str, Any]:
    return mapping(obj.get("spec"))


def meta_of(obj: Obj) -> Mapping[str, Any]:
    return mapping(obj.get("metadata"))


def annotations_of(obj: Obj) -> Mapping[str, Any]:
    return mapping(meta_of(obj).get("annotations"))


def conditions_of(obj: Obj) -> list[Mapping[str, Any]]:
    return items(status_of(obj).get("conditions"))


def text(value: Any) -> str:
    """A string field as Go reads it: absent (or not a string) is ""."""
    return value if isinstance(value, str) else ""


def integer(value: Any) -> int:
    """An integer field as Go reads it: absent is 0 (whole floats count: JSON numbers may arrive as 2.0)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return 0


def optional_integer(value: Any) -> int | None:
    """A pointer field (``*int32``): None when absent."""
    return None if value is None else integer(value)


def group_of(obj: Obj) -> str:
    return str(obj.get("apiVersion") or "").rpartition("/")[0]


def version_of(obj: Obj) -> str:
    return str(obj.get("apiVersion") or "").rpartition("/")[2]


def gvk_text(obj: Obj) -> str:
    """Go's ``schema.GroupVersionKind.String()``: ``apps/v1beta2, Kind=Deployment``, ``/v2, Kind=Pod``."""
    return f"{group_of(obj)}/{version_of(obj)}, Kind={obj.get('kind') or ''}"
