"""Whole-planner properties under random operation sequences (hypothesis).

A random story of updates, promotes, aborts, retries, manual pauses, steps edits, partial pod readiness and
time passing is played against the simulated world. Whatever happens:

* planning never raises and is deterministic (same observation -> same plan);
* a basic canary never runs more than replicas + maxSurge pods (scale-ups are bounded) and never scales
  available pods below replicas - maxUnavailable (if they were above it before the plan);
* once the world is quiet, a re-plan changes nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollouts.planning import ScaleReplicaSet
from tests.unit.planning.world import World, canary_rollout

OPS = st.sampled_from(["update", "promote", "abort", "retry", "pause", "unpause", "steps", "tick", "settle", "full"])


def available(world: World) -> int:
    return sum(min(rs["spec"]["replicas"], rs["status"]["availableReplicas"]) for rs in world.replica_sets.values())


def total(world: World) -> int:
    return sum(rs["spec"]["replicas"] for rs in world.replica_sets.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(1, 8),
    surge=st.integers(0, 2),
    unavailable=st.integers(0, 2),
    weights=st.lists(st.integers(0, 100), min_size=1, max_size=3),
    ops=st.lists(OPS, min_size=1, max_size=25),
)
def test_basic_canary_invariants_hold_for_any_story(
    replicas: int, surge: int, unavailable: int, weights: list[int], ops: list[str]
) -> None:
    if surge == 0 and unavailable == 0:
        unavailable = 1
    steps: list[dict[str, Any]] = []
    for weight in weights:
        steps += [{"setWeight": weight}, {"pause": {}}]
    world = World(canary_rollout(replicas=replicas, steps=steps, maxSurge=surge, maxUnavailable=unavailable))
    world.run()
    version = 1
    for op in ops:
        if op == "update":
            version += 1
            world.set_template(f"web:{version}")
        elif op == "promote":
            world.patch_status(pauseConditions=None)
        elif op == "abort":
            world.patch_status(abort=True)
        elif op == "retry":
            world.patch_status(abort=None)
        elif op == "pause":
            world.rollout["spec"]["paused"] = True
        elif op == "unpause":
            world.rollout["spec"]["paused"] = False
        elif op == "steps":
            world.rollout["spec"]["strategy"]["canary"]["steps"] = steps[::-1]
        elif op == "full":
            world.patch_status(promoteFull=True)
        elif op == "tick":
            world.advance(30)
        for _ in range(3):
            observed = world.observe()
            plan = world.plan()
            assert plan == world.plan(), "planning is not deterministic"
            before_available = available(world)
            world.apply(plan)
            assert total(world) <= replicas + surge or not any(
                isinstance(a, ScaleReplicaSet)
                and a.replicas > next(rs.spec_replicas for rs in observed.replica_sets if rs.name == a.name)
                for a in plan.actions
            ), f"scaled up beyond replicas + maxSurge: {world.counts()}"
            if before_available >= replicas - unavailable:
                assert available(world) >= replicas - unavailable, f"too few available: {world.counts()}"
            if op == "settle":
                world.settle()
    world.rollout["spec"]["paused"] = False
    world.patch_status(abort=None, pauseConditions=None)
    for _ in range(10):
        world.run()
        if not world.status.get("pauseConditions"):
            break
        world.patch_status(pauseConditions=None)
    quiet = world.plan()
    assert quiet.mutations == ()
    assert world.status["phase"] == "Healthy", world.status.get("message")
    assert world.counts() == {f"web:{version}": replicas}


TRAFFIC_OPS = st.sampled_from(["update", "promote", "abort", "retry", "tick", "settle", "settle", "full"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(1, 10),
    weights=st.lists(st.integers(1, 100), min_size=1, max_size=3).map(sorted),
    dynamic=st.booleans(),
    ops=st.lists(TRAFFIC_OPS, min_size=1, max_size=20),
)
def test_traffic_follows_pods_for_any_story(replicas: int, weights: list[int], dynamic: bool, ops: list[str]) -> None:
    steps: list[dict[str, Any]] = []
    for weight in weights:
        steps += [{"setWeight": weight}, {"pause": {}}]
    world = World(
        canary_rollout(
            replicas=replicas,
            steps=steps,
            stableService="web-stable",
            canaryService="web-canary",
            trafficRouting={"nginx": {"stableIngress": "web"}},
            dynamicStableScale=dynamic,
        ),
        services={"web-stable": {"app": "web"}, "web-canary": {"app": "web"}},
        traffic_routed=True,
    )
    world.run()
    version = 1
    for op in ops:
        if op == "update":
            version += 1
            world.set_template(f"web:{version}")
        elif op == "promote":
            world.patch_status(pauseConditions=None)
        elif op == "abort":
            world.patch_status(abort=True)
        elif op == "retry":
            world.patch_status(abort=None)
        elif op == "full":
            world.patch_status(promoteFull=True)
        elif op == "tick":
            world.advance(30)
        for _ in range(3):
            observed = world.observe()
            before = world.weight
            world.apply(world.plan())
            after = world.weight
            canary_hash = observed.rollout.status_or_empty.current_pod_hash
            stable_hash = observed.rollout.status_or_empty.stable_rs
            by_hash = {rs.pod_template_hash: rs.available_replicas for rs in observed.replica_sets}
            if after > before:
                needed = -(-replicas * after // 100)
                assert by_hash.get(canary_hash or "", 0) >= needed, (
                    f"weight {before}->{after} with {by_hash.get(canary_hash or '', 0)} canary pods available"
                )
            if dynamic and after < before:
                needed = (replicas * (100 - after)) // 100
                assert by_hash.get(stable_hash or "", 0) >= needed, (
                    f"weight {before}->{after} with {by_hash.get(stable_hash or '', 0)} stable pods available"
                )
            if op == "settle":
                world.settle()
