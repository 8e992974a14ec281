"""Performs a Plan's actions against the API server, in order, then writes the status once.

Every action is idempotent: creating what exists is success, deleting what is gone is success, so a
controller killed between two actions converges when it re-plans. The first failing mutation stops the
plan (later actions may depend on it) and the error is raised for the reconciler to back off. A ReplicaSet
the API server refuses to create (400/422: an invalid pod template) raises ReplicaSetRejected with the
server's message: the reconciler hands it to the planner as observed state, which reports it in status.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from rollouts.api.labels import EPHEMERAL_METADATA_ANNOTATION, POD_TEMPLATE_HASH_LABEL
from rollouts.controller.events import EventRecorder
from rollouts.controller.observe import Caches
from rollouts.controller.traffic import TrafficView, perform, set_weight
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import AlreadyExists, BadRequest, Invalid, NotFound, TooManyRequests
from rollouts.kube.resources import ANALYSISRUN, DEPLOYMENT, EXPERIMENT, POD, REPLICASET, SERVICE
from rollouts.planning.plan import (
    Action,
    CreateAnalysisRun,
    CreateExperiment,
    CreateReplicaSet,
    CreateService,
    DeleteAnalysisRun,
    DeleteExperiment,
    DeleteReplicaSet,
    DeleteService,
    EmitEvent,
    EvictPod,
    Plan,
    ReleaseService,
    ScaleReplicaSet,
    ScaleWorkload,
    SetCanaryWeight,
    SetEphemeralMetadata,
    SetServiceSelector,
    TerminateAnalysisRun,
    TerminateExperiment,
)
from rollouts.traffic.service import pin_service_selector, release_service_selector

log = structlog.get_logger("rollouts.executor")


class ReplicaSetRejected(Exception):
    """The API server refused a ReplicaSet (its pod template is invalid); `message` is the server's own."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"ReplicaSet {name} was refused: {message}")
        self.name = name
        self.message = message


