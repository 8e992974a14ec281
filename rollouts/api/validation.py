"""Static validation of a Rollout: every problem Argo reports as InvalidSpec, with the field path that causes it.

Why this module exists: an invalid Rollout must not crash or hot-loop the controller; it must get condition
InvalidSpec and phase Degraded with a message naming the field. This module is the pure half of that: it
turns a raw dict into either a ``Rollout`` or a list of ``SpecProblem`` (pydantic errors included, so bad
user input never raises), then checks the meaning of the spec. Messages follow Argo's wording where Argo has
one (``SetWeight needs to be between 0 and 100``), so users searching for them find the same answers.

Checks needing the cluster (a referenced Service, Ingress or Deployment that does not exist) belong to the
controller; this module only looks at the object.

Every rule of Argo's ``pkg/apis/rollouts/validation/validation.go`` (v1.10.2) is here with Argo's message and
problem kind; ``tests/unit/api/test_validation_argo.py`` holds Argo's own cases as data. Where we deliberately
differ from Argo: paths name the real field (Argo reports the canary rules under ``spec.strategy.`` and some
under their parent), ``setHeaderRoute`` is accepted with NGINX because our NGINX router implements header
routes, and a few nonsensical values Argo only meets at run time (an unknown step key, a negative
setCanaryScale, an empty trafficRouting) are refused here with a message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pydantic import ValidationError

from rollouts.api.common import is_percent, parse_duration, resolve_int_or_percent
from rollouts.api.problems import (
    ALB_BOTH_INGRESSES,
    ALB_NO_INGRESS,
    ALB_STICKINESS_DURATION,
    DUPLICATED_PING_PONG,
    DUPLICATED_SERVICES_BLUE_GREEN,
    DUPLICATED_SERVICES_CANARY,
    INVALID_ANALYSIS_ARGS,
    INVALID_ANTI_AFFINITY_STRATEGY,
    INVALID_ANTI_AFFINITY_WEIGHT,
    INVALID_CANARY_DYNAMIC_STABLE_SCALE,
    INVALID_CANARY_SCALE_DOWN_DELAY,
    INVALID_DURATION,
    INVALID_DYNAMIC_STABLE_SCALE_WITH_DELAY,
    INVALID_EXPERIMENT_SPEC_REF,
    INVALID_EXPERIMENT_WEIGHT_PROVIDER,
    INVALID_EXPERIMENT_WEIGHT_WITHOUT_ROUTING,
    INVALID_MAX_SURGE_MAX_UNAVAILABLE,
    INVALID_MAX_TRAFFIC_WEIGHT_PROVIDER,
    INVALID_PING_PONG,
    INVALID_SET_CANARY_SCALE_TRAFFIC_POLICY,
    INVALID_SET_HEADER_ROUTE_ALB_VALUE,
    INVALID_SET_HEADER_ROUTE_TRAFFIC_POLICY,
    INVALID_SET_MIRROR_ROUTE_TRAFFIC_POLICY,
    INVALID_SET_WEIGHT,
    INVALID_STEP,
    INVALID_STRATEGY,
    INVALID_STRING_MATCH,
    INVALID_STRING_MATCH_MISSED_VALUE,
    INVALID_TRAFFIC_ROUTING,
    MISSED_ALB_ROOT_SERVICE,
    MISSING_FIELD,
    NGINX_BOTH_INGRESSES,
    NGINX_NO_INGRESS,
    NON_NEGATIVE,
    PING_PONG_WITH_ROUTER_ONLY,
    ROUTE_NOT_IN_MANAGED_ROUTES,
    SCALE_DOWN_LIMIT_LARGER_THAN_REVISION_LIMIT,
    SELECT_ALL,
    SELECTOR_MISMATCH,
    TEMPLATE_WITH_WORKLOAD_REF,
    SpecProblem,
    go_value,
    invalid,
    invalid_spec_message,
    problems_from_validation_error,
    required,
)
from rollouts.api.rollout import (
    AlbTrafficRouting,
    AnalysisRunArgument,
    BlueGreenStrategy,
    CanaryStep,
    CanaryStrategy,
    IstioTrafficRouting,
    NginxTrafficRouting,
    ReplicaSetSpecRef,
    Rollout,
    RolloutAnalysis,
    RolloutExperimentStep,
    RolloutSpec,
    SetCanaryScale,
    SetMirrorRoute,
    StepKind,
    StringMatch,
)

__all__ = [
    "STEP_KINDS",
    "SpecProblem",
    "check_rollout",
    "invalid_spec_message",
    "parse_rollout",
    "problems_from_validation_error",
    "validate_rollout",
]

_DOWNWARD_API_FIELDS: Final = ("metadata.name", "metadata.namespace", "metadata.uid")
_DOWNWARD_API_MAPS: Final = ("metadata.labels", "metadata.annotations")

_CANARY: Final = "spec.strategy.canary"
_BLUE_GREEN: Final = "spec.strategy.blueGreen"


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------


def parse_rollout(raw: Mapping[str, Any]) -> tuple[Rollout | None, list[SpecProblem]]:
    """Parse a raw object into a ``Rollout``; on bad shapes return ``(None, problems)``, never raise."""
    if not isinstance(raw, Mapping):
        return None, [SpecProblem("", f"a Rollout must be an object, got {type(raw).__name__}")]
    try:
        return Rollout.model_validate(dict(raw)), []
    except ValidationError as exc:
        return None, problems_from_validation_error(exc, raw)


def check_rollout(raw: Mapping[str, Any]) -> tuple[Rollout | None, list[SpecProblem]]:
    """Parse then validate: the model (None if it could not be parsed) and every problem found."""
    rollout, problems = parse_rollout(raw)
    if rollout is None:
        return None, problems
    return rollout, validate_rollout(rollout)


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def validate_rollout(rollout: Rollout) -> list[SpecProblem]:
    """Every static problem of the spec, in field order. An empty list means the spec is valid."""
    spec = rollout.spec
    problems = list(_check_spec(spec))
    strategy = spec.strategy
    if strategy.canary is None and strategy.blue_green is None:
        problems.append(
            required("spec.strategy", MISSING_FIELD.format(".spec.strategy.canary or .spec.strategy.blueGreen"))
        )
    elif strategy.canary is not None and strategy.blue_green is not None:
        problems.append(invalid("spec.strategy", "blueGreen: true canary: true", INVALID_STRATEGY))
    elif strategy.blue_green is not None:
        problems.extend(_check_blue_green(strategy.blue_green, spec))
    elif strategy.canary is not None:
        problems.extend(_check_canary(strategy.canary, spec))
    return problems


def _check_spec(spec: RolloutSpec) -> Iterator[SpecProblem]:
    for name, value in (
        ("replicas", spec.replicas),
        ("minReadySeconds", spec.min_ready_seconds),
        ("revisionHistoryLimit", spec.revision_history_limit),
        ("progressDeadlineSeconds", spec.progress_deadline_seconds),
    ):
        if value < 0:
            yield invalid(f"spec.{name}", value, NON_NEGATIVE)
    if spec.progress_deadline_seconds <= spec.min_ready_seconds:
        yield invalid(
            "spec.progressDeadlineSeconds", spec.progress_deadline_seconds, "must be greater than minReadySeconds"
        )
    yield from _check_selector_and_template(spec)


def _check_selector_and_template(spec: RolloutSpec) -> Iterator[SpecProblem]:
    has_template = bool(spec.template)
    ref = spec.workload_ref
    if ref is not None:
        if has_template:
            yield SpecProblem("spec.template", f"Internal error: {TEMPLATE_WITH_WORKLOAD_REF}")
        for name, value in (("kind", ref.kind), ("name", ref.name)):
            if not value:
                yield required(f"spec.workloadRef.{name}", MISSING_FIELD.format(f".spec.workloadRef.{name}"))
        # The selector and template come from the referenced workload; the controller checks them there.
        return
    if spec.selector is None:
        yield required("spec.selector", MISSING_FIELD.format(".spec.selector"))
    elif spec.selector.is_empty():
        yield invalid("spec.selector", {}, SELECT_ALL)
    if not has_template:
        yield required("spec.template", MISSING_FIELD.format(".spec.template (or .spec.workloadRef)"))
        return
    template = spec.template or {}
    pod_spec = template.get("spec")
    containers = pod_spec.get("containers") if isinstance(pod_spec, Mapping) else None
    if not isinstance(containers, list) or not containers:
        yield required("spec.template.spec.containers", "a pod template needs a container")
    else:
        for index, container in enumerate(containers):
            if not isinstance(container, Mapping) or not container.get("name") or not container.get("image"):
                yield required(f"spec.template.spec.containers[{index}]", "every container needs name and image")
    if spec.selector is not None and not spec.selector.is_empty():
        labels = spec.template_labels()
        if not spec.selector.matches(labels):
            yield invalid("spec.template.metadata.labels", labels, SELECTOR_MISMATCH)


def _check_blue_green(blue_green: BlueGreenStrategy, spec: RolloutSpec) -> Iterator[SpecProblem]:
    if not blue_green.active_service:
        yield required(f"{_BLUE_GREEN}.activeService", MISSING_FIELD.format(".spec.strategy.blueGreen.activeService"))
    elif blue_green.active_service == blue_green.preview_service:
        yield invalid(f"{_BLUE_GREEN}.activeService", blue_green.active_service, DUPLICATED_SERVICES_BLUE_GREEN)
    for name, value in (
        ("previewReplicaCount", blue_green.preview_replica_count),
        ("autoPromotionSeconds", blue_green.auto_promotion_seconds),
        ("scaleDownDelaySeconds", blue_green.scale_down_delay_seconds),
        ("abortScaleDownDelaySeconds", blue_green.abort_scale_down_delay_seconds),
        ("scaleDownDelayRevisionLimit", blue_green.scale_down_delay_revision_limit),
    ):
        if value is not None and value < 0:
            yield invalid(f"{_BLUE_GREEN}.{name}", value, NON_NEGATIVE)
    limit = blue_green.scale_down_delay_revision_limit
    if limit is not None and spec.revision_history_limit < limit:
        yield invalid(f"{_BLUE_GREEN}.scaleDownDelayRevisionLimit", limit, SCALE_DOWN_LIMIT_LARGER_THAN_REVISION_LIMIT)
    if blue_green.max_unavailable is not None:
        yield from _check_int_or_percent(f"{_BLUE_GREEN}.maxUnavailable", blue_green.max_unavailable)
    for name, analysis in (
        ("prePromotionAnalysis", blue_green.pre_promotion_analysis),
        ("postPromotionAnalysis", blue_green.post_promotion_analysis),
    ):
        if analysis is not None:
            yield from _check_analysis(f"{_BLUE_GREEN}.{name}", analysis)
    yield from _check_anti_affinity(f"{_BLUE_GREEN}.antiAffinity", blue_green.anti_affinity)


def _check_canary(canary: CanaryStrategy, spec: RolloutSpec) -> Iterator[SpecProblem]:
    yield from _check_surge_and_unavailable(canary)
    yield from _check_canary_services(canary)
    yield from _check_traffic_routing(canary)
    for name, value in (
        ("scaleDownDelaySeconds", canary.scale_down_delay_seconds),
        ("abortScaleDownDelaySeconds", canary.abort_scale_down_delay_seconds),
        ("scaleDownDelayRevisionLimit", canary.scale_down_delay_revision_limit),
        ("minPodsPerReplicaSet", canary.min_pods_per_replica_set),
    ):
        if value is not None and value < 0:
            yield invalid(f"{_CANARY}.{name}", value, NON_NEGATIVE)
    steps = canary.steps or []
    for index, step in enumerate(steps):
        yield from _check_step(f"{_CANARY}.steps[{index}]", step, canary)
    if canary.analysis is not None:
        yield from _check_analysis(f"{_CANARY}.analysis", canary.analysis)
        start = canary.analysis.starting_step
        if start is not None and not 0 <= start <= len(steps):
            yield invalid(
                f"{_CANARY}.analysis.startingStep", start, f"must be between 0 and the number of steps ({len(steps)})"
            )
    yield from _check_anti_affinity(f"{_CANARY}.antiAffinity", canary.anti_affinity)


def _check_surge_and_unavailable(canary: CanaryStrategy) -> Iterator[SpecProblem]:
    surge_problems = list(_check_int_or_percent(f"{_CANARY}.maxSurge", canary.max_surge))
    unavailable_problems = list(_check_int_or_percent(f"{_CANARY}.maxUnavailable", canary.max_unavailable))
    yield from surge_problems
    yield from unavailable_problems
    if surge_problems or unavailable_problems:
        return
    # Argo compares the raw numbers: "0%" and 0 are both zero, whatever the replica count.
    if _raw_amount(canary.max_surge) == 0 and _raw_amount(canary.max_unavailable) == 0:
        yield invalid(f"{_CANARY}.maxSurge", canary.max_surge, INVALID_MAX_SURGE_MAX_UNAVAILABLE)


def _raw_amount(value: int | str) -> int:
    return resolve_int_or_percent(value, 100, round_up=True)


def _check_int_or_percent(path: str, value: int | str) -> Iterator[SpecProblem]:
    if isinstance(value, str) and not is_percent(value):
        yield invalid(path, value, "must be an integer or a percentage like '25%'")
    elif _raw_amount(value) < 0:
        yield invalid(path, value, NON_NEGATIVE)


def _check_canary_services(canary: CanaryStrategy) -> Iterator[SpecProblem]:
    """Argo's order: the same Service twice, pingPong, then the Services traffic routing needs."""
    if canary.canary_service and canary.canary_service == canary.stable_service:
        yield invalid(f"{_CANARY}.stableService", canary.stable_service, DUPLICATED_SERVICES_CANARY)
    ping_pong = canary.ping_pong
    if ping_pong is not None:
        routing = canary.traffic_routing
        if routing is not None and routing.alb is None and routing.istio is None and not routing.plugins:
            yield invalid(f"{_CANARY}.trafficRouting.alb", None, PING_PONG_WITH_ROUTER_ONLY)
        for side, service in (("pingService", ping_pong.ping_service), ("pongService", ping_pong.pong_service)):
            if not service:
                yield invalid(f"{_CANARY}.pingPong.{side}", "", INVALID_PING_PONG)
        if ping_pong.ping_service == ping_pong.pong_service:
            yield invalid(f"{_CANARY}.pingPong.pingService", ping_pong.ping_service or "", DUPLICATED_PING_PONG)
        if routing is not None and routing.alb is not None and not routing.alb.root_service:
            yield invalid(f"{_CANARY}.trafficRouting.alb.rootService", "", MISSED_ALB_ROOT_SERVICE)
    if _services_required(canary):
        for name, value in (("stableService", canary.stable_service), ("canaryService", canary.canary_service)):
            if not value:
                yield invalid(f"{_CANARY}.{name}", value or "", INVALID_TRAFFIC_ROUTING)


