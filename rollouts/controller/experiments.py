"""The Experiment reconciler: observe -> plan_experiment -> execute -> one status write -> requeue.

Which keys are enqueued when: an Experiment event enqueues it; a ReplicaSet, Service or AnalysisRun event
enqueues its controlling Experiment (ownerReference), so a pod becoming available or a run finishing moves the
Experiment on at once; an (Cluster)AnalysisTemplate event enqueues the Experiments of its namespace that name
it. The children are claimed as Argo claims them (controller reference to this Experiment's uid and the
``experiment.argoproj.io/name`` annotation, keyed by ``.../template-name``). All decisions are the planner's;
the Rollout executor performs the actions (the Experiment is the events' object).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError

from rollouts.api.experiment import NAME_ANNOTATION, TEMPLATE_NAME_ANNOTATION, Experiment
from rollouts.api.owners import controller_name, is_controlled_by
from rollouts.controller.events import EventRecorder
from rollouts.controller.executor import Executor, status_changed
from rollouts.controller.observe import Caches
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import Conflict, NotFound
from rollouts.kube.informer import Informer
from rollouts.kube.resources import EXPERIMENT
from rollouts.kube.shards import ShardSet
from rollouts.kube.worker import run_worker
from rollouts.kube.workqueue import WorkQueue
from rollouts.planning.experiment import plan_experiment
from rollouts.planning.experiment_context import ObservedExperiment
from rollouts.planning.observed import ObservedAnalysisRun, ObservedReplicaSet, ObservedService, TemplateKey

Key = tuple[str, str]
log = structlog.get_logger("rollouts.experiments")


def _claimed(ex: Experiment, objects: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Children of this Experiment by template name (the first claim wins, as in Argo's listers)."""
    names = {t.name for t in ex.spec.templates}
    claimed: dict[str, dict[str, Any]] = {}
    for obj in objects:
        annotations = obj["metadata"].get("annotations") or {}
        template = annotations.get(TEMPLATE_NAME_ANNOTATION)
        if not is_controlled_by(obj, ex.metadata.uid or "") or annotations.get(NAME_ANNOTATION) != ex.name:
            continue
        if template in names and template not in claimed and not obj["metadata"].get("deletionTimestamp"):
            claimed[str(template)] = obj
    return claimed


def observe_experiment(caches: Caches, experiments: Informer, ex: Experiment) -> ObservedExperiment:
    ns, uid = ex.namespace, ex.metadata.uid or ""
    services = list(caches.services.items(ns))
    owned_services = _claimed(ex, services)
    wanted = {t.service.name for t in ex.spec.templates if t.service is not None and t.service.name}
    foreign = frozenset(s["metadata"]["name"] for s in services
                        if s["metadata"]["name"] in wanted and not is_controlled_by(s, uid))
    templates: dict[TemplateKey, Any] = {}
    for ref in ex.spec.analyses or ():
        cache = caches.cluster_analysis_templates if ref.is_cluster_scope else caches.analysis_templates
        templates[(ref.template_name, ref.is_cluster_scope)] = cache.get("" if ref.is_cluster_scope else ns,
                                                                          ref.template_name)
    return ObservedExperiment(
        experiment=ex,
        replica_sets={t: ObservedReplicaSet.from_object(o) for t, o in
                      _claimed(ex, caches.replica_sets.items(ns)).items()},
        services={t: ObservedService.from_object(o) for t, o in owned_services.items()},
        analysis_runs={r["metadata"]["name"]: ObservedAnalysisRun.from_object(r)
                       for r in caches.analysis_runs.items(ns) if is_controlled_by(r, uid)},
        analysis_templates=templates,
        foreign_services=foreign,
    )


class ExperimentReconciler:
    def __init__(self, client: KubeClient, caches: Caches, experiments: Informer, *, recorder: EventRecorder,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), shards: ShardSet | None = None) -> None:
        self.client = client
        self.shards = shards
        self.caches = caches
        self.experiments = experiments
        self.queue: WorkQueue[Key] = WorkQueue(name="Experiments")
        if shards is not None:
            shards.requeue_on_acquire(experiments, self.queue.add)
        self.executor = Executor(client, caches, recorder)
        self.clock = clock
        experiments.add_handler(self._on_experiment)
        for informer in (caches.replica_sets, caches.services, caches.analysis_runs):
            informer.add_handler(self._on_owned)
        caches.analysis_templates.add_handler(self._on_template)
        caches.cluster_analysis_templates.add_handler(self._on_template)

    def _on_experiment(self, etype: str, obj: dict[str, Any]) -> None:
        if etype != "DELETED":
            self.queue.add((obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))

    def _on_owned(self, etype: str, obj: dict[str, Any]) -> None:
        name = controller_name(obj, EXPERIMENT.kind)
        if name is not None:
            self.queue.add((obj["metadata"].get("namespace", ""), name))

    def _on_template(self, etype: str, obj: dict[str, Any]) -> None:
        template = obj["metadata"]["name"]
        namespace = obj["metadata"].get("namespace")  # None for a ClusterAnalysisTemplate: every namespace
        for raw in self.experiments.items(namespace):
            analyses = (raw.get("spec") or {}).get("analyses") or ()
            if any(isinstance(a, dict) and a.get("templateName") == template for a in analyses):
                self.queue.add((raw["metadata"].get("namespace", ""), raw["metadata"]["name"]))

    async def worker(self) -> None:
        await run_worker(self.queue, self.reconcile, kind="experiment", log=log,
                         fields=lambda key: {"namespace": key[0], "experiment": key[1]}, conflicts=(Conflict,),
                         shards=self.shards, shard_key=lambda key: f"{key[0]}/{key[1]}")

    async def reconcile(self, key: Key) -> float | None:
        raw = self.experiments.get(*key)
        if raw is None or raw["metadata"].get("deletionTimestamp"):
            return None
        try:
            ex = Experiment.model_validate(raw)
        except ValidationError as exc:
            # the CRD's schema admits little that does not parse; say what, and serve the others
            log.warning("experiment does not parse; not reconciled", namespace=key[0], experiment=key[1],
                        error=str(exc).splitlines()[0])
            return None
        plan = plan_experiment(observe_experiment(self.caches, self.experiments, ex), self.clock())
        await self.executor.execute(plan, raw)
        status = dict(plan.status)
        if status_changed(raw.get("status"), status):
            try:
                # no status subresource (Argo's CRD has none): the object itself, guarded by its resourceVersion
                updated = await self.client.replace(EXPERIMENT, {**raw, "status": status})
            except NotFound:
                return None
            self.experiments.upsert(updated)
        for event in plan.events:
            log.info(event.message, namespace=key[0], experiment=key[1], reason=event.reason)
        await self.executor.record_events(plan, raw)
        return plan.requeue_after
