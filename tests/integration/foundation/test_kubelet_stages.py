"""The fake kubelet (kwok with testbed/kwok/ stages) behaves as a real one where Argo's e2e suite looks.

Missing images and failing commands never become Ready, readiness gates and hook delays hold readiness back,
Job pods run their script (sleep, then exit with its code), and preStop hooks delay deletion. Every wait
below is for a positive signal; "never Ready" is shown against a control pod that became Ready meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import JOB, POD
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


def pod(name: str, image: str = "nginx:1.19-alpine", **container: Any) -> dict[str, Any]:
    extra = container.pop("spec", {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": image, **container}], **extra}}


def job(name: str, *script: str, image: str = "alpine:3.8") -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": image}
    if script:
        container.update(command=["sh", "-c"], args=list(script))
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}}


def condition(obj: dict[str, Any], ctype: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == ctype), {})


def ready(p: dict[str, Any]) -> bool:
    return condition(p, "Ready").get("status") == "True"


def seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def get_pod(kube: KubeClient, ns: str, name: str) -> dict[str, Any]:
    return await kube.get(POD, name, ns)


async def test_missing_images_and_failing_commands_never_become_ready(kube: KubeClient, namespace: str) -> None:
    await kube.create(POD, pod("pull", "argoproj/rollouts-demo:does-not-exist"), namespace)
    await kube.create(POD, pod("crash", command=["/bad-command"]), namespace)
    await kube.create(POD, pod("control"), namespace)
    await eventually(lambda: get_pod(kube, namespace, "control"), ready, expected="the control pod Ready")
    pulled = await eventually(
        lambda: get_pod(kube, namespace, "pull"),
        lambda p: (p["status"].get("containerStatuses") or [{}])[0].get("state", {}).get("waiting", {}).get(
            "reason") == "ImagePullBackOff", expected="ImagePullBackOff")
    assert pulled["status"]["phase"] == "Pending" and not ready(pulled)
    crashed = await eventually(
        lambda: get_pod(kube, namespace, "crash"),
        lambda p: (p["status"].get("containerStatuses") or [{}])[0].get("state", {}).get("waiting", {}).get(
            "reason") == "CrashLoopBackOff", expected="CrashLoopBackOff")
    assert crashed["status"]["containerStatuses"][0]["restartCount"] >= 1 and not ready(crashed)


async def test_readiness_gates_hold_readiness_until_their_condition_is_true(kube: KubeClient, namespace: str) -> None:
    gate = "argoproj.io/e2e-readiness"
    await kube.create(POD, pod("gated", spec={"readinessGates": [{"conditionType": gate}]}), namespace)
    await kube.create(POD, pod("control"), namespace)
    await eventually(lambda: get_pod(kube, namespace, "control"), ready, expected="the control pod Ready")
    gated = await eventually(lambda: get_pod(kube, namespace, "gated"), lambda p: p["status"].get("phase") == "Running",
                             expected="the gated pod Running")
    assert not ready(gated), "a readiness gate nobody set keeps the pod not Ready"
    # What Argo's fixture MarkPodsReady does: add the gate's condition through the status subresource.
    conditions = [*gated["status"]["conditions"], {"type": gate, "status": "True"}]
    await kube.patch(POD, "gated", {"status": {"conditions": conditions}}, namespace, subresource="status",
                     patch_type="strategic")
    await eventually(lambda: get_pod(kube, namespace, "gated"), ready, expected="Ready once the gate is True")


async def test_post_start_hooks_and_probe_delays_hold_readiness_back(kube: KubeClient, namespace: str) -> None:
    hook = {"postStart": {"exec": {"command": ["sleep", "2"]}}}
    await kube.create(POD, pod("slow", lifecycle=hook,
                               readinessProbe={"initialDelaySeconds": 1, "httpGet": {"path": "/", "port": 80}}),
                      namespace)
    slow = await eventually(lambda: get_pod(kube, namespace, "slow"), ready, timeout=60, expected="Ready")
    waited = seconds(condition(slow, "Ready")["lastTransitionTime"]) - seconds(slow["metadata"]["creationTimestamp"])
    assert waited >= 2, f"Ready {waited:.0f}s after creation; the hook (2s) and the probe delay (1s) come first"


async def test_pre_stop_hooks_delay_deletion(kube: KubeClient, namespace: str) -> None:
    await kube.create(POD, pod("stop", lifecycle={"preStop": {"exec": {"command": ["sleep", "3"]}}}), namespace)
    await eventually(lambda: get_pod(kube, namespace, "stop"), ready, expected="Ready")
    await kube.delete(POD, "stop", namespace)
    deleting = await get_pod(kube, namespace, "stop")
    assert deleting["metadata"].get("deletionTimestamp"), "still there while the preStop hook runs"

    async def gone() -> bool:
        try:
            await get_pod(kube, namespace, "stop")
        except NotFound:
            return True
        return False

    await eventually(gone, bool, timeout=30, expected="the pod deleted after its preStop hook")


async def job_pod(kube: KubeClient, ns: str, name: str) -> dict[str, Any]:
    items, _ = await kube.list(POD, ns, label_selector=f"job-name={name}")
    return items[0] if items else {}


async def test_job_pods_run_their_script_and_exit_with_its_code(kube: KubeClient, namespace: str) -> None:
    await kube.create(JOB, job("fails", "sleep 2 && exit 3"), namespace)
    await kube.create(JOB, job("succeeds", "exit 0"), namespace)
    await kube.create(JOB, job("exits", image="alpine:3.8"), namespace)
    await kube.create(JOB, job("runs", "sleep 6000"), namespace)
    ok = await eventually(lambda: kube.get(JOB, "succeeds", namespace), lambda j: j["status"].get("succeeded") == 1,
                          expected="Job succeeds complete")
    assert ok["status"].get("succeeded") == 1
    await eventually(lambda: kube.get(JOB, "exits", namespace), lambda j: j["status"].get("succeeded") == 1,
                     expected="a Job without a command completes")
    failed = await eventually(lambda: job_pod(kube, namespace, "fails"), lambda p: p.get("status", {}).get("phase")
                              == "Failed", timeout=60, expected="the failing Job's pod Failed")
    terminated = failed["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 3
    assert seconds(terminated["finishedAt"]) - seconds(terminated["startedAt"]) >= 1.5, "it slept 2s first"
    await eventually(lambda: kube.get(JOB, "fails", namespace),
                     lambda j: any(c["type"] == "Failed" and c["status"] == "True"
                                   for c in j["status"].get("conditions") or []), expected="Job fails Failed")
    running = await job_pod(kube, namespace, "runs")
    assert running["status"]["phase"] == "Running", "sleep 6000 is still running after the others finished"