def _services_required(canary: CanaryStrategy) -> bool:
    """Argo's requireCanaryStableServices: every router needs both Services, except ALB and Istio with pingPong,
    Istio subset-level splitting (a DestinationRule: the VirtualService names subsets, not Services) and plugins
    (which read what they need from their own configuration)."""
    routing = canary.traffic_routing
    if routing is None:
        return False
    no_ping_pong = canary.ping_pong is None
    return (
        (routing.alb is not None and no_ping_pong)
        or (routing.istio is not None and routing.istio.destination_rule is None and no_ping_pong)
        or any(getattr(routing, name) is not None
               for name in ("smi", "apisix", "ambassador", "nginx", "app_mesh", "traefik"))
    )


def _check_istio(path: str, istio: IstioTrafficRouting) -> Iterator[SpecProblem]:
    """Argo's ValidateRolloutVirtualServicesConfig, and the fields its CRD requires."""
    if (istio.virtual_service is None) == (istio.virtual_services is None):
        yield SpecProblem(path, "either VirtualService or VirtualServices must be configured")
    services = [istio.virtual_service] if istio.virtual_service else list(istio.virtual_services or [])
    for index, service in enumerate(services):
        where = f"{path}.virtualService" if istio.virtual_service else f"{path}.virtualServices[{index}]"
        if not service.name:
            yield required(f"{where}.name", MISSING_FIELD.format(f"{where}.name"))
    rule = istio.destination_rule
    if rule is not None:
        for field_name, value in (("name", rule.name), ("canarySubsetName", rule.canary_subset_name),
                                  ("stableSubsetName", rule.stable_subset_name)):
            if not value:
                yield required(f"{path}.destinationRule.{field_name}",
                               MISSING_FIELD.format(f"{path}.destinationRule.{field_name}"))


