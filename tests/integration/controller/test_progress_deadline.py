"""progressDeadlineSeconds on the real control plane: a canary whose pods never become ready.

The pods are made unschedulable with a nodeSelector no fake node carries, so they stay Pending, exactly like
an image that never starts on a real cluster.
"""

from __future__ import annotations

import copy

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ROLLOUT, SERVICE
from tests.support.rollouts import (
    HASH,
    canary_rollout,
    condition,
    create_services,
    event_reasons,
    get_rollout,
    wait_phase,
)
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


async def break_template(kube: KubeClient, ns: str, name: str) -> None:
    ro = await get_rollout(kube, ns, name)
    template = copy.deepcopy(ro["spec"]["template"])
    template["spec"]["nodeSelector"] = {"no-such-node": "true"}
    template["spec"]["containers"][0]["image"] = "example/app:broken"
    await kube.patch(ROLLOUT, name, {"spec": {"template": template}}, ns)


@pytest.mark.parametrize("abort", [False, True], ids=["deadline-only", "deadline-aborts"])
async def test_progress_deadline_exceeded(kube: KubeClient, namespace: str, controller: Controller, abort: bool) -> None:
    await create_services(kube, namespace, "slow", "slow-stable", "slow-canary")
    manifest = canary_rollout("slow", replicas=2, steps=[{"setWeight": 50}, {"pause": {}}],
                              stableService="slow-stable", canaryService="slow-canary")
    manifest["spec"]["progressDeadlineSeconds"] = 3
    manifest["spec"]["progressDeadlineAbort"] = abort
    await kube.create(ROLLOUT, manifest, namespace)
    ro = await wait_phase(kube, namespace, "slow", "Healthy")
    stable = ro["status"]["stableRS"]
    await break_template(kube, namespace, "slow")

    if abort:
        # the deadline is reported (event), then the abort takes over the Progressing condition, as in Argo
        ro = await wait_phase(kube, namespace, "slow", "Degraded")
        # Degraded is first written with the deadline's message; the abort's message follows in the next write
        ro = await eventually(lambda: get_rollout(kube, namespace, "slow"),
                              lambda r: "RolloutAborted" in (r.get("status") or {}).get("message", ""),
                              timeout=30, expected="status.message naming RolloutAborted after the deadline")
        assert ro["status"].get("abort") is True
        assert "RolloutAborted" in ro["status"]["message"]
        assert "ProgressDeadlineExceeded" in await event_reasons(kube, namespace, "slow")
        canary_svc = await kube.get(SERVICE, "slow-canary", namespace)
        assert canary_svc["spec"]["selector"][HASH] == stable
        return
    ro = await eventually(
        lambda: get_rollout(kube, namespace, "slow"),
        lambda r: (condition(r, "Progressing") or {}).get("reason") == "ProgressDeadlineExceeded",
        timeout=60, expected="Progressing condition with reason ProgressDeadlineExceeded",
    )
    assert condition(ro, "Progressing")["status"] == "False"
    ro = await wait_phase(kube, namespace, "slow", "Degraded")
    assert not ro["status"].get("abort")
    assert "ProgressDeadlineExceeded" in ro["status"]["message"]