class Executor:
    def __init__(self, client: KubeClient, caches: Caches, recorder: EventRecorder,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = client
        self.caches = caches
        self.recorder = recorder
        self.clock = clock

    async def execute(self, plan: Plan, rollout: dict[str, Any], traffic: TrafficView | None = None) -> None:
        """Perform the plan's mutations in order. Events are recorded by the caller once the status write
        succeeded, so a 409 on that write (re-observe, re-plan) never records the same event twice.
        ``traffic`` is the routers' reading from the same observation, reused for ``SetCanaryWeight``."""
        for action in plan.mutations:
            await self.perform(action, rollout, traffic)

    async def record_events(self, plan: Plan, rollout: dict[str, Any]) -> None:
        for event in plan.events:
            await self.perform(event, rollout)

    async def perform(self, action: Action, rollout: dict[str, Any], traffic: TrafficView | None = None) -> None:
        """Carry out one action; each kind of object has its own small method."""
        meta = rollout["metadata"]
        ns: str = meta["namespace"]
        match action:
            case CreateReplicaSet() | ScaleReplicaSet() | DeleteReplicaSet() | SetEphemeralMetadata():
                await self._replica_set(action, ns)
            case SetServiceSelector() | ReleaseService() | SetCanaryWeight():
                await self._routing(action, ns, str(meta["name"]), traffic)
            case CreateAnalysisRun() | TerminateAnalysisRun() | DeleteAnalysisRun():
                await self._analysis_run(action, ns)
            case EvictPod() | ScaleWorkload():
                await self._workload(action, ns)
            case CreateService() | DeleteService():
                await self._service(action, ns)
            case CreateExperiment() | TerminateExperiment() | DeleteExperiment():
                await self._experiment(action, ns)
            case EmitEvent(type=etype, reason=reason, message=message):
                await self.recorder.record(rollout, type=etype, reason=reason, message=message)

    async def _replica_set(
        self, action: CreateReplicaSet | ScaleReplicaSet | DeleteReplicaSet | SetEphemeralMetadata, ns: str
    ) -> None:
        client = self.client
        match action:
            case CreateReplicaSet(manifest=manifest):
                try:
                    created = await client.create(REPLICASET, dict(manifest), ns)
                    self.caches.replica_sets.upsert(created)
                except AlreadyExists:
                    pass
                except (Invalid, BadRequest) as exc:
                    raise ReplicaSetRejected(str(manifest["metadata"]["name"]), exc.message) from exc
            case ScaleReplicaSet(name=rs, replicas=replicas, annotations=annotations):
                body: dict[str, Any] = {"spec": {"replicas": replicas}}
                if annotations:
                    body["metadata"] = {"annotations": dict(annotations)}
                try:
                    self.caches.replica_sets.upsert(await client.patch(REPLICASET, rs, body, ns))
                except NotFound:
                    log.info("replicaset vanished before scaling", replicaset=rs)
            case DeleteReplicaSet(name=rs):
                with contextlib.suppress(NotFound):
                    await client.delete(REPLICASET, rs, ns)
                self.caches.replica_sets.forget(ns, rs)
            case SetEphemeralMetadata(name=rs, pod_template_hash=pod_hash, labels=labels, annotations=annotations,
                                      record=record):
                await self._relabel(ns, rs, pod_hash, dict(labels), dict(annotations), record)

    async def _routing(
        self, action: SetServiceSelector | ReleaseService | SetCanaryWeight, ns: str, rollout: str,
        traffic: TrafficView | None,
    ) -> None:
        """The Service selector and the routers' changes, both carried out by ``controller.traffic.perform``."""
        match action:
            case SetServiceSelector(service=svc, pod_template_hash=pod_hash):
                live = self.caches.services.get(ns, svc)
                if live is None:
                    raise NotFound(404, "NotFound", f'services "{svc}" not found')
                change = pin_service_selector(live, rollout=rollout, pod_template_hash=pod_hash)
                if change is not None:
                    self.caches.services.upsert(await perform(self.client, change))
            case ReleaseService(service=svc):
                live = self.caches.services.get(ns, svc)
                released = release_service_selector(live, rollout=rollout) if live is not None else None
                if released is not None:
                    with contextlib.suppress(NotFound):
                        self.caches.services.upsert(await perform(self.client, released))
            case SetCanaryWeight(weight=weight):
                if traffic is None:
                    raise ValueError("the plan sets a canary weight but nothing observed the Rollout's routers")
                changed = await set_weight(self.client, traffic, action, now=self.clock())
                if changed:
                    log.info("traffic updated", weight=weight, changes=changed)

    async def _analysis_run(self, action: CreateAnalysisRun | TerminateAnalysisRun | DeleteAnalysisRun, ns: str
                            ) -> None:
        client = self.client
        match action:
            case CreateAnalysisRun(manifest=manifest):
                with contextlib.suppress(AlreadyExists):
                    self.caches.analysis_runs.upsert(await client.create(ANALYSISRUN, dict(manifest), ns))
            case TerminateAnalysisRun(name=run):
                with contextlib.suppress(NotFound):
                    await client.patch(ANALYSISRUN, run, {"spec": {"terminate": True}}, ns)
            case DeleteAnalysisRun(name=run):
                with contextlib.suppress(NotFound):
                    await client.delete(ANALYSISRUN, run, ns)
                self.caches.analysis_runs.forget(ns, run)

    async def _experiment(self, action: CreateExperiment | TerminateExperiment | DeleteExperiment, ns: str) -> None:
        """An experiment step's Experiment (the caches hear of it at once, so the next plan does not create it
        twice); terminate is a merge patch of ``spec.terminate``, as Argo's and its plugin's."""
        client, cache = self.client, self.caches.experiments
        match action:
            case CreateExperiment(manifest=manifest):
                with contextlib.suppress(AlreadyExists):
                    created = await client.create(EXPERIMENT, dict(manifest), ns)
                    if cache is not None:
                        cache.upsert(created)
            case TerminateExperiment(name=name):
                with contextlib.suppress(NotFound):
                    patched = await client.patch(EXPERIMENT, name, {"spec": {"terminate": True}}, ns)
                    if cache is not None:
                        cache.upsert(patched)
            case DeleteExperiment(name=name):
                with contextlib.suppress(NotFound):
                    await client.delete(EXPERIMENT, name, ns)
                if cache is not None:
                    cache.forget(ns, name)

    async def _service(self, action: CreateService | DeleteService, ns: str) -> None:
        """An Experiment template's Service: created once (AlreadyExists is success), deleted when unwanted."""
        match action:
            case CreateService(manifest=manifest):
                with contextlib.suppress(AlreadyExists):
                    self.caches.services.upsert(await self.client.create(SERVICE, dict(manifest), ns))
            case DeleteService(name=svc):
                with contextlib.suppress(NotFound):
                    await self.client.delete(SERVICE, svc, ns)
                self.caches.services.forget(ns, svc)

    async def _workload(self, action: EvictPod | ScaleWorkload, ns: str) -> None:
        match action:
            case EvictPod(name=pod):
                try:
                    await self.client.evict(pod, ns)
                except NotFound:
                    pass
                except TooManyRequests as exc:  # a PodDisruptionBudget: the plan asked to be run again later
                    log.warning("eviction refused by a PodDisruptionBudget; retrying later", pod=pod,
                                error=exc.message)
            case ScaleWorkload(name=workload, replicas=replicas):
                try:
                    self.caches.deployments.upsert(
                        await self.client.patch(DEPLOYMENT, workload, {"spec": {"replicas": replicas}}, ns))
                except NotFound:
                    log.info("workloadRef Deployment vanished before scaling", deployment=workload)

    async def _relabel(self, ns: str, rs: str, pod_hash: str, labels: dict[str, str | None],
                       annotations: dict[str, str | None], record: str | None) -> None:
        """New role metadata on the ReplicaSet's pod template (future pods), then on its existing pods."""
        meta: dict[str, Any] = {}
        if labels:
            meta["labels"] = labels
        if annotations:
            meta["annotations"] = annotations
        body: dict[str, Any] = {"metadata": {"annotations": {EPHEMERAL_METADATA_ANNOTATION: record}}}
        if meta:
            body["spec"] = {"template": {"metadata": meta}}
        try:
            self.caches.replica_sets.upsert(await self.client.patch(REPLICASET, rs, body, ns))
        except NotFound:
            return
        if not meta:
            return
        pods, _ = await self.client.list(POD, ns, label_selector=f"{POD_TEMPLATE_HASH_LABEL}={pod_hash}")
        for pod in pods:
            try:
                await self.client.patch(POD, pod["metadata"]["name"], {"metadata": meta}, ns)
            except NotFound:
                continue


def status_changed(current: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> bool:
    return dict(current or {}) != dict(desired)
