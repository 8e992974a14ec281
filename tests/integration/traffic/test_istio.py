"""Istio end to end: the real controller drives VirtualServices and DestinationRules stored by the real API server
(Argo's test/e2e CRDs, no mesh running), step by step, and puts everything back on abort and after promotion."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import DESTINATIONRULE, ROLLOUT, VIRTUALSERVICE, VIRTUALSERVICES
from tests.support.controller import controller_in_process
from tests.support.rollouts import canary_rollout, create_services, patch_status, set_image, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

HASH = "rollouts-pod-template-hash"


def dest(host: str, weight: int, subset: str | None = None) -> dict[str, Any]:
    return {"destination": {"host": host, **({"subset": subset} if subset else {})}, "weight": weight}


def virtual_service(*route: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService", "metadata": {"name": "shop"},
        "spec": {"hosts": ["shop.example.com"], "gateways": ["shop-gateway"],
                 "http": [{"name": "primary", "route": list(route)},
                          {"name": "admin", "match": [{"uri": {"prefix": "/admin"}}], "route": [dest("admin", 100)]}]},
    }


async def http_routes(kube: KubeClient, ns: str) -> list[dict[str, Any]]:
    return list((await kube.get(VIRTUALSERVICE, "shop", ns))["spec"]["http"])


async def wait_http(kube: KubeClient, ns: str, want: list[dict[str, Any]]) -> None:
    await eventually(lambda: http_routes(kube, ns), lambda got: got == want, expected=f"spec.http {want}")


async def promote(kube: KubeClient, ns: str) -> None:
    await patch_status(kube, ns, "shop", {"pauseConditions": None})


async def test_host_level_weights_managed_routes_hand_edit_and_abort(
    kube: KubeClient, namespace: str, controller: Controller, istio_crds: list[str]
) -> None:
    original = virtual_service(dest("shop-stable", 100), dest("shop-canary", 0))
    await kube.create(VIRTUALSERVICE, original, namespace)
    await create_services(kube, namespace, "shop", "shop-stable", "shop-canary")
    steps: list[dict[str, Any]] = [
        {"setWeight": 20},
        {"setHeaderRoute": {"name": "beta", "match": [{"headerName": "X-Beta", "headerValue": {"exact": "yes"}}]}},
        {"setMirrorRoute": {"name": "copy", "percentage": 50, "match": [{"method": {"exact": "GET"}}]}},
        {"pause": {}},
    ]
    routing = {"istio": {"virtualService": {"name": "shop", "routes": ["primary"]}},
               "managedRoutes": [{"name": "beta"}, {"name": "copy"}]}
    manifest = canary_rollout("shop", replicas=2, steps=steps, stableService="shop-stable",
                              canaryService="shop-canary", trafficRouting=routing)
    await kube.create(ROLLOUT, manifest, namespace)
    await wait_phase(kube, namespace, "shop", "Healthy")
    await set_image(kube, namespace, "shop", "example/app:green")
    await wait_phase(kube, namespace, "shop", "Paused", step=3, timeout=90)

    weighted = [dest("shop-stable", 80), dest("shop-canary", 20)]
    admin = original["spec"]["http"][1]
    await wait_http(kube, namespace, [
        {"name": "beta", "match": [{"headers": {"X-Beta": {"exact": "yes"}}}], "route": [dest("shop-canary", 100)]},
        {"name": "copy", "match": [{"method": {"exact": "GET"}}], "route": weighted,
         "mirror": {"host": "shop-canary"}, "mirrorPercentage": {"value": 50}},
        {"name": "primary", "route": weighted},
        admin,
    ])

    # A hand edit of the weight is corrected at once (the controller watches VirtualServices).
    vs = await kube.get(VIRTUALSERVICE, "shop", namespace)
    edited = copy.deepcopy(vs["spec"]["http"])
    edited[2]["route"] = [dest("shop-stable", 30), dest("shop-canary", 70)]
    await kube.patch(VIRTUALSERVICE, "shop", {"spec": {"http": edited}}, namespace, patch_type="merge")
    await eventually(lambda: http_routes(kube, namespace), lambda got: got[2]["route"] == weighted,
                     expected="the primary route back at 80/20")

    await patch_status(kube, namespace, "shop", {"abort": True})
    await wait_phase(kube, namespace, "shop", "Degraded")
    await wait_http(kube, namespace, original["spec"]["http"])


async def test_subset_level_without_services_follows_the_pod_hashes(
    kube: KubeClient, namespace: str, controller: Controller, istio_crds: list[str]
) -> None:
    original = virtual_service(dest("shop", 100, "stable"), dest("shop", 0, "canary"))
    await kube.create(VIRTUALSERVICE, original, namespace)
    rule = {"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule", "metadata": {"name": "shop"},
            "spec": {"host": "shop", "subsets": [{"name": "stable", "labels": {"app": "shop"}},
                                                 {"name": "canary", "labels": {"app": "shop"}}]}}
    await kube.create(DESTINATIONRULE, rule, namespace)
    routing = {"istio": {"virtualService": {"name": "shop", "routes": ["primary"]},
                         "destinationRule": {"name": "shop", "canarySubsetName": "canary", "stableSubsetName": "stable"}}}
    manifest = canary_rollout("shop", replicas=2, steps=[{"setWeight": 25}, {"pause": {}}], trafficRouting=routing)
    await kube.create(ROLLOUT, manifest, namespace)
    first = await wait_phase(kube, namespace, "shop", "Healthy")
    blue = first["status"]["stableRS"]

    async def subsets() -> dict[str, dict[str, str]]:
        dr = await kube.get(DESTINATIONRULE, "shop", namespace)
        return {s["name"]: s.get("labels") or {} for s in dr["spec"]["subsets"]}

    both_blue = {"stable": {"app": "shop", HASH: blue}, "canary": {"app": "shop", HASH: blue}}
    await eventually(subsets, lambda got: got == both_blue, expected=f"both subsets on {blue}")

    await set_image(kube, namespace, "shop", "example/app:green")
    ro = await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)
    green = ro["status"]["currentPodHash"]
    await eventually(subsets, lambda got: got == {"stable": {"app": "shop", HASH: blue},
                                                  "canary": {"app": "shop", HASH: green}},
                     expected=f"canary subset on {green}, stable on {blue}")
    await wait_http(kube, namespace, [{"name": "primary", "route": [dest("shop", 75, "stable"),
                                                                   dest("shop", 25, "canary")]},
                                      original["spec"]["http"][1]])
    dr = await kube.get(DESTINATIONRULE, "shop", namespace)
    assert dr["metadata"]["annotations"]["argo-rollouts.argoproj.io/managed-by-rollouts"] == "shop"

    await promote(kube, namespace)
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    both_green = {"stable": {"app": "shop", HASH: green}, "canary": {"app": "shop", HASH: green}}
    await eventually(subsets, lambda got: got == both_green, expected=f"both subsets on {green}")
    await wait_http(kube, namespace, original["spec"]["http"])

    # No longer referenced (TestIstioSubsetSplit): the rule is given back without our annotation and labels.
    await kube.patch(ROLLOUT, "shop", {"spec": {"strategy": {"canary": {"trafficRouting": None}}}}, namespace,
                     patch_type="merge")
    await eventually(subsets, lambda got: got == {"stable": {"app": "shop"}, "canary": {"app": "shop"}},
                     expected="subsets without the pod-template-hash label")
    dr = await kube.get(DESTINATIONRULE, "shop", namespace)
    assert "argo-rollouts.argoproj.io/managed-by-rollouts" not in (dr["metadata"].get("annotations") or {})


async def test_istio_api_version_flag_addresses_that_version(
    kube: KubeClient, kubeconfig: Path, namespace: str, crds: None, istio_crds: list[str]
) -> None:
    """--istio-api-version v1beta1: the VirtualService (stored at v1beta1) is weighted and reset at that version;
    v1, which Argo's test CRDs do not serve, leaves the same Rollout InvalidSpec saying the VirtualService is not
    there (what Argo reports when the version names nothing)."""
    v1beta1 = next(k for k in VIRTUALSERVICES if k.version == "v1beta1")
    original = {**virtual_service(dest("shop-stable", 100), dest("shop-canary", 0)),
                "apiVersion": "networking.istio.io/v1beta1"}
    await kube.create(v1beta1, original, namespace)
    await create_services(kube, namespace, "shop", "shop-stable", "shop-canary")
    manifest = canary_rollout("shop", replicas=2, steps=[{"setWeight": 30}, {"pause": {}}],
                              stableService="shop-stable", canaryService="shop-canary",
                              trafficRouting={"istio": {"virtualService": {"name": "shop", "routes": ["primary"]}}})

    async def primary() -> list[dict[str, Any]]:
        return list((await kube.get(v1beta1, "shop", namespace))["spec"]["http"][0]["route"])

    async with controller_in_process(kubeconfig, namespace=namespace, disable_applications=True,
                                     istio_api_version="v1beta1"):
        await kube.create(ROLLOUT, manifest, namespace)
        await wait_phase(kube, namespace, "shop", "Healthy")
        await set_image(kube, namespace, "shop", "example/app:green")
        await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)
        await eventually(primary, lambda got: got == [dest("shop-stable", 70), dest("shop-canary", 30)],
                         expected="the primary route at 70/30")
        await patch_status(kube, namespace, "shop", {"abort": True})
        await wait_phase(kube, namespace, "shop", "Degraded")
        await eventually(primary, lambda got: got == original["spec"]["http"][0]["route"],
                         expected="the primary route back at 100/0")

    async def invalid() -> str:
        ro = await kube.get(ROLLOUT, "shop", namespace)
        cond = next((c for c in (ro.get("status") or {}).get("conditions") or [] if c["type"] == "InvalidSpec"), {})
        return str(cond.get("message") or "") if cond.get("status") == "True" else ""

    async with controller_in_process(kubeconfig, namespace=namespace, disable_applications=True,
                                     istio_api_version="v1"):
        await patch_status(kube, namespace, "shop", {"abort": False})
        message = await eventually(invalid, lambda got: bool(got), expected="InvalidSpec with --istio-api-version v1")
    assert 'virtualservices.networking.istio.io "shop" not found' in message, message
