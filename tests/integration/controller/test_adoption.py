"""Taking over ReplicaSets labelled under another hash: found by template, as Argo's FindNewReplicaSet does.

The ReplicaSet is made the way another controller would have made it (here: labelled with a hash nobody
computes from this template) and its template is defaulted by the real API server, so the controller must
compare the Rollout's template in its defaulted form (dry-run) to recognise it. No new ReplicaSet, no pod
replaced; the next update then works under Argo's hash.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import POD, REPLICASET, ROLLOUT
from rollouts.planning.hashing import pod_template_hash, step_hash
from tests.support.controller import controller_in_process
from tests.support.rollouts import HASH, canary_rollout, create_services, replica_sets, set_image, wait_phase, wait_pods
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

FOREIGN = "7f6d5c4b9"  # not the hash of the template below under any scheme


async def ready_pod_names(kube: KubeClient, ns: str) -> set[str]:
    items, _ = await kube.list(POD, ns, label_selector="app=shop")
    return {p["metadata"]["name"] for p in items if not p["metadata"].get("deletionTimestamp")
            and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])}


async def test_a_replica_set_under_a_foreign_hash_is_adopted_without_restarting_pods(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None
) -> None:
    steps = [{"setWeight": 50}, {"pause": {}}]
    await create_services(kube, namespace, "shop", "shop-stable", "shop-canary")
    manifest = canary_rollout("shop", replicas=3, steps=steps, stableService="shop-stable",
                              canaryService="shop-canary")
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "0.5"}}
    rollout = await kube.create(ROLLOUT, manifest, namespace)
    template = copy.deepcopy(manifest["spec"]["template"])
    template["metadata"]["labels"][HASH] = FOREIGN
    await kube.create(REPLICASET, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"shop-{FOREIGN}", "labels": {"app": "shop", HASH: FOREIGN},
                     "annotations": {"rollout.argoproj.io/revision": "1"},
                     "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "shop",
                                          "uid": rollout["metadata"]["uid"], "controller": True,
                                          "blockOwnerDeletion": True}]},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "shop", HASH: FOREIGN}}, "template": template},
    }, namespace)
    await kube.patch(ROLLOUT, "shop", {"status": {
        "currentPodHash": FOREIGN, "stableRS": FOREIGN, "currentStepIndex": 2, "currentStepHash": step_hash(steps),
        "observedGeneration": str(rollout["metadata"]["generation"]), "phase": "Healthy"}}, namespace,
        subresource="status")
    before = await eventually(lambda: ready_pod_names(kube, namespace), lambda names: len(names) == 3,
                              expected="3 ready pods of the foreign ReplicaSet")
    assert pod_template_hash(manifest["spec"]["template"]) != FOREIGN

    async with controller_in_process(kubeconfig, namespace=namespace, disable_applications=True):
        ro = await eventually(lambda: kube.get(ROLLOUT, "shop", namespace),
                              lambda r: (r["status"].get("availableReplicas") == 3
                                         and r["status"].get("phase") == "Healthy"),
                              expected="the controller's own Healthy status with 3 available replicas")
        assert ro["status"]["currentPodHash"] == FOREIGN and ro["status"]["stableRS"] == FOREIGN
        assert list(await replica_sets(kube, namespace, "shop")) == [FOREIGN], "no new ReplicaSet"
        assert await ready_pod_names(kube, namespace) == before, "no pod replaced"

        await set_image(kube, namespace, "shop", "example/app:green")
        ro = await wait_phase(kube, namespace, "shop", "Paused", step=1)
        canary = ro["status"]["currentPodHash"]
        updated = copy.deepcopy(manifest["spec"]["template"])
        updated["spec"]["containers"][0]["image"] = "example/app:green"
        assert canary == pod_template_hash(updated), "a new revision is named by Argo's hash"
        await wait_pods(kube, namespace, "shop", {FOREIGN: 2, canary: 2})
