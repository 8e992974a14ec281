"""The fidelity the product relies on, proven against the real local control plane.

If one of these fails, every controller test above it is meaningless: they check that the API server,
the ReplicaSet controller, the scheduler, kwok's fake kubelets and the garbage collector behave as in a
real cluster, through the same client the product uses.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from typing import Any

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import Conflict, NotFound
from rollouts.kube.resources import CONFIGMAP, CRD, DEPLOYMENT, POD, REPLICASET, ResourceKind
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {
            "replicas": replicas, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "app", "image": "example/app:1"}]}},
        },
    }


async def test_deployment_pods_are_scheduled_on_fake_nodes_and_become_ready(kube: KubeClient, namespace: str) -> None:
    await kube.create(DEPLOYMENT, deployment("web", 3), namespace)
    dep = await eventually(lambda: kube.get(DEPLOYMENT, "web", namespace),
                           lambda d: d.get("status", {}).get("readyReplicas") == 3,
                           expected="deployment web with 3 ready replicas")
    assert dep["status"]["availableReplicas"] == 3
    pods, _ = await kube.list(POD, namespace, label_selector="app=web")
    assert len(pods) == 3
    assert {p["spec"]["nodeName"] for p in pods} <= {"kwok-node-0", "kwok-node-1"}
    assert all(p["status"]["phase"] == "Running" for p in pods)


async def test_scaling_a_replicaset_is_reflected_in_ready_replicas(kube: KubeClient, namespace: str) -> None:
    rs = deployment("rs", 1)
    rs["kind"] = "ReplicaSet"
    await kube.create(REPLICASET, rs, namespace)
    await eventually(lambda: kube.get(REPLICASET, "rs", namespace),
                     lambda r: r.get("status", {}).get("readyReplicas") == 1, expected="1 ready replica")
    await kube.patch(REPLICASET, "rs", {"spec": {"replicas": 4}}, namespace, patch_type="merge")
    await eventually(lambda: kube.get(REPLICASET, "rs", namespace),
                     lambda r: r.get("status", {}).get("readyReplicas") == 4, expected="4 ready replicas after scale up")
    await kube.patch(REPLICASET, "rs", {"spec": {"replicas": 2}}, namespace, patch_type="merge")
    await eventually(lambda: kube.list(POD, namespace, label_selector="app=rs"),
                     lambda res: len(res[0]) == 2, expected="2 pods after scale down (deleted pods finalised by kwok)")


@pytest.fixture(scope="module")
async def widget_crd(kube: KubeClient) -> ResourceKind:
    group = "smoke.rollouts.test"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group, "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                    "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
                }}},
            }],
        },
    }
    await kube.apply(CRD, crd, field_manager="smoke-test")
    kind = ResourceKind(group, "v1", "Widget", "widgets")

    async def established() -> bool:
        got = await kube.get(CRD, f"widgets.{group}")
        conds = got.get("status", {}).get("conditions", [])
        return any(c["type"] == "Established" and c["status"] == "True" for c in conds)

    await eventually(established, bool, expected="the Widget CRD Established")
    await eventually(lambda: kube.list(kind, "default"), lambda _: True, expected="widgets served")
    return kind


async def test_structural_schema_prunes_unknown_fields(kube: KubeClient, namespace: str,
                                                        widget_crd: ResourceKind) -> None:
    created = await kube.create(widget_crd, {
        "apiVersion": widget_crd.api_version, "kind": "Widget", "metadata": {"name": "w"},
        "spec": {"size": 3, "colour": "red"}, "extra": True,
    }, namespace)
    assert created["spec"] == {"size": 3}
    assert "extra" not in created


async def test_status_subresource_ignores_spec_changes(kube: KubeClient, namespace: str,
                                                       widget_crd: ResourceKind) -> None:
    await kube.create(widget_crd, {"apiVersion": widget_crd.api_version, "kind": "Widget",
                                   "metadata": {"name": "w"}, "spec": {"size": 1}}, namespace)
    after = await kube.patch(widget_crd, "w", {"spec": {"size": 9}, "status": {"phase": "Ready"}}, namespace,
                             subresource="status")
    assert after["status"] == {"phase": "Ready"}
    assert after["spec"] == {"size": 1}
    main = await kube.patch(widget_crd, "w", {"spec": {"size": 2}, "status": {"phase": "Changed"}}, namespace)
    assert main["spec"] == {"size": 2}
    assert main["status"] == {"phase": "Ready"}


async def test_watch_from_list_resource_version_sees_later_changes(kube: KubeClient, namespace: str) -> None:
    _, rv = await kube.list(CONFIGMAP, namespace)
    seen: list[tuple[str, str]] = []

    async def consume() -> None:
        async for etype, obj in kube.watch(CONFIGMAP, namespace, resource_version=rv, timeout_seconds=20):
            # The controller-manager publishes kube-root-ca.crt into a new namespace whenever it gets to it,
            # which under load can be after the list: only our object's events are the test's business.
            if etype == "BOOKMARK" or obj["metadata"]["name"] != "cm":
                continue
            seen.append((etype, obj["metadata"]["name"]))
            if etype == "DELETED":
                return

    task = asyncio.create_task(consume())
    await kube.create(CONFIGMAP, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
                                  "data": {"a": "1"}}, namespace)
    await kube.patch(CONFIGMAP, "cm", {"data": {"a": "2"}}, namespace)
    await kube.delete(CONFIGMAP, "cm", namespace)
    await asyncio.wait_for(task, 20)
    assert seen == [("ADDED", "cm"), ("MODIFIED", "cm"), ("DELETED", "cm")]


async def test_update_with_stale_resource_version_conflicts(kube: KubeClient, namespace: str) -> None:
    cm = await kube.create(CONFIGMAP, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
                                       "data": {"v": "1"}}, namespace)
    stale = copy.deepcopy(cm)
    cm["data"]["v"] = "2"
    await kube.replace(CONFIGMAP, cm)
    stale["data"]["v"] = "3"
    with pytest.raises(Conflict):
        await kube.replace(CONFIGMAP, stale)
    assert (await kube.get(CONFIGMAP, "cm", namespace))["data"]["v"] == "2"


async def test_deleting_an_owner_garbage_collects_its_dependents(kube: KubeClient, namespace: str) -> None:
    owner = await kube.create(CONFIGMAP, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}},
                              namespace)
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"],
           "controller": True, "blockOwnerDeletion": True}
    dependent = f"dep-{uuid.uuid4().hex[:4]}"
    await kube.create(CONFIGMAP, {"apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": {"name": dependent, "ownerReferences": [ref]}}, namespace)
    await kube.delete(CONFIGMAP, "owner", namespace)

    async def gone() -> bool:
        try:
            await kube.get(CONFIGMAP, dependent, namespace)
        except NotFound:
            return True
        return False

    await eventually(gone, bool, expected=f"configmap {dependent} garbage-collected after its owner was deleted")
