"""Builds the planner's ObservedRollout from informer caches plus a few targeted reads.

The raw Rollout is parsed once into the typed model (``ParsedRollouts``, per resourceVersion) and everything
after that, the event handlers, ``observe``, the traffic routers and the planner, reads the typed ``Rollout``.

Most of what the planner needs is cached by informers (Rollouts, their ReplicaSets, Services,
AnalysisRuns, templates, and the Deployments behind workloadRefs), so a reconcile usually costs no API reads
at all. Two things are read on demand: the routing objects of traffic-routed canaries (read fresh, since a
guarded patch must start from the current resourceVersion, once per reconcile: the executor reuses them through
``Observation.traffic``), and pods, only while a `spec.restartAt` restart is in progress (watching every pod
would cost far more than it saves).

One thing is asked of the API server by a dry-run: when no ReplicaSet carries the desired template's hash
(a new revision, or ReplicaSets another controller labelled differently), the template as the API server
would default it in a ReplicaSet, so the planner can find an existing ReplicaSet by comparing templates as
Argo does (Argo runs the same defaulting in-process). The answer is remembered per template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rollouts.api.labels import MANAGED_BY_ANNOTATION, POD_TEMPLATE_HASH_LABEL
from rollouts.api.owners import controller_uids, is_controlled_by
from rollouts.api.rollout import Rollout
from rollouts.api.validation import SpecProblem, parse_rollout
from rollouts.controller.traffic import TrafficView, observe_rollout_traffic
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError
from rollouts.kube.informer import Informer, without_last_applied
from rollouts.kube.resources import POD, REPLICASET
from rollouts.planning.hashing import canonical_json
from rollouts.planning.observed import (
    ObservedAnalysisRun,
    ObservedPod,
    ObservedReplicaSet,
    ObservedRollout,
    ObservedService,
    OwnedExperiment,
    TemplateKey,
)
from rollouts.planning.planner import desired_hash, desired_template
from rollouts.planning.replicasets import needs_defaulted_template
from rollouts.planning.spec_facts import spec_facts
from rollouts.traffic.router import RouterOptions

CONTROLLER_INDEX = "controller"
"""The informer index of objects by their controller's uid (``rollouts.api.owners.controller_uids``)."""


@dataclass
class Caches:
    rollouts: Informer
    replica_sets: Informer
    services: Informer
    analysis_runs: Informer
    analysis_templates: Informer
    cluster_analysis_templates: Informer
    # Routing objects are cached only to hear about changes (a hand edit of a weight is corrected at once);
    # observe() still reads them fresh because a guarded patch must start from the current resourceVersion.
    ingresses: Informer
    http_routes: Informer
    # workloadRef: the referenced Deployment's pod template is the Rollout's template.
    deployments: Informer
    # The other routing kinds (TraefikService, ApisixRoute, Mapping, VirtualService, DestinationRule), watched
    # for the same reason as Ingresses.
    # Their CRDs may be absent; an informer of a kind the API server does not serve simply stays empty.
    routing: tuple[Informer, ...] = ()
    # Experiments (their CRD may be absent on a cluster: the informer then stays empty and blocks nothing).
    experiments: Informer | None = None

    def __post_init__(self) -> None:
        # A reconcile reads its Rollout's ReplicaSets and AnalysisRuns by the controller's uid: indexed, not
        # scanned (a scan of 3,000 ReplicaSets took 5 ms per reconcile, most of the controller's CPU).
        for informer in (self.replica_sets, self.analysis_runs):
            informer.add_index(CONTROLLER_INDEX, controller_uids)
        # Rollouts are written back only through the status subresource (metadata ignored) and patches.
        self.rollouts.set_transform(without_last_applied)