def _check_traffic_routing(canary: CanaryStrategy) -> Iterator[SpecProblem]:
    routing = canary.traffic_routing
    path = f"{_CANARY}.trafficRouting"
    if routing is None:
        if canary.scale_down_delay_seconds is not None:
            yield invalid(
                f"{_CANARY}.scaleDownDelaySeconds", canary.scale_down_delay_seconds, INVALID_CANARY_SCALE_DOWN_DELAY
            )
        if canary.dynamic_stable_scale:
            yield invalid(f"{_CANARY}.dynamicStableScale", True, INVALID_CANARY_DYNAMIC_STABLE_SCALE)
        return
    if canary.scale_down_delay_seconds is not None and canary.dynamic_stable_scale:
        yield invalid(f"{_CANARY}.dynamicStableScale", True, INVALID_DYNAMIC_STABLE_SCALE_WITH_DELAY)
    if not routing.providers():
        yield required(path, "trafficRouting needs a provider (nginx, plugins, istio, smi, alb, ...)")
    if "max_traffic_weight" in routing.model_fields_set:
        if routing.nginx is None and not routing.plugins:
            yield invalid(f"{path}.maxTrafficWeight", routing.max_traffic_weight, INVALID_MAX_TRAFFIC_WEIGHT_PROVIDER)
        if routing.max_traffic_weight <= 0:
            yield invalid(f"{path}.maxTrafficWeight", routing.max_traffic_weight, "must be greater than 0")
    if routing.nginx is not None:
        yield from _check_nginx(f"{path}.nginx", routing.nginx)
    if routing.alb is not None:
        yield from _check_alb(f"{path}.alb", routing.alb)
    if routing.istio is not None:
        yield from _check_istio(f"{path}.istio", routing.istio)
    yield from _check_plugins(f"{path}.plugins", canary)


