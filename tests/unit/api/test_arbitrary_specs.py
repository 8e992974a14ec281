"""Arbitrary Rollout and AnalysisTemplate specs and arbitrary observed states (hypothesis).

Whatever a user or another controller writes, validation and planning never raise, and every rejection names
the field it is about, so the controller can always answer with an InvalidSpec condition (or the linter with
a line) instead of a crash or a message nobody can act on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from analysis.run import validate_metrics
from rollouts.api.analysis import Metric
from rollouts.api.validation import check_rollout
from rollouts.cli.lint import template_problems
from rollouts.planning import plan_rollout
from rollouts.planning.observed import (
    ObservedAnalysisRun,
    ObservedPod,
    ObservedReplicaSet,
    ObservedRollout,
    ObservedService,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FIELD_ROOTS = ("spec", "metadata", "apiVersion", "kind", "status")

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["10%", "25%", "1", "-1", "1h", "30s", "abc", "", "0"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=8)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes anything at all."""
    return st.one_of(value, value, value, json_values)


durations = st.sampled_from(["10s", "1m", 5, "0", "-1s", "1h30m", "bogus", ""])
steps = st.lists(maybe(st.one_of(
    st.fixed_dictionaries({"setWeight": maybe(st.integers(-10, 120))}),
    st.fixed_dictionaries({"pause": maybe(st.fixed_dictionaries({}, optional={"duration": durations}))}),
    st.fixed_dictionaries({"setCanaryScale": maybe(st.fixed_dictionaries({}, optional={
        "weight": st.integers(-5, 105), "replicas": st.integers(-2, 10), "matchTrafficWeight": st.booleans()}))}),
    st.fixed_dictionaries({"analysis": maybe(st.fixed_dictionaries({"templates": st.lists(st.fixed_dictionaries(
        {"templateName": st.sampled_from(["t", "", "missing"])}, optional={"clusterScope": st.booleans()}),
        max_size=2)}))}),
    st.fixed_dictionaries({"setHeaderRoute": maybe(st.fixed_dictionaries({"name": st.text(max_size=5)}))}),
    st.fixed_dictionaries({"experiment": json_values}),
    st.dictionaries(st.sampled_from(["setWeight", "pause", "plugin", "setMirrorRoute"]), json_values, max_size=2),
)), max_size=5)
canary = st.fixed_dictionaries({}, optional={
    "steps": steps, "maxSurge": maybe(st.sampled_from([0, 1, "25%", "0%", "150%"])),
    "maxUnavailable": maybe(st.sampled_from([0, 1, "25%", "100%"])), "stableService": st.sampled_from(["s", ""]),
    "canaryService": st.sampled_from(["c", "s"]), "trafficRouting": json_values,
    "analysis": json_values, "dynamicStableScale": maybe(st.booleans()),
})
blue_green = st.fixed_dictionaries({}, optional={
    "activeService": st.sampled_from(["a", "", "p"]), "previewService": st.sampled_from(["p", "a"]),
    "autoPromotionEnabled": maybe(st.booleans()), "autoPromotionSeconds": maybe(st.integers(-5, 100)),
    "scaleDownDelaySeconds": maybe(st.integers(-5, 100)), "previewReplicaCount": maybe(st.integers(-2, 10)),
    "prePromotionAnalysis": json_values,
})
template = st.fixed_dictionaries({
    "metadata": maybe(st.fixed_dictionaries({"labels": maybe(st.dictionaries(
        st.sampled_from(["app", "x"]), st.sampled_from(["web", "other", "ünï", ""]), max_size=2))})),
    "spec": maybe(st.fixed_dictionaries({"containers": maybe(st.lists(st.fixed_dictionaries(
        {"name": st.sampled_from(["app", ""]), "image": st.sampled_from(["web:1", "web:2"])},
        optional={"resources": json_values}), max_size=2))})),
})
status = st.fixed_dictionaries({}, optional={
    "currentStepIndex": maybe(st.integers(-3, 12)), "stableRS": st.sampled_from(["h1", "h2", "", "zz"]),
    "currentPodHash": st.sampled_from(["h1", "h2", ""]), "abort": maybe(st.booleans()),
    "pauseConditions": maybe(st.lists(st.fixed_dictionaries({"reason": st.sampled_from(["CanaryPauseStep", "x"]),
                                                             "startTime": st.sampled_from([
                                                                 "2026-01-01T00:00:00Z", "yesterday"])}),
                                      max_size=2)),
    "controllerPause": maybe(st.booleans()), "observedGeneration": maybe(st.sampled_from(["1", "2", "x"])),
    "conditions": json_values, "collisionCount": maybe(st.integers(-1, 3)),
})
rollouts = st.fixed_dictionaries({
    "apiVersion": st.just("argoproj.io/v1alpha1"), "kind": st.just("Rollout"),
    "metadata": st.fixed_dictionaries({"name": st.just("ro"), "namespace": st.just("ns"), "uid": st.just("u1"),
                                       "generation": st.integers(0, 5)}),
    "spec": maybe(st.fixed_dictionaries({}, optional={
        "replicas": maybe(st.integers(-2, 12)), "selector": maybe(st.fixed_dictionaries(
            {"matchLabels": st.dictionaries(st.sampled_from(["app"]), st.sampled_from(["web", "other"]))})),
        "template": maybe(template), "strategy": maybe(st.one_of(
            st.fixed_dictionaries({"canary": maybe(canary)}), st.fixed_dictionaries({"blueGreen": maybe(blue_green)}),
            st.fixed_dictionaries({"canary": canary, "blueGreen": blue_green}), st.just({}))),
        "paused": maybe(st.booleans()), "restartAt": st.sampled_from(["2026-01-01T00:00:00Z", "soon"]),
        "progressDeadlineSeconds": maybe(st.integers(-1, 700)), "minReadySeconds": maybe(st.integers(-1, 30)),
        "revisionHistoryLimit": maybe(st.integers(-1, 5)), "workloadRef": json_values,
    })),
    "status": maybe(status),
})


