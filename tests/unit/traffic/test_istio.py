"""Istio router tables: live VirtualService / DestinationRule in, exact objects out.

The fixtures and expectations are the worked examples of Argo Rollouts v1.10.2's
rollout/trafficrouting/istio/istio_test.go (regularVsvc, singleRouteSubsetVsvc, regularTlsVsvc, ...), written here
as data: the same inputs must give the objects Argo's tests assert.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.traffic.istio import MANAGED_BY_ANNOTATION, IstioRouter, virtual_service_ref
from rollouts.traffic.registry import observe_traffic, routers_for
from rollouts.traffic.router import (
    HeaderMatch,
    HeaderRoute,
    InEffect,
    JsonPatch,
    MatchKind,
    MirrorMatch,
    MirrorRoute,
    ObjectRef,
    PodHashes,
    RouteKind,
    ValueMatch,
)
from tests.unit.traffic.builders import NS, rollout

VS = ObjectRef(RouteKind.VIRTUALSERVICE, NS, "vsvc")
DR = ObjectRef(RouteKind.DESTINATIONRULE, NS, "istio-destrule")
HASH = "rollouts-pod-template-hash"


def dest(host: str, weight: int, subset: str | None = None, port: int | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"host": host}
    if subset:
        d["subset"] = subset
    if port:
        d["port"] = {"number": port}
    return {"destination": d, "weight": weight}


def vs(name: str = "vsvc", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
        "metadata": {"name": name, "namespace": NS, "resourceVersion": "5"},
        "spec": {"gateways": ["istio-rollout-gateway"], "hosts": ["istio-rollout.dev.argoproj.io"], **spec},
    }


def regular_vsvc() -> dict[str, Any]:
    """istio_test.go regularVsvc."""
    return vs(http=[{"name": "primary", "route": [dest("stable", 100), dest("canary", 0)]},
                    {"name": "secondary", "route": [dest("stable", 100), dest("canary", 0)]}])


def subset_vsvc() -> dict[str, Any]:
    """istio_test.go singleRouteSubsetVsvc."""
    return vs(http=[{"route": [dest("rollout-service", 100, "stable-subset"),
                               dest("rollout-service", 0, "canary-subset")]}])


def tls_vsvc() -> dict[str, Any]:
    """istio_test.go regularTlsVsvc."""
    return vs(tls=[{"match": [{"port": port}], "route": [dest("stable", 100), dest("canary", 0)]}
                   for port in (3000, 3001)])


def tcp_vsvc() -> dict[str, Any]:
    """istio_test.go regularTcpVsvc."""
    return vs(tcp=[{"match": [{"port": port}], "route": [dest("stable", 100), dest("canary", 0)]}
                   for port in (3000, 3001)])


def destination_rule(*subsets: str, host: str = "rollout-service") -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
        "metadata": {"name": "istio-destrule", "namespace": NS, "resourceVersion": "3"},
        "spec": {"host": host, "subsets": [{"name": s} for s in subsets]},
    }


def router(istio: dict[str, Any], *, managed: Sequence[str] = (), steps: list[dict[str, Any]] | None = None,
           stable: str = "stable", canary: str = "canary") -> IstioRouter:
    routing: dict[str, Any] = {"istio": istio}
    if managed:
        routing["managedRoutes"] = [{"name": n} for n in managed]
    found = routers_for(rollout(routing, stable=stable, canary=canary, steps=steps))
    assert len(found) == 1 and isinstance(found[0], IstioRouter)
    return found[0]


def applied(live: Mapping[ObjectRef, Mapping[str, Any]], changes: Sequence[Any]) -> dict[ObjectRef, Any]:
    """The objects after the changes, as the API server would store them (resourceVersion bumped)."""
    out = {ref: copy.deepcopy(dict(obj)) for ref, obj in live.items()}
    for change in changes:
        assert isinstance(change, JsonPatch)
        assert change.ops[0] == {"op": "test", "path": "/metadata/resourceVersion",
                                 "value": out[change.ref]["metadata"]["resourceVersion"]}
        out[change.ref] = jsonpatch.apply_patch(out[change.ref], list(change.ops))
        out[change.ref]["metadata"]["resourceVersion"] += "1"
    return out


HEADER = HeaderRoute("test-header-route", (HeaderMatch("agent", MatchKind.EXACT, "firefox"),))
MIRROR_1 = MirrorRoute("test-mirror-1", (MirrorMatch(method=ValueMatch(MatchKind.EXACT, "GET")),))
MIRROR_2 = MirrorRoute("test-mirror-2", (MirrorMatch(method=ValueMatch(MatchKind.EXACT, "GET")),), 90)


# -- weights ------------------------------------------------------------------------------------------------


def test_http_weights_base_case() -> None:
    """TestHttpReconcileWeightsBaseCase: routes [primary], weight 10 -> primary 90/10, secondary untouched."""
    r = router({"virtualService": {"name": "vsvc", "routes": ["primary"]}})
    live = {VS: regular_vsvc()}
    changes = r.desired_changes(10, [], live)
    assert [c.ops for c in changes if isinstance(c, JsonPatch)] == [(
        {"op": "test", "path": "/metadata/resourceVersion", "value": "5"},
        {"op": "replace", "path": "/spec/http", "value": [
            {"name": "primary", "route": [dest("stable", 90), dest("canary", 10)]},
            {"name": "secondary", "route": [dest("stable", 100), dest("canary", 0)]}]},
    )]
    after = applied(live, changes)
    assert r.in_effect(after) == InEffect(weight=10)
    assert r.desired_changes(10, [], after) == []


def test_fully_qualified_hosts_are_matched_by_their_first_label() -> None:
    r = router({"virtualService": {"name": "vsvc"}})
    live = {VS: vs(http=[{"route": [dest("stable.prod.svc.cluster.local", 100), dest("canary.prod", 0)]}])}
    after = applied(live, r.desired_changes(25, [], live))
    assert after[VS]["spec"]["http"] == [{"route": [dest("stable.prod.svc.cluster.local", 75),
                                                    dest("canary.prod", 25)]}]


def test_additional_subsets_keep_their_weight() -> None:
    """TestHttpReconcileMultipleDestRule: stable 100 - 10 - 20 = 70, canary 10, additional subset 20."""
    r = router({"virtualService": {"name": "vsvc"}, "destinationRule": {
        "name": "istio-destrule", "canarySubsetName": "canary", "stableSubsetName": "stable",
        "additionalSubsetNames": ["stable-subset"]}}, stable="", canary="")
    live = {VS: vs(http=[{"route": [dest("rollout-service", 100, "stable"), dest("rollout-service", 0, "canary"),
                                    dest("additional-service", 20, "stable-subset")]}]),
            DR: destination_rule("stable", "canary")}
    after = applied(live, r.desired_changes(10, [], live))
    assert after[VS]["spec"]["http"] == [{"route": [
        dest("rollout-service", 70, "stable"), dest("rollout-service", 10, "canary"),
        dest("additional-service", 20, "stable-subset")]}]


@pytest.mark.parametrize(
    ("config", "live", "key", "expected"),
    [
        pytest.param(  # TestTlsReconcileWeightsBaseCase
            {"tlsRoutes": [{"port": 3000}]}, tls_vsvc(), "tls",
            [{"match": [{"port": 3000}], "route": [dest("stable", 70), dest("canary", 30)]},
             {"match": [{"port": 3001}], "route": [dest("stable", 100), dest("canary", 0)]}],
            id="tls-by-port",
        ),
        pytest.param(  # TestTlsSniReconcileWeightsBaseCase (regularTlsSniVsvc)
            {"tlsRoutes": [{"sniHosts": ["a.example.com", "b.example.com"]}]},
            vs(tls=[{"match": [{"sniHosts": ["b.example.com"]}, {"sniHosts": ["a.example.com"]}],
                     "route": [dest("stable", 100), dest("canary", 0)]},
                    {"match": [{"sniHosts": ["c.example.com"]}], "route": [dest("stable", 100), dest("canary", 0)]}]),
            "tls",
            [{"match": [{"sniHosts": ["b.example.com"]}, {"sniHosts": ["a.example.com"]}],
              "route": [dest("stable", 70), dest("canary", 30)]},
             {"match": [{"sniHosts": ["c.example.com"]}], "route": [dest("stable", 100), dest("canary", 0)]}],
            id="tls-by-sni-hosts",
        ),
        pytest.param(  # TestTcpReconcileWeightsBaseCase
            {"tcpRoutes": [{"port": 3001}]}, tcp_vsvc(), "tcp",
            [{"match": [{"port": 3000}], "route": [dest("stable", 100), dest("canary", 0)]},
             {"match": [{"port": 3001}], "route": [dest("stable", 70), dest("canary", 30)]}],
            id="tcp-by-port",
        ),
    ],
)
def test_tls_and_tcp_routes(config: dict[str, Any], live: dict[str, Any], key: str,
                            expected: list[dict[str, Any]]) -> None:
    r = router({"virtualService": {"name": "vsvc", **config}})
    after = applied({VS: live}, r.desired_changes(30, [], {VS: live}))
    assert after[VS]["spec"][key] == expected
    assert r.in_effect(after).weight == 30


def test_multiple_virtual_services_in_other_namespaces() -> None:
    """TestMultipleVirtualServiceReconcileWeightsBaseCase, with the ``name.namespace`` form."""
    r = router({"virtualServices": [{"name": "vsvc", "routes": ["primary"]}, {"name": "other.mesh"}]})
    other = ObjectRef(RouteKind.VIRTUALSERVICE, "mesh", "other")
    assert r.references() == [VS, other]
    second = vs("other", http=[{"route": [dest("stable", 100), dest("canary", 0)]}])
    second["metadata"]["namespace"] = "mesh"
    live = {VS: regular_vsvc(), other: second}
    after = applied(live, r.desired_changes(40, [], live))
    assert after[other]["spec"]["http"] == [{"route": [dest("stable", 60), dest("canary", 40)]}]
    assert r.in_effect(after).weight == 40
    after[other]["spec"]["http"][0]["route"][1]["weight"] = 5  # a hand edit of one of the two
    assert r.in_effect(after).weight is None
    assert [c.ref for c in r.desired_changes(40, [], after)] == [other]


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        pytest.param("vsvc", ObjectRef(RouteKind.VIRTUALSERVICE, NS, "vsvc"), id="plain"),
        pytest.param("vsvc.mesh", ObjectRef(RouteKind.VIRTUALSERVICE, "mesh", "vsvc"), id="name.namespace"),
        pytest.param("a.b.mesh.cluster.local", ObjectRef(RouteKind.VIRTUALSERVICE, "mesh", "a.b"), id="fqdn"),
    ],
)
def test_virtual_service_names(name: str, ref: ObjectRef) -> None:
    """utils/istio GetVirtualServiceNamespaceName (argo-rollouts#4709: dotted names keep their dots)."""
    assert virtual_service_ref(name, NS) == ref


# -- managed routes -----------------------------------------------------------------------------------------


def test_header_route_host_based() -> None:
    """TestHttpReconcileHeaderRouteHostBased: the header route on top, all of it to the canary Service."""
    r = router({"virtualService": {"name": "vsvc", "routes": ["primary"]}}, managed=["test-header-route"])
    live = {VS: regular_vsvc()}
    after = applied(live, r.desired_changes(0, [HEADER], live))
    assert after[VS]["spec"]["http"] == [
        {"name": "test-header-route", "match": [{"headers": {"agent": {"exact": "firefox"}}}],
         "route": [dest("canary", 100)]},
        {"name": "primary", "route": [dest("stable", 100), dest("canary", 0)]},
        {"name": "secondary", "route": [dest("stable", 100), dest("canary", 0)]},
    ]
    assert r.in_effect(after) == InEffect(weight=0, header_routes=("test-header-route",))
    removed = applied(after, r.desired_changes(0, [], after))
    assert removed[VS]["spec"] == regular_vsvc()["spec"]


def test_header_route_subset_based() -> None:
    """TestHttpReconcileHeaderRouteSubsetBased: the DestinationRule's host and the canary subset."""
    r = router({"virtualService": {"name": "vsvc"}, "destinationRule": {
        "name": "istio-destrule", "canarySubsetName": "canary-subset", "stableSubsetName": "stable-subset"}},
        managed=["test-header-route"], stable="", canary="")
    live = {VS: subset_vsvc(), DR: destination_rule("stable-subset", "canary-subset")}
    after = applied(live, r.desired_changes(0, [HEADER], live))
    assert after[VS]["spec"]["http"][0] == {
        "name": "test-header-route", "match": [{"headers": {"agent": {"exact": "firefox"}}}],
        "route": [dest("rollout-service", 100, "canary-subset")]}


def test_header_route_keeps_the_weighted_routes_port() -> None:
    r = router({"virtualService": {"name": "vsvc"}}, managed=["test-header-route"])
    live = {VS: vs(http=[{"route": [dest("stable", 100, port=8080), dest("canary", 0, port=8080)]}])}
    after = applied(live, r.desired_changes(0, [HEADER], live))
    assert after[VS]["spec"]["http"][0]["route"] == [dest("canary", 100, port=8080)]


def test_mirror_routes_in_managed_routes_order() -> None:
    """TestHttpReconcileMirrorRoute and TestHttpReconcileMirrorRouteOrder."""
    r = router({"virtualService": {"name": "vsvc", "routes": ["primary"]}},
               managed=["test-mirror-1", "test-mirror-2"])
    live = {VS: regular_vsvc()}
    after = applied(live, r.desired_changes(0, [], live, mirror_routes=[MIRROR_2, MIRROR_1]))
    http = after[VS]["spec"]["http"]
    assert [h.get("name") for h in http] == ["test-mirror-1", "test-mirror-2", "primary", "secondary"]
    assert http[0] == {"name": "test-mirror-1", "match": [{"method": {"exact": "GET"}}],
                       "route": [dest("stable", 100), dest("canary", 0)],
                       "mirror": {"host": "canary"}, "mirrorPercentage": {"value": 100}}
    assert http[1]["mirrorPercentage"] == {"value": 90}
    assert r.in_effect(after) == InEffect(weight=0, mirror_routes=("test-mirror-1", "test-mirror-2"))
    # setWeight also moves the mirror routes' own weights (generateVirtualServicePatches)
    moved = applied(after, r.desired_changes(20, [], after, mirror_routes=[MIRROR_1, MIRROR_2]))
    assert moved[VS]["spec"]["http"][0]["route"] == [dest("stable", 80), dest("canary", 20)]
    assert r.in_effect(moved).weight == 20
    # RemoveManagedRoutes: back to the user's routes
    assert applied(moved, r.desired_changes(0, [], moved))[VS]["spec"] == regular_vsvc()["spec"]


def test_mirror_route_matches_path_and_headers_and_subset() -> None:
    """TestHttpReconcileMirrorRouteSubset: mirror to the DestinationRule host's canary subset."""
    r = router({"virtualService": {"name": "vsvc"}, "destinationRule": {
        "name": "istio-destrule", "canarySubsetName": "canary-subset", "stableSubsetName": "stable-subset"}},
        managed=["m"], stable="", canary="")
    live = {VS: subset_vsvc(), DR: destination_rule("stable-subset", "canary-subset")}
    route = MirrorRoute("m", (MirrorMatch(path=ValueMatch(MatchKind.PREFIX, "/api"),
                                          headers=(("x", ValueMatch(MatchKind.REGEX, "y.*")),)),), 35)
    after = applied(live, r.desired_changes(0, [], live, mirror_routes=[route]))
    assert after[VS]["spec"]["http"][0] == {
        "name": "m", "match": [{"uri": {"prefix": "/api"}, "headers": {"x": {"regex": "y.*"}}}],
        "route": subset_vsvc()["spec"]["http"][0]["route"],
        "mirror": {"host": "rollout-service", "subset": "canary-subset"}, "mirrorPercentage": {"value": 35}}


def test_managed_routes_out_of_order_are_put_back() -> None:
    r = router({"virtualService": {"name": "vsvc", "routes": ["primary"]}}, managed=["test-header-route"])
    live = {VS: regular_vsvc()}
    after = applied(live, r.desired_changes(0, [HEADER], live))
    after[VS]["spec"]["http"].append(after[VS]["spec"]["http"].pop(0))  # moved below the user's routes by hand
    assert r.in_effect(after).weight is None
    fixed = applied(after, r.desired_changes(0, [HEADER], after))
    assert [h.get("name") for h in fixed[VS]["spec"]["http"]] == ["test-header-route", "primary", "secondary"]


# -- DestinationRule ----------------------------------------------------------------------------------------


def test_update_hash() -> None:
    """TestUpdateHashWithListers: stable subset -> stable hash, canary subset -> canary hash, managed-by."""
    r = router({"virtualService": {"name": "vsvc", "routes": ["primary"]}, "destinationRule": {
        "name": "istio-destrule", "canarySubsetName": "canary", "stableSubsetName": "stable"}})
    live = {VS: vs(http=[{"name": "primary", "route": [dest("svc", 100, "stable"), dest("svc", 0, "canary")]}]),
            DR: destination_rule("stable", "canary", "other")}
    changes = r.desired_changes(0, [], live, pod_hashes=PodHashes(canary="abc123", stable="def456"))
    assert [c.ref for c in changes] == [DR]
    after = applied(live, changes)
    assert after[DR]["metadata"]["annotations"] == {MANAGED_BY_ANNOTATION: "shop"}
    assert after[DR]["spec"]["subsets"] == [{"name": "stable", "labels": {HASH: "def456"}},
                                            {"name": "canary", "labels": {HASH: "abc123"}}, {"name": "other"}]
    assert r.in_effect(after) == InEffect(weight=0, pod_hashes=PodHashes(canary="abc123", stable="def456"))
    # TestUpdateHashNoChange: nothing to write once in effect
    assert r.desired_changes(0, [], after, pod_hashes=PodHashes(canary="abc123", stable="def456")) == []


def test_observe_traffic_reports_the_hashes() -> None:
    r = router({"virtualService": {"name": "vsvc"}, "destinationRule": {
        "name": "istio-destrule", "canarySubsetName": "canary-subset", "stableSubsetName": "stable-subset"}},
        stable="", canary="")
    dr = destination_rule("stable-subset", "canary-subset")
    dr["spec"]["subsets"][0]["labels"] = {HASH: "s1"}
    observed = observe_traffic([r], {VS: subset_vsvc(), DR: dr})
    assert (observed.weight, observed.pod_hashes, observed.error) == (0, ("", "s1"), None)


# -- validation (Argo's messages) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "live", "message"),
    [
        pytest.param({"routes": ["route-not-found"]}, regular_vsvc(),
                     "VirtualService 'prod/vsvc': Istio VirtualService has invalid HTTP routes. Error: HTTP Route "
                     "'route-not-found' is not found in the defined Virtual Service.", id="route-not-found"),
        pytest.param({}, regular_vsvc(),
                     "VirtualService 'prod/vsvc': Istio VirtualService has invalid HTTP routes. Error: spec.http[] "
                     "should be set in VirtualService and it must have exactly one route when omitting "
                     "spec.strategy.canary.trafficRouting.istio.virtualService.routes", id="ambiguous-routes"),
        pytest.param({"routes": ["primary"]}, vs(http=[{"name": "primary", "route": [dest("stable", 100)]}]),
                     "VirtualService 'prod/vsvc': Istio VirtualService has invalid HTTP routes. Error: Canary Service "
                     "'canary' not found in route", id="no-canary-destination"),
        pytest.param({"tlsRoutes": [{"port": 9999}]}, tls_vsvc(),
                     "VirtualService 'prod/vsvc': Istio VirtualService has invalid TLS routes. Error: No matching "
                     "TLS routes found in the defined Virtual Service.", id="tls-not-found"),
        pytest.param({"tcpRoutes": [{"port": 9999}]}, tcp_vsvc(),
                     "VirtualService 'prod/vsvc': Istio VirtualService has invalid TCP routes. Error: No matching "
                     "TCP routes found in the defined Virtual Service.", id="tcp-not-found"),
        pytest.param({}, vs(), "VirtualService 'prod/vsvc': Unable to get any of the HTTP, TCP or TLS routes for the "
                     "Istio VirtualService", id="no-routes"),
        pytest.param({}, None, 'virtualservices.networking.istio.io "vsvc" not found', id="not-found"),
    ],
)
def test_validation_messages(config: dict[str, Any], live: dict[str, Any] | None, message: str) -> None:
    r = router({"virtualService": {"name": "vsvc", **config}})
    assert r.validate({VS: live} if live is not None else {}) == [message]