def _check_nginx(path: str, nginx: NginxTrafficRouting) -> Iterator[SpecProblem]:
    if nginx.stable_ingress and nginx.stable_ingresses:
        yield SpecProblem(path, f"Internal error: {NGINX_BOTH_INGRESSES}")
    elif not nginx.ingresses():
        yield SpecProblem(path, f"Internal error: {NGINX_NO_INGRESS}")


def _check_alb(path: str, alb: AlbTrafficRouting) -> Iterator[SpecProblem]:
    if alb.ingress and alb.ingresses is not None:
        yield SpecProblem(path, f"Internal error: {ALB_BOTH_INGRESSES}")
    elif not alb.names():
        yield SpecProblem(path, f"Internal error: {ALB_NO_INGRESS}")
    sticky = alb.stickiness_config
    if sticky is not None and sticky.enabled and not 1 <= sticky.duration_seconds <= 604800:
        yield invalid(f"{path}.stickinessConfig.durationSeconds", sticky.duration_seconds, ALB_STICKINESS_DURATION)


def _check_plugins(path: str, canary: CanaryStrategy) -> Iterator[SpecProblem]:
    routing = canary.traffic_routing
    for name, config in (routing.plugins or {} if routing is not None else {}).items():
        if not isinstance(config, Mapping):
            yield invalid(f"{path}.{name}", config, "plugin configuration must be an object")
    gateway = _gateway_api_config(canary)
    route_keys = ("httpRoute", "httpRoutes", "grpcRoute", "grpcRoutes", "tcpRoute", "tcpRoutes")
    if gateway is not None and not any(gateway.get(key) for key in route_keys):
        yield required(
            f"{path}.argoproj-labs/gatewayAPI.httpRoute",
            MISSING_FIELD.format("...gatewayAPI.httpRoute or httpRoutes"),
        )


