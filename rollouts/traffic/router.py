"""The one seam between the controller and every traffic provider: a small, pure ``TrafficRouter`` protocol.

Why a protocol of pure methods: a router decides *what the routing objects must look like* for a weight and
a set of header routes; the controller does all I/O (``rollouts.controller.traffic``). That keeps every
provider testable by tables (given a stable Ingress and a weight -> exact canary Ingress) and makes a restart
harmless: the router reads the weight in effect back from the live objects instead of remembering it.

What the controller does with the routers of one Rollout, once per reconcile (each step is idempotent; a crash
between steps converges on retry):

1. observe: ``routers_for(rollout)`` (``rollouts.traffic.registry``; a TrafficConfigError becomes InvalidSpec),
   one GET of every ``references()`` object (missing ones are absent from ``live``), then
   ``registry.observe_traffic(routers, live)``: any ``validate`` problem becomes InvalidSpec and nothing is
   applied; otherwise the weight and header routes ``in_effect`` go to the planner as ``ObservedTraffic``;
2. plan: the planner emits ``SetCanaryWeight(weight, header_routes)`` when that differs from what it wants;
3. execute: with the *same* routers and live objects (no second read), every change of
   ``desired_changes(weight, header_routes, live)`` is performed by ``controller.traffic.perform``, which
   handles each :data:`TrafficChange` type (mypy checks that the match is exhaustive):

   * :class:`ApplyObject`: server-side apply with FIELD_MANAGER, ``force=True`` (objects wholly ours);
   * :class:`JsonPatch`: RFC 6902, ``patch_type="json"``; a failed ``test`` of ``metadata.resourceVersion``
     (422) means the object changed since it was read: re-read and re-plan, never retry the same ops;
   * :class:`MergePatch`: RFC 7386, ``patch_type="merge"`` (the Service selector, ``rollouts.traffic.service``).

``desired_changes`` returns ``[]`` when the live objects already realise the request, so "nothing to do" is
observable and a hand edit (someone changes a weight) shows up as a non-empty list that corrects it.

Worked example (NGINX, rollout ``shop`` in ``prod``, stable Ingress ``web`` routing to ``shop-stable``)::

    router = routers_for(rollout)[0]
    router.references() == [ObjectRef(INGRESS, "prod", "web"), ObjectRef(INGRESS, "prod", "shop-web-canary")]
    router.desired_changes(10, [], live)   # live holds only "web"
      == [ApplyObject(INGRESS, {... "name": "shop-web-canary", annotations
                                 {"nginx.ingress.kubernetes.io/canary": "true", ".../canary-weight": "10"},
                                 rules rewired to "shop-canary" ...})]
    router.in_effect(live_after_apply) == InEffect(weight=10, header_routes=())

Why several kinds of write: the canary Ingress is wholly ours, so server-side apply of the complete object is
exact (fields we stop setting are removed by the API server). An HTTPRoute belongs to the user and its
``spec.rules`` is an atomic list for server-side apply, so applying it would take ownership of every rule
and overwrite concurrent edits; a JSON patch that touches only ``.../backendRefs/N/weight`` (and our own
header rules) leaves every other field alone. A Service's ``spec.selector`` is an atomic map, so a merge patch
adds or removes just our key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from rollouts.api.owners import OwnerReferenceBody, controller_reference
from rollouts.api.rollout import API_VERSION, DEFAULT_MAX_TRAFFIC_WEIGHT, KIND

FIELD_MANAGER = "rollouts-controller"
"""The server-side-apply field manager for every object the controller writes."""



class TrafficConfigError(ValueError):
    """The Rollout's trafficRouting block (or a setHeaderRoute step) cannot be realised; becomes InvalidSpec."""


