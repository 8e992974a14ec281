"""Sharding's pure parts (which shard, which member) by tables and properties; the write guard with a clock.

The behaviour with real replicas (kill one mid-update, freeze one past its lease) is proven on the control plane
in tests/integration/controller/test_shards.py.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.kube.errors import Fenced
from rollouts.kube.leader import LeaderElector, LeaseTimings
from rollouts.kube.shards import (
    Sharding,
    ShardSet,
    _Held,
    assign_shards,
    member_lease_name,
    shard_lease_name,
    shard_of,
)
from rollouts.kube.worker import run_worker
from rollouts.kube.workqueue import WorkQueue


def _sha_mod(key: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % n


@pytest.mark.parametrize(("key", "shards"), [
    pytest.param("default/web", 1, id="one-shard"),
    pytest.param("default/web", 3, id="three"),
    pytest.param("shop/checkout", 3, id="other-namespace"),
    pytest.param("shop/checkout", 16, id="sixteen"),
])
def test_the_shard_of_an_object_is_the_first_8_bytes_of_sha256_of_namespace_slash_name(key: str, shards: int) -> None:
    # Stable across processes and Python versions (never hash()): every replica must agree.
    assert shard_of(key, shards) == _sha_mod(key, shards)


def test_shard_values_are_pinned() -> None:
    # Written down once: a change of the function would move every object of a running cluster at upgrade.
    assert [shard_of(f"default/r-{i}", 3) for i in range(8)] == [_sha_mod(f"default/r-{i}", 3) for i in range(8)]
    assert shard_of("default/web", 3) == 2


@given(st.integers(min_value=1, max_value=64), st.lists(st.text(min_size=1, max_size=12), max_size=12))
def test_every_shard_has_exactly_one_live_owner_and_loads_differ_by_at_most_one(
        shards: int, members: list[str]) -> None:
    owners = assign_shards(shards, members)
    if not members:
        assert owners == {}
        return
    assert sorted(owners) == list(range(shards))
    assert set(owners.values()) <= set(members)
    load = Counter(owners.values())
    counts = [load.get(m, 0) for m in set(members)]
    assert max(counts) - min(counts) <= 1, load


@given(st.integers(min_value=1, max_value=32), st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=8),
       st.randoms())
def test_the_assignment_does_not_depend_on_the_order_members_are_seen_in(
        shards: int, members: list[str], rnd: object) -> None:
    shuffled = list(members)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert assign_shards(shards, shuffled) == assign_shards(shards, members)


@pytest.mark.parametrize(("shards", "members", "loads"), [
    pytest.param(3, ["a"], [3], id="one-replica-holds-all"),
    pytest.param(3, ["a", "b"], [1, 2], id="two-replicas"),
    pytest.param(3, ["a", "b", "c"], [1, 1, 1], id="three-replicas"),
    pytest.param(3, ["a", "b", "c", "d"], [0, 1, 1, 1], id="a-fourth-replica-stands-by"),
    pytest.param(10, ["a", "b", "c"], [3, 3, 4], id="ten-over-three"),
])
def test_loads(shards: int, members: list[str], loads: list[int]) -> None:
    load = Counter(assign_shards(shards, members).values())
    assert sorted(load.get(m, 0) for m in members) == loads


def test_one_member_leaving_moves_few_shards() -> None:
    members = [f"replica-{i}" for i in range(5)]
    before = assign_shards(50, members)
    after = assign_shards(50, members[:-1])
    moved = [k for k in before if before[k] != after[k]]
    gone = [k for k, m in before.items() if m == "replica-4"]
    # the leaving member's 10 shards must move; rebalancing to 13/13/12/12 moves some others, not half
    assert set(gone) <= set(moved) and len(moved) <= 2 * len(gone), (len(gone), len(moved))


@pytest.mark.parametrize(("flags", "message"), [
    pytest.param({"shards": 0}, "--shards must be at least 1, got 0", id="no-shards"),
    pytest.param({"shards": 3, "shard": 3}, r"--shard must be between 0 and 2 \(--shards 3\), got 3", id="past-end"),
    pytest.param({"shards": 3, "shard": -1}, r"--shard must be between 0 and 2 \(--shards 3\), got -1",
                 id="negative"),
])
def test_bad_flags_are_refused_with_the_rule(flags: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Sharding(**flags)


def test_lease_names_are_valid_kubernetes_names_for_any_identity() -> None:
    name = member_lease_name("rollouts-controller-lock", "Host_Name.example_1a2b3c4d")
    assert name.startswith("rollouts-controller-lock-member-") and name == name.lower() and "_" not in name
    assert shard_lease_name("lock", 2) == "lock-shard-2"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _holding(shard_set: ShardSet, shard: int, clock: Clock) -> _Held:
    """What a successful acquire of the shard's Lease at `clock.now` leaves behind (renew deadline 5 s)."""
    elector = LeaderElector(None, name=shard_lease_name("lock", shard), namespace="ns",  # type: ignore[arg-type]
                            identity="me", timings=shard_set.timings, clock=clock)
    elector.leading.set()
    elector._valid_until = clock.now + shard_set.timings.renew_deadline
    held = _Held(elector=elector, task=asyncio.get_running_loop().create_future())  # type: ignore[arg-type]
    shard_set._held[shard] = held
    return held


