"""Rollout validation = Argo's validation, rule by rule.

Every case of Argo Rollouts v1.10.2 `pkg/apis/rollouts/validation/validation_test.go` that checks one rule of
`validation.go`, as data: the manifest change, and Argo's expected outcome — the first problem's detail text
(Argo's message constants, copied here as literals so that a change of ours cannot silently follow) and its kind
(`Invalid value` / `Required value` / `Internal error`), or no problem at all. Each row cites the Go test it comes
from.

Argo's unit tests call ValidateRolloutStrategyCanary on a bare CanaryStrategy; ours validates a whole manifest, so
the rows start from a complete, valid Rollout (an ALB canary, as Argo's fixture) and change what Argo's case
changes. Where a full manifest needs a field Argo's bare fixture omits (an ALB ingress, an Istio VirtualService),
the row says so: Argo's controller requires those too (validation_references.go).

Field paths: Argo reports the canary rules under `spec.strategy.<field>` (its canary validator is handed the path of
`strategy`, not of `strategy.canary`), and a few under a parent; ours name the field itself. The `ours` column is
our path; the `argo` column is Argo's, recorded so the difference is visible.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from rollouts.api.validation import check_rollout

# Argo v1.10.2 validation.go message constants (literal copies, not our constants)
MISSING_SELECTOR = "Rollout has missing field '.spec.selector'"
MISSING_STRATEGY = "Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'"
MISSING_MANAGED_ROUTES = "Rollout has missing field 'spec.strategy.canary.trafficRouting.managedRoutes'"
EMPTY_SELECTOR = "empty selector is invalid for deployment"
PROGRESS_DEADLINE = "must be greater than minReadySeconds"
INVALID_STRATEGY = "Multiple Strategies can not be listed"
DUPLICATED_BLUE_GREEN = (
    "This rollout uses the same service for the active and preview services, but two different services are required."
)
DUPLICATED_CANARY = (
    "This rollout uses the same service for the stable and canary services, but two different services are required."
)
SCALE_DOWN_LIMIT = "This rollout's revision history limit can not be smaller than the rollout's scale down limit"
TRAFFIC_ROUTING_SERVICES = "Canary service and Stable service must to be set to use Traffic Routing"
DUPLICATED_PING_PONG = (
    "This rollout uses the same service for the ping and pong services, but two different services are required."
)
PING_PONG_SERVICES = "Ping service and Pong service must to be set to use Ping-Pong feature"
MISSED_ALB_ROOT_SERVICE = "Root service field is required for the configuration with ALB and ping-pong feature enabled"
PING_PONG_ROUTERS = "Ping-pong feature works with the ALB, Istio, and plugin-based traffic routers only"
SET_CANARY_SCALE_ROUTING = "SetCanaryScale requires TrafficRouting to be set"
INVALID_STEP = "Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause"
SET_WEIGHT = "SetWeight needs to be between 0 and {}"
MAX_WEIGHT_PROVIDER = "Canary maxTrafficWeight in traffic routing only supported in Nginx and Plugins"
DURATION = "Duration needs to be greater than 0"
ANALYSIS_ARGS = "Analyses arguments must refer to valid object metadata supported by downwardAPI"
ANTI_AFFINITY_STRATEGY = "AntiAffinity must have exactly one strategy listed"
ANTI_AFFINITY_WEIGHT = "AntiAffinity weight must be between 1-100"
SET_HEADER_ROUTE_ROUTING = "SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix"
SET_MIRROR_ROUTE_ROUTING = "SetMirrorRoute requires TrafficRouting, supports Istio and Plugins"
STRING_MATCH_MULTIPLE = "StringMatch match value must have exactly one of the following: exact, regex, prefix"
STRING_MATCH_MISSED = "StringMatch value missed, match value must have one of the following: exact, regex, prefix"
ALB_HEADER_VALUE = "SetHeaderRoute match value invalid. ALB supports 'exact' value only"
ROUTE_NOT_MANAGED = "Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes"
MAX_SURGE_UNAVAILABLE = "MaxSurge and MaxUnavailable both can not be zero"
SCALE_DOWN_DELAY = "Canary scaleDownDelaySeconds can only be used with traffic routing"
DYNAMIC_STABLE_SCALE = "Canary dynamicStableScale can only be used with traffic routing"
DYNAMIC_WITH_DELAY = "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds"
TEMPLATE_WITH_REF = "template must be empty for workload reference rollout"
EXPERIMENT_WEIGHT_NO_ROUTING = "Experiment template weight cannot be set unless TrafficRouting is enabled"
EXPERIMENT_WEIGHT_PROVIDER = (  # validation_test.go errTrafficRoutingWithExperimentSupport
    "Experiment template weight is only available for TrafficRouting with SMI, ALB, Istio and Plugins at this time"
)

Spec = dict[str, Any]
Change = Callable[[Spec], None]


def rollout(strategy: Spec) -> Spec:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "ro"},
        "spec": {
            "selector": {"matchLabels": {"key": "value"}},
            "template": {
                "metadata": {"labels": {"key": "value"}},
                "spec": {"containers": [{"name": "image-name", "image": "foo"}]},
            },
            "strategy": strategy,
        },
    }


ALB = {"rootService": "root-service", "ingress": "ingress"}  # ingress: Argo's controller needs one too
VS = {"virtualService": {"name": "virtual-service"}}  # Argo's controller needs a VirtualService too
DR = {"name": "destination-rule", "canarySubsetName": "canary", "stableSubsetName": "stable"}


def canary(**fields: Any) -> Spec:
    """Argo's TestValidateRolloutStrategyCanary fixture: canary/stable Services, ALB routing, one setWeight step."""
    base: Spec = {"canaryService": "canary", "stableService": "stable", "trafficRouting": {"alb": dict(ALB)},
                  "steps": [{"setWeight": 10}]}
    base.update(fields)
    return rollout({"canary": {k: v for k, v in base.items() if v is not None}})


