"""Table tests and properties for the canary replica arithmetic (rollouts.planning.replicas)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.planning.observed import ObservedReplicaSet
from rollouts.planning.replicas import (
    CanaryCounts,
    approximate_weighted_counts,
    basic_canary_counts,
    resolve_surge_and_unavailable,
    traffic_routed_canary_counts,
    weight_to_replicas,
)


def rs(name: str, spec: int, available: int | None = None) -> ObservedReplicaSet:
    avail = spec if available is None else available
    return ObservedReplicaSet(
        name=name,
        pod_template_hash=name,
        revision=1,
        spec_replicas=spec,
        status_replicas=max(spec, avail),
        ready_replicas=avail,
        available_replicas=avail,
        template={},
    )


@pytest.mark.parametrize(
    ("replicas", "weight", "surge", "expected"),
    [
        pytest.param(10, 15, 0, (2, 8), id="10-replicas-weight-15-no-surge-rounds-canary-up"),
        pytest.param(3, 10, 1, (1, 3), id="3-replicas-weight-10-surge-uses-4th-pod"),
        pytest.param(3, 10, 0, (1, 2), id="3-replicas-weight-10-no-surge"),
        pytest.param(5, 20, 1, (1, 4), id="5-replicas-weight-20"),
        pytest.param(5, 40, 1, (2, 3), id="5-replicas-weight-40"),
        pytest.param(5, 60, 1, (3, 2), id="5-replicas-weight-60"),
        pytest.param(5, 80, 1, (4, 1), id="5-replicas-weight-80"),
        pytest.param(5, 100, 1, (5, 0), id="weight-100-all-canary"),
        pytest.param(5, 0, 1, (0, 5), id="weight-0-all-stable"),
        pytest.param(1, 50, 0, (1, 0), id="single-pod-no-surge-cannot-split"),
        pytest.param(1, 5, 1, (1, 1), id="single-pod-with-surge-runs-both"),
        pytest.param(3, 50, 0, (2, 1), id="tie-prefers-larger-canary"),
        pytest.param(0, 50, 1, (0, 0), id="zero-replicas"),
        pytest.param(10, 1, 0, (1, 9), id="tiny-weight-still-gets-a-pod"),
        pytest.param(10, 99, 0, (9, 1), id="huge-weight-keeps-a-stable-pod"),
    ],
)
def test_approximate_weighted_counts(replicas: int, weight: int, surge: int, expected: tuple[int, int]) -> None:
    assert approximate_weighted_counts(replicas, weight, surge) == CanaryCounts(*expected)


@pytest.mark.parametrize(
    ("replicas", "weight", "surge", "unavailable", "canary", "stable", "expected"),
    [
        pytest.param(10, 10, 1, 1, rs("c", 0), rs("s", 10), (1, 9), id="argo-doc-w10-surge1-unavail1"),
        pytest.param(10, 30, 3, 0, rs("c", 0), rs("s", 10), (3, 10), id="argo-doc-w30-surge-only"),
        pytest.param(10, 30, 0, 5, rs("c", 0), rs("s", 10), (0, 7), id="argo-doc-w30-unavailable-only"),
        pytest.param(10, 5, 1, 1, rs("c", 0), rs("s", 10), (1, 10), id="w5-uses-surge-pod-for-closer-share"),
        pytest.param(1, 5, 1, 0, rs("c", 0), rs("s", 1), (1, 1), id="argo-doc-single-w5"),
        pytest.param(1, 95, 1, 0, rs("c", 0), rs("s", 1), (1, 1), id="argo-doc-single-w95"),
        pytest.param(10, 15, 0, 1, rs("c", 0), rs("s", 10), (0, 9), id="no-surge-stable-shrinks-first"),
        pytest.param(10, 15, 0, 1, rs("c", 0), rs("s", 9), (1, 9), id="no-surge-then-canary-grows"),
        pytest.param(10, 15, 0, 1, rs("c", 1), rs("s", 9), (1, 8), id="no-surge-then-stable-again"),
        pytest.param(10, 15, 0, 1, rs("c", 1, 0), rs("s", 9), (1, 9), id="unavailable-canary-blocks-shrink"),
        pytest.param(5, 100, 1, 1, rs("c", 0), None, (5, 0), id="no-stable-goes-straight-to-full"),
        pytest.param(10, 0, 1, 1, rs("c", 3), rs("s", 7), (2, 8), id="abort-grows-stable-while-draining-canary"),
        pytest.param(10, 0, 1, 1, rs("c", 3), rs("s", 8), (1, 8), id="abort-then-drains-canary"),
        pytest.param(10, 50, 1, 1, rs("c", 0), rs("s", 10), (0, 10), id="old-rs-with-pods-blocks-everything"),
    ],
)
def test_basic_canary_counts(
    replicas: int,
    weight: int,
    surge: int,
    unavailable: int,
    canary: ObservedReplicaSet,
    stable: ObservedReplicaSet | None,
    expected: tuple[int, int],
    request: pytest.FixtureRequest,
) -> None:
    others = [rs("old", 1)] if "old-rs" in request.node.callspec.id else []
    result = basic_canary_counts(
        replicas=replicas,
        weight=weight,
        max_surge=surge,
        max_unavailable=unavailable,
        canary_rs=canary,
        stable_rs=stable,
        other_rss=others,
    )
    assert result == CanaryCounts(*expected)


def walk_basic(replicas: int, weights: list[int], surge: int, unavailable: int) -> list[list[tuple[int, int]]]:
    """Drive the basic canary through each weight: each tick applies the counts, and pods that already
    existed become available (new pods become available one tick later). Returns the spec counts seen."""
    canary, stable = rs("c", 0), rs("s", replicas)
    history: list[list[tuple[int, int]]] = []
    for weight in weights:
        seen: list[tuple[int, int]] = []
        for _ in range(100):
            counts = basic_canary_counts(
                replicas=replicas,
                weight=weight,
                max_surge=surge,
                max_unavailable=unavailable,
                canary_rs=canary,
                stable_rs=stable,
            )
            # invariants at the moment the new counts are applied
            assert counts.canary + counts.stable <= replicas + surge
            available_now = min(counts.canary, canary.available_replicas) + min(
                counts.stable, stable.available_replicas
            )
            assert available_now >= replicas - unavailable
            if (counts.canary, counts.stable) == (canary.spec_replicas, stable.spec_replicas) and (
                canary.available_replicas == counts.canary and stable.available_replicas == counts.stable
            ):
                break
            seen.append((counts.canary, counts.stable))
            canary = rs("c", counts.canary, min(counts.canary, canary.spec_replicas))
            stable = rs("s", counts.stable, min(counts.stable, stable.spec_replicas))
            # pods scaled up last tick come up now
            canary = rs("c", canary.spec_replicas, canary.spec_replicas)
            stable = rs("s", stable.spec_replicas, stable.spec_replicas)
        else:
            pytest.fail(f"weight {weight} did not converge: {seen}")
        history.append([*seen, (canary.spec_replicas, stable.spec_replicas)])
    return history


def test_five_replicas_walk_20_40_60_80_with_default_surge_and_unavailable() -> None:
    # Argo's defaults: maxSurge 25% of 5 rounds up to 2, maxUnavailable 25% rounds down to 1.
    history = walk_basic(5, [20, 40, 60, 80, 100], surge=2, unavailable=1)
    assert [h[-1] for h in history] == [(1, 4), (2, 3), (3, 2), (4, 1), (5, 0)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((10, 0, 0), (0, 1), id="both-zero-allows-one-unavailable"),
        pytest.param((3, 1, 5), (1, 3), id="unavailable-capped-at-replicas"),
        pytest.param((4, 1, 1), (1, 1), id="unchanged"),
    ],
)
def test_resolve_surge_and_unavailable(args: tuple[int, int, int], expected: tuple[int, int]) -> None:
    assert resolve_surge_and_unavailable(*args) == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"replicas": 10, "weight": 5}, (1, 10), id="weight-5-one-pod-stable-full"),
        pytest.param({"replicas": 10, "weight": 5, "min_pods_per_replica_set": 2}, (2, 10), id="min-pods"),
        pytest.param({"replicas": 10, "weight": 0, "min_pods_per_replica_set": 2}, (0, 10), id="min-pods-0"),
        pytest.param({"replicas": 10, "weight": 50, "max_weight": 1000}, (1, 10), id="max-traffic-weight"),
        pytest.param({"replicas": 10, "weight": 5, "canary_scale_replicas": 4}, (4, 10), id="set-canary-scale"),
        pytest.param(
            {"replicas": 10, "weight": 30, "dynamic_stable_scale": True, "actual_stable_weight": 100},
            (3, 10),
            id="dynamic-stable-keeps-pods-until-traffic-moves",
        ),
        pytest.param(
            {"replicas": 10, "weight": 30, "dynamic_stable_scale": True, "actual_stable_weight": 70},
            (3, 7),
            id="dynamic-stable-follows-traffic",
        ),
        pytest.param(
            {
                "replicas": 10,
                "weight": 0,
                "dynamic_stable_scale": True,
                "actual_stable_weight": 70,
                "actual_canary_weight": 30,
                "aborted": True,
            },
            (3, 10),
            id="dynamic-abort-keeps-canary-until-traffic-returns",
        ),
    ],
)
def test_traffic_routed_canary_counts(kwargs: dict[str, int | bool], expected: tuple[int, int]) -> None:
    assert traffic_routed_canary_counts(**kwargs) == CanaryCounts(*expected)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    replicas=st.integers(1, 30),
    weight=st.integers(0, 100),
    surge=st.integers(0, 5),
)
def test_split_never_exceeds_replicas_plus_one_or_surge(replicas: int, weight: int, surge: int) -> None:
    counts = approximate_weighted_counts(replicas, weight, surge)
    assert counts.canary >= 0 and counts.stable >= 0
    assert replicas <= counts.canary + counts.stable <= replicas + min(surge, 1)
    if 0 < weight < 100 and replicas + min(surge, 1) > 1:
        assert counts.canary >= 1 and counts.stable >= 1


@settings(max_examples=150, deadline=None)
@given(
    replicas=st.integers(1, 15),
    weights=st.lists(st.integers(1, 100), min_size=1, max_size=5).map(sorted),
    surge=st.integers(0, 3),
    unavailable=st.integers(0, 3),
)
def test_walk_respects_surge_unavailable_and_only_grows_canary(
    replicas: int, weights: list[int], surge: int, unavailable: int
) -> None:
    surge, unavailable = resolve_surge_and_unavailable(replicas, surge, unavailable)
    history = walk_basic(replicas, weights, surge, unavailable)
    canaries = [count[0] for step in history for count in step]
    assert canaries == sorted(canaries), f"canary shrank during an update: {history}"


@settings(max_examples=200, deadline=None)
@given(replicas=st.integers(0, 50), weight=st.integers(0, 100), max_weight=st.sampled_from([100, 1000]))
def test_weight_to_replicas_covers_the_share(replicas: int, weight: int, max_weight: int) -> None:
    pods = weight_to_replicas(replicas, weight, max_weight)
    assert pods * max_weight >= replicas * weight
    assert (pods - 1) * max_weight < replicas * weight or pods == 0
