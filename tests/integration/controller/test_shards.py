"""Sharding across real controller processes on the real control plane (``--shards``, rollouts.kube.shards).

Three replicas share three shards; one is SIGKILLed mid-update: its shard moves to a live replica within the
failover target, every Rollout converges, no Rollout gets a duplicate ReplicaSet, and every Rollout's events
come from one replica at a time (the shard's holder). A replica frozen (SIGSTOP) past its lease wakes up after
its shards moved and writes nothing. Static shards (``--shard K``) act only for their own objects.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import EVENT, LEASE, REPLICASET, ROLLOUT, SERVICE
from rollouts.kube.shards import shard_lease_name, shard_of
from tests.support.controller import controller_process
from tests.support.rollouts import canary_rollout, create_services, replica_sets, set_image, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

SHARDS = 3
STEPS: list[dict[str, Any]] = [{"setWeight": 50}, {"pause": {"duration": "2s"}}]
FAILOVER_TARGET = 20.0
"""Seconds from a SIGKILL until the dead replica's shards are held again: lease 8 s + member expiry seen within
a retry period + the take-over, with room for a loaded 2-core machine (measured: benchmarks/README.md)."""


def _flags(namespace: str, *extra: str) -> tuple[str, ...]:
    return (f"--namespace={namespace}", f"--shards={SHARDS}", f"--lease-name=lock-{namespace}",
            f"--lease-namespace={namespace}", "--disable-applications", "--disable-notifications", "--workers=4",
            *extra)


async def _holders(kube: KubeClient, namespace: str, shards: int = SHARDS) -> dict[int, str]:
    holders = {}
    for k in range(shards):
        lease = await kube.get_or_none(LEASE, shard_lease_name(f"lock-{namespace}", k), namespace)
        holders[k] = str(((lease or {}).get("spec") or {}).get("holderIdentity") or "")
    return holders


async def _make_rollouts(kube: KubeClient, namespace: str, names: list[str]) -> None:
    for name in names:
        await create_services(kube, namespace, name, f"{name}-stable", f"{name}-canary")
        await kube.create(ROLLOUT, canary_rollout(name, replicas=2, steps=STEPS, stableService=f"{name}-stable",
                                                  canaryService=f"{name}-canary"), namespace)


async def _writers(kube: KubeClient, namespace: str) -> dict[str, list[tuple[int, str]]]:
    """Per Rollout, (enqueue time in ns, reportingInstance) of each of its events, in order."""
    events, _ = await kube.list(EVENT, namespace)
    out: dict[str, list[tuple[int, str]]] = {}
    for e in events:
        involved = e.get("involvedObject") or {}
        if involved.get("kind") != "Rollout" or e.get("reportingComponent") != "rollouts-controller":
            continue
        stamp = int(str(e["metadata"]["name"]).rsplit(".", 1)[-1], 16)
        out.setdefault(str(involved["name"]), []).append((stamp, str(e.get("reportingInstance") or "")))
    return {name: sorted(items) for name, items in out.items()}


def _runs(items: list[tuple[int, str]]) -> list[str]:
    """The writers of a Rollout's events in time order, consecutive repeats folded: ["a", "c"] is a hand-over."""
    runs: list[str] = []
    for _, who in items:
        if not runs or runs[-1] != who:
            runs.append(who)
    return runs