def _gateway_api_config(canary: CanaryStrategy) -> Mapping[str, Any] | None:
    routing = canary.traffic_routing
    config = (routing.plugins or {}).get("argoproj-labs/gatewayAPI") if routing else None
    return config if isinstance(config, Mapping) else None


_EXCLUSIVE_STEP_KINDS: Final = (StepKind.EXPERIMENT, StepKind.PAUSE, StepKind.SET_WEIGHT, StepKind.ANALYSIS)
"""Argo's hasMultipleStepsType: these four exclude each other; any other kind may join one of them or each other
(setCanaryScale + setHeaderRoute in one step is valid: Argo's APISIX e2e CanarySetHeaderStep uses it)."""

_HEADER_ROUTE_PROVIDERS: Final = frozenset({"istio", "alb", "apisix", "nginx"})
"""Routers that can realise setHeaderRoute: Argo's Istio, ALB, APISIX (and any plugin), plus our NGINX router."""

_EXPERIMENT_WEIGHT_PROVIDERS: Final = frozenset({"smi", "alb", "istio"})
"""Routers that can send traffic to an experiment's templates by weight (Argo's list), plus any plugin."""


def _check_step(path: str, step: CanaryStep, canary: CanaryStrategy) -> Iterator[SpecProblem]:
    unknown = step.unknown_keys()
    for key in unknown:
        yield SpecProblem(f"{path}.{key}", f"unknown step kind {key!r}; {INVALID_STEP}")
    kinds = step.kinds()
    if not kinds and not unknown:
        yield invalid(path, {}, INVALID_STEP)
    if sum(kind in kinds for kind in _EXCLUSIVE_STEP_KINDS) > 1:
        # Argo's value names the four kinds and whether each is set
        flags = " ".join(f"step.{kind.value[0].upper()}{kind.value[1:]}: {go_value(kind in kinds)}"
                         for kind in _EXCLUSIVE_STEP_KINDS)
        yield invalid(path, flags, INVALID_STEP)
    if step.set_weight is not None:
        max_weight = canary.effective_max_traffic_weight()
        if not 0 <= step.set_weight <= max_weight:
            yield invalid(f"{path}.setWeight", step.set_weight, INVALID_SET_WEIGHT.format(max_weight))
    if step.pause is not None and step.pause.duration is not None:
        yield from _check_duration(f"{path}.pause.duration", step.pause.duration)
    if step.set_canary_scale is not None:
        yield from _check_canary_scale(f"{path}.setCanaryScale", step.set_canary_scale, canary)
    if step.set_header_route is not None:
        yield from _check_header_route(f"{path}.setHeaderRoute", step, canary)
    if step.set_mirror_route is not None:
        yield from _check_mirror_route(f"{path}.setMirrorRoute", step.set_mirror_route, canary)
    if step.analysis is not None:
        yield from _check_analysis(f"{path}.analysis", step.analysis)
    if step.experiment is not None:
        yield from _check_experiment(f"{path}.experiment", step.experiment, canary)