def test_subset_validation() -> None:
    r = router({"virtualService": {"name": "vsvc"}, "destinationRule": {
        "name": "istio-destrule", "canarySubsetName": "canary-subset", "stableSubsetName": "stable-subset"}},
        stable="", canary="")
    assert r.validate({VS: subset_vsvc()}) == ['destinationrules.networking.istio.io "istio-destrule" not found']
    assert r.validate({VS: subset_vsvc(), DR: destination_rule("stable-subset")}) == [
        "DestinationRule 'istio-destrule' has no subset 'canary-subset'"]
    wrong = vs(http=[{"route": [dest("rollout-service", 100, "stable-subset")]}])
    assert r.validate({VS: wrong, DR: destination_rule("stable-subset", "canary-subset")}) == [
        "VirtualService 'prod/vsvc': Istio VirtualService has invalid HTTP routes. Error: Canary DestinationRule "
        "subset 'canary-subset' not found in route"]


# -- property: any sequence of weights, routes and aborts converges back ------------------------------------


STEP = st.tuples(st.integers(0, 100), st.booleans(), st.booleans(), st.sampled_from(["h1", "h2", "s1", "s2"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(STEP, max_size=8))
def test_any_sequence_converges_back_to_the_original_objects(sequence: list[tuple[int, bool, bool, str]]) -> None:
    r = router({"virtualService": {"name": "vsvc", "routes": ["primary"]}, "destinationRule": {
        "name": "istio-destrule", "canarySubsetName": "canary", "stableSubsetName": "stable"}},
        managed=["test-header-route", "test-mirror-1"])
    original_vs = vs(http=[{"name": "primary", "route": [dest("svc", 100, "stable"), dest("svc", 0, "canary")]},
                           {"name": "other", "route": [dest("elsewhere", 100)]}])
    original_dr = destination_rule("stable", "canary", "extra")
    live: dict[ObjectRef, Any] = {VS: original_vs, DR: original_dr}
    for weight, header, mirror, canary_hash in sequence:
        hashes = PodHashes(canary=canary_hash, stable="s0")
        headers, mirrors = [HEADER] if header else [], [MIRROR_1] if mirror else []
        live = applied(live, r.desired_changes(weight, headers, live, mirror_routes=mirrors, pod_hashes=hashes))
        assert r.validate(live) == []
        assert r.in_effect(live) == InEffect(weight=weight, header_routes=tuple(h.name for h in headers),
                                             mirror_routes=tuple(m.name for m in mirrors), pod_hashes=hashes)
        assert r.desired_changes(weight, headers, live, mirror_routes=mirrors, pod_hashes=hashes) == []
    # abort or promotion: weight 0, no managed routes, both subsets on the stable hash
    live = applied(live, r.desired_changes(0, [], live, pod_hashes=PodHashes("s0", "s0")))
    assert live[VS]["spec"] == original_vs["spec"]
    subsets = {s["name"]: s.get("labels") for s in live[DR]["spec"]["subsets"]}
    assert subsets == {"stable": {HASH: "s0"}, "canary": {HASH: "s0"}, "extra": None}


def test_a_released_destination_rule_loses_only_what_we_put_on_it() -> None:
    """IstioController.syncDestinationRule: the managed-by annotation and every subset's hash label go."""
    from rollouts.traffic.istio import managing_rollout, released_destination_rule

    dr = destination_rule("stable", "canary")
    dr["metadata"]["annotations"] = {MANAGED_BY_ANNOTATION: "shop", "team": "web"}
    dr["spec"]["subsets"] = [{"name": "stable", "labels": {HASH: "s1", "app": "shop"}}, {"name": "canary"}]
    assert managing_rollout(dr) == "shop"
    change = released_destination_rule(dr)
    assert change is not None and change.ref == DR
    after = applied({DR: dr}, [change])[DR]
    assert after["metadata"]["annotations"] == {"team": "web"}
    assert after["spec"]["subsets"] == [{"name": "stable", "labels": {"app": "shop"}}, {"name": "canary"}]
    assert released_destination_rule(after) is None


# -- --istio-api-version ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1alpha3", "v1beta1", "v1"])
def test_the_objects_are_addressed_at_the_istio_api_version(version: str) -> None:
    """Argo's --istio-api-version: VirtualServices and the DestinationRule are read and patched at that version,
    and a DestinationRule is given back at the version it was read at."""
    from rollouts.traffic.istio import released_destination_rule
    from rollouts.traffic.router import RouterOptions

    config = {"virtualService": {"name": "vsvc"},
              "destinationRule": {"name": "istio-destrule", "canarySubsetName": "canary", "stableSubsetName": "stable"}}
    [found] = routers_for(rollout({"istio": config}), RouterOptions(istio_api_version=version))
    assert [(ref.kind.kind_name, ref.kind.api_version) for ref in found.references()] == [
        ("VirtualService", f"networking.istio.io/{version}"), ("DestinationRule", f"networking.istio.io/{version}")]
    live = {**destination_rule(), "apiVersion": f"networking.istio.io/{version}"}
    live["metadata"]["annotations"] = {MANAGED_BY_ANNOTATION: "shop"}
    change = released_destination_rule(live)
    assert change is not None and change.ref.kind.api_version == f"networking.istio.io/{version}"


def test_an_unknown_istio_api_version_is_refused_by_name() -> None:
    from rollouts.traffic.router import RouterOptions, TrafficConfigError

    with pytest.raises(TrafficConfigError, match=r"Unsupported Istio API version `v2` "
                                                 r"\(--istio-api-version: v1alpha3, v1beta1, v1\)"):
        routers_for(rollout({"istio": {"virtualService": {"name": "vsvc"}}}), RouterOptions(istio_api_version="v2"))
