"""The Rollout reconciler: observe -> plan -> execute -> one status write -> requeue.

Which keys are enqueued when: a Rollout event enqueues that Rollout; a ReplicaSet or AnalysisRun event
enqueues its controlling Rollout (by ownerReference); a Service, AnalysisTemplate,
ClusterAnalysisTemplate, Deployment (workloadRef) or routing object event enqueues the Rollouts that
reference it, so a Rollout applied before its template goes on as soon as the template exists. A Rollout
with an invalid spec is planned again after 20 s as well, as Argo does (its problem may be timing, or an
object nothing watches). All decisions are the planner's; this module only moves data between the caches, the planner
and the executor, and turns failures into backoff (never a crash, never a hot loop).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from rollouts.api.owners import controller_name
from rollouts.api.rollout import EventReason, Rollout
from rollouts.controller.events import EventRecorder
from rollouts.controller.executor import Executor, ReplicaSetRejected, status_changed
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.observe import Caches, ParsedRollouts, observe, referenced_services, referenced_templates
from rollouts.controller.traffic import TrafficConflict, release_destination_rules
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import Conflict, NotFound
from rollouts.kube.resources import DESTINATIONRULES, ROLLOUT
from rollouts.kube.shards import ShardSet
from rollouts.kube.worker import run_worker
from rollouts.kube.workqueue import WorkQueue
from rollouts.planning import plan_rollout, plan_unparseable
from rollouts.planning.plan import Plan
from rollouts.planning.tolerant import tolerant_template
from rollouts.traffic.istio import managing_rollout
from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import RouterOptions, TrafficConfigError

Key = tuple[str, str]
log = structlog.get_logger("rollouts.controller")


class RolloutReconciler:
    def __init__(
        self,
        client: KubeClient,
        caches: Caches,
        *,
        metrics: ControllerMetrics,
        recorder: EventRecorder,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        router_options: RouterOptions | None = None,
        shards: ShardSet | None = None,
    ) -> None:
        self.client = client
        self.caches = caches
        self.queue: WorkQueue[Key] = WorkQueue(name="Rollouts")
        self.shards = shards
        if shards is not None:
            shards.requeue_on_acquire(caches.rollouts, self.queue.add)
        self.metrics = metrics
        self.executor = Executor(client, caches, recorder, clock)
        self.clock = clock
        self.router_options = router_options or RouterOptions()
        self.parsed = ParsedRollouts()
        self.recorder = recorder
        self.announced: set[str] = set()
        """uids of the Rollouts this process has announced (RolloutAddedToInformer, once per Rollout and start)."""
        caches.rollouts.add_handler(self._on_rollout)
        caches.replica_sets.add_handler(self._on_owned)
        caches.analysis_runs.add_handler(self._on_owned)
        if caches.experiments is not None:
            caches.experiments.add_handler(self._on_owned)  # an experiment step moves on with its Experiment
        caches.services.add_handler(self._on_service)
        caches.ingresses.add_handler(self._on_routing_object)
        caches.http_routes.add_handler(self._on_routing_object)
        for informer in caches.routing:
            informer.add_handler(self._on_routing_object)
        caches.deployments.add_handler(self._on_deployment)
        caches.analysis_templates.add_handler(self._on_template(cluster=False))
        caches.cluster_analysis_templates.add_handler(self._on_template(cluster=True))

    # -- event routing -------------------------------------------------------------------------------

    def _on_rollout(self, etype: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if etype == "DELETED":
            self.parsed.forget(meta.get("namespace", ""), meta["name"])
            return  # the state metrics are computed from the cache at scrape time: nothing to forget
        self.queue.add((meta.get("namespace", ""), meta["name"]))

    def _on_owned(self, etype: str, obj: dict[str, Any]) -> None:
        rollout = controller_name(obj, ROLLOUT.kind)
        if rollout is not None:
            self.queue.add((obj["metadata"].get("namespace", ""), rollout))

    def _rollouts_in(self, namespace: str) -> list[Rollout]:
        return [r for raw in self.caches.rollouts.items(namespace) if (r := self.parsed.typed(raw)) is not None]

    def _on_service(self, etype: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        for rollout in self._rollouts_in(ns):
            if name in referenced_services(rollout):
                self.queue.add((ns, rollout.name))

    def _on_routing_object(self, etype: str, obj: dict[str, Any]) -> None:
        """A routing object (Ingress, HTTPRoute, VirtualService, DestinationRule) changed: re-plan the
        traffic-routed Rollouts of its namespace, and those of other namespaces whose routers read it (an Istio
        ``virtualService: {name: shop.mesh}`` lives in namespace ``mesh``).

        Re-planning an unaffected Rollout of the same namespace is a cheap no-op, so all of those are enqueued;
        across namespaces the routers' own ``references()`` say who reads the object.
        """
        meta = obj["metadata"]
        ns, name = meta.get("namespace", ""), meta.get("name", "")
        managed_by = managing_rollout(obj)
        if managed_by:  # an Istio DestinationRule names its Rollout, which may since have let go of it
            self.queue.add((ns, managed_by))
        for raw in self.caches.rollouts.items(None):
            rollout = self.parsed.typed(raw)
            canary = rollout.spec.strategy.canary if rollout is not None else None
            if rollout is None or canary is None or canary.traffic_routing is None:
                continue
            if rollout.namespace == ns or (ns, name) in _referenced_objects(rollout):
                self.queue.add((rollout.namespace, rollout.name))

    def _on_deployment(self, etype: str, obj: dict[str, Any]) -> None:
        """A Deployment changed: re-plan the Rollouts whose workloadRef names it (its template is theirs)."""
        ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        for rollout in self._rollouts_in(ns):
            ref = rollout.spec.workload_ref
            if ref is not None and ref.name == name and (ref.kind or "Deployment") == "Deployment":
                self.queue.add((ns, rollout.name))

    def _on_template(self, *, cluster: bool) -> Callable[[str, dict[str, Any]], None]:
        """An (Cluster)AnalysisTemplate changed: re-plan the Rollouts that name it (in its namespace, or in
        every namespace for a ClusterAnalysisTemplate)."""

        def handler(etype: str, obj: dict[str, Any]) -> None:
            name = obj["metadata"]["name"]
            namespace = None if cluster else obj["metadata"].get("namespace", "")
            for raw in self.caches.rollouts.items(namespace):
                rollout = self.parsed.typed(raw)
                if rollout is not None and (name, cluster) in referenced_templates(rollout):
                    self.queue.add((rollout.namespace, rollout.name))

        return handler

    # -- workers ---------------------------------------------------------------------------------------

    async def worker(self) -> None:
        await run_worker(
            self.queue, self.reconcile, kind="rollout", log=log,
            fields=lambda key: {"namespace": key[0], "rollout": key[1]},
            conflicts=(Conflict, TrafficConflict),
            on_error=lambda key: self.metrics.reconcile_errors.inc(*key),
            on_finished=lambda key, seconds: self.metrics.reconcile_seconds.labels(*key).observe(seconds),
            shards=self.shards, shard_key=lambda key: f"{key[0]}/{key[1]}",
        )

    async def _release_destination_rules(self, ns: str, name: str, raw: dict[str, Any] | None) -> None:
        """DestinationRules this Rollout managed but no longer references (or it is gone) are given back."""
        rules = [o for informer in self.caches.routing if informer.kind in DESTINATIONRULES for o in informer.items(ns)]
        if not rules:
            return
        rollout = self.parsed.typed(raw) if raw is not None else None
        released = await release_destination_rules(self.client, rules, rollout, namespace=ns, name=name)
        if released:
            log.info("released destination rules", namespace=ns, rollout=name, changes=released)

    async def reconcile(self, key: Key) -> float | None:
        ns, name = key
        raw = self.caches.rollouts.get(ns, name)
        await self._release_destination_rules(ns, name, raw)
        if raw is None or raw["metadata"].get("deletionTimestamp"):
            return None
        bound = log.bind(namespace=ns, rollout=name)
        await self._announce(raw)
        now = self.clock()
        rollout, problems = self.parsed.parse(raw)
        if rollout is None:
            plan = plan_unparseable(raw.get("status") or {}, problems,
                                    generation=int(raw["metadata"].get("generation") or 0), now=now)
            await self._finish(raw, plan, bound)
            return None
        _, malformed = tolerant_template(rollout.spec.template or {})
        if malformed:  # Argo's words: its tolerant informer logs the same and goes on without the field
            bound.warning("malformed object: the pod template is used up to this field, as Argo decodes it",
                          field=f"spec.template.{malformed}")
        observation = await observe(self.client, self.caches, rollout, self.router_options)
        plan = plan_rollout(observation.rollout, now=now)
        if plan.mutations:
            bound.debug("executing plan", actions=[type(a).__name__ for a in plan.actions])
        try:
            await self.executor.execute(plan, raw, observation.traffic)
        except ReplicaSetRejected as exc:
            # The refusal is observed state: the planner decides what it means (condition, event, phase).
            bound.warning("the API server refused the new ReplicaSet", replicaset=exc.name, error=exc.message)
            observed = dataclasses.replace(observation.rollout, replica_set_create_error=exc.message)
            plan = plan_rollout(observed, now=now)
            await self.executor.execute(plan, raw, observation.traffic)
        await self._finish(raw, plan, bound)
        return plan.requeue_after

    async def _announce(self, raw: dict[str, Any]) -> None:
        """Argo's informer AddFunc records ``RolloutAddedToInformer`` the first time it sees a Rollout (after each
        start): its e2e tests expect it first in every Rollout's event list (TestBlueGreenUpdate)."""
        meta = raw["metadata"]
        uid = str(meta.get("uid") or "")
        if uid in self.announced:
            return
        self.announced.add(uid)
        message = f"Rollout resource added to informer: {meta.get('namespace')}/{meta['name']}"
        await self.recorder.record(raw, type="Normal", reason=EventReason.ROLLOUT_ADDED, message=message)

    async def _finish(self, raw: dict[str, Any], plan: Plan, bound: Any) -> None:
        # Events first, then the status, in Argo's order: a client that waits for the status (phase Healthy) and
        # then reads the events sees every event of that reconcile (TestBlueGreenUpdate's exact event list).
        # As in Argo, a conflict on the status write re-plans and may record an event of that plan again.
        for event in plan.events:
            bound.info(event.message, reason=event.reason, type=event.type)
        await self.executor.record_events(plan, raw)
        status = dict(plan.status)
        if status_changed(raw.get("status"), status):
            body = {**raw, "status": status}
            try:
                updated = await self.client.replace(ROLLOUT, body, subresource="status")
            except NotFound:
                return
            self.caches.rollouts.upsert(updated)


__all__ = ["RolloutReconciler", "referenced_services"]


def _referenced_objects(rollout: Rollout) -> set[tuple[str, str]]:
    """(namespace, name) of every routing object the Rollout's routers read; empty when its config is invalid."""
    try:
        return {(ref.namespace, ref.name) for router in routers_for(rollout) for ref in router.references()}
    except TrafficConfigError:
        return set()