def with_spec(manifest: Spec, change: Change) -> Spec:
    out = copy.deepcopy(manifest)
    change(out["spec"])
    return out


@dataclass(frozen=True)
class Case:
    manifest: Spec
    detail: str | None  # Argo's first error detail; None: Argo reports nothing
    kind: str = "Invalid value"
    ours: str = ""  # our field path of that problem
    argo: str = ""  # Argo's field path, where it reports one


def ok(manifest: Spec) -> Case:
    return Case(manifest, None)


C = "spec.strategy.canary"
STEP0 = f"{C}.steps[0]"
HEADER_STEP = {"setHeaderRoute": {"name": "r", "match": [{"headerName": "agent", "headerValue": {"exact": "chrome"}}]}}


def header_step(value: Spec | None) -> Spec:
    match: Spec = {"headerName": "agent"}
    if value is not None:
        match["headerValue"] = value
    return {"setHeaderRoute": {"name": "r", "match": [match]}}


def mirror_step(**match: Any) -> Spec:
    return {"setMirrorRoute": {"name": "m", "match": [match]}}


CASES: dict[str, Case] = {
    # --- TestValidateRollout
    "missing selector": Case(with_spec(canary(), lambda s: s.pop("selector")), MISSING_SELECTOR,
                             "Required value", "spec.selector", "spec.selector"),
    "empty selector": Case(with_spec(canary(), lambda s: s.update(selector={})), EMPTY_SELECTOR,
                           ours="spec.selector", argo="spec.selector"),
    "invalid progressDeadlineSeconds": Case(with_spec(canary(), lambda s: s.update(minReadySeconds=601)),
                                            PROGRESS_DEADLINE, ours="spec.progressDeadlineSeconds",
                                            argo="spec.progressDeadlineSeconds"),
    "successful run (blue-green)": ok(rollout({"blueGreen": {"activeService": "active", "previewService": "preview"}})),
    "privileged container": ok(with_spec(canary(), lambda s: s["template"]["spec"]["containers"][0].update(
        securityContext={"privileged": True}))),
    # --- TestValidateRolloutStrategy
    "no strategy": Case(rollout({}), MISSING_STRATEGY, "Required value", "spec.strategy", "spec.strategy"),
    "both strategies": Case(rollout({"canary": {}, "blueGreen": {"activeService": "a"}}), INVALID_STRATEGY,
                            ours="spec.strategy", argo="spec.strategy"),
    # --- TestValidateRolloutStrategyBlueGreen: the same Service twice (then the revision limit 11 > 10)
    "blue-green same service": Case(
        rollout({"blueGreen": {"activeService": "service-name", "previewService": "service-name",
                               "scaleDownDelayRevisionLimit": 11, "autoPromotionSeconds": 30}}),
        DUPLICATED_BLUE_GREEN, ours="spec.strategy.blueGreen.activeService", argo="spec.strategy.blueGreen.activeService"),
    "blue-green revision limit": Case(
        rollout({"blueGreen": {"activeService": "a", "previewService": "p", "scaleDownDelayRevisionLimit": 11}}),
        SCALE_DOWN_LIMIT, ours="spec.strategy.blueGreen.scaleDownDelayRevisionLimit",
        argo="spec.strategy.blueGreen.scaleDownDelayRevisionLimit"),
    # --- TestValidateRolloutStrategyCanary
    "valid rollout": ok(canary()),
    "valid plugin missing canary and stable service": ok(canary(
        canaryService=None, stableService=None, trafficRouting={"plugins": {"some-plugin": {"key": "value"}}})),
    "valid Istio missing canary and stable service": ok(canary(
        canaryService=None, stableService=None, trafficRouting={"istio": {**VS, "destinationRule": DR}})),
    "valid Istio with ping pong": ok(canary(
        canaryService=None, stableService=None, pingPong={"pingService": "ping", "pongService": "pong"},
        trafficRouting={"istio": {**VS, "destinationRule": DR}})),
    "valid PingPong missing canary and stable service": ok(canary(
        canaryService=None, stableService=None, pingPong={"pingService": "ping", "pongService": "pong"})),
    "invalid two plugins missing canary and stable service": Case(canary(
        canaryService=None, stableService=None,
        trafficRouting={"istio": VS, "plugins": {"some-plugin": {"key": "value"}}}),
        TRAFFIC_ROUTING_SERVICES, ours=f"{C}.stableService", argo="spec.strategy.stableService"),
    "duplicate services": Case(canary(canaryService="stable"), DUPLICATED_CANARY, ours=f"{C}.stableService",
                               argo="spec.strategy.stableService"),
    "duplicate ping pong services": Case(canary(pingPong={"pingService": "ping", "pongService": "ping"}),
                                         DUPLICATED_PING_PONG, ours=f"{C}.pingPong.pingService",
                                         argo="spec.strategy.pingPong.pingService"),
    "ping services using only": Case(canary(pingPong={"pingService": "ping", "pongService": ""}), PING_PONG_SERVICES,
                                     ours=f"{C}.pingPong.pongService", argo="spec.strategy.pingPong.pongService"),
    "pong service using only": Case(canary(pingPong={"pingService": "", "pongService": "pong"}), PING_PONG_SERVICES,
                                    ours=f"{C}.pingPong.pingService", argo="spec.strategy.pingPong.pingService"),
    "missed ALB root service for the ping-pong feature": Case(
        canary(pingPong={"pingService": "ping", "pongService": "pong"},
               trafficRouting={"alb": {"rootService": "", "ingress": "ingress"}}),
        MISSED_ALB_ROOT_SERVICE, ours=f"{C}.trafficRouting.alb.rootService",
        argo="spec.strategy.trafficRouting.alb.rootService"),
    "ping-pong feature without the ALB traffic routing": Case(
        canary(pingPong={"pingService": "ping", "pongService": "pong"},
               trafficRouting={"nginx": {"stableIngress": "stable-ingress"}}),
        PING_PONG_ROUTERS, ours=f"{C}.trafficRouting.alb", argo="spec.strategy.trafficRouting.alb"),
    "ping-pong feature with plugin-based traffic routing is valid": ok(canary(
        pingPong={"pingService": "ping", "pongService": "pong"}, trafficRouting={"plugins": {"my-org/my-plugin": {}}})),
    "invalid traffic routing": Case(canary(canaryService=""), TRAFFIC_ROUTING_SERVICES, ours=f"{C}.canaryService",
                                    argo="spec.strategy.canaryService"),
    "invalid setCanaryScale without trafficRouting": Case(
        canary(trafficRouting=None, steps=[{"setCanaryScale": {}}]), SET_CANARY_SCALE_ROUTING, "Required value",
        f"{STEP0}.setCanaryScale", "spec.strategy.trafficRouting"),
    "invalid canary step": Case(canary(steps=[{}]), INVALID_STEP, ours=STEP0, argo="spec.strategy.steps[0]"),
    "invalid set weight value": Case(canary(steps=[{"setWeight": 101}]), SET_WEIGHT.format(100),
                                     ours=f"{STEP0}.setWeight", argo="spec.strategy.steps[0].setWeight"),
    "max weight with ALB": Case(canary(trafficRouting={"alb": ALB, "maxTrafficWeight": 1}, steps=[{"setWeight": 1}]),
                                MAX_WEIGHT_PROVIDER, ours=f"{C}.trafficRouting.maxTrafficWeight",
                                argo="spec.strategy.trafficRouting.maxTrafficWeight"),
    "max weight with nginx": ok(canary(trafficRouting={"nginx": {"stableIngress": "stable-ingress"},
                                                       "maxTrafficWeight": 1}, steps=[{"setWeight": 1}])),
    "max weight with plugins": ok(canary(trafficRouting={"plugins": {"anyplugin": {"key": "value"}},
                                                         "maxTrafficWeight": 1}, steps=[{"setWeight": 1}])),
    "invalid duration set in paused step": Case(canary(steps=[{"pause": {"duration": -1}}]), DURATION,
                                                ours=f"{STEP0}.pause.duration", argo="spec.strategy.steps[0].pause.duration"),
    "invalid metadata references in analysis step": Case(
        canary(steps=[{"analysis": {"templates": [{"templateName": "t"}], "args": [
            {"name": "metadata.labels['app']", "valueFrom": {"fieldRef": {"fieldPath": "metadata.label['app']"}}},
            {"name": "value-key", "value": "hardcoded-value"}]}}]),
        ANALYSIS_ARGS, ours=f"{STEP0}.analysis.args[0].valueFrom.fieldRef.fieldPath",
        argo="spec.strategy.steps[0].analyses"),
    # --- TestHasMultipleStepsType: setWeight + pause in one step; Argo allows any other combination
    "setWeight and pause in one step": Case(canary(steps=[{"setWeight": 1, "pause": {"duration": 1}}]), INVALID_STEP,
                                            ours=STEP0, argo="spec.strategy.steps[0]"),
    "setCanaryScale and setHeaderRoute in one step (APISIX e2e CanarySetHeaderStep)": ok(canary(
        trafficRouting={"alb": ALB, "managedRoutes": [{"name": "r"}]},
        steps=[{"setCanaryScale": {"weight": 20}, **HEADER_STEP}])),
    "setWeight and setCanaryScale in one step": ok(canary(steps=[{"setWeight": 20, "setCanaryScale": {"replicas": 1}}])),
    # --- TestValidateRolloutStrategyAntiAffinity
    "anti-affinity without a strategy": Case(
        rollout({"blueGreen": {"activeService": "a", "antiAffinity": {}}}), ANTI_AFFINITY_STRATEGY,
        ours="spec.strategy.blueGreen.antiAffinity", argo="spec.strategy.blueGreen.antiAffinity"),
    "anti-affinity weight 101": Case(
        rollout({"blueGreen": {"activeService": "a", "antiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": {"weight": 101}}}}), ANTI_AFFINITY_WEIGHT,
        ours="spec.strategy.blueGreen.antiAffinity.preferredDuringSchedulingIgnoredDuringExecution.weight",
        argo="spec.strategy.blueGreen.antiAffinity.weight"),
    # --- TestValidateRolloutStrategyCanarySetHeaderRoute / ...Plugins / ...Istio / ...ALB
    "SetHeaderRoute without the traffic routing": Case(canary(trafficRouting=None, steps=[HEADER_STEP]),
                                                       SET_HEADER_ROUTE_ROUTING, ours=f"{STEP0}.setHeaderRoute",
                                                       argo="spec.strategy.steps[0].setHeaderRoute"),
    "SetHeaderRoute with a router that cannot (SMI)": Case(
        canary(trafficRouting={"smi": {}, "managedRoutes": [{"name": "r"}]}, steps=[HEADER_STEP]),
        SET_HEADER_ROUTE_ROUTING, ours=f"{STEP0}.setHeaderRoute", argo="spec.strategy.steps[0].setHeaderRoute"),
    "SetHeaderRoute with plugins": ok(canary(
        trafficRouting={"plugins": {"anyplugin": {"key": "value"}}, "managedRoutes": [{"name": "r"}]},
        steps=[HEADER_STEP])),
    "SetHeaderRoute Istio multiple values": Case(
        canary(trafficRouting={"istio": VS, "managedRoutes": [{"name": "r"}]},
               steps=[header_step({"exact": "chrome", "regex": "chrome(.*)"})]),
        STRING_MATCH_MULTIPLE, ours=f"{STEP0}.setHeaderRoute.match[0].headerValue",
        argo="spec.strategy.steps[0].setHeaderRoute.match[0]"),
    "SetHeaderRoute Istio missed values": Case(
        canary(trafficRouting={"istio": VS, "managedRoutes": [{"name": "r"}]}, steps=[header_step(None)]),
        STRING_MATCH_MISSED, ours=f"{STEP0}.setHeaderRoute.match[0].headerValue",
        argo="spec.strategy.steps[0].setHeaderRoute.match[0]"),
    "SetHeaderRoute Istio route not in managedRoutes": Case(
        canary(trafficRouting={"istio": VS, "managedRoutes": [{"name": "not-in-steps"}]}, steps=[HEADER_STEP]),
        ROUTE_NOT_MANAGED, ours=f"{STEP0}.setHeaderRoute", argo="spec.strategy.steps[0].setHeaderRoute"),
    "SetHeaderRoute without managedRoutes": Case(
        canary(trafficRouting={"istio": VS}, steps=[HEADER_STEP]), MISSING_MANAGED_ROUTES, "Required value",
        f"{C}.trafficRouting.managedRoutes", "spec.strategy.trafficRouting.managedRoutes"),
    "SetHeaderRoute ALB multiple values": Case(
        canary(trafficRouting={"alb": ALB, "managedRoutes": [{"name": "r"}]},
               steps=[header_step({"exact": "chrome", "regex": "chrome(.*)"})]),
        ALB_HEADER_VALUE, ours=f"{STEP0}.setHeaderRoute.match[0]", argo="spec.strategy.steps[0].setHeaderRoute.match[0]"),
    "SetHeaderRoute ALB missed values": Case(
        canary(trafficRouting={"alb": ALB, "managedRoutes": [{"name": "r"}]}, steps=[header_step(None)]),
        STRING_MATCH_MISSED, ours=f"{STEP0}.setHeaderRoute.match[0]",
        argo="spec.strategy.steps[0].setHeaderRoute.match[0]"),
    "SetHeaderRoute ALB prefix": Case(
        canary(trafficRouting={"alb": ALB, "managedRoutes": [{"name": "r"}]}, steps=[header_step({"prefix": "chrome"})]),
        ALB_HEADER_VALUE, ours=f"{STEP0}.setHeaderRoute.match[0]", argo="spec.strategy.steps[0].setHeaderRoute.match[0]"),
    # --- TestValidateRolloutStrategyCanarySetMirrorRoute / ...Plugins / ...Istio
    "SetMirrorRoute without the traffic routing": Case(canary(trafficRouting=None, steps=[{"setMirrorRoute": {
        "name": "m"}}]), SET_MIRROR_ROUTE_ROUTING, ours=f"{STEP0}.setMirrorRoute",
        argo="spec.strategy.steps[0].setMirrorRoute"),
    "SetMirrorRoute with plugins": ok(canary(
        trafficRouting={"plugins": {"anyplugin": {"key": "value"}}, "managedRoutes": [{"name": "m"}]},
        steps=[{"setMirrorRoute": {"name": "m", "percentage": 50,
                                   "match": [{"method": {"exact": "GET"}, "path": {"prefix": "/api"}}]}}])),
    "SetMirrorRoute multiple values": Case(
        canary(trafficRouting={"istio": VS, "managedRoutes": [{"name": "m"}]},
               steps=[mirror_step(method={"exact": "test", "prefix": "test"})]),
        STRING_MATCH_MULTIPLE, ours=f"{STEP0}.setMirrorRoute.match[0]", argo="spec.strategy.steps[0].setMirrorRoute.match[0]"),
    "SetMirrorRoute missed match and no kind": Case(
        canary(trafficRouting={"istio": VS, "managedRoutes": [{"name": "m"}]}, steps=[mirror_step(method={})]),
        STRING_MATCH_MISSED, ours=f"{STEP0}.setMirrorRoute.match[0]", argo="spec.strategy.steps[0].setMirrorRoute.match[0]"),
    "SetMirrorRoute without managedRoutes": Case(
        canary(trafficRouting={"istio": VS}, steps=[mirror_step(method={"exact": "exact"})]), MISSING_MANAGED_ROUTES,
        "Required value", f"{C}.trafficRouting.managedRoutes", "spec.strategy.trafficRouting.managedRoutes"),
    "SetMirrorRoute route not in managedRoutes": Case(
        canary(trafficRouting={"istio": VS, "managedRoutes": [{"name": "not-in-steps"}]},
               steps=[mirror_step(method={"exact": "GET"}, path={"prefix": "/"})]),
        ROUTE_NOT_MANAGED, ours=f"{STEP0}.setMirrorRoute", argo="spec.strategy.steps[0].setMirrorRoute"),
    "SetMirrorRoute with managedRoutes": ok(canary(
        trafficRouting={"istio": VS, "managedRoutes": [{"name": "m"}]},
        steps=[mirror_step(method={"exact": "GET"}, path={"prefix": "/"})])),
    # --- TestInvalidMaxSurgeMaxUnavailable (every pair of 0, "0", "0%" Argo lists; "0" as a string is 0 for Argo)
    **{
        f"maxSurge {surge!r} maxUnavailable {unavailable!r}": Case(
            canary(maxSurge=surge, maxUnavailable=unavailable), MAX_SURGE_UNAVAILABLE, ours=f"{C}.maxSurge",
            argo="spec.strategy.maxSurge")
        for surge, unavailable in [(0, 0), (0, "0%"), ("0%", 0), ("0%", "0%")]
    },
    # --- TestCanaryScaleDownDelaySeconds
    "scaleDownDelaySeconds with basic canary": Case(canary(trafficRouting=None, scaleDownDelaySeconds=60),
                                                    SCALE_DOWN_DELAY, ours=f"{C}.scaleDownDelaySeconds",
                                                    argo="spec.strategy.scaleDownDelaySeconds"),
    "scaleDownDelaySeconds with traffic routing": ok(canary(trafficRouting={"smi": {}}, scaleDownDelaySeconds=60)),
    # --- TestCanaryDynamicStableScale
    "dynamicStableScale with basic canary": Case(canary(trafficRouting=None, dynamicStableScale=True),
                                                 DYNAMIC_STABLE_SCALE, ours=f"{C}.dynamicStableScale",
                                                 argo="spec.strategy.dynamicStableScale"),
    "dynamicStableScale with scaleDownDelaySeconds": Case(
        canary(trafficRouting={"smi": {}}, dynamicStableScale=True, scaleDownDelaySeconds=60), DYNAMIC_WITH_DELAY,
        ours=f"{C}.dynamicStableScale", argo="spec.strategy.dynamicStableScale"),
    # --- TestWorkloadRefWithTemplate
    "workload reference with template": Case(
        with_spec(canary(), lambda s: s.update(workloadRef={"name": "my-deployment", "kind": "Deployment",
                                                            "apiVersion": "apps/v1"})),
        TEMPLATE_WITH_REF, "Internal error", "spec.template", "spec.template"),
    "valid workload reference with selector": ok(with_spec(canary(), lambda s: (s.pop("template"), s.update(
        workloadRef={"name": "my-deployment", "kind": "Deployment", "apiVersion": "apps/v1"})))),
    "valid workload reference without selector": ok(with_spec(canary(), lambda s: (s.pop("template"), s.pop(
        "selector"), s.update(workloadRef={"name": "my-deployment", "kind": "Deployment", "apiVersion": "apps/v1"})))),
    # --- TestCanaryExperimentStepWithWeight
    **{
        f"experiment weight with {name}": Case(
            canary(trafficRouting=routing, steps=[{"experiment": {"templates": [
                {"name": "template", "specRef": "canary", "weight": 20}]}}]),
            detail, ours=f"{STEP0}.experiment.templates[0].weight" if detail else "",
            argo="spec.strategy.steps[0].experiment.templates[0].weight" if detail else "")
        for name, routing, detail in [
            ("no TrafficRouting", None, EXPERIMENT_WEIGHT_NO_ROUTING),
            ("Nginx", {"nginx": {"stableIngress": "nginx-ingress"}}, EXPERIMENT_WEIGHT_PROVIDER),
            ("Ambassador", {"ambassador": {"mappings": ["stable-mapping"]}}, EXPERIMENT_WEIGHT_PROVIDER),
            ("Istio", {"istio": {"virtualService": {"name": "virtualSvc"}}}, None),
            ("SMI", {"smi": {}}, None),
            ("ALB", {"alb": ALB}, None),
            ("Plugins", {"plugins": {"any/plugin": {}}}, None),
        ]
    },
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_validation_gives_argos_verdict_and_message(case: Case) -> None:
    _, problems = check_rollout(case.manifest)
    if case.detail is None:
        assert problems == [], f"Argo accepts this Rollout; ours says {problems}"
        return
    assert problems, f"Argo rejects this Rollout with {case.detail!r}; ours accepts it"
    first = problems[0]
    assert first.message.startswith(case.kind + ": "), f"expected a {case.kind!r} problem first, got {first}"
    assert first.message.endswith(": " + case.detail), f"expected Argo's {case.detail!r} first, got {first}"
    assert first.field == case.ours, f"expected the problem at {case.ours} (Argo: {case.argo}), got {first}"


def test_two_exclusive_kinds_name_what_is_set_as_argo_does() -> None:
    """Argo's value of the error lists the four exclusive kinds and whether each is set (hasMultipleStepsType)."""
    _, problems = check_rollout(canary(steps=[{"experiment": {"templates": []}, "analysis": {
        "templates": [{"templateName": "t"}]}}]))
    assert str(problems[0]) == (
        f'{STEP0}: Invalid value: "step.Experiment: true step.Pause: false step.SetWeight: false '
        f'step.Analysis: true": {INVALID_STEP}'
    )
