"""The Rollout model against real manifests: parsing, defaults, aliases and lossless round trips."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rollouts.api.common import AnalysisPhase, LabelSelector, ObjectMeta, parse_time
from rollouts.api.rollout import (
    ConditionType,
    PauseReason,
    PodTemplateHashValue,
    Rollout,
    RolloutPause,
    RolloutPhase,
    RolloutStatus,
    StepKind,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _rollout_documents() -> list[Any]:
    params = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "Rollout":
                params.append(pytest.param(doc, id=path.stem))
    return params


EXAMPLE_ROLLOUTS = _rollout_documents()


def test_every_example_kind_is_covered() -> None:
    names = {p.id for p in EXAMPLE_ROLLOUTS}
    assert {
        "canary-basic",
        "canary-nginx",
        "canary-gateway-api",
        "bluegreen",
        "canary-analysis",
        "workloadref",
    } <= names


@pytest.mark.parametrize("raw", EXAMPLE_ROLLOUTS)
def test_examples_round_trip_unchanged(raw: dict[str, Any]) -> None:
    rollout = Rollout.model_validate(raw)
    assert rollout.model_dump(by_alias=True, exclude_none=True) == raw
    assert rollout.to_dict() == raw


ARGO_STATUS: dict[str, Any] = {
    "HPAReplicas": 5,
    "abort": True,
    "abortedAt": "2024-05-01T10:00:00Z",
    "availableReplicas": 5,
    "blueGreen": {},
    "canary": {
        "currentStepAnalysisRunStatus": {"name": "demo-6c8f9d7b5-2-1", "status": "Running"},
        "weights": {
            "canary": {"podTemplateHash": "7d9f8c6b4", "serviceName": "demo-canary", "weight": 20},
            "stable": {"podTemplateHash": "6c8f9d7b5", "serviceName": "demo-stable", "weight": 80},
        },
    },
    "conditions": [
        {
            "lastTransitionTime": "2024-05-01T09:00:00Z",
            "lastUpdateTime": "2024-05-01T09:00:00Z",
            "message": "Rollout has minimum availability",
            "reason": "AvailableReason",
            "status": "True",
            "type": "Available",
        },
        {
            "lastTransitionTime": "2024-05-01T10:00:00Z",
            "lastUpdateTime": "2024-05-01T10:00:00Z",
            "message": "Rollout aborted update to revision 2",
            "reason": "RolloutAborted",
            "status": "False",
            "type": "Progressing",
        },
    ],
    "controllerPause": True,
    "currentPodHash": "7d9f8c6b4",
    "currentStepHash": "5f8b7c9d6",
    "currentStepIndex": 0,
    "message": "RolloutAborted: Rollout aborted update to revision 2",
    "observedGeneration": "3",
    "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2024-05-01T09:30:00Z"}],
    "phase": "Degraded",
    "readyReplicas": 5,
    "replicas": 5,
    "selector": "app=demo",
    "stableRS": "6c8f9d7b5",
    "updatedReplicas": 0,
}


def test_argo_status_parses_into_typed_fields_and_round_trips() -> None:
    status = RolloutStatus.model_validate(ARGO_STATUS)
    assert status.hpa_replicas == 5
    assert status.stable_rs == "6c8f9d7b5"
    assert status.observed_generation == "3"
    assert status.phase is RolloutPhase.DEGRADED
    assert status.pause_conditions is not None
    assert status.pause_conditions[0].reason is PauseReason.CANARY_PAUSE_STEP
    assert status.pause_conditions[0].start_time == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    progressing = status.condition(ConditionType.PROGRESSING)
    assert progressing is not None and progressing.reason == "RolloutAborted"
    assert status.canary is not None and status.canary.weights is not None
    assert status.canary.weights.canary.weight == 20
    assert status.canary.current_step_analysis_run_status is not None
    assert status.canary.current_step_analysis_run_status.status is AnalysisPhase.RUNNING
    assert status.model_dump(by_alias=True, exclude_none=True, mode="json") == ARGO_STATUS


def test_unknown_status_values_from_newer_argo_still_parse() -> None:
    status = RolloutStatus.model_validate(
        {
            "pauseConditions": [{"reason": "SomeFutureReason", "startTime": "2024-05-01T09:30:00Z"}],
            "conditions": [{"type": "FutureCondition", "status": "True"}],
            "futureField": {"x": 1},
        }
    )
    assert status.pause_conditions is not None and status.pause_conditions[0].reason == "SomeFutureReason"
    assert status.model_dump(by_alias=True, exclude_none=True, mode="json")["futureField"] == {"x": 1}


MINIMAL = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Rollout",
    "metadata": {"name": "demo"},
    "spec": {"strategy": {"canary": {"trafficRouting": {"nginx": {"stableIngress": "demo"}}}}},
}


def test_defaults_are_visible_to_readers_but_never_written_back() -> None:
    rollout = Rollout.model_validate(MINIMAL)
    spec = rollout.spec
    canary = spec.strategy.canary
    assert canary is not None and canary.traffic_routing is not None and canary.traffic_routing.nginx is not None
    assert (spec.replicas, spec.revision_history_limit, spec.progress_deadline_seconds) == (1, 10, 600)
    assert (spec.paused, spec.progress_deadline_abort, spec.min_ready_seconds) == (False, False, 0)
    assert (canary.max_surge, canary.max_unavailable) == ("25%", "25%")
    assert canary.traffic_routing.max_traffic_weight == 100
    assert canary.traffic_routing.nginx.annotation_prefix == "nginx.ingress.kubernetes.io"
    assert rollout.to_dict() == MINIMAL


def test_blue_green_defaults() -> None:
    rollout = Rollout.model_validate({"spec": {"strategy": {"blueGreen": {"activeService": "a"}}}})
    blue_green = rollout.spec.strategy.blue_green
    assert blue_green is not None
    assert blue_green.auto_promotion_enabled is True
    assert (blue_green.scale_down_delay_seconds, blue_green.abort_scale_down_delay_seconds) == (30, 30)
    assert blue_green.preview_replica_count is None


@pytest.mark.parametrize(
    ("canary", "scale_down", "abort_scale_down"),
    [
        pytest.param({}, 0, 0, id="basic-canary-has-no-delays"),
        pytest.param({"trafficRouting": {"nginx": {"stableIngress": "i"}}}, 30, 30, id="traffic-routing-30s"),
        pytest.param(
            {
                "trafficRouting": {"nginx": {"stableIngress": "i"}},
                "scaleDownDelaySeconds": 5,
                "abortScaleDownDelaySeconds": 0,
            },
            5,
            0,
            id="explicit-values-win",
        ),
    ],
)
def test_canary_scale_down_delays_depend_on_traffic_routing(
    canary: dict[str, Any], scale_down: int, abort_scale_down: int
) -> None:
    strategy = Rollout.model_validate({"spec": {"strategy": {"canary": canary}}}).spec.strategy.canary
    assert strategy is not None
    assert strategy.effective_scale_down_delay_seconds() == scale_down
    assert strategy.effective_abort_scale_down_delay_seconds() == abort_scale_down


def test_step_kinds_and_unknown_keys() -> None:
    rollout = Rollout.model_validate(
        {
            "spec": {
                "strategy": {
                    "canary": {
                        "steps": [
                            {"setWeight": 0},
                            {"pause": {}},
                            {"setCanaryScale": {"matchTrafficWeight": True}},
                            {"setWieght": 10},
                            {"setWeight": 10, "pause": {}},
                        ]
                    }
                }
            }
        }
    )
    canary = rollout.spec.strategy.canary
    assert canary is not None and canary.steps is not None
    steps = canary.steps
    assert [s.kind for s in steps] == [StepKind.SET_WEIGHT, StepKind.PAUSE, StepKind.SET_CANARY_SCALE, None, None]
    assert steps[3].unknown_keys() == ["setWieght"]
    assert steps[4].kinds() == [StepKind.SET_WEIGHT, StepKind.PAUSE]


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        pytest.param(None, None, id="indefinite"),
        pytest.param(30, 30.0, id="int"),
        pytest.param("30", 30.0, id="digit-string"),
        pytest.param("1h30m", 5400.0, id="go-string"),
    ],
)
def test_pause_duration_seconds(duration: int | str | None, seconds: float | None) -> None:
    assert RolloutPause(duration=duration).duration_seconds() == seconds


def test_analysis_args_value_from() -> None:
    raw = {
        "spec": {
            "strategy": {
                "canary": {
                    "steps": [
                        {
                            "analysis": {
                                "templates": [{"templateName": "t", "clusterScope": True}],
                                "args": [
                                    {"name": "hash", "valueFrom": {"podTemplateHashValue": "Stable"}},
                                    {"name": "ns", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                                ],
                            }
                        }
                    ]
                }
            }
        }
    }
    canary = Rollout.model_validate(raw).spec.strategy.canary
    assert canary is not None and canary.steps is not None
    analysis = canary.steps[0].analysis
    assert analysis is not None and analysis.args is not None and analysis.templates is not None
    assert analysis.templates[0].cluster_scope is True
    assert analysis.args[0].value_from is not None
    assert analysis.args[0].value_from.pod_template_hash_value is PodTemplateHashValue.STABLE
    assert analysis.args[1].value_from is not None and analysis.args[1].value_from.field_ref is not None
    assert analysis.args[1].value_from.field_ref.field_path == "metadata.namespace"


def test_gateway_api_plugin_configuration() -> None:
    raw = {
        "spec": {
            "strategy": {
                "canary": {
                    "trafficRouting": {
                        "plugins": {
                            "argoproj-labs/gatewayAPI": {
                                "httpRoutes": [{"name": "a"}, {"name": "b", "useHeaderRoutes": True}],
                                "httpRoute": "a",
                                "namespace": "web",
                            }
                        }
                    }
                }
            }
        }
    }
    canary = Rollout.model_validate(raw).spec.strategy.canary
    assert canary is not None and canary.traffic_routing is not None
    # the plugin's configuration is its own schema (read by rollouts.traffic.gatewayapi): kept verbatim
    plugin = raw["spec"]["strategy"]["canary"]["trafficRouting"]["plugins"]["argoproj-labs/gatewayAPI"]
    assert (canary.traffic_routing.plugins or {})["argoproj-labs/gatewayAPI"] == plugin
    assert canary.traffic_routing.providers() == ["plugins/argoproj-labs/gatewayAPI"]


def test_nginx_ingresses_merge_single_and_list() -> None:
    raw = {
        "spec": {
            "strategy": {
                "canary": {"trafficRouting": {"nginx": {"stableIngress": "a", "stableIngresses": ["b", "a", "c"]}}}
            }
        }
    }
    canary = Rollout.model_validate(raw).spec.strategy.canary
    assert canary is not None and canary.traffic_routing is not None and canary.traffic_routing.nginx is not None
    assert canary.traffic_routing.nginx.ingresses() == ["a", "b", "c"]


def test_other_providers_stay_open_and_round_trip() -> None:
    routing = {
        "istio": {"virtualService": {"name": "vs", "routes": ["primary"]}, "destinationRule": {"name": "dr"}},
        "alb": {"ingress": "ing", "servicePort": 80},
        "smi": {"trafficSplitName": "ts"},
    }
    raw = {"spec": {"strategy": {"canary": {"trafficRouting": routing}}}}
    rollout = Rollout.model_validate(raw)
    assert rollout.to_dict() == raw


def test_object_meta_keeps_fields_it_does_not_model() -> None:
    raw = {
        "name": "demo",
        "namespace": "ns",
        "generation": 4,
        "resourceVersion": "123",
        "uid": "u-1",
        "labels": {"app": "demo"},
        "annotations": {"rollout.argoproj.io/revision": "2"},
        "creationTimestamp": "2024-05-01T09:00:00Z",
        "managedFields": [{"manager": "kubectl"}],
        "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "u", "controller": True}],
    }
    meta = ObjectMeta.model_validate(raw)
    assert meta.annotation("rollout.argoproj.io/revision") == "2"
    assert meta.label("app") == "demo"
    assert meta.creation_timestamp == parse_time("2024-05-01T09:00:00Z")
    assert meta.model_dump(by_alias=True, exclude_none=True) == raw


def test_models_are_immutable_and_copies_record_what_changed() -> None:
    status = RolloutStatus(phase=RolloutPhase.PROGRESSING)
    with pytest.raises(ValueError, match="frozen"):
        status.phase = RolloutPhase.HEALTHY  # type: ignore[misc]
    updated = status.model_copy(update={"phase": RolloutPhase.HEALTHY, "hpa_replicas": 3})
    assert updated.model_dump(by_alias=True, exclude_none=True, mode="json") == {"phase": "Healthy", "HPAReplicas": 3}


def test_fields_populate_by_python_name_and_serialise_by_alias() -> None:
    status = RolloutStatus(stable_rs="abc", hpa_replicas=2, current_step_index=1)
    assert status.model_dump(by_alias=True, exclude_none=True) == {
        "stableRS": "abc",
        "HPAReplicas": 2,
        "currentStepIndex": 1,
    }


def test_times_serialise_as_kubernetes_writes_them() -> None:
    status = RolloutStatus(aborted_at=datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC))
    assert status.model_dump(by_alias=True, exclude_none=True) == {"abortedAt": "2024-05-01T10:00:00Z"}


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        RolloutStatus.model_validate({"abortedAt": "2024-05-01T10:00:00"})


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        pytest.param({"matchLabels": {"app": "a"}}, {"app": "a", "x": "y"}, True, id="labels-subset"),
        pytest.param({"matchLabels": {"app": "a"}}, {"app": "b"}, False, id="labels-differ"),
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}, {"tier": "web"}, True, id="in"
        ),
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]},
            {"tier": "web"},
            False,
            id="not-in",
        ),
        pytest.param({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {}, False, id="exists"),
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {}, True, id="does-not-exist"
        ),
    ],
)
def test_label_selector_matches(selector: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    assert LabelSelector.model_validate(selector).matches(labels) is expected


def _optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts holding any subset of ``fields``."""
    return st.fixed_dictionaries({}, optional=fields)


