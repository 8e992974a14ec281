"""The Application page's network view (rollouts.cli.dashboard.network): edges from Ingresses/HTTPRoutes to
Services to ReplicaSets to pods, with the weight in effect read back by the Rollout's own routers.

The canary Ingress is the one the NGINX router itself builds for the weight (its desired_changes), so the
view is tested against exactly what the controller would have written, not a hand-made imitation.
"""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.cli.dashboard.network import network_view, route_backends
from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import ApplyObject
from tests.unit.traffic.builders import NS, UID, ingress, path, rollout

RAW_ROUTING = {"nginx": {"stableIngress": "web"}}


def raw_rollout(**status: Any) -> dict[str, Any]:
    typed = rollout(RAW_ROUTING, steps=[{"setWeight": 20}, {"pause": {}}])
    raw = typed.model_dump(by_alias=True, exclude_none=True, mode="json")
    return {**raw, "metadata": {**raw["metadata"], "uid": UID}, "status": status}


def service(name: str, pod_hash: str) -> dict[str, Any]:
    return {"kind": "Service", "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"app": "shop", "rollouts-pod-template-hash": pod_hash}}}


def replicaset(pod_hash: str, replicas: int) -> dict[str, Any]:
    return {"kind": "ReplicaSet", "metadata": {"name": f"shop-{pod_hash}", "namespace": NS, "uid": f"rs-{pod_hash}",
                                               "ownerReferences": [{"uid": UID, "controller": True}]},
            "spec": {"replicas": replicas, "template": {"metadata": {
                "labels": {"app": "shop", "rollouts-pod-template-hash": pod_hash}}}},
            "status": {"replicas": replicas}}


def pod(pod_hash: str, i: int, *, ready: bool = True) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": f"shop-{pod_hash}-{i}", "namespace": NS,
                                        "ownerReferences": [{"uid": f"rs-{pod_hash}"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]}}


WEB = ingress("web", [{"host": "shop.example.com", "http": {"paths": [path("shop-stable")]}}])
RESOURCES = [{"kind": "Rollout", "namespace": NS, "name": "shop"}, {"kind": "Ingress", "namespace": NS, "name": "web"},
             {"kind": "Service", "namespace": NS, "name": "shop-stable"},
             {"kind": "Service", "namespace": NS, "name": "shop-canary"}]


def caches(weight: int | None, **status: Any) -> dict[str, list[dict[str, Any]]]:
    ingresses = [WEB]
    if weight is not None:
        [router] = routers_for(rollout(RAW_ROUTING))
        [change] = router.desired_changes(weight, [], {ref: WEB for ref in router.references()[:1]})
        assert isinstance(change, ApplyObject)
        ingresses.append(dict(change.obj))
    return {"rollouts": [raw_rollout(**status)], "ingresses": ingresses,
            "services": [service("shop-stable", "aaa"), service("shop-canary", "bbb")],
            "replicasets": [replicaset("aaa", 4), replicaset("bbb", 1)],
            "pods": [*(pod("aaa", i) for i in range(4)), pod("bbb", 0), pod("bbb", 1, ready=False)]}


def edges(view: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((e["source"].split("/", 2)[2], e["target"].split("/", 2)[2], e["label"]) for e in view["edges"])


def test_weights_are_read_back_from_the_router_objects() -> None:
    view = network_view(RESOURCES, caches(20, canary={"weights": {"canary": {"weight": 55}}}))
    assert view["weights"] == [{"canaryService": "shop-canary", "stableService": "shop-stable", "canary": 20,
                                "maxWeight": 100, "source": "routers"}]  # the live Ingress wins over status
    assert edges(view) == [
        ("shop-aaa", "shop-aaa-0", ""), ("shop-aaa", "shop-aaa-1", ""), ("shop-aaa", "shop-aaa-2", ""),
        ("shop-aaa", "shop-aaa-3", ""), ("shop-bbb", "shop-bbb-0", ""), ("shop-bbb", "shop-bbb-1", ""),
        ("shop-canary", "shop-bbb", "100% · 1 ready"),
        ("shop-stable", "shop-aaa", "100% · 4 ready"),
        ("shop-web-canary", "shop-canary", "20% canary"),
        ("web", "shop-stable", "80% stable"),
    ]
    columns = {n["name"]: n["column"] for n in view["nodes"]}
    assert (columns["web"], columns["shop-web-canary"], columns["shop-canary"], columns["shop-aaa"],
            columns["shop-bbb-1"]) == (0, 0, 1, 2, 3)


def test_without_the_canary_ingress_the_router_reads_zero() -> None:
    view = network_view(RESOURCES, caches(None))
    assert [w["canary"] for w in view["weights"]] == [0]
    assert ("web", "shop-stable", "100% stable") in edges(view)


def test_status_weights_when_the_routers_objects_are_not_watched() -> None:
    istio = {"istio": {"virtualService": {"name": "vs", "routes": ["primary"]}}}
    raw = raw_rollout(canary={"weights": {"canary": {"weight": 30}, "stable": {"weight": 70}}})
    raw["spec"]["strategy"]["canary"]["trafficRouting"] = istio
    view = network_view(RESOURCES, {**caches(None), "rollouts": [raw]})
    assert view["weights"][0]["source"] == "status" and view["weights"][0]["canary"] == 30
    assert ("web", "shop-stable", "70% stable") in edges(view)


def test_a_service_without_routing_splits_by_ready_pods() -> None:
    both = {"kind": "Service", "metadata": {"name": "shop", "namespace": NS}, "spec": {"selector": {"app": "shop"}}}
    plain = raw_rollout()
    del plain["spec"]["strategy"]["canary"]["trafficRouting"]
    view = network_view([*RESOURCES, {"kind": "Service", "namespace": NS, "name": "shop"}],
                        {**caches(None), "rollouts": [plain], "services": [both]})
    assert view["weights"] == []
    assert ("shop", "shop-aaa", "80% · 4 ready") in edges(view)
    assert ("shop", "shop-bbb", "20% · 1 ready") in edges(view)


def test_an_unrelated_ingress_is_left_out_and_a_missing_service_is_marked() -> None:
    other = {**ingress("other", [{"http": {"paths": [path("elsewhere")]}}])}
    view = network_view([*RESOURCES, {"kind": "Ingress", "namespace": NS, "name": "gone-svc"}],
                        {**caches(None), "ingresses": [WEB, other, ingress("gone-svc", [{"http": {"paths": [
                            path("nope")]}}])]})
    names = {n["name"] for n in view["nodes"]}
    assert "other" not in names and "gone-svc" in names


@pytest.mark.parametrize(("route", "kind", "expected"), [
    ({"spec": {"defaultBackend": {"service": {"name": "a"}},
               "rules": [{"http": {"paths": [path("b"), path("a")]}}]}}, "Ingress", ["a", "b"]),
    ({"spec": {"rules": [{"backendRefs": [{"name": "s", "weight": 80}, {"name": "c", "weight": 20},
                                          {"name": "x", "kind": "ServiceImport", "group": "multicluster"}]}]}},
     "HTTPRoute", ["s", "c"]),
    ({"spec": {}}, "Ingress", []),
], ids=["ingress-default-and-paths", "httproute-services-only", "empty"])
def test_route_backends(route: dict[str, Any], kind: str, expected: list[str]) -> None:
    assert route_backends(route, kind) == expected
