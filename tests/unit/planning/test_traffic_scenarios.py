"""Traffic-routed canaries: pods follow the weight, the router follows the pods, stable stays full."""

from __future__ import annotations

from typing import Any

from rollouts.planning import SetCanaryWeight, SetServiceSelector
from tests.unit.planning.world import World, canary_rollout

NGINX: dict[str, Any] = {"nginx": {"stableIngress": "web"}}


def routed(replicas: int = 10, steps: list[dict[str, Any]] | None = None, **canary: Any) -> World:
    world = World(
        canary_rollout(
            replicas=replicas,
            steps=steps or [],
            stableService="web-stable",
            canaryService="web-canary",
            trafficRouting=canary.pop("trafficRouting", NGINX),
            **canary,
        ),
        services={"web-stable": {"app": "web"}, "web-canary": {"app": "web"}},
        traffic_routed=True,
    )
    world.run()
    return world


def promote(world: World) -> None:
    world.patch_status(pauseConditions=None)


def test_initial_deploy_points_both_services_at_the_stable_and_sends_no_canary_traffic() -> None:
    world = routed()
    stable = world.hash_of("web:1")
    assert world.selector("web-stable") == {"app": "web", "rollouts-pod-template-hash": stable}
    assert world.selector("web-canary") == {"app": "web", "rollouts-pod-template-hash": stable}
    assert world.weight == 0
    assert world.status["phase"] == "Healthy"


