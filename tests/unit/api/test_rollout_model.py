"""The Rollout model against real manifests: parsing, defaults, aliases and lossless round trips."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

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
    gateway = canary.traffic_routing.gateway_api()
    assert gateway is not None
    assert gateway.http_route_names() == ["a", "b"]
    assert gateway.namespace == "web"
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