def _check_experiment(path: str, experiment: RolloutExperimentStep, canary: CanaryStrategy) -> Iterator[SpecProblem]:
    """Argo's rules for an experiment step (validation.go), plus the specRef Argo only finds when it builds the
    Experiment (GetExperimentFromTemplate): reported here, before anything is created."""
    routing = canary.traffic_routing
    for index, template in enumerate(experiment.templates):
        template_path = f"{path}.templates[{index}]"
        if template.spec_ref not in tuple(ReplicaSetSpecRef):
            yield invalid(f"{template_path}.specRef", template.spec_ref, INVALID_EXPERIMENT_SPEC_REF)
        if template.weight is None:
            continue
        if routing is None:
            yield invalid(f"{template_path}.weight", template.weight, INVALID_EXPERIMENT_WEIGHT_WITHOUT_ROUTING)
        elif not routing.plugins and not _EXPERIMENT_WEIGHT_PROVIDERS.intersection(routing.providers()):
            yield invalid(f"{template_path}.weight", template.weight, INVALID_EXPERIMENT_WEIGHT_PROVIDER)
    if experiment.duration is not None:
        yield from _check_duration(f"{path}.duration", experiment.duration)
    for index, analysis in enumerate(experiment.analyses or ()):
        yield from _check_args(f"{path}.analyses[{index}]", analysis.args)