def test_weight_5_needs_one_canary_pod_and_stable_stays_full() -> None:
    world = routed(steps=[{"setWeight": 5}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    assert world.counts() == {"web:1": 10, "web:2": 1}
    assert world.weight == 5
    assert world.selector("web-canary")["rollouts-pod-template-hash"] == world.hash_of("web:2")
    assert world.selector("web-stable")["rollouts-pod-template-hash"] == world.hash_of("web:1")
    weights = world.status["canary"]["weights"]
    assert weights["canary"] == {"weight": 5, "podTemplateHash": world.hash_of("web:2"), "serviceName": "web-canary"}
    assert weights["stable"] == {"weight": 95, "podTemplateHash": world.hash_of("web:1"), "serviceName": "web-stable"}
    promote(world)
    world.run()
    assert world.counts() == {"web:1": 10, "web:2": 5}
    assert world.weight == 50


def test_traffic_moves_only_after_the_canary_pods_are_available() -> None:
    world = routed(steps=[{"setWeight": 30}, {"pause": {}}])
    world.set_template("web:2")
    for _ in range(5):
        plan = world.step(settle=False)
        weights = [a.weight for a in plan.actions if isinstance(a, SetCanaryWeight)]
        assert all(w == 0 for w in weights), weights
    assert world.weight == 0
    world.run()
    assert world.weight == 30


def test_promotion_switches_stable_service_then_drops_weight_and_delays_old_scale_down() -> None:
    world = routed(steps=[{"setWeight": 50}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    promote(world)
    plan = world.run()
    new = world.hash_of("web:2")
    assert world.selector("web-stable")["rollouts-pod-template-hash"] == new
    assert world.selector("web-canary")["rollouts-pod-template-hash"] == new
    assert world.weight == 0
    assert world.status["stableRS"] == new
    # the old stable keeps its pods until the scale-down deadline (30 s by default with traffic routing)
    assert world.counts() == {"web:1": 10, "web:2": 10}
    old_rs = next(
        rs for rs in world.replica_sets.values() if rs["metadata"]["labels"]["rollouts-pod-template-hash"] != new
    )
    assert old_rs["metadata"]["annotations"]["scale-down-deadline"] == "2026-01-01T12:00:30Z"
    assert plan.requeue_after == 30
    world.advance(30)
    world.run()
    assert world.counts() == {"web:2": 10}
    assert "scale-down-deadline" not in old_rs["metadata"]["annotations"]
    assert world.status["phase"] == "Healthy"


def test_selector_switch_happens_before_the_weight_drop_in_the_same_plan() -> None:
    world = routed(steps=[{"setWeight": 50}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    promote(world)
    for _ in range(10):
        plan = world.step()
        kinds = [type(a) for a in plan.actions if isinstance(a, SetServiceSelector | SetCanaryWeight)]
        if SetCanaryWeight in kinds and world.weight == 0 and SetServiceSelector in kinds:
            assert kinds.index(SetServiceSelector) < kinds.index(SetCanaryWeight)
    assert world.weight == 0


def test_set_canary_scale_sizes_the_canary_independently_of_traffic() -> None:
    steps: list[dict[str, Any]] = [
        {"setCanaryScale": {"replicas": 3}},
        {"setWeight": 10},
        {"pause": {}},
        {"setCanaryScale": {"weight": 50}},
        {"pause": {}},
        {"setCanaryScale": {"matchTrafficWeight": True}},
        {"pause": {}},
    ]
    world = routed(steps=steps)
    world.set_template("web:2")
    world.run()
    assert world.counts()["web:2"] == 3 and world.weight == 10
    promote(world)
    world.run()
    assert world.counts()["web:2"] == 5 and world.weight == 10
    promote(world)
    world.run()
    assert world.counts()["web:2"] == 1 and world.weight == 10


def test_min_pods_per_replica_set_floors_the_canary() -> None:
    world = routed(steps=[{"setWeight": 5}, {"pause": {}}], minPodsPerReplicaSet=2)
    world.set_template("web:2")
    world.run()
    assert world.counts()["web:2"] == 2


def test_max_traffic_weight_scales_weights_and_pods() -> None:
    routing = {"nginx": {"stableIngress": "web"}, "maxTrafficWeight": 1000}
    world = routed(steps=[{"setWeight": 50}, {"pause": {}}], trafficRouting=routing)
    world.set_template("web:2")
    world.run()
    assert world.weight == 50
    assert world.counts()["web:2"] == 1  # 5% of 10 pods
    assert world.status["canary"]["weights"]["stable"]["weight"] == 950


def test_header_routes_are_set_by_steps_and_removed_at_the_end() -> None:
    route = {"name": "beta", "match": [{"headerName": "x-beta", "headerValue": {"exact": "yes"}}]}
    routing = {**NGINX, "managedRoutes": [{"name": "beta"}]}
    world = routed(steps=[{"setWeight": 10}, {"setHeaderRoute": route}, {"pause": {}}], trafficRouting=routing)
    assert world.status["phase"] == "Healthy"
    world.set_template("web:2")
    world.run()
    assert world.header_routes == ("beta",)
    promote(world)
    world.run()
    assert not world.header_routes
    assert world.status["phase"] == "Healthy"


def test_abort_sends_traffic_back_first_and_scales_the_canary_down_after_the_delay() -> None:
    world = routed(steps=[{"setWeight": 40}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    world.patch_status(abort=True)
    plan = world.run()
    assert world.weight == 0
    assert world.selector("web-canary")["rollouts-pod-template-hash"] == world.hash_of("web:1")
    assert world.counts() == {"web:1": 10, "web:2": 4}
    assert plan.requeue_after == 30
    assert world.status["phase"] == "Degraded"
    world.advance(30)
    world.run()
    assert world.counts() == {"web:1": 10}


def test_abort_scale_down_delay_zero_keeps_the_canary() -> None:
    world = routed(steps=[{"setWeight": 40}, {"pause": {}}], abortScaleDownDelaySeconds=0)
    world.set_template("web:2")
    world.run()
    world.patch_status(abort=True)
    world.run()
    world.advance(3600)
    world.run()
    assert world.counts() == {"web:1": 10, "web:2": 4}
    assert world.weight == 0


def test_dynamic_stable_scale_shrinks_stable_as_traffic_moves_and_restores_it_before_traffic_returns() -> None:
    world = routed(steps=[{"setWeight": 60}, {"pause": {}}], dynamicStableScale=True)
    world.set_template("web:2")
    world.run()
    assert world.weight == 60
    assert world.counts() == {"web:1": 4, "web:2": 6}
    world.patch_status(abort=True)
    for _ in range(20):
        world.step(settle=False)
        stable_available = sum(
            rs["status"]["availableReplicas"]
            for rs in world.replica_sets.values()
            if rs["metadata"]["labels"]["rollouts-pod-template-hash"] == world.hash_of("web:1")
        )
        # stable must have pods for every share of traffic it receives
        assert stable_available * 100 >= (100 - world.weight) * 10 - 100
        world.settle()
    world.advance(30)
    world.run()
    assert world.counts() == {"web:1": 10}
    assert world.weight == 0


def test_router_error_is_invalid_spec_and_nothing_is_applied() -> None:
    world = routed()
    world.traffic_error = "Ingress 'web' has no rule for service 'web-stable'"
    plan = world.plan()
    assert plan.mutations == ()
    assert plan.status["phase"] == "Degraded"
    assert "spec.strategy.canary.trafficRouting" in plan.status["message"]
    assert "no rule for service" in plan.status["message"]


def test_a_hand_edited_weight_is_corrected() -> None:
    world = routed(steps=[{"setWeight": 20}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    world.weight = 70  # someone edited the Ingress
    plan = world.plan()
    assert SetCanaryWeight(20, (), canary_hash=world.hash_of("web:2"), stable_hash=world.hash_of("web:1")) in plan.actions
    world.run()
    assert world.weight == 20


def test_a_hand_edited_stable_selector_is_put_back() -> None:
    world = routed(steps=[{"setWeight": 20}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    world.selector("web-stable")["rollouts-pod-template-hash"] = world.hash_of("web:2")
    world.run()
    assert world.selector("web-stable")["rollouts-pod-template-hash"] == world.hash_of("web:1")


def test_scale_down_delay_revision_limit_keeps_only_the_newest_old_revisions_up() -> None:
    world = routed(replicas=2, steps=[{"setWeight": 50}, {"pause": {}}], scaleDownDelayRevisionLimit=1)
    for image in ("web:2", "web:3"):
        world.set_template(image)
        world.run()
        promote(world)
        world.run()
    # web:2 (the previous stable) waits for its deadline; web:1 is beyond the limit and goes now
    assert world.counts() == {"web:2": 2, "web:3": 2}
    world.advance(30)
    world.run()
    assert world.counts() == {"web:3": 2}


def test_previous_stable_kept_for_its_delay_is_scaled_down_even_when_the_next_update_aborts() -> None:
    """v1 -> v2 promoted (v1 kept up for scaleDownDelaySeconds), v3 starts within that delay and is aborted:
    v1 must still go away at its deadline, not stay up forever."""
    from datetime import timedelta

    world = routed(replicas=4, steps=[{"setWeight": 25}, {"pause": {}}], scaleDownDelaySeconds=30)
    world.set_template("web:2")
    world.run()
    promote(world)
    world.run()
    assert world.status["stableRS"] == world.hash_of("web:2")
    assert world.counts()["web:1"] == 4, "the previous stable is kept up for scaleDownDelaySeconds"
    world.set_template("web:3")
    world.run()
    world.patch_status(abort=True)
    world.run()
    assert world.status["phase"] == "Degraded"
    world.now += timedelta(seconds=31)
    world.run()
    assert world.counts().get("web:1", 0) == 0


def test_ping_pong_alternates_the_stable_service_as_argos_alb_ping_pong_e2e() -> None:
    # Argo's e2e TestALBPingPongUpdate (functional/alb-pingpong-rollout.yaml): the initial deploy makes ping
    # the stable; an update points the canary (pong) at the new revision; promotion makes pong the stable,
    # and the next update points ping at the newest revision.
    world = World(
        canary_rollout(replicas=2, steps=[{"setWeight": 25}, {"pause": {}}],
                       pingPong={"pingService": "ping", "pongService": "pong"},
                       trafficRouting={"alb": {"ingress": "i", "rootService": "root", "servicePort": 80}}),
        services={"ping": {"app": "web"}, "pong": {"app": "web"}},
        traffic_routed=True,
    )
    world.run()
    assert world.status["canary"]["stablePingPong"] == "ping"
    assert world.selector("ping") == {"app": "web"} and world.selector("pong") == {"app": "web"}
    world.set_template("web:2")
    world.run()
    assert world.selector("pong")["rollouts-pod-template-hash"] == world.hash_of("web:2")
    assert world.selector("ping") == {"app": "web"}
    assert world.weight == 25 and world.status["canary"]["stablePingPong"] == "ping"
    promote(world)
    world.run()
    assert world.status["canary"]["stablePingPong"] == "pong"
    world.set_template("web:3")
    world.run()
    assert world.selector("ping")["rollouts-pod-template-hash"] == world.hash_of("web:3")
    assert world.selector("pong")["rollouts-pod-template-hash"] == world.hash_of("web:2")


def test_an_old_revision_waiting_for_its_scale_down_delay_does_not_time_the_update_out() -> None:
    # Argo's TestCanaryScaleDownDelayWithProgressDeadline (functional/canary-scaledowndelay.yaml, ALB): with
    # progressDeadlineSeconds 5 the promoted update stays Healthy while the old stable keeps its pods for the
    # default 30 s scale-down delay (Argo's isWaitingForReplicaSetScaleDown stops the deadline).
    manifest = canary_rollout(replicas=1, stableService="web-stable", canaryService="web-canary",
                              trafficRouting={"alb": {"ingress": "i", "rootService": "root", "servicePort": 80}})
    manifest["spec"]["progressDeadlineSeconds"] = 5
    world = World(manifest, services={"web-stable": {"app": "web"}, "web-canary": {"app": "web"}},
                  traffic_routed=True)
    world.run()
    world.set_template("web:2")
    world.run()
    assert world.counts() == {"web:1": 1, "web:2": 1}
    for _ in range(3):
        world.advance(4)
        world.run()
        assert world.condition("Progressing")["reason"] != "ProgressDeadlineExceeded"
        assert world.status["phase"] != "Degraded"
    world.advance(30)
    world.run()
    assert world.counts() == {"web:2": 1} and world.status["phase"] == "Healthy"


def test_subset_level_splitting_waits_for_the_pods_before_moving_a_subset() -> None:
    """Argo's shouldDelayDestinationRuleUpdate (argo-rollouts#2507, TestShouldDelayDestinationRuleUpdate): with no
    canary or stable Service the DestinationRule subsets alone select pods, so the canary subset moves to the new
    hash only once that ReplicaSet's pods are available; then the weight follows."""
    istio = {"istio": {"virtualService": {"name": "vs"}, "destinationRule": {
        "name": "dr", "canarySubsetName": "canary", "stableSubsetName": "stable"}}}
    world = World(canary_rollout(replicas=4, steps=[{"setWeight": 25}, {"pause": {}}], trafficRouting=istio),
                  traffic_routed=True, pod_hashes=("", ""))
    world.run()
    blue = world.hash_of("web:1")
    assert world.pod_hashes == (blue, blue)
    world.set_template("web:2")
    plan = world.step(settle=False)  # the green ReplicaSet is created, its pods are not available yet
    green = world.hash_of("web:2")
    assert not [a for a in plan.actions if isinstance(a, SetCanaryWeight)]
    plan = world.plan()
    assert not [a for a in plan.actions if isinstance(a, SetCanaryWeight)], "subset moved before the pods were up"
    world.settle()
    world.run()
    assert world.pod_hashes == (green, blue)
    assert world.weight == 25
    promote(world)
    world.run()
    assert world.pod_hashes == (green, green)
    assert world.weight == 0


def test_a_held_back_router_change_wakes_the_plan_when_it_is_due_and_the_canary_waits_for_it() -> None:
    """Ambassador after an abort: the canary Mapping is at weight 0, its delete due 5 s after that write. The
    routers report no weight in effect yet and when it settles; the plan asks for weight 0 again, wakes then,
    and does not scale the canary down before the traffic is gone."""
    import dataclasses
    from datetime import timedelta

    from rollouts.planning import ObservedTraffic, ScaleReplicaSet, plan_rollout

    world = routed(replicas=4, steps=[{"setWeight": 50}, {"pause": {}}])
    world.set_template("web:2")
    world.run()
    assert world.weight == 50
    world.patch_status(abort=True)
    due = world.now + timedelta(seconds=4)
    observed = dataclasses.replace(world.observe(), traffic=ObservedTraffic(None, settles_at=due))
    plan = plan_rollout(observed, now=world.now)
    assert [a.weight for a in plan.actions if isinstance(a, SetCanaryWeight)] == [0]
    assert plan.requeue_after is not None and plan.requeue_after <= 4.0
    canary = world.replica_sets[next(n for n, rs in world.replica_sets.items()
                                     if rs["metadata"]["labels"]["rollouts-pod-template-hash"] == world.hash_of("web:2"))]
    assert not [a for a in plan.actions if isinstance(a, ScaleReplicaSet) and a.name == canary["metadata"]["name"]
                and a.replicas < canary["spec"]["replicas"]]