class RouteKind(StrEnum):
    """The kinds a router reads or writes. The controller addresses each by its API version and plural (this
    package may not import kube/), so a new kind is one member here and one line in ``_RESOURCES``."""

    INGRESS = "Ingress"
    HTTPROUTE = "HTTPRoute"
    SERVICE = "Service"
    # Istio serves its kinds at several API versions and Argo addresses the one --istio-api-version names (default
    # v1alpha3, the plain members): one member per version, as for TrafficSplit below.
    VIRTUALSERVICE = "VirtualService"
    DESTINATIONRULE = "DestinationRule"
    VIRTUALSERVICE_V1BETA1 = "VirtualService/v1beta1"
    DESTINATIONRULE_V1BETA1 = "DestinationRule/v1beta1"
    VIRTUALSERVICE_V1 = "VirtualService/v1"
    DESTINATIONRULE_V1 = "DestinationRule/v1"
    TRAEFIKSERVICE = "TraefikService"
    APISIXROUTE = "ApisixRoute"
    MAPPING = "Mapping"
    # SMI's TrafficSplit exists at several API versions and Argo writes the one --traffic-split-api-version names:
    # one member per version, the version after a "/" in the value (``kind_name`` drops it).
    TRAFFICSPLIT_V1ALPHA1 = "TrafficSplit/v1alpha1"
    TRAFFICSPLIT_V1ALPHA2 = "TrafficSplit/v1alpha2"
    TRAFFICSPLIT_V1ALPHA3 = "TrafficSplit/v1alpha3"

    @property
    def kind_name(self) -> str:
        """The Kubernetes kind: ``Ingress``; ``TrafficSplit`` for ``TrafficSplit/v1alpha2``."""
        return self.value.partition("/")[0]

    @property
    def api_version(self) -> str:
        return _RESOURCES[self][0]

    @property
    def plural(self) -> str:
        return _RESOURCES[self][1]


_RESOURCES: dict[RouteKind, tuple[str, str]] = {
    RouteKind.INGRESS: ("networking.k8s.io/v1", "ingresses"),
    RouteKind.HTTPROUTE: ("gateway.networking.k8s.io/v1", "httproutes"),
    RouteKind.SERVICE: ("v1", "services"),
    RouteKind.VIRTUALSERVICE: ("networking.istio.io/v1alpha3", "virtualservices"),
    RouteKind.DESTINATIONRULE: ("networking.istio.io/v1alpha3", "destinationrules"),
    RouteKind.VIRTUALSERVICE_V1BETA1: ("networking.istio.io/v1beta1", "virtualservices"),
    RouteKind.DESTINATIONRULE_V1BETA1: ("networking.istio.io/v1beta1", "destinationrules"),
    RouteKind.VIRTUALSERVICE_V1: ("networking.istio.io/v1", "virtualservices"),
    RouteKind.DESTINATIONRULE_V1: ("networking.istio.io/v1", "destinationrules"),
    RouteKind.TRAEFIKSERVICE: ("traefik.io/v1alpha1", "traefikservices"),
    RouteKind.APISIXROUTE: ("apisix.apache.org/v2", "apisixroutes"),
    RouteKind.MAPPING: ("getambassador.io/v2", "mappings"),
    RouteKind.TRAFFICSPLIT_V1ALPHA1: ("split.smi-spec.io/v1alpha1", "trafficsplits"),
    RouteKind.TRAFFICSPLIT_V1ALPHA2: ("split.smi-spec.io/v1alpha2", "trafficsplits"),
    RouteKind.TRAFFICSPLIT_V1ALPHA3: ("split.smi-spec.io/v1alpha3", "trafficsplits"),
}
"""(apiVersion, plural) of each kind."""


@dataclass(frozen=True, slots=True, order=True)
class ObjectRef:
    """A namespaced object the router reads, and possibly writes."""

    kind: RouteKind
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} '{self.namespace}/{self.name}'"


LiveObjects = Mapping[ObjectRef, Mapping[str, Any]]
"""The referenced objects that exist, as returned by the API server; an absent key means NotFound."""


@dataclass(frozen=True, slots=True)
class ApplyObject:
    """Server-side apply ``obj`` (a complete object we own) with FIELD_MANAGER and ``force=True``."""

    kind: RouteKind
    obj: Mapping[str, Any]
    summary: str = ""

    @property
    def ref(self) -> ObjectRef:
        meta = self.obj["metadata"]
        return ObjectRef(self.kind, str(meta["namespace"]), str(meta["name"]))


