"""Sharding Rollouts and Applications across controller replicas, with Leases as the coordination engine.

Argo CD spreads its application controller over replicas by cluster (``--shard``/``ARGOCD_CONTROLLER_REPLICAS``,
static or dynamic). Here the unit is one object: a Rollout, Experiment, AnalysisRun or Application belongs to
shard ``sha256("namespace/name") mod N`` (``shard_of``), so one busy namespace spreads as well as many.

**Safety: one Lease per shard.** ``<group>-shard-<k>`` is held with the leader election of ``kube.leader``,
fencing included: a replica writes for an object only while it holds that object's shard Lease and renewed it
within the renew deadline, checked right before each request leaves (the client's write guard reads which shard
the running reconcile acts for from a context variable, set by ``kube.worker``). Two replicas never hold one
shard Lease at once, so never both write for one Rollout, even when one is frozen past its lease and wakes up.

**Balance: membership.** In dynamic mode (``--shards N`` without ``--shard``) every replica also holds its own
member Lease ``<group>-member-<hash of identity>``; every replica watches the group's Leases (labelled
``GROUP_LABEL=<group>``). The live members (a held member Lease whose record changed within its duration, on our
own monotonic clock as client-go measures it) are given the shards by ``assign_shards`` (rendezvous hashing with
bounded load: loads differ by at most one). A replica competes only for the shard Leases assigned to it and lets
go of the others. Replicas may see a membership change a moment apart; that can delay a hand-over but never make
two owners: the shard Lease decides.

**Hand-over.** To let go of a shard, a replica stops starting its reconciles, waits (at most the renew
deadline) until the ones in flight have finished, so none of its writes is still on the wire, then releases the
Lease; the new owner watches the Lease and takes it at once. A dead replica stops renewing; after the lease
duration the others see its member Lease expire, reassign, and take its shard Leases as those expire too:
failover is about one lease duration plus a retry period (8-9 s with the defaults).

**Static** (``--shards N --shard K``, e.g. a StatefulSet ordinal): the replica competes for Lease K only and has
no member Lease; a second pod with the same ordinal waits as a warm standby for that shard.

Writes made outside any reconcile (Events written in the background) need a live membership (dynamic) or the
static shard's Lease: a replica that lost its membership exits, as a leader that lost its Lease does.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError, Fenced
from rollouts.kube.informer import Informer, object_key
from rollouts.kube.leader import LeaderElector, LeaseTimings
from rollouts.kube.resources import LEASE

log = structlog.get_logger("rollouts.shards")

GROUP_LABEL = "rollouts.argoproj.io/controller-shard-group"
"""On member and shard Leases: their shard group (the ``--lease-name``); every replica watches them all."""
ROLE_LABEL = "rollouts.argoproj.io/controller-shard-lease"
"""``member`` (a replica's membership) or ``shard`` (the ownership of one shard)."""

_ACTING_FOR: contextvars.ContextVar[int | None] = contextvars.ContextVar("rollouts_acting_for_shard", default=None)


# -- pure: which shard, which member ------------------------------------------------------------------------------


def _weight(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def shard_of(key: str, shards: int) -> int:
    """The shard of an object, from its ``namespace/name``: stable across processes and versions (sha256).

    >>> shard_of("default/web", 1)
    0
    """
    if shards < 1:
        raise ValueError(f"the number of shards must be at least 1, got {shards}")
    return _weight(key) % shards


def assign_shards(shards: int, members: Sequence[str]) -> dict[int, str]:
    """Which member owns each shard: every shard exactly one member, loads differing by at most one.

    Shards are placed in order, each on the member ranking it highest (sha256 of ``shard/member``) among those
    with room left: ``shards // len(members)`` each, one more for the first ``shards % len(members)`` to fill.
    Rankings do not depend on the other members, so most shards stay where they are when one joins or leaves.
    3 shards over members a, b: one gets two shards, the other one; over a, b, c: one each; over no member:
    none (nobody may act).
    """
    if shards < 1:
        raise ValueError(f"the number of shards must be at least 1, got {shards}")
    names = sorted(set(members))
    if not names:
        return {}
    base, extra = divmod(shards, len(names))
    load: Counter[str] = Counter()
    full = 0  # members already holding base + 1 shards
    owners: dict[int, str] = {}
    for shard in range(shards):
        ranked = sorted(names, key=lambda m: (-_weight(f"{shard}/{m}"), m))
        for member in ranked:
            if load[member] < base or (load[member] == base and full < extra):
                if load[member] == base:
                    full += 1
                load[member] += 1
                owners[shard] = member
                break
    return owners


def member_lease_name(group: str, identity: str) -> str:
    """A valid Lease name for any identity (identities hold ``_`` and upper case, names may not)."""
    return f"{group}-member-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"


def shard_lease_name(group: str, shard: int) -> str:
    return f"{group}-shard-{shard}"


@dataclass(frozen=True, slots=True)
class Sharding:
    """The flags: ``shards`` (1: not sharded), ``shard`` (None: dynamic), the Lease group and namespace."""

    shards: int = 1
    shard: int | None = None
    group: str = "rollouts-controller-lock"
    namespace: str = "default"

    def __post_init__(self) -> None:
        if self.shards < 1:
            raise ValueError(f"--shards must be at least 1, got {self.shards}")
        if self.shard is not None and not 0 <= self.shard < self.shards:
            raise ValueError(f"--shard must be between 0 and {self.shards - 1} (--shards {self.shards}), "
                             f"got {self.shard}")

    @property
    def enabled(self) -> bool:
        return self.shards > 1 or self.shard is not None


# -- the live set of shards this replica holds --------------------------------------------------------------------


@dataclass
class _Seen:
    """A Lease of the group as this replica last saw it change (client-go's observedRecord/observedTime)."""

    spec: dict[str, Any]
    record: tuple[Any, ...]
    observed_at: float
    role: str

    @property
    def holder(self) -> str:
        return str(self.record[0])

    def expired(self, now: float, default: float) -> bool:
        return now >= self.observed_at + float(self.spec.get("leaseDurationSeconds") or default)


@dataclass
class _Held:
    elector: LeaderElector
    task: asyncio.Task[None]
    announced: bool = False
    releasing: bool = False
    hand_over: asyncio.Task[None] | None = None
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class ShardSet:
    """The shard Leases this replica holds, the guard of its writes and the filter of its work queues."""

    def __init__(self, client: KubeClient, sharding: Sharding, *, identity: str,
                 timings: LeaseTimings | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client  # unguarded: the Leases are how this replica proves it may write
        self.sharding = sharding
        self.shards = sharding.shards
        self.identity = identity
        self.timings = timings or LeaseTimings()
        self.clock = clock
        self.lost = asyncio.Event()
        """Set when this replica lost its membership (or, static, could not keep running): the process exits."""
        self.joined = asyncio.Event()
        self._held: dict[int, _Held] = {}
        self._in_flight: Counter[int] = Counter()
        self._listeners: list[Callable[[int], None]] = []
        self._seen: dict[str, _Seen] = {}
        self._changed = asyncio.Event()
        self.member: LeaderElector | None = None
        if sharding.shard is None:
            self.member = LeaderElector(client, name=member_lease_name(sharding.group, identity),
                                        namespace=sharding.namespace, identity=identity, timings=self.timings,
                                        clock=clock, labels={GROUP_LABEL: sharding.group, ROLE_LABEL: "member"})

    # -- what the reconcilers ask ----------------------------------------------------------------------------

    def shard_of(self, key: str) -> int:
        return shard_of(key, self.shards)

    def owns(self, key: str) -> bool:
        """Whether this replica may reconcile the object now (it holds the shard Lease, not handing it over)."""
        held = self._held.get(self.shard_of(key))
        return held is not None and not held.releasing and held.elector.may_write()

    def held(self) -> list[int]:
        return sorted(k for k, h in self._held.items() if not h.releasing and h.elector.may_write())

    def on_acquired(self, listener: Callable[[int], None]) -> None:
        """``listener(shard)`` runs when this replica starts owning a shard (reconcilers enqueue its objects)."""
        self._listeners.append(listener)

    def requeue_on_acquire(self, informer: Informer, add: Callable[[tuple[str, str]], None]) -> None:
        """When a shard is acquired, ``add((namespace, name))`` every cached object of it: the previous owner may
        have left it mid-update, with a timed requeue (a pause) that only that replica knew."""

        def listener(shard: int) -> None:
            for obj in informer.items():
                key = object_key(obj)
                if self.shard_of(f"{key[0]}/{key[1]}") == shard:
                    add(key)

        self.on_acquired(listener)

    @contextlib.contextmanager
    def acting_for(self, key: str) -> Iterator[None]:
        """Every write inside the block is fenced by the object's shard Lease (and counted as in flight)."""
        shard = self.shard_of(key)
        token = _ACTING_FOR.set(shard)
        self._in_flight[shard] += 1
        try:
            yield
        finally:
            _ACTING_FOR.reset(token)
            self._in_flight[shard] -= 1
            held = self._held.get(shard)
            if self._in_flight[shard] <= 0 and held is not None:
                held.idle.set()

    def check_write(self) -> None:
        """The write guard (``KubeClient.guarded``): raises Fenced unless this replica may write right now."""
        shard = _ACTING_FOR.get()
        if shard is None:
            self._check_background_write()
            return
        held = self._held.get(shard)
        if held is None or held.releasing:
            raise Fenced(0, "NotShardOwner", f"write refused: this replica ({self.identity}) does not hold "
                                             f"shard {shard} ({shard_lease_name(self.sharding.group, shard)})")
        held.elector.check_write()

    def _check_background_write(self) -> None:
        if self.member is not None:
            self.member.check_write()
            return
        if not self.held():
            raise Fenced(0, "NotShardOwner", f"write refused: this replica ({self.identity}) holds no shard")

    # -- membership ------------------------------------------------------------------------------------------

    def _on_lease(self, etype: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        name = str(meta["name"])
        if etype == "DELETED":
            self._seen.pop(name, None)
        else:
            spec = dict(obj.get("spec") or {})
            record = (spec.get("holderIdentity") or "", spec.get("renewTime"), spec.get("acquireTime"),
                      spec.get("leaseDurationSeconds"), spec.get("leaseTransitions"))
            seen = self._seen.get(name)
            if seen is None or seen.record != record:
                role = str((meta.get("labels") or {}).get(ROLE_LABEL) or "")
                self._seen[name] = _Seen(spec, record, self.clock(), role)
        self._changed.set()

    def live_members(self) -> list[str]:
        """Identities holding a member Lease that changed within its duration (ours while we are a member)."""
        now = self.clock()
        live = {s.holder for s in self._seen.values()
                if s.role == "member" and s.holder and not s.expired(now, self.timings.lease_duration)}
        if self.member is not None and self.member.may_write():
            live.add(self.identity)
        else:
            live.discard(self.identity)
        return sorted(live)

    def desired(self) -> set[int]:
        """The shards this replica should hold now."""
        if self.sharding.shard is not None:
            return {self.sharding.shard}
        if self.member is None or not self.member.may_write():
            return set()
        return {k for k, owner in assign_shards(self.shards, self.live_members()).items() if owner == self.identity}

    # -- the loop --------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Join, then keep holding the assigned shards until cancelled or the membership is lost."""
        background: list[asyncio.Task[None]] = []
        try:
            leases = Informer(self.client, LEASE, namespace=self.sharding.namespace,
                              label_selector=f"{GROUP_LABEL}={self.sharding.group}", handler=self._on_lease)
            background.append(asyncio.create_task(leases.run(), name="shard-leases-informer"))
            if self.member is not None:
                background.append(asyncio.create_task(self.member.run(), name="shard-membership"))
            await self._joined(leases)
            self.joined.set()
            log.info("joined the shard group", group=self.sharding.group, identity=self.identity,
                     shards=self.shards, shard=self.sharding.shard)
            while not self.lost.is_set():
                self._rebalance()
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.timings.retry_period):
                        await self._changed.wait()
        finally:
            await self._let_go_of_all()
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if self.member is not None:
                await self.member.release()

    async def _joined(self, leases: Informer) -> None:
        """Wait until the group's Leases are read and (dynamic) our member Lease is held: the first assignment
        needs both."""
        while not (leases.synced.is_set() and (self.member is None or self.member.leading.is_set())):
            if self.member is not None and self.member.lost.is_set():
                self.lost.set()
                return
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timings.retry_period):
                    await self._changed.wait()

    def _rebalance(self) -> None:
        if self.member is not None and self.member.lost.is_set():
            log.error("lost shard membership; no more writes from this replica", identity=self.identity)
            self.lost.set()
            return
        desired = self.desired()
        for shard, held in list(self._held.items()):
            if held.task.done() and not held.releasing:  # lost (deadline passed, or another holder)
                self._held.pop(shard)
                log.warning("lost a shard", shard=shard, identity=self.identity)
        for shard in desired - self._held.keys():
            self._hold(shard)
        for shard, held in self._held.items():
            if shard not in desired and not held.releasing:
                held.releasing = True
                held.hand_over = asyncio.create_task(self._hand_over(shard, held), name=f"shard-{shard}-hand-over")

    def _hold(self, shard: int) -> None:
        name = shard_lease_name(self.sharding.group, shard)
        elector = LeaderElector(self.client, name=name, namespace=self.sharding.namespace, identity=self.identity,
                                timings=self.timings, clock=self.clock,
                                labels={GROUP_LABEL: self.sharding.group, ROLE_LABEL: "shard"})
        seen = self._seen.get(name)
        if seen is not None:  # a dead owner's Lease is taken when it expires, not a lease duration from now
            elector.seen_since(seen.spec, seen.observed_at)
        held = _Held(elector=elector, task=asyncio.create_task(self._keep(shard, elector), name=f"shard-{shard}"))
        self._held[shard] = held

    async def _keep(self, shard: int, elector: LeaderElector) -> None:
        run = asyncio.create_task(elector.run(), name=f"shard-{shard}-lease")
        leading = asyncio.create_task(elector.leading.wait())
        try:
            await asyncio.wait({run, leading}, return_when=asyncio.FIRST_COMPLETED)
            if elector.leading.is_set() and not elector.lost.is_set():
                log.info("acquired a shard", shard=shard, identity=self.identity, lease=elector.lease)
                for listener in self._listeners:
                    try:
                        listener(shard)
                    except Exception:  # one reconciler's bug must not keep the others from their objects
                        log.exception("shard listener failed", shard=shard)
            await run
        finally:
            leading.cancel()
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError, ApiError):
                await run
            self._changed.set()

    async def _hand_over(self, shard: int, held: _Held) -> None:
        """Stop new work, let the reconciles in flight finish (bounded), then release the Lease to its new owner."""
        log.info("handing a shard over", shard=shard, identity=self.identity, in_flight=self._in_flight[shard])
        if self._in_flight[shard] > 0:
            held.idle.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timings.renew_deadline):
                    await held.idle.wait()
        drained = self._in_flight[shard] <= 0
        held.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await held.task
        if drained:
            await held.elector.release()
        else:  # a write may still be on the wire: let the Lease expire instead (the guard refuses from now on)
            log.warning("reconciles did not finish in time; the shard Lease is left to expire", shard=shard)
        if self._held.get(shard) is held:
            self._held.pop(shard)
        self._changed.set()

    async def _let_go_of_all(self) -> None:
        """On the way out (SIGTERM, lost membership): hand every shard over that is not already going."""
        going = [(k, h) for k, h in self._held.items() if not h.releasing]
        for _, held in going:
            held.releasing = True
        await asyncio.gather(*(self._hand_over(k, h) for k, h in going), return_exceptions=True)

