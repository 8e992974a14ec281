"""Static Rollout validation: one row per invalid case, with the field path the user must fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.api.rollout import Rollout
from rollouts.api.validation import (
    SpecProblem,
    check_rollout,
    invalid_spec_message,
    parse_rollout,
    validate_rollout,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

CANARY: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Rollout",
    "metadata": {"name": "demo"},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "demo"}},
        "template": {
            "metadata": {"labels": {"app": "demo"}},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]},
        },
        "strategy": {
            "canary": {
                "stableService": "demo-stable",
                "canaryService": "demo-canary",
                "trafficRouting": {"nginx": {"stableIngress": "demo"}, "managedRoutes": [{"name": "hdr"}]},
                "steps": [
                    {"setWeight": 10},
                    {"pause": {"duration": "30s"}},
                    {"setCanaryScale": {"replicas": 1}},
                    {"setHeaderRoute": {"name": "hdr", "match": [{"headerName": "X", "headerValue": {"exact": "1"}}]}},
                    {"analysis": {"templates": [{"templateName": "t"}]}},
                    {"pause": {}},
                ],
            }
        },
    },
}

BLUE_GREEN: dict[str, Any] = {
    **copy.deepcopy(CANARY),
    "spec": {
        **copy.deepcopy(CANARY["spec"]),
        "strategy": {"blueGreen": {"activeService": "demo-active", "previewService": "demo-preview"}},
    },
}

Mutation = Callable[[dict[str, Any]], None]


def _canary(spec: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = spec["strategy"]["canary"]
    return result


def _set(path: str, value: Any) -> Mutation:
    """A mutation that sets a dotted path under spec ("strategy.canary.steps.0.setWeight")."""

    def mutate(spec: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = spec
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(spec: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = spec
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return mutate


def _both(*mutations: Mutation) -> Mutation:
    def mutate(spec: dict[str, Any]) -> None:
        for m in mutations:
            m(spec)

    return mutate


C = "spec.strategy.canary"
S = "strategy.canary"
INVALID: list[tuple[str, dict[str, Any], Mutation, str, str]] = [
    ("no-strategy", CANARY, _set("strategy", {}), "spec.strategy", "missing field '.spec.strategy.canary or"),
    (
        "both-strategies",
        CANARY,
        _set("strategy.blueGreen", {"activeService": "a"}),
        "spec.strategy",
        "Multiple Strategies can not be listed",
    ),
    (
        "only-stable-service-with-routing",
        CANARY,
        _delete(f"{S}.canaryService"),
        f"{C}.canaryService",
        "Canary service and Stable service must to be set",
    ),
    (
        "only-canary-service-with-routing",
        CANARY,
        _delete(f"{S}.stableService"),
        f"{C}.stableService",
        "Canary service and Stable service must to be set",
    ),
    (
        "same-stable-and-canary",
        CANARY,
        _set(f"{S}.canaryService", "demo-stable"),
        f"{C}.stableService",
        "same service for the stable and canary services",
    ),
    (
        "blue-green-without-active",
        BLUE_GREEN,
        _delete("strategy.blueGreen.activeService"),
        "spec.strategy.blueGreen.activeService",
        "missing field '.spec.strategy.blueGreen.activeService'",
    ),
    (
        "active-equals-preview",
        BLUE_GREEN,
        _set("strategy.blueGreen.previewService", "demo-active"),
        "spec.strategy.blueGreen.activeService",
        "same service for the active and preview services",
    ),
    (
        "weight-above-100",
        CANARY,
        _set(f"{S}.steps.0.setWeight", 150),
        f"{C}.steps[0].setWeight",
        "SetWeight needs to be between 0 and 100",
    ),
    (
        "weight-negative",
        CANARY,
        _set(f"{S}.steps.0.setWeight", -1),
        f"{C}.steps[0].setWeight",
        "SetWeight needs to be between 0 and 100",
    ),
    (
        "weight-above-max-traffic-weight",
        CANARY,
        _both(_set(f"{S}.trafficRouting.maxTrafficWeight", 1000), _set(f"{S}.steps.0.setWeight", 1001)),
        f"{C}.steps[0].setWeight",
        "SetWeight needs to be between 0 and 1000",
    ),
    ("empty-step", CANARY, _set(f"{S}.steps.1", {}), f"{C}.steps[1]", "Step must have one of the following set"),
    (
        "two-kinds-in-one-step",
        CANARY,
        _set(f"{S}.steps.1", {"setWeight": 5, "pause": {}}),
        f"{C}.steps[1]",
        '"step.Experiment: false step.Pause: true step.SetWeight: true step.Analysis: false": Step must have one',
    ),
    (
        "unknown-step-kind",
        CANARY,
        _set(f"{S}.steps.1", {"setWieght": 5}),
        f"{C}.steps[1].setWieght",
        "unknown step kind 'setWieght'",
    ),
    (
        "bad-duration-unit",
        CANARY,
        _set(f"{S}.steps.1.pause.duration", "1x"),
        f"{C}.steps[1].pause.duration",
        'unknown unit "x"',
    ),
    ("empty-duration", CANARY, _set(f"{S}.steps.1.pause.duration", ""), f"{C}.steps[1].pause.duration", "empty string"),
    (
        "negative-duration",
        CANARY,
        _set(f"{S}.steps.1.pause.duration", -5),
        f"{C}.steps[1].pause.duration",
        "Duration needs to be greater than 0",
    ),
    (
        "selector-does-not-match",
        CANARY,
        _set("selector.matchLabels", {"app": "other"}),
        "spec.template.metadata.labels",
        "`selector` does not match template `labels`",
    ),
    ("selector-missing", CANARY, _delete("selector"), "spec.selector", "missing field '.spec.selector'"),
    ("selector-empty", CANARY, _set("selector", {}), "spec.selector", "empty selector is invalid"),
    (
        "template-without-containers",
        CANARY,
        _set("template.spec.containers", []),
        "spec.template.spec.containers",
        "Required value",
    ),
    (
        "container-without-image",
        CANARY,
        _set("template.spec.containers", [{"name": "x"}]),
        "spec.template.spec.containers[0]",
        "needs name and image",
    ),
    ("template-missing", CANARY, _delete("template"), "spec.template", "missing field '.spec.template"),
    (
        "workload-ref-and-template",
        CANARY,
        _set("workloadRef", {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"}),
        "spec.template",
        "template must be empty for workload reference rollout",
    ),
    (
        "workload-ref-without-name",
        CANARY,
        _both(_delete("template"), _set("workloadRef", {"apiVersion": "apps/v1", "kind": "Deployment"})),
        "spec.workloadRef.name",
        "missing field '.spec.workloadRef.name'",
    ),
    (
        "nginx-without-stable-ingress",
        CANARY,
        _set(f"{S}.trafficRouting.nginx", {}),
        f"{C}.trafficRouting.nginx",
        "Either StableIngress or StableIngresses must be configured. Neither are configured.",
    ),
    (
        "nginx-both-stable-ingress-forms",
        CANARY,
        _set(f"{S}.trafficRouting.nginx.stableIngresses", ["other"]),
        f"{C}.trafficRouting.nginx",
        "Either StableIngress or StableIngresses must be configured. Both are configured.",
    ),
    (
        "traffic-routing-without-provider",
        CANARY,
        _set(f"{S}.trafficRouting", {"managedRoutes": [{"name": "hdr"}]}),
        f"{C}.trafficRouting",
        "needs a provider",
    ),
    (
        "gateway-plugin-without-route",
        CANARY,
        _set(
            f"{S}.trafficRouting",
            {"plugins": {"argoproj-labs/gatewayAPI": {"namespace": "x"}}, "managedRoutes": [{"name": "hdr"}]},
        ),
        f"{C}.trafficRouting.plugins.argoproj-labs/gatewayAPI.httpRoute",
        "httpRoute or httpRoutes",
    ),
    (
        "set-canary-scale-without-routing",
        CANARY,
        _both(_delete(f"{S}.trafficRouting"), _set(f"{S}.steps.3", {"pause": {}})),
        f"{C}.steps[2].setCanaryScale",
        "SetCanaryScale requires TrafficRouting",
    ),
    (
        "set-header-route-without-routing",
        CANARY,
        _both(_delete(f"{S}.trafficRouting"), _set(f"{S}.steps.2", {"pause": {}})),
        f"{C}.steps[3].setHeaderRoute",
        "SetHeaderRoute requires TrafficRouting",
    ),
    (
        "header-route-not-managed",
        CANARY,
        _set(f"{S}.trafficRouting.managedRoutes", [{"name": "other"}]),
        f"{C}.steps[3].setHeaderRoute",
        "does not exist in spec.strategy.canary.trafficRouting.managedRoutes",
    ),
    (
        "header-route-without-managed-routes",
        CANARY,
        _delete(f"{S}.trafficRouting.managedRoutes"),
        f"{C}.trafficRouting.managedRoutes",
        "missing field 'spec.strategy.canary.trafficRouting.managedRoutes'",
    ),
    (
        "header-value-two-matchers",
        CANARY,
        _set(f"{S}.steps.3.setHeaderRoute.match.0.headerValue", {"exact": "a", "prefix": "b"}),
        f"{C}.steps[3].setHeaderRoute.match[0].headerValue",
        "exactly one of the following: exact, regex, prefix",
    ),
    (
        "mirror-route-without-istio",  # validation.go InvalidSetMirrorRouteTrafficPolicy (Argo v1.10.2)
        CANARY,
        _set(f"{S}.steps.3", {"setMirrorRoute": {"name": "hdr", "match": [{"method": {"exact": "GET"}}]}}),
        f"{C}.steps[3].setMirrorRoute",
        "SetMirrorRoute requires TrafficRouting, supports Istio and Plugins",
    ),
    (
        "mirror-route-two-matchers",
        CANARY,
        _both(_set(f"{S}.trafficRouting", {"istio": {"virtualService": {"name": "vs"}}, "managedRoutes": [
            {"name": "hdr"}]}), _set(f"{S}.steps.3", {"setMirrorRoute": {"name": "hdr", "match": [
                {"path": {"exact": "/a", "prefix": "/"}}]}})),
        f"{C}.steps[3].setMirrorRoute.match[0]",
        "exactly one of the following: exact, regex, prefix",
    ),
    (
        "mirror-route-not-managed",
        CANARY,
        _both(_set(f"{S}.trafficRouting", {"istio": {"virtualService": {"name": "vs"}}, "managedRoutes": [
            {"name": "other"}]}), _set(f"{S}.steps.3", {"setMirrorRoute": {"name": "hdr"}})),
        f"{C}.steps[3].setMirrorRoute",
        "does not exist in spec.strategy.canary.trafficRouting.managedRoutes",
    ),
    (
        "istio-both-virtual-service-forms",  # validation_references.go ValidateRolloutVirtualServicesConfig
        CANARY,
        _set(f"{S}.trafficRouting", {"istio": {"virtualService": {"name": "a"}, "virtualServices": [{"name": "b"}]}}),
        f"{C}.trafficRouting.istio",
        "either VirtualService or VirtualServices must be configured",
    ),
    (
        "istio-no-virtual-service",
        CANARY,
        _set(f"{S}.trafficRouting", {"istio": {"destinationRule": {"name": "dr"}}}),
        f"{C}.trafficRouting.istio",
        "either VirtualService or VirtualServices must be configured",
    ),
    (
        "istio-destination-rule-without-subsets",
        CANARY,
        _set(f"{S}.trafficRouting", {"istio": {"virtualService": {"name": "a"}, "destinationRule": {"name": "dr"}}}),
        f"{C}.trafficRouting.istio.destinationRule.canarySubsetName",
        "missing field",
    ),
    (
        "istio-host-level-needs-services",  # validation.go requireCanaryStableServices
        CANARY,
        _both(_set(f"{S}.trafficRouting", {"istio": {"virtualService": {"name": "a"}}}), _delete(f"{S}.canaryService")),
        f"{C}.canaryService",
        "Canary service and Stable service must to be set to use Traffic Routing",
    ),
    ("negative-replicas", CANARY, _set("replicas", -1), "spec.replicas", "must be greater than or equal to 0"),
    (
        "surge-and-unavailable-zero",
        CANARY,
        _both(_set(f"{S}.maxSurge", 0), _set(f"{S}.maxUnavailable", "0%")),
        f"{C}.maxSurge",
        "MaxSurge and MaxUnavailable both can not be zero",
    ),
    (
        "max-surge-not-a-percentage",
        CANARY,
        _set(f"{S}.maxSurge", "abc"),
        f"{C}.maxSurge",
        "must be an integer or a percentage",
    ),
    (
        "scale-down-delay-without-routing",
        CANARY,
        _both(
            _delete(f"{S}.trafficRouting"),
            _set(f"{S}.steps", [{"setWeight": 5}]),
            _set(f"{S}.scaleDownDelaySeconds", 10),
        ),
        f"{C}.scaleDownDelaySeconds",
        "can only be used with traffic routing",
    ),
    (
        "dynamic-stable-scale-with-delay",
        CANARY,
        _both(_set(f"{S}.dynamicStableScale", True), _set(f"{S}.scaleDownDelaySeconds", 10)),
        f"{C}.dynamicStableScale",
        "cannot be used with scaleDownDelaySeconds",
    ),
    (
        "analysis-step-without-templates",
        CANARY,
        _set(f"{S}.steps.4.analysis", {"templates": []}),
        f"{C}.steps[4].analysis.templates",
        "at least one template",
    ),
    (
        "analysis-arg-bad-field-ref",
        CANARY,
        _set(f"{S}.steps.4.analysis.args", [{"name": "a", "valueFrom": {"fieldRef": {"fieldPath": "metadata.bogus"}}}]),
        f"{C}.steps[4].analysis.args[0].valueFrom.fieldRef.fieldPath",
        "valid object metadata",
    ),
    (
        "background-analysis-starting-step-out-of-range",
        CANARY,
        _set(f"{S}.analysis", {"templates": [{"templateName": "t"}], "startingStep": 9}),
        f"{C}.analysis.startingStep",
        "between 0 and the number of steps (6)",
    ),
    (
        "progress-deadline-not-above-min-ready",
        CANARY,
        _both(_set("minReadySeconds", 600), _set("progressDeadlineSeconds", 600)),
        "spec.progressDeadlineSeconds",
        "must be greater than minReadySeconds",
    ),
    (
        "scale-down-revision-limit-above-history",
        BLUE_GREEN,
        _both(_set("revisionHistoryLimit", 1), _set("strategy.blueGreen.scaleDownDelayRevisionLimit", 2)),
        "spec.strategy.blueGreen.scaleDownDelayRevisionLimit",
        "can not be smaller than the rollout's scale down limit",
    ),
    (
        "anti-affinity-both",
        BLUE_GREEN,
        _set(
            "strategy.blueGreen.antiAffinity",
            {
                "preferredDuringSchedulingIgnoredDuringExecution": {"weight": 5},
                "requiredDuringSchedulingIgnoredDuringExecution": {},
            },
        ),
        "spec.strategy.blueGreen.antiAffinity",
        "exactly one strategy",
    ),
]


@pytest.mark.parametrize(
    ("base", "mutate", "field", "fragment"),
    [pytest.param(b, m, f, t, id=i) for i, b, m, f, t in INVALID],
)
def test_invalid_spec_is_reported_at_its_field(
    base: dict[str, Any], mutate: Mutation, field: str, fragment: str
) -> None:
    raw = copy.deepcopy(base)
    mutate(raw["spec"])
    rollout, problems = check_rollout(raw)
    assert rollout is not None, problems
    matching = [p for p in problems if p.field == field]
    assert matching, f"expected a problem at {field}, got {problems}"
    assert any(fragment in p.message for p in matching), f"expected {fragment!r} in {matching}"


def test_istio_subset_level_splitting_needs_no_services() -> None:
    """Argo's requireCanaryStableServices: Istio with a destinationRule needs neither canary nor stable Service."""
    raw = copy.deepcopy(CANARY)
    canary = raw["spec"]["strategy"]["canary"]
    del canary["stableService"], canary["canaryService"]
    canary["trafficRouting"] = {
        "istio": {"virtualService": {"name": "vs", "routes": ["primary"]},
                  "destinationRule": {"name": "dr", "canarySubsetName": "canary", "stableSubsetName": "stable"}},
        "managedRoutes": [{"name": "hdr"}, {"name": "mirror"}],
    }
    canary["steps"].append({"setMirrorRoute": {"name": "mirror", "percentage": 50, "match": [
        {"method": {"exact": "GET"}, "path": {"prefix": "/"}, "headers": {"x": {"regex": "y.*"}}}]}})
    assert check_rollout(raw)[1] == []