@dataclass(frozen=True, slots=True)
class JsonPatch:
    """Apply RFC 6902 ``ops`` to ``ref`` (patch_type="json"); a failed ``test`` (422) means re-read and re-plan."""

    ref: ObjectRef
    ops: tuple[Mapping[str, Any], ...]
    summary: str = ""


@dataclass(frozen=True, slots=True)
class MergePatch:
    """Apply a JSON merge patch (RFC 7386, patch_type="merge") to ``ref``: keys merge, ``None`` removes a key.

    Used for Services (``rollouts.traffic.service``): ``spec.selector`` is an atomic map for server-side apply,
    so applying our one selector key would replace (and take over) the user's whole selector; a merge patch adds
    or removes just our key.
    """

    ref: ObjectRef
    body: Mapping[str, Any]
    summary: str = ""


@dataclass(frozen=True, slots=True)
class DeleteObject:
    """Delete ``ref``, an object the router created and no longer wants (an Ambassador canary Mapping at weight 0,
    an APISIX header-route ApisixRoute), with a precondition on ``uid`` so only the object that was read, ours,
    is deleted; already gone is success. ``not_before`` (an instant read off the live object, never a clock)
    holds the delete back until then: the executor leaves it for the reconcile the planner wakes at
    ``InEffect.settles_at``."""

    ref: ObjectRef
    uid: str
    summary: str = ""
    not_before: datetime | None = None


TrafficChange = ApplyObject | JsonPatch | MergePatch | DeleteObject
"""Every write a router (or the Service selector builder) may ask for; ``controller.traffic.perform`` does each."""


class MatchKind(StrEnum):
    """How a setHeaderRoute ``headerValue`` matches: Argo's ``exact``, ``prefix`` and ``regex``."""

    EXACT = "exact"
    PREFIX = "prefix"
    REGEX = "regex"


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """One ``match`` entry of a setHeaderRoute step: header ``name`` matched by ``kind`` against ``value``."""

    name: str
    kind: MatchKind
    value: str

    def as_regex(self) -> str:
        """The match as a regular expression: exact ``a.b`` -> ``^a\\.b$``, prefix ``v2`` -> ``^v2.*``."""
        if self.kind is MatchKind.REGEX:
            return self.value
        if self.kind is MatchKind.PREFIX:
            return f"^{re.escape(self.value)}.*"
        return f"^{re.escape(self.value)}$"


@dataclass(frozen=True, slots=True)
class HeaderRoute:
    """A managed header route in effect: requests matching all ``matches`` go to the canary."""

    name: str
    matches: tuple[HeaderMatch, ...]


@dataclass(frozen=True, slots=True)
class ValueMatch:
    """How one string of a request matches (a setMirrorRoute method or path): ``kind`` against ``value``."""

    kind: MatchKind
    value: str


@dataclass(frozen=True, slots=True)
class MirrorMatch:
    """One ``match`` entry of a setMirrorRoute step; every part given must match."""

    method: ValueMatch | None = None
    path: ValueMatch | None = None
    headers: tuple[tuple[str, ValueMatch], ...] = ()


@dataclass(frozen=True, slots=True)
class MirrorRoute:
    """A managed mirror route in effect: ``percentage`` of the requests matching any of ``matches`` are copied to
    the canary, while they are still answered as the weighted route answers them."""

    name: str
    matches: tuple[MirrorMatch, ...]
    percentage: int = 100


@dataclass(frozen=True, slots=True)
class PodHashes:
    """The ``rollouts-pod-template-hash`` values a router pins (Istio DestinationRule subsets): canary, stable."""

    canary: str
    stable: str


