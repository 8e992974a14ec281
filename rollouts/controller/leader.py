"""Leader election with a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.

Two controller replicas must never both act. The holder renews the Lease every `retry_period`; a candidate
takes it over only when `renewTime + leaseDurationSeconds` has passed. Updates go through PUT with the
Lease's resourceVersion, so two candidates racing for an expired lease cannot both win (one gets 409).
A leader that fails to renew within `renew_deadline` steps down (`lost` is set) and the process exits, so
it can never keep acting on a stale belief that it leads.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import AlreadyExists, ApiError, Conflict, NotFound
from rollouts.kube.resources import LEASE

log = structlog.get_logger("rollouts.leader")


def _fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def default_identity() -> str:
    return f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4().hex[:8]}"


class LeaderElector:
    def __init__(
        self,
        client: KubeClient,
        *,
        name: str,
        namespace: str,
        identity: str | None = None,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
    ) -> None:
        self.client = client
        self.name = name
        self.namespace = namespace
        self.identity = identity or default_identity()
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.leading = asyncio.Event()
        self.lost = asyncio.Event()

    async def run(self) -> None:
        """Acquire, then renew until leadership is lost (then `lost` is set and this returns)."""
        while not self.leading.is_set():
            if await self._try_acquire_or_renew():
                log.info("became leader", lease=f"{self.namespace}/{self.name}", identity=self.identity)
                self.leading.set()
                break
            await asyncio.sleep(self.retry_period)
        last_renew = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(self.retry_period)
            if await self._try_acquire_or_renew():
                last_renew = asyncio.get_running_loop().time()
            elif asyncio.get_running_loop().time() - last_renew > self.renew_deadline:
                log.error("lost leadership", lease=f"{self.namespace}/{self.name}")
                self.leading.clear()
                self.lost.set()
                return

    async def release(self) -> None:
        """Give the lease up on a clean shutdown so another replica takes over at once."""
        try:
            lease = await self.client.get(LEASE, self.name, self.namespace)
            if lease.get("spec", {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = ""
                lease["spec"]["leaseDurationSeconds"] = 1
                await self.client.replace(LEASE, lease)
        except ApiError:
            pass

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
        holder = spec.get("holderIdentity") or ""
        renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime"))
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        expired = renewed is None or now > renewed + timedelta(seconds=duration)
        if holder and holder != self.identity and not expired:
            return False
        if holder != self.identity:
            spec["acquireTime"] = _fmt(now)
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        spec["holderIdentity"] = self.identity
        spec["leaseDurationSeconds"] = int(self.lease_duration)
        spec["renewTime"] = _fmt(now)
        try:
            await self.client.replace(LEASE, lease)
        except Conflict:
            return False
        except ApiError as exc:
            log.warning("renewing the lease failed", error=str(exc))
            return False
        return True

    async def _create(self, now: datetime) -> bool:
        body = {
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
                     "acquireTime": _fmt(now), "renewTime": _fmt(now), "leaseTransitions": 0},
        }
        try:
            await self.client.create(LEASE, body, self.namespace)
        except (AlreadyExists, Conflict):
            return False
        except ApiError as exc:
            log.warning("creating the lease failed", error=str(exc))
            return False
        return True