class ParsedRollouts:
    """Each cached Rollout parsed once into the typed model, per resourceVersion.

    The reconciler and the event handlers (which Rollouts name this Service, this Deployment, use traffic
    routing?) all read the typed ``Rollout``; nothing below this line digs through the raw dict. An object that
    does not parse is kept as ``(None, problems)`` so the reconciler can report it (``plan_unparseable``).
    """

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str], tuple[str, Rollout | None, list[SpecProblem]]] = {}

    def parse(self, raw: Mapping[str, Any]) -> tuple[Rollout | None, list[SpecProblem]]:
        meta = raw.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        version = str(meta.get("resourceVersion") or "")
        hit = self._memo.get(key)
        if hit is not None and version and hit[0] == version:
            return hit[1], hit[2]
        rollout, problems = parse_rollout(raw)
        if version:
            self._memo[key] = (version, rollout, problems)
        return rollout, problems

    def typed(self, raw: Mapping[str, Any]) -> Rollout | None:
        return self.parse(raw)[0]

    def forget(self, namespace: str, name: str) -> None:
        self._memo.pop((namespace, name), None)


def owned_by(objs: Iterable[dict[str, Any]], uid: str) -> list[dict[str, Any]]:
    return [o for o in objs if is_controlled_by(o, uid)]


def controlled_by(informer: Informer, namespace: str, uid: str) -> list[dict[str, Any]]:
    """The cached objects of ``namespace`` whose controller is the object with ``uid`` (the informer's index)."""
    return [o for o in informer.by_index(CONTROLLER_INDEX, uid)
            if (o.get("metadata") or {}).get("namespace", "") == namespace]


def referenced_services(rollout: Rollout) -> list[str]:
    """The Services the strategy names (stable/canary or active/preview), as the planner's references list them."""
    return [name for _, name in spec_facts(rollout).references.services]


def referenced_templates(rollout: Rollout) -> set[TemplateKey]:
    """Every (templateName, clusterScope) the spec mentions, wherever analysis appears."""
    return {(ref.name, ref.cluster_scope) for ref in spec_facts(rollout).references.templates if ref.name}


@dataclass(frozen=True, slots=True)
class Observation:
    """What one reconcile saw: the planner's input, and the traffic routers' reading the executor reuses."""

    rollout: ObservedRollout
    traffic: TrafficView | None


async def observe(client: KubeClient, caches: Caches, rollout: Rollout,
                  router_options: RouterOptions | None = None) -> Observation:
    """Everything the planner may know about ``rollout``: its children and references from the caches, its
    routing objects and (during a restart) pods from the API server."""
    ns = rollout.namespace
    uid = rollout.metadata.uid or ""
    replica_sets = tuple(
        ObservedReplicaSet.from_object(o) for o in controlled_by(caches.replica_sets, ns, uid)
        if not o["metadata"].get("deletionTimestamp")
    )
    workload_template, workload_replicas = _workload(caches, rollout)
    traffic = await observe_rollout_traffic(client, rollout, router_options)
    observed = ObservedRollout(
        rollout=rollout, replica_sets=replica_sets, services=_services(caches, rollout),
        released_services=_released_services(caches, rollout),
        analysis_runs=tuple(ObservedAnalysisRun.from_object(o) for o in controlled_by(caches.analysis_runs, ns, uid)),
        experiments=_experiments(caches, ns, uid),
        analysis_templates=_templates(caches, rollout), workload_template=workload_template,
        workload_replicas=workload_replicas, traffic=traffic.observed if traffic is not None else None,
        pods=await _restarting_pods(client, rollout, replica_sets),
        defaulted_template=await _defaulted_if_needed(client, rollout, replica_sets, workload_template),
    )
    return Observation(observed, traffic)


def _experiments(caches: Caches, ns: str, uid: str) -> tuple[OwnedExperiment, ...]:
    """The Experiments the Rollout controls (its experiment steps'), without ones being deleted."""
    if caches.experiments is None:
        return ()
    return tuple(OwnedExperiment.from_object(o) for o in owned_by(caches.experiments.items(ns), uid)
                 if not o["metadata"].get("deletionTimestamp"))


def _services(caches: Caches, rollout: Rollout) -> dict[str, ObservedService | None]:
    """Every Service the strategy names; None for one that does not exist (the planner says InvalidSpec)."""
    services: dict[str, ObservedService | None] = {}
    for name in referenced_services(rollout):
        svc = caches.services.get(rollout.namespace, name)
        services[name] = ObservedService.from_object(svc) if svc is not None else None
    return services