@pytest.mark.parametrize("base", [pytest.param(CANARY, id="canary"), pytest.param(BLUE_GREEN, id="blue-green")])
def test_the_valid_bases_have_no_problems(base: dict[str, Any]) -> None:
    assert check_rollout(copy.deepcopy(base)) == (Rollout.model_validate(base), [])


def test_examples_are_valid() -> None:
    count = 0
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc.get("kind") == "Rollout":
                assert check_rollout(doc)[1] == [], path.name
                count += 1
    assert count >= 6


SHAPE_ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    ("replicas-not-an-int", {"spec": {"replicas": "three"}}, "spec.replicas", "valid integer"),
    (
        "max-surge-a-list",
        {"spec": {"strategy": {"canary": {"maxSurge": [1]}}}},
        "spec.strategy.canary.maxSurge",
        "valid",
    ),
    (
        "steps-not-a-list",
        {"spec": {"strategy": {"canary": {"steps": {"setWeight": 1}}}}},
        "spec.strategy.canary.steps",
        "valid list",
    ),
    (
        "set-weight-a-string",
        {"spec": {"strategy": {"canary": {"steps": [{"setWeight": "ten"}]}}}},
        "spec.strategy.canary.steps[0].setWeight",
        "valid integer",
    ),
    (
        "template-name-missing",
        {"spec": {"strategy": {"canary": {"steps": [{"analysis": {"templates": [{}]}}]}}}},
        "spec.strategy.canary.steps[0].analysis.templates[0].templateName",
        "Required value",
    ),
    ("bad-timestamp", {"spec": {"restartAt": "yesterday"}}, "spec.restartAt", "datetime"),
    (
        "bad-value-from",
        {
            "spec": {
                "strategy": {
                    "canary": {
                        "steps": [
                            {
                                "analysis": {
                                    "templates": [{"templateName": "t"}],
                                    "args": [{"name": "a", "valueFrom": {"podTemplateHashValue": "Newest"}}],
                                }
                            }
                        ]
                    }
                }
            }
        },
        "spec.strategy.canary.steps[0].analysis.args[0].valueFrom.podTemplateHashValue",
        "Stable",
    ),
]


