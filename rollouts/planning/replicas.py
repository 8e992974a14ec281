"""Replica arithmetic for canary updates: how many canary and stable pods each step asks for.

Two regimes, as in Argo Rollouts:

* **Basic canary** (no traffic routing): the share of *pods* is the share of traffic, so the canary/stable
  split approximates the step weight with whole pods, and the move from one split to the next is bounded by
  ``maxSurge`` (never more than ``replicas + maxSurge`` pods) and ``maxUnavailable`` (never fewer than
  ``replicas - maxUnavailable`` available pods). Stable is scaled up before the canary, and scale-down is
  only taken from replicas that are actually available.
* **Traffic-routed canary**: the router splits requests, so the canary only needs enough pods for its share
  (``ceil(replicas * weight / maxTrafficWeight)`` or a ``setCanaryScale`` value, at least
  ``minPodsPerReplicaSet``), and the stable stays at full size unless ``dynamicStableScale``.

Every function is pure integer arithmetic on observed counts; the worked examples in the docstrings are
repeated as table tests in ``tests/unit/planning/test_replicas.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rollouts.planning.observed import ObservedReplicaSet


@dataclass(frozen=True, slots=True)
class CanaryCounts:
    """The desired ``spec.replicas`` of the canary (new) and stable ReplicaSets."""

    canary: int
    stable: int


def ceil_div(numerator: int, denominator: int) -> int:
    """Integer ceiling division: ``ceil_div(15, 10) == 2``."""
    return -(-numerator // denominator)


def resolve_surge_and_unavailable(replicas: int, max_surge: int, max_unavailable: int) -> tuple[int, int]:
    """Normalise already-resolved maxSurge/maxUnavailable as Kubernetes does.

    Both zero would deadlock an update, so maxUnavailable becomes 1; maxUnavailable never exceeds replicas.
    ``(10, 0, 0) -> (0, 1)``; ``(3, 1, 5) -> (1, 3)``.
    """
    surge = max(0, max_surge)
    unavailable = min(max(0, max_unavailable), replicas)
    if surge == 0 and unavailable == 0:
        unavailable = 1 if replicas > 0 else 0
    return surge, unavailable


def _fraction_is_half(total: int, weight: int) -> bool:
    return (total * weight) % 100 == 50


@lru_cache(maxsize=4096)
def approximate_weighted_counts(replicas: int, weight: int, max_surge: int) -> CanaryCounts:
    """The canary/stable split whose canary share is closest to ``weight`` percent.

    Candidates are ceil and floor of ``replicas * weight / 100`` over a total of ``replicas`` and, when surge
    is allowed, ``replicas + 1``. For weights strictly between 0 and 100 neither side may be 0 when more
    than one pod is in play; on an exact tie (x.5) the larger canary wins.

    * 10 replicas, weight 15, no surge -> canary 2 / stable 8 (1.5 is a tie, round the canary up)
    * 3 replicas, weight 10, maxSurge 1 -> canary 1 / stable 3 (1 of 4 = 25% is closer than 1 of 3)
    * 5 replicas, weight 20/40/60/80 -> canary 1/2/3/4, stable 4/3/2/1
    * 1 replica, weight 50, no surge -> canary 1 / stable 0 (a lone pod cannot be split)
    * 2 replicas, weight 75, no surge -> canary 1 / stable 1 (both rounding options are excluded)
    """
    if replicas <= 0:
        return CanaryCounts(0, 0)
    ceil_count = ceil_div(replicas * weight, 100)
    floor_count = (replicas * weight) // 100
    zero_allowed = weight in (0, 100) or (replicas == 1 and max_surge == 0)
    options: list[tuple[int, int]] = []
    if ceil_count < replicas or zero_allowed:
        options.append((ceil_count, replicas))
    if not _fraction_is_half(replicas, weight) and (floor_count != 0 or zero_allowed):
        options.append((floor_count, replicas))
    if max_surge > 0:
        options.append((ceil_count, replicas + 1))
        if not _fraction_is_half(replicas + 1, weight) and (floor_count != 0 or zero_allowed):
            options.append((floor_count, replicas + 1))
    if not options:
        # Argo returns "0 canary" here (e.g. 2 replicas, weight 75, no surge: ceil 2 is all pods and the
        # floor 1 is a tie); we keep the promise that a weight between 0 and 100 runs both sides.
        canary = min(max(ceil_count, 1), replicas - 1)
        return CanaryCounts(canary, replicas - canary)
    best = options[0]
    best_delta = abs(best[0] * 100 / best[1] - weight)
    for option in options[1:]:
        delta = abs(option[0] * 100 / option[1] - weight)
        if delta < best_delta:
            best, best_delta = option, delta
    return CanaryCounts(best[0], best[1] - best[0])


def _spec(rs: ObservedReplicaSet | None) -> int:
    return rs.spec_replicas if rs is not None else 0


def replicas_for_scale_down(rs: ObservedReplicaSet | None, *, ignore_availability: bool) -> int:
    """How many of ``rs``'s pods count as available when deciding how far we may scale down.

    A ReplicaSet already above its spec counts only its spec (the extra pods are going away); otherwise
    its available pods, or its spec when availability is to be ignored (the side we are growing, whose
    pods may be crash-looping and must not block shrinking the other side).
    """
    if rs is None:
        return 0
    if rs.spec_replicas < rs.available_replicas or ignore_availability:
        return rs.spec_replicas
    return rs.available_replicas


def basic_canary_counts(
    *,
    replicas: int,
    weight: int,
    max_surge: int,
    max_unavailable: int,
    canary_rs: ObservedReplicaSet | None,
    stable_rs: ObservedReplicaSet | None,
    other_rss: Sequence[ObservedReplicaSet] = (),
) -> CanaryCounts:
    """The next canary/stable ``spec.replicas`` for a basic canary, bounded by surge and unavailability.

    ``stable_rs`` is None (or the same object as ``canary_rs``) when there is nothing to canary against:
    the canary then simply goes to ``replicas``. Scale-ups use the room below ``replicas + max_surge``,
    stable first; scale-downs happen only when no other ReplicaSet still has pods, and only as far as
    ``replicas - max_unavailable`` available pods allow (the growing side's pods count by spec).

    * 10 replicas, weight 10, canary 0, stable 10 (all available), maxUnavailable 1, maxSurge 1
      -> canary 1, stable 9
    * 10 replicas, weight 30, canary 0, stable 10, maxUnavailable 0, maxSurge 3 -> canary 3, stable 10
    * 10 replicas, weight 30, canary 0, stable 10, maxUnavailable 5, maxSurge 0 -> canary 0, stable 7
    * 5 replicas, weight 20, canary 0, stable 5, maxSurge 2, maxUnavailable 1 -> canary 1, stable 4
    """
    desired = approximate_weighted_counts(replicas, weight, max_surge)
    desired_canary, desired_stable = desired.canary, desired.stable
    has_stable = stable_rs is not None and (canary_rs is None or canary_rs.name != stable_rs.name)
    canary_count = _spec(canary_rs)
    stable_count = _spec(stable_rs) if has_stable else 0
    if not has_stable:
        desired_canary, desired_stable = replicas, 0

    max_total = replicas + max_surge
    other_total = sum(rs.spec_replicas for rs in other_rss)
    scale_up = max_total - (other_total + canary_count + stable_count)

    if has_stable and stable_count < desired_stable and scale_up > 0:
        grown = min(desired_stable, stable_count + scale_up)
        scale_up -= grown - stable_count
        stable_count = grown
    if canary_rs is not None and canary_count < desired_canary and scale_up > 0:
        canary_count = min(desired_canary, canary_count + scale_up)

    if other_total > 0:
        # Older ReplicaSets still hold pods: they are scaled down first, before the canary or stable.
        return CanaryCounts(canary_count, stable_count)

    return _scale_down(
        max_total=max_total, min_available=replicas - max_unavailable,
        desired=CanaryCounts(desired_canary, desired_stable), counts=CanaryCounts(canary_count, stable_count),
        canary_rs=canary_rs, stable_rs=stable_rs if has_stable else None,
    )


def _scale_down(
    *,
    max_total: int,
    min_available: int,
    desired: CanaryCounts,
    counts: CanaryCounts,
    canary_rs: ObservedReplicaSet | None,
    stable_rs: ObservedReplicaSet | None,
) -> CanaryCounts:
    """Shrink the side that is giving way (the stable while the canary grows, else the canary) as far as the
    available pods above ``min_available`` allow."""
    canary_count, stable_count = counts.canary, counts.stable
    increasing = canary_rs is None or desired.canary >= canary_rs.spec_replicas
    countable = replicas_for_scale_down(canary_rs, ignore_availability=not increasing)
    if stable_rs is not None:
        countable += replicas_for_scale_down(stable_rs, ignore_availability=increasing)
    if countable <= min_available:
        return counts
    scale_down = countable - min_available
    if not increasing:
        canary_count = _shrink_towards(canary_rs, desired.canary, scale_down, canary_count)
        canary_count, stable_count = _within_limits(
            canary_rs, stable_rs, canary_count, stable_count, max_total, min_available
        )
    elif stable_rs is not None:
        stable_count = _shrink_towards(stable_rs, desired.stable, scale_down, stable_count)
        stable_count, canary_count = _within_limits(
            stable_rs, canary_rs, stable_count, canary_count, max_total, min_available
        )
    return CanaryCounts(canary_count, stable_count)


def _shrink_towards(rs: ObservedReplicaSet | None, desired: int, scale_down: int, current: int) -> int:
    if rs is not None and rs.spec_replicas > desired:
        return max(desired, rs.spec_replicas - scale_down)
    return current


def _within_limits(
    drain_rs: ObservedReplicaSet | None,
    adjust_rs: ObservedReplicaSet | None,
    drain_count: int,
    adjust_count: int,
    max_total: int,
    min_available: int,
) -> tuple[int, int]:
    """Trim the side being adjusted back under the surge limit without dropping below min availability.

    ``drain_rs`` is the side being scaled down (its availability was not counted); ``adjust_rs`` the other.
    """
    if adjust_rs is None:
        return drain_count, adjust_count
    over = max(0, adjust_count + drain_count - max_total)
    available = min(drain_rs.available_replicas, drain_count) if drain_rs is not None else 0
    adjust_count -= over
    available += min(adjust_rs.available_replicas, adjust_count)
    lost_availability = max(0, adjust_rs.available_replicas - adjust_count)
    still_needed = max(0, min_available - available)
    adjust_count += min(lost_availability, still_needed)
    drain_count -= max(0, adjust_count + drain_count - max_total)
    return drain_count, adjust_count


def weight_to_replicas(replicas: int, weight: int, max_weight: int = 100) -> int:
    """Pods needed for a traffic share, rounded up: 10 replicas, weight 5 of 100 -> 1; weight 0 -> 0."""
    if weight <= 0 or replicas <= 0:
        return 0
    return ceil_div(replicas * weight, max_weight)


def traffic_routed_canary_counts(
    *,
    replicas: int,
    weight: int,
    max_weight: int = 100,
    canary_scale_replicas: int | None = None,
    min_pods_per_replica_set: int | None = None,
    dynamic_stable_scale: bool = False,
    actual_stable_weight: int | None = None,
    actual_canary_weight: int | None = None,
    aborted: bool = False,
) -> CanaryCounts:
    """Canary/stable sizes when a traffic router splits requests.

    ``weight`` is the desired canary weight (out of ``max_weight``); ``canary_scale_replicas`` an explicit
    count from ``setCanaryScale`` (its ``weight`` form is passed as ``weight``). The stable stays at
    ``replicas`` unless ``dynamic_stable_scale``, where it follows the larger of the desired and the actual
    stable traffic (so it never loses pods before it loses traffic), and on abort the canary keeps pods for
    the traffic it still receives.

    * 10 replicas, weight 5 -> canary 1, stable 10
    * 10 replicas, weight 5, minPodsPerReplicaSet 2 -> canary 2, stable 10
    * 10 replicas, weight 30, dynamicStableScale, actual stable weight 100 -> canary 3, stable 10
    * 10 replicas, weight 30, dynamicStableScale, actual stable weight 70 -> canary 3, stable 7
    """

    def at_least_min(count: int) -> int:
        if count == 0 or min_pods_per_replica_set is None:
            return count
        return max(count, min_pods_per_replica_set)

    if canary_scale_replicas is not None:
        canary = canary_scale_replicas
    else:
        canary = at_least_min(weight_to_replicas(replicas, weight, max_weight))
    if not dynamic_stable_scale:
        return CanaryCounts(canary, replicas)
    stable = weight_to_replicas(replicas, max_weight - weight, max_weight)
    if actual_stable_weight is not None:
        stable = max(stable, weight_to_replicas(replicas, actual_stable_weight, max_weight))
    if aborted and actual_canary_weight is not None:
        canary = max(canary, weight_to_replicas(replicas, actual_canary_weight, max_weight))
    return CanaryCounts(at_least_min(canary), at_least_min(stable))


def all_desired_available(rs: ObservedReplicaSet | None, desired: int) -> bool:
    """The ReplicaSet is scaled to ``desired`` and all of those pods are available."""
    return rs is not None and rs.spec_replicas == desired and rs.available_replicas == desired


def all_desired_created(rs: ObservedReplicaSet | None, desired: int) -> bool:
    """The ReplicaSet is scaled to ``desired`` and that many pods exist."""
    return rs is not None and rs.spec_replicas == desired and rs.status_replicas == desired