_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10)
_INT_OR_STRING = st.integers(0, 10) | st.integers(0, 100).map(lambda p: f"{p}%")
_DURATION = st.integers(0, 3600) | st.sampled_from(["30s", "1h30m", "300ms", "10"])
_LABELS = st.dictionaries(_NAME, _NAME, max_size=2)
_ANALYSIS = _optional(
    templates=st.lists(_optional(clusterScope=st.booleans()).map(lambda d: {"templateName": "t", **d}), max_size=2),
    args=st.lists(
        st.one_of(
            st.fixed_dictionaries({"name": _NAME, "value": _NAME}),
            st.fixed_dictionaries(
                {
                    "name": _NAME,
                    "valueFrom": st.fixed_dictionaries({"podTemplateHashValue": st.sampled_from(["Stable", "Latest"])}),
                }
            ),
        ),
        max_size=2,
    ),
    dryRun=st.lists(st.fixed_dictionaries({"metricName": _NAME}), max_size=1),
)
_STEP = st.one_of(
    st.fixed_dictionaries({"setWeight": st.integers(0, 100)}),
    st.fixed_dictionaries({"pause": _optional(duration=_DURATION)}),
    st.fixed_dictionaries(
        {
            "setCanaryScale": _optional(
                replicas=st.integers(0, 5), weight=st.integers(0, 100), matchTrafficWeight=st.booleans()
            )
        }
    ),
    st.fixed_dictionaries({"analysis": _ANALYSIS}),
    st.fixed_dictionaries(
        {
            "setHeaderRoute": st.fixed_dictionaries(
                {"name": _NAME},
                optional={
                    "match": st.lists(
                        st.fixed_dictionaries(
                            {"headerName": _NAME, "headerValue": _optional(exact=_NAME, prefix=_NAME)}
                        ),
                        max_size=2,
                    )
                },
            )
        }
    ),
)
_CANARY = _optional(
    stableService=_NAME,
    canaryService=_NAME,
    maxSurge=_INT_OR_STRING,
    maxUnavailable=_INT_OR_STRING,
    steps=st.lists(_STEP, max_size=6),
    scaleDownDelaySeconds=st.integers(0, 60),
    abortScaleDownDelaySeconds=st.integers(0, 60),
    dynamicStableScale=st.booleans(),
    minPodsPerReplicaSet=st.integers(1, 3),
    canaryMetadata=_optional(labels=_LABELS, annotations=_LABELS),
    analysis=_ANALYSIS.flatmap(lambda a: _optional(startingStep=st.integers(0, 3)).map(lambda s: {**a, **s})),
    trafficRouting=_optional(
        nginx=_optional(stableIngress=_NAME, stableIngresses=st.lists(_NAME, max_size=2), annotationPrefix=_NAME),
        plugins=st.fixed_dictionaries({"argoproj-labs/gatewayAPI": _optional(httpRoute=_NAME, namespace=_NAME)}),
        managedRoutes=st.lists(st.fixed_dictionaries({"name": _NAME}), max_size=2),
        maxTrafficWeight=st.integers(1, 1000),
    ),
)
_BLUE_GREEN = _optional(
    activeService=_NAME,
    previewService=_NAME,
    autoPromotionEnabled=st.booleans(),
    autoPromotionSeconds=st.integers(0, 60),
    previewReplicaCount=st.integers(0, 3),
    scaleDownDelaySeconds=st.integers(0, 60),
    prePromotionAnalysis=_ANALYSIS,
    previewMetadata=_optional(labels=_LABELS),
)
_SPEC = _optional(
    replicas=st.integers(0, 20),
    selector=st.fixed_dictionaries({"matchLabels": _LABELS}),
    template=st.fixed_dictionaries({"metadata": st.fixed_dictionaries({"labels": _LABELS})}),
    minReadySeconds=st.integers(0, 30),
    revisionHistoryLimit=st.integers(0, 10),
    paused=st.booleans(),
    progressDeadlineSeconds=st.integers(1, 900),
    progressDeadlineAbort=st.booleans(),
    restartAt=st.sampled_from(["2024-05-01T10:00:00Z"]),
    strategy=st.one_of(st.fixed_dictionaries({"canary": _CANARY}), st.fixed_dictionaries({"blueGreen": _BLUE_GREEN})),
)


@settings(max_examples=300, deadline=None)
@given(_SPEC)
@example({"strategy": {"canary": {"steps": [{"pause": {"duration": "10"}}], "maxSurge": "3", "maxUnavailable": 0}}})
def test_any_manifest_round_trips_unchanged(spec: dict[str, Any]) -> None:
    raw = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"}, "spec": spec}
    assert Rollout.model_validate(raw).to_dict() == raw


@pytest.mark.parametrize(
    "value", [pytest.param(v, id=f"{type(v).__name__}-{v}") for v in (10, "10", "25%", 0, "0", "1h30m")]
)
def test_int_or_string_keeps_the_type_the_user_wrote(value: int | str) -> None:
    raw = {"spec": {"strategy": {"canary": {"maxSurge": value, "steps": [{"pause": {"duration": value}}]}}}}
    canary = Rollout.model_validate(raw).spec.strategy.canary
    assert canary is not None and canary.steps is not None and canary.steps[0].pause is not None
    assert type(canary.max_surge) is type(value)
    assert type(canary.steps[0].pause.duration) is type(value)