def _check_canary_scale(path: str, scale: SetCanaryScale, canary: CanaryStrategy) -> Iterator[SpecProblem]:
    if canary.traffic_routing is None:
        yield required(path, INVALID_SET_CANARY_SCALE_TRAFFIC_POLICY)
    if scale.replicas is not None and scale.replicas < 0:
        yield invalid(f"{path}.replicas", scale.replicas, NON_NEGATIVE)
    if scale.weight is not None and not 0 <= scale.weight <= 100:
        yield invalid(f"{path}.weight", scale.weight, "must be between 0 and 100")
    # An empty setCanaryScale is valid, as in Argo: the canary then follows the traffic weight.


def _check_mirror_route(path: str, route: SetMirrorRoute, canary: CanaryStrategy) -> Iterator[SpecProblem]:
    """Argo's rules: Istio or a plugin routes it, each match part sets one of exact/regex/prefix, and its name is
    one of ``managedRoutes``."""
    routing = canary.traffic_routing
    if routing is None or (routing.istio is None and not routing.plugins):
        yield invalid(path, route.model_dump(by_alias=True, exclude_none=True), INVALID_SET_MIRROR_ROUTE_TRAFFIC_POLICY)
    for index, match in enumerate(route.match or []):
        for value in (match.method, match.path):
            if value is not None:
                yield from _check_string_match(f"{path}.match[{index}]", value)
    if routing is not None:
        yield from _check_route_is_managed(path, route.name, canary)


def _check_header_route(path: str, step: CanaryStep, canary: CanaryStrategy) -> Iterator[SpecProblem]:
    route = step.set_header_route
    if route is None:
        return
    routing = canary.traffic_routing
    supported = routing is not None and (
        bool(routing.plugins) or bool(_HEADER_ROUTE_PROVIDERS.intersection(routing.providers())))
    if not supported:
        yield invalid(path, route.model_dump(by_alias=True, exclude_none=True), INVALID_SET_HEADER_ROUTE_TRAFFIC_POLICY)
    if routing is None:
        return
    yield from _check_route_is_managed(path, route.name, canary)
    if not supported:
        return  # as Argo: the matches are checked against the router that will realise them
    alb = routing.alb is not None
    for index, match in enumerate(route.match or []):
        value = match.header_value
        if alb:
            if value is None:
                yield invalid(f"{path}.match[{index}]", None, INVALID_STRING_MATCH_MISSED_VALUE)
            elif not value.exact or value.regex or value.prefix:
                yield invalid(f"{path}.match[{index}]", value.model_dump(exclude_none=True),
                              INVALID_SET_HEADER_ROUTE_ALB_VALUE)
            continue
        yield from _check_string_match(f"{path}.match[{index}].headerValue", value)