@dataclass(frozen=True, slots=True)
class InEffect:
    """What the live objects say is in effect now: the canary weight and the managed routes present.

    ``weight`` is None when it cannot be told (a base object is missing, or the managed objects disagree,
    e.g. someone hand-edited one of two canary Ingresses); the controller then simply re-applies.
    ``pod_hashes`` is None for a router that does not select pods by hash (most), else the hashes its objects
    select now. ``settles_at`` is when a change held back by a ``DeleteObject.not_before`` becomes due (the
    planner asks to be woken then), else None.
    """

    weight: int | None
    header_routes: tuple[str, ...] = ()
    mirror_routes: tuple[str, ...] = ()
    pod_hashes: PodHashes | None = None
    settles_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RouterOptions:
    """Controller-wide settings the routers obey (command-line flags, the same for every Rollout)."""

    verify_alb_target_groups: bool = False
    """``--aws-verify-target-group``: confirm ALB weights through the AWS ELBv2 API before a step completes."""
    traffic_split_api_version: str = "v1alpha1"
    """``--traffic-split-api-version``: the SMI TrafficSplit version written (Argo's default v1alpha1)."""
    istio_api_version: str = "v1alpha3"
    """``--istio-api-version``: the networking.istio.io version VirtualServices and DestinationRules are read and
    patched at (Argo's default v1alpha3)."""


@dataclass(frozen=True, slots=True)
class RolloutContext:
    """The parts of a Rollout every router needs, read once from the raw Rollout dict."""

    name: str
    namespace: str
    uid: str
    stable_service: str
    canary_service: str
    max_traffic_weight: int = DEFAULT_MAX_TRAFFIC_WEIGHT
    max_traffic_weight_set: bool = False
    managed_routes: tuple[str, ...] = field(default_factory=tuple)
    ping_pong: tuple[str, str] | None = None
    """(stable, canary) ping/pong Services when ``canary.pingPong`` is set (ALB routes between these)."""
    options: RouterOptions = field(default_factory=RouterOptions)

    @property
    def owner_reference(self) -> OwnerReferenceBody:
        """The controller ownerReference that lets the garbage collector remove our objects with the Rollout."""
        return controller_reference(api_version=API_VERSION, kind=KIND, name=self.name, uid=self.uid)

    def check_weight(self, weight: int) -> None:
        if not 0 <= weight <= self.max_traffic_weight:
            raise ValueError(f"canary weight {weight} is outside 0..{self.max_traffic_weight} (maxTrafficWeight)")


class TrafficRouter(Protocol):
    """One traffic provider configured by a Rollout. Every method is pure: live objects in, data out.

    * ``references()``: the objects the executor must fetch before calling anything else (missing ones are
      simply absent from ``live``; objects the router creates, like the canary Ingress, are listed too).
    * ``validate(live)``: human-readable problems that make the configuration unusable (missing Ingress or
      HTTPRoute, no rule for stableService, a name taken by an object we do not control). Non-empty means
      InvalidSpec and no writes at all.
    * ``in_effect(live)``: the weight and header routes the live objects realise now.
    * ``desired_changes(weight, header_routes, live, mirror_routes=..., pod_hashes=...)``: the writes that make
      the live objects realise ``weight`` (0..maxTrafficWeight) and exactly ``header_routes`` and
      ``mirror_routes`` (others are removed); ``[]`` if in sync. ``pod_hashes`` are the canary and stable
      ReplicaSets' hashes, for routers that select pods by hash (others ignore them; a router that cannot
      mirror refuses a setMirrorRoute at configuration time, ``registry.routers_for``).
      After promotion or abort the controller calls it with ``(0, [])``. Objects a router creates carry the
      Rollout's controller ownerReference (``RolloutContext.owner_reference``), so the garbage collector removes
      them with the Rollout; objects the user owns are only patched.
    """

    @property
    def name(self) -> str: ...

    def references(self) -> list[ObjectRef]: ...

    def validate(self, live: LiveObjects) -> list[str]: ...

    def in_effect(self, live: LiveObjects) -> InEffect: ...

    def desired_changes(
        self,
        weight: int,
        header_routes: Sequence[HeaderRoute],
        live: LiveObjects,
        *,
        mirror_routes: Sequence[MirrorRoute] = (),
        pod_hashes: PodHashes | None = None,
    ) -> list[TrafficChange]: ...

