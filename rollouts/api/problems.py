"""What a Rollout spec problem is and how it is worded: field path + message, as Kubernetes field errors.

Why this module exists: the controller (InvalidSpec condition), the kubectl plugin's lint and the validation
checks must all word problems the same way, and that way is Argo's: ``spec.strategy.canary.steps[0].setWeight:
Invalid value: 150: SetWeight needs to be between 0 and 100``. The message texts below are Argo's where Argo
has one, so users searching for them find the same answers; the rest follow the same style.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

MISSING_FIELD: Final = "Rollout has missing field '{}'"
INVALID_SET_WEIGHT: Final = "SetWeight needs to be between 0 and {}"
INVALID_DURATION: Final = "Duration needs to be greater than 0"
INVALID_MAX_SURGE_MAX_UNAVAILABLE: Final = "MaxSurge and MaxUnavailable both can not be zero"
INVALID_STEP: Final = "Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause"
INVALID_STRATEGY: Final = "Multiple Strategies can not be listed"
DUPLICATED_SERVICES_BLUE_GREEN: Final = (
    "This rollout uses the same service for the active and preview services, but two different services are required."
)
DUPLICATED_SERVICES_CANARY: Final = (
    "This rollout uses the same service for the stable and canary services, but two different services are required."
)
INVALID_TRAFFIC_ROUTING: Final = "Canary service and Stable service must to be set to use Traffic Routing"
INVALID_SET_CANARY_SCALE_TRAFFIC_POLICY: Final = "SetCanaryScale requires TrafficRouting to be set"
INVALID_SET_HEADER_ROUTE_TRAFFIC_POLICY: Final = (
    "SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix"
)
INVALID_SET_MIRROR_ROUTE_TRAFFIC_POLICY: Final = "SetMirrorRoute requires TrafficRouting, supports Istio and Plugins"
ROUTE_NOT_IN_MANAGED_ROUTES: Final = (
    "Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes"
)
INVALID_STRING_MATCH: Final = "StringMatch match value must have exactly one of the following: exact, regex, prefix"
INVALID_CANARY_SCALE_DOWN_DELAY: Final = "Canary scaleDownDelaySeconds can only be used with traffic routing"
INVALID_CANARY_DYNAMIC_STABLE_SCALE: Final = "Canary dynamicStableScale can only be used with traffic routing"
INVALID_DYNAMIC_STABLE_SCALE_WITH_DELAY: Final = "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds"
INVALID_MAX_TRAFFIC_WEIGHT_PROVIDER: Final = (
    "Canary maxTrafficWeight in traffic routing only supported in Nginx and Plugins"
)
INVALID_PING_PONG: Final = "Ping service and Pong service must to be set to use Ping-Pong feature"
DUPLICATED_PING_PONG: Final = (
    "This rollout uses the same service for the ping and pong services, but two different services are required."
)
MISSED_ALB_ROOT_SERVICE: Final = (
    "Root service field is required for the configuration with ALB and ping-pong feature enabled"
)
PING_PONG_WITH_ROUTER_ONLY: Final = "Ping-pong feature works with the ALB, Istio, and plugin-based traffic routers only"
INVALID_SET_HEADER_ROUTE_ALB_VALUE: Final = "SetHeaderRoute match value invalid. ALB supports 'exact' value only"
INVALID_STRING_MATCH_MISSED_VALUE: Final = (
    "StringMatch value missed, match value must have one of the following: exact, regex, prefix"
)
INVALID_EXPERIMENT_WEIGHT_WITHOUT_ROUTING: Final = (
    "Experiment template weight cannot be set unless TrafficRouting is enabled"
)
INVALID_EXPERIMENT_WEIGHT_PROVIDER: Final = (
    "Experiment template weight is only available for TrafficRouting with SMI, ALB, Istio and Plugins at this time"
)
NGINX_BOTH_INGRESSES: Final = "Either StableIngress or StableIngresses must be configured. Both are configured."
NGINX_NO_INGRESS: Final = "Either StableIngress or StableIngresses must be configured. Neither are configured."
ALB_BOTH_INGRESSES: Final = "Either Ingress or Ingresses must be configured. Both are configured."
ALB_NO_INGRESS: Final = "Either Ingress or Ingresses must be configured. Neither are configured."
ALB_STICKINESS_DURATION: Final = "TargetGroupStickinessConfig's duration must be between 1 and 604800 seconds (7 days)!"
SCALE_DOWN_LIMIT_LARGER_THAN_REVISION_LIMIT: Final = (
    "This rollout's revision history limit can not be smaller than the rollout's scale down limit"
)
INVALID_ANTI_AFFINITY_STRATEGY: Final = "AntiAffinity must have exactly one strategy listed"
INVALID_ANTI_AFFINITY_WEIGHT: Final = "AntiAffinity weight must be between 1-100"
INVALID_ANALYSIS_ARGS: Final = "Analyses arguments must refer to valid object metadata supported by downwardAPI"
INVALID_EXPERIMENT_SPEC_REF: Final = "Invalid template step SpecRef: must be canary or stable"
SELECT_ALL: Final = "empty selector is invalid for deployment"
SELECTOR_MISMATCH: Final = "`selector` does not match template `labels`"
TEMPLATE_WITH_WORKLOAD_REF: Final = "template must be empty for workload reference rollout"
NON_NEGATIVE: Final = "must be greater than or equal to 0"


@dataclass(frozen=True)
class SpecProblem:
    """One reason a Rollout is invalid: the field path (``spec.strategy.canary.steps[2].setWeight``) and why."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def invalid_spec_message(problems: list[SpecProblem], *, name: str | None = None) -> str:
    """The InvalidSpec condition message, worded as Argo words it: ``The Rollout "demo" is invalid: <field>:
    <message>``. Argo reports only the first problem; we list them all, in order, separated by "; ", so one
    edit can fix them all.
    """
    subject = f'The Rollout "{name}"' if name else "The Rollout"
    return f"{subject} is invalid: " + "; ".join(str(p) for p in problems)


def required(path: str, message: str) -> SpecProblem:
    """A missing field, worded as Kubernetes' ``field.Required``: ``Required value: <message>``."""
    return SpecProblem(path, f"Required value: {message}")


def invalid(path: str, value: object, message: str) -> SpecProblem:
    """A wrong value, worded as Kubernetes' ``field.Invalid``: ``Invalid value: 150: <message>``."""
    return SpecProblem(path, f"Invalid value: {go_value(value)}: {message}")


def go_value(value: object) -> str:
    """A value as Go prints it in a field error: strings quoted, numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "null"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def problems_from_validation_error(exc: ValidationError, raw: Mapping[str, Any]) -> list[SpecProblem]:
    """pydantic errors as SpecProblems; union branch tags ("int", "str") are dropped from the paths."""
    merged: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        path = _path_in(raw, error["loc"])
        message = str(error["msg"])
        if error["type"] == "missing":
            message = "Required value"
        merged.setdefault(path, [])
        if message not in merged[path]:
            merged[path].append(message)
    return [SpecProblem(path, "; ".join(messages)) for path, messages in merged.items()]


def _path_in(raw: Any, loc: tuple[int | str, ...]) -> str:
    """Follow ``loc`` through the raw data, keeping only the steps that exist there (or the last missing key)."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(node, Mapping) and isinstance(item, str):
            parts.append(("." if parts else "") + item)
            if item not in node:
                break
            node = node[item]
        elif isinstance(node, list) and isinstance(item, int):
            parts.append(f"[{item}]")
            node = node[item] if 0 <= item < len(node) else None
        else:
            break
    return "".join(parts)