def _released_services(caches: Caches, rollout: Rollout) -> tuple[str, ...]:
    """Services claimed by this Rollout's managed-by annotation that the spec no longer names (blueGreen ->
    canary leaves the old activeService pinned otherwise, TestBlueGreenToCanary)."""
    named = set(referenced_services(rollout))
    return tuple(sorted(
        str(svc["metadata"]["name"]) for svc in caches.services.items(rollout.namespace)
        if (svc["metadata"].get("annotations") or {}).get(MANAGED_BY_ANNOTATION) == rollout.name
        and svc["metadata"]["name"] not in named
    ))


def _templates(caches: Caches, rollout: Rollout) -> dict[TemplateKey, Mapping[str, Any] | None]:
    templates: dict[TemplateKey, Mapping[str, Any] | None] = {}
    for name, cluster in referenced_templates(rollout):
        cache = caches.cluster_analysis_templates if cluster else caches.analysis_templates
        templates[(name, cluster)] = cache.get("" if cluster else rollout.namespace, name)
    return templates


def _workload(caches: Caches, rollout: Rollout) -> tuple[Mapping[str, Any] | None, int | None]:
    """The pod template and spec.replicas of the workloadRef Deployment (None, None without one)."""
    ref = rollout.spec.workload_ref
    if ref is None or not ref.name:
        return None, None
    deployment = caches.deployments.get(rollout.namespace, ref.name)
    if deployment is None:
        return None, None
    spec = deployment.get("spec") or {}
    return spec.get("template"), int(spec.get("replicas", 1))


async def _restarting_pods(client: KubeClient, rollout: Rollout, replica_sets: tuple[ObservedReplicaSet, ...]
                           ) -> tuple[ObservedPod, ...]:
    """The Rollout's pods, read only while a ``spec.restartAt`` restart is pending."""
    if not restart_pending(rollout):
        return ()
    items, _ = await client.list(POD, rollout.namespace, label_selector=POD_TEMPLATE_HASH_LABEL)
    hashes = {rs.pod_template_hash for rs in replica_sets}
    return tuple(p for p in (ObservedPod.from_object(o) for o in items) if p.replica_set_hash in hashes)


async def _defaulted_if_needed(client: KubeClient, rollout: Rollout, replica_sets: tuple[ObservedReplicaSet, ...],
                     workload_template: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    template = desired_template(rollout, workload_template)
    if template and needs_defaulted_template(replica_sets, template, desired_hash(rollout, template)):
        return await defaulted_template(client, rollout.namespace, template)
    return None


_DEFAULTED_LIMIT = 1024
_defaulted: dict[tuple[str, str], Mapping[str, Any] | None] = {}


async def defaulted_template(client: KubeClient, namespace: str, template: Mapping[str, Any]
                             ) -> Mapping[str, Any] | None:
    """``template`` as the API server defaults it inside a ReplicaSet (dry-run create: nothing is stored);
    None when the server refuses it (an invalid template: the real create will report why)."""
    key = (namespace, canonical_json(template))
    if key in _defaulted:
        return _defaulted[key]
    labels = (template.get("metadata") or {}).get("labels") or {}
    result: Mapping[str, Any] | None = None
    if labels:
        probe = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"generateName": "rollouts-defaulting-", "namespace": namespace},
            "spec": {"replicas": 0, "selector": {"matchLabels": dict(labels)}, "template": dict(template)},
        }
        try:
            created = await client.create(REPLICASET, probe, namespace, dry_run=True)
            result = (created.get("spec") or {}).get("template")
        except ApiError as err:
            if err.status == 0:  # unreachable: not an answer about the template, ask again next time
                return None
    if len(_defaulted) >= _DEFAULTED_LIMIT:
        _defaulted.clear()
    _defaulted[key] = result
    return result


def restart_pending(rollout: Rollout) -> bool:
    """``spec.restartAt`` asks for a restart the status has not recorded as done."""
    restart_at = rollout.spec.restart_at
    if restart_at is None:
        return False
    restarted = rollout.status_or_empty.restarted_at
    return restarted is None or restarted < restart_at
