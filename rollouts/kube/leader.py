"""Leader election with a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it, plus fencing.

Two controller replicas must never both act, even when one of them is frozen (SIGSTOP, a stalled node, an
event loop blocked by a hostile input) past the lease duration and then wakes up believing it still leads.

- **Acquiring.** A candidate takes the Lease when it is free (no holder: released on shutdown) or when the
  record has not changed for `leaseDurationSeconds` *as measured on the candidate's own monotonic clock*
  from the moment it last saw the record change (client-go's observedTime; never comparing the holder's
  wall clock with ours). Updates are PUTs with the Lease's resourceVersion, so two candidates racing for an
  expired lease cannot both win (one gets 409). A candidate watches the Lease, so a released lease is taken
  over at once, not at the next poll.
- **Fencing.** A leader may write only until `renew_deadline` after it *sent* the last renew that
  succeeded. Every write of the controller goes through a guarded client (`KubeClient.guarded`) that
  checks this right before the request leaves; a replica that wakes from a freeze finds the deadline
  passed and refuses every write, then steps down. Because renew_deadline < lease_duration, and a
  candidate's lease clock starts no earlier than that renew was sent, the old leader stops before anyone
  else may start (the difference, 3 s by default, is the margin for a write already on the wire).
- **Stepping down.** A leader that cannot renew by its deadline, or that sees another holder, sets `lost`;
  the process exits, so a fresh one comes back as a standby with fresh caches.
- **Handing over.** On a clean shutdown the leader releases the Lease (no holder, duration 1 s), so the
  standby, which is watching it, acts within about a second instead of a lease duration.

Defaults (lease 8 s, renew deadline 5 s, retry 1 s) are shorter than client-go's 15/10/2 so that a standby
acts within 10 s of a leader being SIGKILLed; all three are flags (`--leader-election-*`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import AlreadyExists, ApiError, Conflict, Fenced, NotFound
from rollouts.kube.resources import LEASE

log = structlog.get_logger("rollouts.leader")


def _fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_identity() -> str:
    return f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class LeaseTimings:
    """How long a lease lasts, how long a leader keeps acting without a successful renew, how often it renews.

    lease 8, renew deadline 5, retry 1: a leader renews every second and stops writing 5 s after the last
    renew it sent that succeeded; a standby takes over 8 s after it last saw the lease change.
    """

    lease_duration: float = 8.0
    renew_deadline: float = 5.0
    retry_period: float = 1.0

    def __post_init__(self) -> None:
        if not self.retry_period > 0:
            raise ValueError(f"leader election retry period must be positive, got {self.retry_period:g}s")
        if not self.renew_deadline > self.retry_period:
            raise ValueError(f"leader election renew deadline ({self.renew_deadline:g}s) must be longer than the "
                             f"retry period ({self.retry_period:g}s)")
        if not self.lease_duration > self.renew_deadline:
            raise ValueError(f"leader election lease duration ({self.lease_duration:g}s) must be longer than the "
                             f"renew deadline ({self.renew_deadline:g}s)")


class LeaderElector:
    def __init__(
        self,
        client: KubeClient,
        *,
        name: str,
        namespace: str,
        identity: str | None = None,
        timings: LeaseTimings | None = None,
        clock: Callable[[], float] = time.monotonic,
        labels: dict[str, str] | None = None,
    ) -> None:
        self.client = client  # unguarded: the Lease itself is how this replica proves it may write
        self.name = name
        self.namespace = namespace
        self.identity = identity or default_identity()
        self.timings = timings or LeaseTimings()
        self.clock = clock
        self.labels = dict(labels or {})
        """Set on the Lease when this replica creates it (shard membership finds its member Leases by label)."""
        self.leading = asyncio.Event()
        self.lost = asyncio.Event()
        self._valid_until = -math.inf
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._observed_duration = self.timings.lease_duration
        self._observed_holder = ""
        self._changed = asyncio.Event()

    @property
    def lease(self) -> str:
        return f"{self.namespace}/{self.name}"

    # -- fencing -----------------------------------------------------------------------------------

    def may_write(self) -> bool:
        return self.leading.is_set() and not self.lost.is_set() and self.clock() < self._valid_until

    def check_write(self) -> None:
        """The guard of every controller write (KubeClient.guarded); raises Fenced unless leading right now."""
        if self.may_write():
            return
        if self.leading.is_set() and not self.lost.is_set():
            self._step_down("the lease was not renewed within the renew deadline "
                            f"({self.timings.renew_deadline:g}s)")
        raise Fenced(0, "NotLeader", f"write refused: this replica ({self.identity}) does not hold the lease "
                                     f"{self.lease}")

    def _step_down(self, why: str) -> None:
        if self.lost.is_set():
            return
        log.error("lost leadership; no more writes from this replica", lease=self.lease, identity=self.identity,
                  reason=why)
        self._valid_until = -math.inf
        self.leading.clear()
        self.lost.set()

    # -- the loop ----------------------------------------------------------------------------------

    async def run(self) -> None:
        """Acquire, then renew until leadership is lost (then `lost` is set and this returns)."""
        watcher = asyncio.create_task(self._watch(), name="leader-lease-watch")
        try:
            while True:
                sent = self.clock()
                if await self._try_acquire_or_renew():
                    self._valid_until = sent + self.timings.renew_deadline
                    log.info("became leader", lease=self.lease, identity=self.identity)
                    self.leading.set()
                    break
                await self._wait_for_change(self._until_acquirable())
            while True:
                await asyncio.sleep(self.timings.retry_period)
                if self.clock() >= self._valid_until:
                    self._step_down(f"no successful renew within {self.timings.renew_deadline:g}s")
                    return
                sent = self.clock()
                if await self._try_acquire_or_renew():
                    self._valid_until = sent + self.timings.renew_deadline
                elif self._observed_holder not in ("", self.identity):
                    self._step_down(f"the lease is held by {self._observed_holder}")
                    return
                if self.clock() >= self._valid_until:
                    self._step_down(f"no successful renew within {self.timings.renew_deadline:g}s")
                    return
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    def _until_acquirable(self) -> float:
        """Seconds until the observed lease may be taken (never longer than one retry period)."""
        if not self._observed_holder:
            return self.timings.retry_period
        left = self._observed_at + self._observed_duration - self.clock()
        return min(self.timings.retry_period, max(left + 0.01, 0.01))

    async def _wait_for_change(self, timeout: float) -> None:
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._changed.wait()

    async def _watch(self) -> None:
        """Wake the candidate whenever the Lease changes (a release is then taken over at once)."""
        selector = f"metadata.name={self.name}"
        while True:
            try:
                _, version = await self.client.list(LEASE, self.namespace, field_selector=selector)
                async for _etype, _obj in self.client.watch(LEASE, self.namespace, resource_version=version,
                                                            field_selector=selector, timeout_seconds=120):
                    self._changed.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the poll in run() still works; the watch only makes it faster
                log.debug("lease watch interrupted", error=str(exc))
            await asyncio.sleep(self.timings.retry_period)

    async def release(self) -> None:
        """Stop writing, then give the lease up so the standby takes over at once (clean shutdown)."""
        was_leading = self.leading.is_set() and not self.lost.is_set()
        self._valid_until = -math.inf
        self.leading.clear()
        if not was_leading:
            return
        try:
            lease = await self.client.get(LEASE, self.name, self.namespace)
            spec = lease.setdefault("spec", {})
            if spec.get("holderIdentity") == self.identity:
                now = _fmt(datetime.now(UTC))
                spec.update({"holderIdentity": "", "leaseDurationSeconds": 1, "acquireTime": now, "renewTime": now})
                await self.client.replace(LEASE, lease)
                log.info("released the lease", lease=self.lease, identity=self.identity)
        except ApiError as exc:
            log.warning("could not release the lease; the standby takes over when it expires", error=str(exc))

    # -- one attempt -------------------------------------------------------------------------------

    def seen_since(self, spec: dict[str, Any], at: float) -> None:
        """What this replica already knew of the Lease before this elector started: its spec, unchanged since
        ``at`` on our clock (a shard Lease watched all along; without it a new candidate would wait a whole
        lease duration from its own first look, even for a Lease that expired long ago)."""
        self._observe(spec, at=at)

    def _observe(self, spec: dict[str, Any], *, at: float | None = None) -> None:
        record = (spec.get("holderIdentity") or "", spec.get("renewTime"), spec.get("acquireTime"),
                  spec.get("leaseDurationSeconds"), spec.get("leaseTransitions"))
        if record != self._observed:
            self._observed = record
            self._observed_at = self.clock() if at is None else at
        self._observed_holder = str(record[0])
        self._observed_duration = float(spec.get("leaseDurationSeconds") or self.timings.lease_duration)

    async def _try_acquire_or_renew(self) -> bool:
        now = datetime.now(UTC)
        try:
            lease = await self.client.get(LEASE, self.name, self.namespace)
        except NotFound:
            return await self._create(now)
        except ApiError as exc:
            log.warning("reading the lease failed", error=str(exc))
            return False
        spec: dict[str, Any] = lease.setdefault("spec", {})
        self._observe(spec)
        holder = self._observed_holder
        expired = self.clock() >= self._observed_at + self._observed_duration
        if holder and holder != self.identity and not expired:
            return False
        if holder != self.identity:
            spec["acquireTime"] = _fmt(now)
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        spec["holderIdentity"] = self.identity
        spec["leaseDurationSeconds"] = max(1, math.ceil(self.timings.lease_duration))
        spec["renewTime"] = _fmt(now)
        try:
            updated = await self.client.replace(LEASE, lease)
        except Conflict:
            return False
        except ApiError as exc:
            log.warning("renewing the lease failed", error=str(exc))
            return False
        self._observe(updated.get("spec") or {})
        return True

    async def _create(self, now: datetime) -> bool:
        body = {
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace,
                         **({"labels": self.labels} if self.labels else {})},
            "spec": {"holderIdentity": self.identity, "leaseDurationSeconds": max(1, math.ceil(
                self.timings.lease_duration)), "acquireTime": _fmt(now), "renewTime": _fmt(now),
                "leaseTransitions": 0},
        }
        try:
            created = await self.client.create(LEASE, body, self.namespace)
        except (AlreadyExists, Conflict):
            return False
        except ApiError as exc:
            log.warning("creating the lease failed", error=str(exc))
            return False
        self._observe(created.get("spec") or {})
        return True
