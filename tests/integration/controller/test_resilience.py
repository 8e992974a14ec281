"""The controller survives being killed mid-rollout, and two replicas elect one leader."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import LEASE, ROLLOUT
from tests.support.controller import controller_process
from tests.support.rollouts import (
    canary_rollout,
    create_services,
    patch_status,
    replica_sets,
    set_image,
    wait_phase,
    wait_pods,
)
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

STEPS = [{"setWeight": 20}, {"pause": {"duration": "4s"}}, {"setWeight": 60}, {"pause": {}}]


async def test_killed_mid_rollout_continues_without_duplicate_replicaset_or_lost_step(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path
) -> None:
    await create_services(kube, namespace, "kill", "kill-stable", "kill-canary")
    await kube.create(ROLLOUT, canary_rollout("kill", steps=STEPS, stableService="kill-stable",
                                              canaryService="kill-canary"), namespace)
    log = tmp_path / "controller.log"
    with controller_process(kubeconfig, f"--namespace={namespace}", log_path=log) as proc:
        ro = await wait_phase(kube, namespace, "kill", "Healthy")
        stable = ro["status"]["stableRS"]
        await set_image(kube, namespace, "kill", "example/app:green")
        ro = await wait_phase(kube, namespace, "kill", "Paused", step=1)
        pause_started = ro["status"]["pauseConditions"][0]["startTime"]
        proc.kill()
        proc.wait(10)
    killed_at = time.monotonic()
    # the timed pause keeps running while no controller is up: its deadline lives in status
    with controller_process(kubeconfig, f"--namespace={namespace}", log_path=log):
        ro = await wait_phase(kube, namespace, "kill", "Paused", step=3, timeout=60)
        canary = ro["status"]["currentPodHash"]
        await wait_pods(kube, namespace, "kill", {stable: 2, canary: 3})
        rss = await replica_sets(kube, namespace, "kill")
        assert set(rss) == {stable, canary}, f"expected exactly the stable and canary ReplicaSets, got {sorted(rss)}"
        assert ro["status"]["currentStepIndex"] == 3
        assert pause_started
        assert time.monotonic() - killed_at < 60
        await patch_status(kube, namespace, "kill", {"pauseConditions": None})
        ro = await wait_phase(kube, namespace, "kill", "Healthy", timeout=90)
        assert ro["status"]["stableRS"] == canary


async def test_two_replicas_elect_one_leader_and_the_standby_takes_over(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path
) -> None:
    lease = f"lock-{namespace}"
    common = (f"--namespace={namespace}", "--leader-elect", f"--lease-name={lease}",
              f"--lease-namespace={namespace}")
    await create_services(kube, namespace, "le", "le-stable", "le-canary")
    await kube.create(ROLLOUT, canary_rollout("le", steps=STEPS, stableService="le-stable",
                                              canaryService="le-canary"), namespace)
    with controller_process(kubeconfig, *common, "--identity=first", log_path=tmp_path / "first.log") as first:
        held = await eventually(lambda: kube.get(LEASE, lease, namespace),
                                lambda lz: lz["spec"].get("holderIdentity") == "first",
                                expected="the first replica holding the lease")
        with controller_process(kubeconfig, *common, "--identity=second", log_path=tmp_path / "second.log"):
            await wait_phase(kube, namespace, "le", "Healthy")
            again = await kube.get(LEASE, lease, namespace)
            assert again["spec"]["holderIdentity"] == "first", "the standby must not take a held lease"
            assert int(again["spec"].get("leaseTransitions") or 0) == int(held["spec"].get("leaseTransitions") or 0)
            first.kill()
            first.wait(10)
            await eventually(lambda: kube.get(LEASE, lease, namespace),
                             lambda lz: lz["spec"].get("holderIdentity") == "second", timeout=45,
                             expected="the standby taking the lease over after the leader was killed")
            await set_image(kube, namespace, "le", "example/app:green")
            await wait_phase(kube, namespace, "le", "Paused", step=1, timeout=60)
    second_log = (tmp_path / "second.log").read_text()
    assert "became leader" in second_log
