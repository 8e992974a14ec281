"""Builds the planner's ObservedRollout from informer caches plus a few targeted reads.

Most of what the planner needs is cached by informers (Rollouts, their ReplicaSets, Services,
AnalysisRuns, templates, and the Deployments behind workloadRefs), so a reconcile usually costs no API reads
at all. Two things are read on demand: the routing objects of traffic-routed canaries (read fresh, since a
guarded patch must start from the current resourceVersion), and pods, only while a `spec.restartAt` restart
is in progress (watching every pod would cost far more than it saves).

One thing is asked of the API server by a dry-run: when no ReplicaSet carries the desired template's hash
(a new revision, or ReplicaSets another controller labelled differently), the template as the API server
would default it in a ReplicaSet, so the planner can find an existing ReplicaSet by comparing templates as
Argo does (Argo runs the same defaulting in-process). The answer is remembered per template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.api.owners import is_controlled_by
from rollouts.api.rollout import Rollout
from rollouts.controller.traffic import observe_traffic
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError
from rollouts.kube.informer import Informer
from rollouts.kube.resources import POD, REPLICASET
from rollouts.planning.hashing import canonical_json
from rollouts.planning.observed import (
    ObservedAnalysisRun,
    ObservedPod,
    ObservedReplicaSet,
    ObservedRollout,
    ObservedService,
    TemplateKey,
    parse_timestamp,
)
from rollouts.planning.planner import desired_hash, desired_template
from rollouts.planning.replicasets import needs_defaulted_template


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


def owned_by(objs: Iterable[dict[str, Any]], uid: str) -> list[dict[str, Any]]:
    return [o for o in objs if is_controlled_by(o, uid)]


def referenced_services(rollout: Rollout) -> list[str]:
    strategy = rollout.spec.strategy
    names: list[str | None] = []
    if strategy.canary is not None:
        names += [strategy.canary.stable_service, strategy.canary.canary_service]
    if strategy.blue_green is not None:
        names += [strategy.blue_green.active_service, strategy.blue_green.preview_service]
    return [n for n in names if n]


def referenced_templates(raw: Mapping[str, Any]) -> set[TemplateKey]:
    """Every (templateName, clusterScope) the spec mentions, wherever analysis appears."""
    strategy = (raw.get("spec") or {}).get("strategy") or {}
    canary = strategy.get("canary") or {}
    blue_green = strategy.get("blueGreen") or {}
    blocks: list[Mapping[str, Any]] = []
    blocks += [s["analysis"] for s in canary.get("steps") or () if isinstance(s, Mapping) and s.get("analysis")]
    for block in (canary.get("analysis"), blue_green.get("prePromotionAnalysis"),
                  blue_green.get("postPromotionAnalysis")):
        if isinstance(block, Mapping):
            blocks.append(block)
    keys: set[TemplateKey] = set()
    for block in blocks:
        for ref in block.get("templates") or ():
            if isinstance(ref, Mapping) and ref.get("templateName"):
                keys.add((str(ref["templateName"]), bool(ref.get("clusterScope"))))
    return keys


async def observe(client: KubeClient, caches: Caches, raw: dict[str, Any], rollout: Rollout) -> ObservedRollout:
    ns = rollout.namespace
    uid = rollout.metadata.uid or ""
    replica_sets = tuple(
        ObservedReplicaSet.from_object(o) for o in owned_by(caches.replica_sets.items(ns), uid)
        if not o["metadata"].get("deletionTimestamp")
    )
    services: dict[str, ObservedService | None] = {}
    for name in referenced_services(rollout):
        svc = caches.services.get(ns, name)
        services[name] = ObservedService.from_object(svc) if svc is not None else None
    runs = tuple(ObservedAnalysisRun.from_object(o) for o in owned_by(caches.analysis_runs.items(ns), uid))
    templates: dict[TemplateKey, Mapping[str, Any] | None] = {}
    for name, cluster in referenced_templates(raw):
        cache = caches.cluster_analysis_templates if cluster else caches.analysis_templates
        templates[(name, cluster)] = cache.get("" if cluster else ns, name)
    workload_template: Mapping[str, Any] | None = None
    workload_replicas: int | None = None
    ref = rollout.spec.workload_ref
    if ref is not None and ref.name:
        deployment = caches.deployments.get(ns, ref.name)
        if deployment is not None:
            workload_template = (deployment.get("spec") or {}).get("template")
            workload_replicas = int((deployment.get("spec") or {}).get("replicas", 1))
    pods: tuple[ObservedPod, ...] = ()
    if restart_pending(raw):
        items, _ = await client.list(POD, ns, label_selector=POD_TEMPLATE_HASH_LABEL)
        hashes = {rs.pod_template_hash for rs in replica_sets}
        pods = tuple(
            p for p in (ObservedPod.from_object(o) for o in items) if p.replica_set_hash in hashes
        )
    traffic = await observe_traffic(client, raw)
    template = desired_template(rollout, workload_template)
    defaulted: Mapping[str, Any] | None = None
    if template and needs_defaulted_template(replica_sets, template, desired_hash(rollout, template)):
        defaulted = await defaulted_template(client, ns, template)
    return ObservedRollout(
        rollout=rollout, replica_sets=replica_sets, services=services, analysis_runs=runs,
        analysis_templates=templates, workload_template=workload_template, workload_replicas=workload_replicas,
        traffic=traffic, pods=pods, defaulted_template=defaulted,
    )


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


def restart_pending(raw: Mapping[str, Any]) -> bool:
    restart_at = (raw.get("spec") or {}).get("restartAt")
    if not restart_at:
        return False
    restarted = (raw.get("status") or {}).get("restartedAt")
    return not restarted or parse_timestamp(restarted) < parse_timestamp(restart_at)