def replica_set(draw_hash: str, replicas: int, available: int, revision: str) -> dict[str, Any]:
    return {"metadata": {"name": f"ro-{draw_hash}", "namespace": "ns",
                         "labels": {"rollouts-pod-template-hash": draw_hash},
                         "annotations": {"rollout.argoproj.io/revision": revision},
                         "ownerReferences": [{"kind": "Rollout", "name": "ro", "uid": "u1", "controller": True}],
                         "creationTimestamp": "2025-12-31T23:00:00Z"},
            "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": "web"}}}},
            "status": {"replicas": max(replicas, 0), "readyReplicas": available, "availableReplicas": available}}


replica_sets = st.lists(st.builds(replica_set, st.sampled_from(["h1", "h2", "h3", ""]), st.integers(-1, 12),
                                  st.integers(-1, 12), st.sampled_from(["1", "2", "3", "x", ""])), max_size=4)
services = st.dictionaries(st.sampled_from(["s", "c", "a", "p"]), st.one_of(st.none(), st.builds(
    ObservedService, st.sampled_from(["s", "c", "a", "p"]), st.dictionaries(
        st.sampled_from(["app", "rollouts-pod-template-hash"]), st.sampled_from(["web", "h1", "h2"])))), max_size=4)
runs = st.lists(st.builds(lambda name, phase, hash_: {
    "metadata": {"name": name, "namespace": "ns", "ownerReferences": [{"kind": "Rollout", "name": "ro", "uid": "u1",
                                                                        "controller": True}],
                 "labels": {"rollouts-pod-template-hash": hash_}, "annotations": {}},
    "spec": {"metrics": []}, "status": {"phase": phase}},
    st.sampled_from(["ro-h1-1-0", "ro-h2-2-1", "x"]), st.sampled_from(["Running", "Failed", "Successful", "", "?"]),
    st.sampled_from(["h1", "h2"])), max_size=3)
pods = st.lists(st.builds(lambda name, hash_, ready: {
    "metadata": {"name": name, "namespace": "ns", "labels": {"rollouts-pod-template-hash": hash_},
                 "creationTimestamp": "2025-12-31T23:30:00Z"},
    "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}},
    st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(["h1", "h2"]), st.booleans()), max_size=3)


plausible_steps = st.lists(st.one_of(
    st.fixed_dictionaries({"setWeight": st.integers(0, 100)}),
    st.fixed_dictionaries({"pause": st.fixed_dictionaries({}, optional={"duration": st.sampled_from(["10s", 5])})}),
    st.fixed_dictionaries({"setCanaryScale": st.one_of(st.fixed_dictionaries({"weight": st.integers(0, 100)}),
                                                       st.fixed_dictionaries({"replicas": st.integers(0, 10)}),
                                                       st.just({"matchTrafficWeight": True}))}),
), max_size=5)
plausible = st.fixed_dictionaries({
    "apiVersion": st.just("argoproj.io/v1alpha1"), "kind": st.just("Rollout"),
    "metadata": st.fixed_dictionaries({"name": st.just("ro"), "namespace": st.just("ns"), "uid": st.just("u1"),
                                       "generation": st.integers(1, 5)}),
    "spec": st.fixed_dictionaries({
        "replicas": st.integers(0, 10), "selector": st.just({"matchLabels": {"app": "web"}}),
        "template": st.fixed_dictionaries({"metadata": st.just({"labels": {"app": "web"}}), "spec": st.fixed_dictionaries(
            {"containers": st.lists(st.fixed_dictionaries({"name": st.just("app"), "image": st.sampled_from(
                ["web:1", "web:2"])}), min_size=1, max_size=1)})}),
        "strategy": st.one_of(
            st.fixed_dictionaries({"canary": st.fixed_dictionaries({"steps": plausible_steps}, optional={
                "maxSurge": st.sampled_from([0, 1, "25%"]), "maxUnavailable": st.sampled_from([0, 1, "25%"])})}),
            st.fixed_dictionaries({"blueGreen": st.fixed_dictionaries({"activeService": st.just("a")}, optional={
                "previewService": st.just("p"), "autoPromotionEnabled": st.booleans(),
                "scaleDownDelaySeconds": st.integers(0, 60), "previewReplicaCount": st.integers(0, 5)})})),
    }, optional={"paused": st.booleans(), "restartAt": st.just("2026-01-01T00:00:00Z"),
                 "progressDeadlineSeconds": st.integers(1, 700), "progressDeadlineAbort": st.booleans()}),
    "status": status,
})


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=st.one_of(rollouts, plausible, plausible), rss=replica_sets, svcs=services, ars=runs,
       observed_pods=pods, later=st.integers(0, 10_000))