def _check_string_match(path: str, value: StringMatch | None) -> Iterator[SpecProblem]:
    """Argo's hasMultipleMatchValues: exactly one of exact, regex, prefix; none and several are worded apart."""
    given = [] if value is None else [v for v in (value.exact, value.regex, value.prefix) if v]
    shown = value.model_dump(exclude_none=True) if value is not None else None
    if not given:
        yield invalid(path, shown, INVALID_STRING_MATCH_MISSED_VALUE)
    elif len(given) > 1:
        yield invalid(path, shown, INVALID_STRING_MATCH)


def _check_route_is_managed(path: str, name: object, canary: CanaryStrategy) -> Iterator[SpecProblem]:
    routing = canary.traffic_routing
    if routing is None:
        return
    if routing.managed_routes is None:
        yield required(
            f"{_CANARY}.trafficRouting.managedRoutes",
            MISSING_FIELD.format("spec.strategy.canary.trafficRouting.managedRoutes"),
        )
    elif name not in {r.name for r in routing.managed_routes}:
        yield invalid(path, name, ROUTE_NOT_IN_MANAGED_ROUTES)


def _check_duration(path: str, value: int | str) -> Iterator[SpecProblem]:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        message = str(exc)
        yield invalid(path, value, INVALID_DURATION if "negative" in message else message)
        return
    if seconds < 0:
        yield invalid(path, value, INVALID_DURATION)


def _check_analysis(path: str, analysis: RolloutAnalysis) -> Iterator[SpecProblem]:
    if not analysis.templates:
        yield required(f"{path}.templates", "at least one template is needed")
    for index, template in enumerate(analysis.templates or []):
        if not template.template_name:
            yield required(f"{path}.templates[{index}].templateName", "a template name is needed")
    yield from _check_args(path, analysis.args)


def _check_args(path: str, args: list[AnalysisRunArgument] | None) -> Iterator[SpecProblem]:
    for index, arg in enumerate(args or []):
        arg_path = f"{path}.args[{index}]"
        source = arg.value_from
        if source is None:
            continue
        if arg.value is not None:
            yield SpecProblem(arg_path, "only one of value and valueFrom may be set")
        if (source.pod_template_hash_value is None) == (source.field_ref is None):
            yield SpecProblem(f"{arg_path}.valueFrom", "exactly one of podTemplateHashValue and fieldRef is required")
        if source.field_ref is not None and not _is_downward_api_path(source.field_ref.field_path):
            yield invalid(
                f"{arg_path}.valueFrom.fieldRef.fieldPath", source.field_ref.field_path, INVALID_ANALYSIS_ARGS
            )


def _is_downward_api_path(field_path: str) -> bool:
    """``metadata.name``, ``metadata.labels['app']``, and any non-metadata path (resolved by the controller)."""
    if not field_path.startswith("metadata"):
        return True
    if field_path in _DOWNWARD_API_FIELDS:
        return True
    for prefix in _DOWNWARD_API_MAPS:
        if field_path.startswith(prefix + "['") and field_path.endswith("']") and len(field_path) > len(prefix) + 4:
            return True
    return False


def _check_anti_affinity(path: str, anti_affinity: Mapping[str, Any] | None) -> Iterator[SpecProblem]:
    if anti_affinity is None:
        return
    preferred = anti_affinity.get("preferredDuringSchedulingIgnoredDuringExecution")
    required = anti_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if (preferred is None) == (required is None):
        # Argo's value says which of the two is set
        flags = (f"antiAffinity.PreferredDuringSchedulingIgnoredDuringExecution: {go_value(preferred is not None)} "
                 f"antiAffinity.RequiredDuringSchedulingIgnoredDuringExecution: {go_value(required is not None)}")
        yield invalid(path, flags, INVALID_ANTI_AFFINITY_STRATEGY)
    if isinstance(preferred, Mapping):
        weight = preferred.get("weight")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 100:
            yield invalid(
                f"{path}.preferredDuringSchedulingIgnoredDuringExecution.weight", weight, INVALID_ANTI_AFFINITY_WEIGHT
            )


STEP_KINDS: Final = tuple(kind.value for kind in StepKind)
"""Every step kind the contract knows, for messages and the plugin's help."""