async def test_three_replicas_one_killed_mid_update_every_rollout_converges_once(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path
) -> None:
    names = [f"shard-{i}" for i in range(12)]
    by_shard = {k: [n for n in names if shard_of(f"{namespace}/{n}", SHARDS) == k] for k in range(SHARDS)}
    assert all(by_shard.values()), f"every shard should own a Rollout for this test: {by_shard}"
    logs = {who: tmp_path / f"{who}.log" for who in ("a", "b", "c")}
    with controller_process(kubeconfig, *_flags(namespace, "--identity=a"), log_path=logs["a"]) as a, \
            controller_process(kubeconfig, *_flags(namespace, "--identity=b"), log_path=logs["b"]) as b, \
            controller_process(kubeconfig, *_flags(namespace, "--identity=c"), log_path=logs["c"]) as c:
        procs = {"a": a, "b": b, "c": c}
        holders = await eventually(lambda: _holders(kube, namespace), lambda h: sorted(h.values()) == ["a", "b", "c"],
                                   timeout=90, expected="the three shards spread one per replica")
        await _make_rollouts(kube, namespace, names)  # after the spread: each Rollout has had one owner
        for name in names:
            await wait_phase(kube, namespace, name, "Healthy", timeout=120)
        victim_shard = next(k for k, who in holders.items() if who == "b")
        for name in names:
            await set_image(kube, namespace, name, "example/app:green")
        # Mid-update: the victim has started updating one of its Rollouts (a canary ReplicaSet exists).
        await eventually(lambda: _canaries(kube, namespace, by_shard[victim_shard]), lambda n: n > 0, timeout=60,
                         expected="the victim replica creating a canary ReplicaSet for one of its Rollouts")
        os.killpg(procs["b"].pid, signal.SIGKILL)
        killed = time.monotonic()
        procs["b"].wait(10)
        after = await eventually(lambda: _holders(kube, namespace), lambda h: h[victim_shard] in ("a", "c"),
                                 timeout=60, expected=f"shard {victim_shard} held by a live replica")
        failover = time.monotonic() - killed
        for name in names:
            ro = await wait_phase(kube, namespace, name, "Healthy", timeout=180)
            assert ro["spec"]["template"]["spec"]["containers"][0]["image"] == "example/app:green"
            assert ro["status"]["stableRS"] == ro["status"]["currentPodHash"], ro["status"]
    print(f"failover of shard {victim_shard}: {failover:.1f}s")
    assert failover < FAILOVER_TARGET, f"the dead replica's shard took {failover:.1f}s to move"
    for name in names:
        sets = await replica_sets(kube, namespace, name)
        assert len(sets) == 2, f"{name}: one ReplicaSet per revision, got {sorted(sets)}"
        owned, _ = await kube.list(REPLICASET, namespace, label_selector=f"app={name}")
        assert len(owned) == 2, f"{name}: duplicate ReplicaSets {[o['metadata']['name'] for o in owned]}"
    writers = await _writers(kube, namespace)
    for k, shard_names in by_shard.items():
        for name in shard_names:
            runs = _runs(writers.get(name, []))
            if k == victim_shard:
                # the killed replica until it died, then the new holder; never both taking turns
                assert runs in (["b", after[k]], [after[k]]), f"{name}: events written by {runs}"
            else:
                assert runs == [holders[k]], f"{name} (shard {k}, held by {holders[k]}): events written by {runs}"
    assert any(_runs(writers.get(n, [])) == ["b", after[victim_shard]] for n in by_shard[victim_shard]), \
        "the victim was killed mid-update: some of its Rollouts were finished by the new holder"


async def _canaries(kube: KubeClient, namespace: str, names: list[str]) -> int:
    count = 0
    for name in names:
        ro = await kube.get(ROLLOUT, name, namespace)
        status = ro.get("status") or {}
        sets = await replica_sets(kube, namespace, name)
        count += len(sets) > 1 and status.get("currentPodHash") != status.get("stableRS")
    return count


async def _snapshot(kube: KubeClient, namespace: str) -> dict[str, dict[str, str]]:
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


def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return proc.returncode
        time.sleep(0.1)
    return None