@pytest.mark.parametrize(("raw", "field", "fragment"), [pytest.param(r, f, m, id=i) for i, r, f, m in SHAPE_ERRORS])
def test_shape_errors_become_problems_not_exceptions(raw: dict[str, Any], field: str, fragment: str) -> None:
    rollout, problems = parse_rollout(raw)
    assert rollout is None
    assert [p.field for p in problems] == [field]
    assert fragment in problems[0].message


def test_parse_rollout_rejects_a_non_object() -> None:
    rollout, problems = parse_rollout(["not", "a", "rollout"])  # type: ignore[arg-type]
    assert rollout is None and "must be an object" in problems[0].message


def test_validate_collects_every_problem() -> None:
    raw = copy.deepcopy(CANARY)
    raw["spec"]["replicas"] = -1
    raw["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] = 101
    problems = validate_rollout(Rollout.model_validate(raw))
    assert {p.field for p in problems} == {"spec.replicas", "spec.strategy.canary.steps[0].setWeight"}


def test_invalid_spec_message_names_the_fields() -> None:
    one = [SpecProblem("spec.replicas", "must be greater than or equal to 0")]
    assert invalid_spec_message(one, name="demo") == (
        'The Rollout "demo" is invalid: spec.replicas: must be greater than or equal to 0'
    )
    two = [*one, SpecProblem("spec.strategy", "Multiple Strategies can not be listed")]
    assert invalid_spec_message(two) == (
        "The Rollout is invalid: spec.replicas: must be greater than or equal to 0; "
        "spec.strategy: Multiple Strategies can not be listed"
    )


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
_CORRUPTIBLE = [("canary", p) for p in _paths(CANARY["spec"]) if p] + [
    ("blue-green", p) for p in _paths(BLUE_GREEN["spec"]) if p
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_CORRUPTIBLE), _JSON)
def test_any_corruption_of_a_valid_spec_gives_problems_never_an_exception(
    target: tuple[str, tuple[Any, ...]], value: Any
) -> None:
    base, path = target
    raw = copy.deepcopy(CANARY if base == "canary" else BLUE_GREEN)
    node: Any = raw["spec"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    rollout, problems = check_rollout(raw)
    assert rollout is not None or problems
    assert all(isinstance(p, SpecProblem) and p.message for p in problems)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(
            _set(f"{S}.steps.0.setWeight", 150),
            'The Rollout "demo" is invalid: spec.strategy.canary.steps[0].setWeight: Invalid value: 150: '
            "SetWeight needs to be between 0 and 100",
            id="set-weight",
        ),
        pytest.param(
            _delete("selector"),
            "The Rollout \"demo\" is invalid: spec.selector: Required value: Rollout has missing field '.spec.selector'",
            id="selector",
        ),
        pytest.param(
            _set(f"{S}.canaryService", "demo-stable"),
            'The Rollout "demo" is invalid: spec.strategy.canary.stableService: Invalid value: "demo-stable": This '
            "rollout uses the same service for the stable and canary services, but two different services are "
            "required.",
            id="same-services",
        ),
    ],
)
def test_messages_read_like_argos(mutate: Mutation, expected: str) -> None:
    raw = copy.deepcopy(CANARY)
    mutate(raw["spec"])
    _, problems = check_rollout(raw)
    assert invalid_spec_message(problems, name="demo") == expected