def test_validation_and_planning_never_raise_and_every_rejection_names_a_field(
    raw: dict[str, Any], rss: list[dict[str, Any]], svcs: dict[str, ObservedService | None],
    ars: list[dict[str, Any]], observed_pods: list[dict[str, Any]], later: int,
) -> None:
    rollout, problems = check_rollout(raw)
    for problem in problems:
        assert problem.field and problem.field.split(".")[0].split("[")[0] in FIELD_ROOTS, problem
        assert problem.message, problem
    event("rejected" if rollout is None or problems else "planned")
    if rollout is None or problems:
        return
    observed = ObservedRollout(
        rollout=rollout, replica_sets=tuple(ObservedReplicaSet.from_object(o) for o in rss), services=svcs,
        analysis_runs=tuple(ObservedAnalysisRun.from_object(o) for o in ars),
        pods=tuple(ObservedPod.from_object(o) for o in observed_pods))
    plan = plan_rollout(observed, now=NOW + timedelta(seconds=later))
    assert isinstance(plan.status, dict) and plan.status.get("phase"), plan.status


metrics = st.lists(maybe(st.fixed_dictionaries({"name": st.sampled_from(["m", "n", ""])}, optional={
    "successCondition": st.sampled_from(["result[0] >= 0.95", "result >", "len(result) > 0", "{{args.x}} > 1", ""]),
    "failureCondition": st.sampled_from(["result < 0", "((", "isNaN(result)"]),
    "interval": durations, "initialDelay": durations, "count": maybe(st.sampled_from([1, 3, "{{args.n}}", "x"])),
    "failureLimit": maybe(st.integers(-1, 3)), "consecutiveErrorLimit": maybe(st.integers(-1, 5)),
    "provider": maybe(st.one_of(
        st.fixed_dictionaries({"prometheus": maybe(st.fixed_dictionaries({"address": st.just("http://p"),
                                                                          "query": st.just("up")}))}),
        st.fixed_dictionaries({"web": maybe(st.fixed_dictionaries({"url": st.just("http://w")}, optional={
            "jsonPath": st.sampled_from(["{$.a}", "{$.[", "$"])}))}),
        st.fixed_dictionaries({"job": json_values}), st.just({}), st.fixed_dictionaries({"appdynamics": json_values}),
    )),
})), max_size=3)
templates = st.fixed_dictionaries({
    "apiVersion": st.just("argoproj.io/v1alpha1"), "kind": st.sampled_from(["AnalysisTemplate", "ClusterAnalysisTemplate"]),
    "metadata": st.just({"name": "t"}),
    "spec": maybe(st.fixed_dictionaries({"metrics": metrics}, optional={"args": maybe(st.lists(
        st.fixed_dictionaries({"name": st.sampled_from(["x", "n", ""])}, optional={"value": st.text(max_size=4)}),
        max_size=2))})),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(doc=templates)
def test_analysis_template_validation_never_raises_and_every_rejection_names_a_field(doc: dict[str, Any]) -> None:
    for field, message in template_problems(doc):
        assert field and field.split(".")[0].split("[")[0] in FIELD_ROOTS, (field, message)
        assert message
    parsed = []
    for raw in (doc.get("spec") or {}).get("metrics") or [] if isinstance(doc.get("spec"), dict) else []:
        try:
            parsed.append(Metric.model_validate(raw))
        except Exception:  # a shape the model rejects is reported by template_problems above
            continue
    problem = validate_metrics(parsed, ["prometheus", "web", "job"])
    assert problem is None or problem.startswith(("metric ", "the run has no metrics")), problem
