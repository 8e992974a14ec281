"""Leader fencing and hand-over, with real controller processes on the real control plane.

A leader frozen (SIGSTOP) past its lease wakes up believing it leads; it must not write anything, because
another replica may hold the Lease by then. A leader stopped with SIGTERM hands the Lease over at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import EVENT, LEASE, REPLICASET, ROLLOUT, SERVICE
from tests.support.controller import controller_process
from tests.support.rollouts import canary_rollout, create_services, set_image, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

ROLLOUTS = 4
STEPS = [{"setWeight": 50}, {"pause": {}}]


async def _snapshot(kube: KubeClient, namespace: str) -> dict[str, dict[str, str]]:
    """Every object a controller writes in the namespace, by kind and name, with its resourceVersion."""
    seen: dict[str, dict[str, str]] = {}
    for kind in (ROLLOUT, REPLICASET, SERVICE, EVENT):
        items, _ = await kube.list(kind, namespace)
        seen[kind.kind] = {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in items}
    return seen


def _diff(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> list[str]:
    changes = []
    for kind, objects in after.items():
        old = before.get(kind, {})
        changes += [f"{kind} {n} created" for n in objects.keys() - old.keys()]
        changes += [f"{kind} {n} deleted" for n in old.keys() - objects.keys()]
        changes += [f"{kind} {n} changed" for n in objects.keys() & old.keys() if objects[n] != old[n]]
    return sorted(changes)


async def _holder(kube: KubeClient, lease: str, namespace: str) -> str:
    got: dict[str, Any] = await kube.get(LEASE, lease, namespace)
    return str(got["spec"].get("holderIdentity") or "")


def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return proc.returncode
        time.sleep(0.1)
    return None


async def test_a_leader_frozen_past_its_lease_never_writes_after_it_wakes(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path
) -> None:
    lease = f"lock-{namespace}"
    common = (f"--namespace={namespace}", "--leader-elect", f"--lease-name={lease}", f"--lease-namespace={namespace}")
    names = [f"fence-{i}" for i in range(ROLLOUTS)]
    for name in names:
        await create_services(kube, namespace, name, f"{name}-stable", f"{name}-canary")
        await kube.create(ROLLOUT, canary_rollout(name, replicas=2, steps=STEPS, stableService=f"{name}-stable",
                                                  canaryService=f"{name}-canary"), namespace)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with controller_process(kubeconfig, *common, "--identity=first", log_path=first_log) as first:
        await eventually(lambda: _holder(kube, lease, namespace), lambda h: h == "first",
                         expected="the first replica holding the lease")
        for name in names:
            await wait_phase(kube, namespace, name, "Healthy")
        with controller_process(kubeconfig, *common, "--identity=second", log_path=second_log) as second:
            os.killpg(first.pid, signal.SIGSTOP)
            try:
                await eventually(lambda: _holder(kube, lease, namespace), lambda h: h == "second", timeout=60,
                                 expected="the standby taking the lease over from the frozen leader")
                # The new leader dies at once, before it acts: whatever happens next could only be the old one.
                os.killpg(second.pid, signal.SIGKILL)
                second.wait(10)
                for name in names:  # work the frozen leader will see the moment it wakes
                    await set_image(kube, namespace, name, "example/app:green")
                before = await _snapshot(kube, namespace)
            finally:
                os.killpg(first.pid, signal.SIGCONT)
            code = _wait_exit(first, timeout=30)
            after = await _snapshot(kube, namespace)
        assert code is not None, "the woken leader must step down and exit, not keep running as if it led"
    changes = _diff(before, after)
    assert not changes, f"the leader woke after losing its lease and wrote: {changes}"
    log = first_log.read_text()
    assert "lost leadership" in log, log[-3000:]
    # The cluster is not stuck: a fresh replica takes over once the dead one's lease expires, and acts.
    with controller_process(kubeconfig, *common, "--identity=third", log_path=tmp_path / "third.log"):
        await eventually(lambda: _holder(kube, lease, namespace), lambda h: h == "third", timeout=60,
                         expected="a fresh replica taking the lease after the killed one's expired")
        for name in names:
            ro = await wait_phase(kube, namespace, name, "Paused", step=1, timeout=60)
            assert ro["status"]["currentPodHash"] != ro["status"]["stableRS"]


def _logged(log: Path, line: str) -> bool:
    return log.exists() and line in log.read_text()


async def _wait_standing_by(log: Path) -> bool:
    return await asyncio.to_thread(_logged, log, "standing by with warm caches")


async def test_sigterm_releases_the_lease_and_the_standby_takes_over_at_once(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path
) -> None:
    lease = f"lock-{namespace}"
    # A 60 s lease: a take-over within 30 s can only come from the lease being released, not from expiry.
    common = (f"--namespace={namespace}", "--leader-elect", f"--lease-name={lease}", f"--lease-namespace={namespace}",
              "--leader-election-lease-duration=60s", "--leader-election-renew-deadline=40s")
    await create_services(kube, namespace, "handover", "handover-stable", "handover-canary")
    await kube.create(ROLLOUT, canary_rollout("handover", replicas=2, steps=STEPS, stableService="handover-stable",
                                              canaryService="handover-canary"), namespace)
    with controller_process(kubeconfig, *common, "--identity=first", log_path=tmp_path / "first.log") as first:
        await eventually(lambda: _holder(kube, lease, namespace), lambda h: h == "first",
                         expected="the first replica holding the lease")
        await wait_phase(kube, namespace, "handover", "Healthy")
        second_log = tmp_path / "second.log"
        with controller_process(kubeconfig, *common, "--identity=second", log_path=second_log):
            await eventually(lambda: _wait_standing_by(second_log), lambda ok: ok, timeout=60,
                             expected="the second replica standing by with warm caches")
            first.send_signal(signal.SIGTERM)
            assert _wait_exit(first, timeout=20) == 0, "SIGTERM must end the leader cleanly"
            await eventually(lambda: _holder(kube, lease, namespace), lambda h: h == "second", timeout=30,
                             expected="the standby holding the released lease long before the 60 s lease expires")
            await set_image(kube, namespace, "handover", "example/app:green")
            await wait_phase(kube, namespace, "handover", "Paused", step=1, timeout=60)
    assert "released the lease" in (tmp_path / "first.log").read_text()