async def test_a_replica_frozen_past_its_lease_writes_nothing_after_its_shards_moved(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path
) -> None:
    names = [f"frozen-{i}" for i in range(6)]
    await _make_rollouts(kube, namespace, names)
    first_log = tmp_path / "first.log"
    with controller_process(kubeconfig, *_flags(namespace, "--identity=first"), log_path=first_log) as first:
        await eventually(lambda: _holders(kube, namespace), lambda h: set(h.values()) == {"first"}, timeout=60,
                         expected="the only replica holding every shard")
        for name in names:
            await wait_phase(kube, namespace, name, "Healthy", timeout=120)
        with controller_process(kubeconfig, *_flags(namespace, "--identity=second"),
                                log_path=tmp_path / "second.log") as second:
            await eventually(lambda: _holders(kube, namespace), lambda h: "second" in h.values(), timeout=60,
                             expected="the second replica taking its share of the shards")
            os.killpg(first.pid, signal.SIGSTOP)
            try:
                await eventually(lambda: _holders(kube, namespace), lambda h: set(h.values()) == {"second"},
                                 timeout=60, expected="the live replica taking every shard from the frozen one")
                os.killpg(second.pid, signal.SIGKILL)  # before it acts: whatever happens next is the frozen one
                second.wait(10)
                for name in names:  # work the frozen replica sees the moment it wakes
                    await set_image(kube, namespace, name, "example/app:green")
                before = await _snapshot(kube, namespace)
            finally:
                os.killpg(first.pid, signal.SIGCONT)
            code = _wait_exit(first, timeout=30)
            after = await _snapshot(kube, namespace)
        assert code is not None, "the woken replica must leave its shard group and exit"
    changes = _diff(before, after)
    assert not changes, f"the replica woke after losing its shards and wrote: {changes}"
    log = first_log.read_text()
    assert "lost shard membership" in log, log[-3000:]
    with controller_process(kubeconfig, *_flags(namespace, "--identity=third"), log_path=tmp_path / "third.log"):
        for name in names:
            await wait_phase(kube, namespace, name, "Healthy", timeout=120)
            ro: dict[str, Any] = await kube.get(ROLLOUT, name, namespace)
            assert ro["spec"]["template"]["spec"]["containers"][0]["image"] == "example/app:green"


async def test_static_shards_act_only_for_their_own_rollouts(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path
) -> None:
    names = [f"static-{i}" for i in range(6)]
    owner = {n: f"s{shard_of(f'{namespace}/{n}', 2)}" for n in names}
    assert set(owner.values()) == {"s0", "s1"}, owner
    await _make_rollouts(kube, namespace, names)
    static = (f"--namespace={namespace}", "--shards=2", f"--lease-name=lock-{namespace}",
              f"--lease-namespace={namespace}", "--disable-applications", "--disable-notifications")
    with controller_process(kubeconfig, *static, "--shard=0", "--identity=s0", log_path=tmp_path / "s0.log") as s0:
        # Only shard 0 runs: its Rollouts become Healthy, shard 1's are untouched.
        for name in names:
            if owner[name] == "s0":
                await wait_phase(kube, namespace, name, "Healthy", timeout=120)
        for name in names:
            if owner[name] == "s1":
                ro = await kube.get(ROLLOUT, name, namespace)
                assert not ro.get("status"), f"{name} belongs to shard 1, nobody should have acted: {ro['status']}"
        with controller_process(kubeconfig, *static, "--shard=1", "--identity=s1", log_path=tmp_path / "s1.log") as s1:
            for name in names:
                await wait_phase(kube, namespace, name, "Healthy", timeout=120)
            # SIGTERM hands each shard Lease back (no holder), so a replacement takes it at once.
            for proc in (s0, s1):
                proc.send_signal(signal.SIGTERM)
            assert [_wait_exit(p, 30) for p in (s0, s1)] == [0, 0], "SIGTERM must end both replicas cleanly"
    writers = await _writers(kube, namespace)
    for name in names:
        assert _runs(writers.get(name, [])) == [owner[name]], f"{name}: events written by {writers.get(name)}"
    assert await _holders(kube, namespace, 2) == {0: "", 1: ""}, "the shard Leases are released on SIGTERM"