def _key_in(shard: int, shards: int) -> str:
    return next(f"default/r-{i}" for i in range(1000) if shard_of(f"default/r-{i}", shards) == shard)


async def test_a_write_is_fenced_by_the_shard_of_the_object_being_reconciled() -> None:
    clock = Clock()
    shard_set = ShardSet(None, Sharding(shards=3, group="lock", namespace="ns"),  # type: ignore[arg-type]
                         identity="me", timings=LeaseTimings(lease_duration=8, renew_deadline=5, retry_period=1),
                         clock=clock)
    mine, theirs = _key_in(0, 3), _key_in(1, 3)
    held = _holding(shard_set, 0, clock)
    assert shard_set.owns(mine) and not shard_set.owns(theirs)
    with shard_set.acting_for(mine):
        shard_set.check_write()
    with shard_set.acting_for(theirs), pytest.raises(Fenced, match="does not hold shard 1 \\(lock-shard-1\\)"):
        shard_set.check_write()
    held.releasing = True  # handing over: no new write for the shard even though its Lease is still valid
    with shard_set.acting_for(mine), pytest.raises(Fenced, match="does not hold shard 0"):
        shard_set.check_write()
    assert not shard_set.owns(mine)
    held.releasing = False
    clock.now += 5.1  # frozen past the renew deadline: refused, and that shard's Lease is given up
    with shard_set.acting_for(mine), pytest.raises(Fenced):
        shard_set.check_write()
    assert held.elector.lost.is_set() and not shard_set.owns(mine)


async def test_a_write_outside_any_reconcile_needs_the_membership() -> None:
    clock = Clock()
    shard_set = ShardSet(None, Sharding(shards=3, group="lock", namespace="ns"),  # type: ignore[arg-type]
                         identity="me", clock=clock)
    assert shard_set.member is not None
    with pytest.raises(Fenced, match="does not hold the lease ns/lock-member-"):
        shard_set.check_write()
    shard_set.member.leading.set()
    shard_set.member._valid_until = clock.now + 5
    shard_set.check_write()


async def test_the_worker_drops_keys_of_shards_it_does_not_hold_and_reconciles_the_others() -> None:
    clock = Clock()
    shard_set = ShardSet(None, Sharding(shards=2, shard=0, group="lock", namespace="ns"),  # type: ignore[arg-type]
                         identity="me", clock=clock)
    _holding(shard_set, 0, clock)
    mine, theirs = _key_in(0, 2), _key_in(1, 2)
    queue: WorkQueue[str] = WorkQueue()
    seen: list[tuple[str, bool]] = []
    done = asyncio.Event()

    async def reconcile(key: str) -> float | None:
        shard_set.check_write()  # a reconcile's write: allowed for its own shard
        seen.append((key, shard_set.owns(key)))
        done.set()
        return None

    queue.add(theirs)
    queue.add(mine)
    worker = asyncio.create_task(run_worker(queue, reconcile, kind="thing", log=_NoLog(), fields=lambda k: {},
                                            shards=shard_set, shard_key=lambda k: k))
    await asyncio.wait_for(done.wait(), 5)
    worker.cancel()
    assert seen == [(mine, True)]
    assert len(queue) == 0


class _NoLog:
    def __getattr__(self, name: str) -> object:
        return lambda *a, **k: None
