"""A pod template the API server rejects is reported as Argo reports it, and fixing it recovers by itself.

Argo (rollout/sync.go, getNewReplicaSet): `Progressing=False`, reason `ReplicaSetCreateError`, message
`Failed to create new replica set "<name>": <the API server's error>`, and a Warning event with the same
message. Here the phase is also Degraded with that message (issue 11). Other Rollouts are served meanwhile.
A malformed quantity is Argo's TestMalformedRollout (test/e2e/functional_test.go, expectedfailures/
malformed-rollout.yaml): Argo's tolerant decoding leaves the field out, and the Rollout becomes Healthy.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import EVENT, REPLICASET, ROLLOUT
from tests.support.rollouts import canary_rollout, condition, get_rollout, set_image, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


def _create_error(ro: dict[str, Any]) -> bool:
    progressing = condition(ro, "Progressing") or {}
    return progressing.get("reason") == "ReplicaSetCreateError" and (ro.get("status") or {}).get("phase") == "Degraded"


async def _warnings(kube: KubeClient, namespace: str, name: str) -> list[dict[str, Any]]:
    events, _ = await kube.list(EVENT, namespace)
    return [e for e in events if e["involvedObject"]["name"] == name and e["reason"] == "ReplicaSetCreateError"]


async def _rejected(kube: KubeClient, namespace: str, name: str, server_says: str) -> None:
    ro = await eventually(lambda: get_rollout(kube, namespace, name), _create_error, timeout=60,
                          expected=f"{name}: Progressing=False ReplicaSetCreateError and phase Degraded")
    message = condition(ro, "Progressing")["message"]
    assert condition(ro, "Progressing")["status"] == "False"
    assert message.startswith(f'Failed to create new replica set "{name}-'), message
    assert server_says in message, message
    assert ro["status"]["message"] == f"ReplicaSetCreateError: {message}"
    warnings = await eventually(lambda: _warnings(kube, namespace, name), lambda w: len(w) >= 1,
                                expected=f"a ReplicaSetCreateError Warning event on {name}")
    assert all(w["type"] == "Warning" and w["message"] == message for w in warnings), warnings


async def test_rejected_templates_are_reported_other_rollouts_are_served_and_a_fix_recovers(
    kube: KubeClient, namespace: str, controller: Controller
) -> None:
    bad_label = canary_rollout("bad-label", replicas=1, steps=[])
    bad_label["spec"]["template"]["metadata"]["labels"]["flavour"] = "ünï"
    await kube.create(ROLLOUT, bad_label, namespace)
    await kube.create(ROLLOUT, canary_rollout("bad-port", replicas=1, steps=[]), namespace)
    await kube.create(ROLLOUT, canary_rollout("neighbour", replicas=1, steps=[{"setWeight": 50}, {"pause": {}}]),
                      namespace)
    await wait_phase(kube, namespace, "bad-port", "Healthy")
    await wait_phase(kube, namespace, "neighbour", "Healthy")
    ro = await get_rollout(kube, namespace, "bad-port")
    template = copy.deepcopy(ro["spec"]["template"])
    template["spec"]["containers"][0]["ports"] = [{"containerPort": 99999999}]
    await kube.patch(ROLLOUT, "bad-port", {"spec": {"template": template}}, namespace)

    await _rejected(kube, namespace, "bad-label", "Invalid value")
    await _rejected(kube, namespace, "bad-port", "containerPort")
    # the rest of the controller goes on: the neighbour's update is carried out meanwhile
    await set_image(kube, namespace, "neighbour", "example/app:green")
    await wait_phase(kube, namespace, "neighbour", "Paused", step=1)
    assert len(await _warnings(kube, namespace, "bad-label")) == 1, "one Warning per distinct message, not a stream"

    # fixing the spec recovers without anyone touching the status
    await kube.patch(ROLLOUT, "bad-label", {"spec": {"template": {"metadata": {"labels": {"flavour": "uni"}}}}},
                     namespace)
    template["spec"]["containers"][0]["ports"] = [{"containerPort": 8080}]
    await kube.patch(ROLLOUT, "bad-port", {"spec": {"template": template}}, namespace)
    for name in ("bad-label", "bad-port"):
        ro = await wait_phase(kube, namespace, name, "Healthy", timeout=90)
        assert (condition(ro, "Progressing") or {}).get("reason") != "ReplicaSetCreateError", ro["status"]


MALFORMED = {  # Argo's test/e2e/expectedfailures/malformed-rollout.yaml
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "malformed-rollout"},
    "spec": {"selector": {"matchLabels": {"app": "malformed-rollout"}},
             "template": {"metadata": {"labels": {"app": "malformed-rollout"}},
                          "spec": {"containers": [{"name": "malformed-rollout", "image": "argoproj/rollouts-demo:blue",
                                                   "resources": {"requests": {"memory": "invalid"}}}]}},
             "strategy": {"canary": {}}},
}


async def test_a_malformed_quantity_is_left_out_as_argo_does_and_the_rollout_is_healthy(
    kube: KubeClient, namespace: str, controller: Controller
) -> None:
    await kube.create(ROLLOUT, MALFORMED, namespace)
    ro = await wait_phase(kube, namespace, "malformed-rollout", "Healthy", timeout=90)
    rss, _ = await kube.list(REPLICASET, namespace)
    assert len(rss) == 1
    container = rss[0]["spec"]["template"]["spec"]["containers"][0]
    assert "memory" not in ((container.get("resources") or {}).get("requests") or {}), container
    assert ro["status"]["stableRS"] == rss[0]["metadata"]["labels"]["rollouts-pod-template-hash"]
