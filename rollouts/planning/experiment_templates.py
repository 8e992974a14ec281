"""One Experiment template -> its ReplicaSet, its optional Service and its template status, as Argo keeps them.

Why this module exists: an Experiment's ReplicaSets are not revisions of anything. Each is named
``<experiment>-<template>`` (no hash: one per template), labelled and selected by the template's labels plus
``rollouts-pod-template-hash``, annotated with ``experiment.argoproj.io/name`` and ``.../template-name`` (how
the controller and Argo's plugin find them again), and owned by the Experiment (experiments/replicaset.go).

The life of a template (Argo's reconcileTemplate), e.g. ``replicas: 2, progressDeadlineSeconds: 600``:

* no ReplicaSet -> create it with 0 replicas; the next plan scales it to 2 (event "Scaled up ReplicaSet
  ex-baseline from 0 to 2"); status Progressing until 2 are available, then Running.
* the Experiment ends (duration passed, terminate, a failure) -> desired 0: the ReplicaSet gets a
  ``scale-down-deadline`` annotation ``now + scaleDownDelaySeconds`` (30 by default) and keeps its pods until
  then; the template is Successful once 0 are available.
* still fewer than desired 600 s after the last change -> Failed, "Template 'baseline' exceeded its
  progressDeadlineSeconds (600)".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from rollouts.api.experiment import (
    API_VERSION,
    KIND,
    NAME_ANNOTATION,
    TEMPLATE_NAME_ANNOTATION,
    TemplateSpec,
)
from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL, SCALE_DOWN_DEADLINE_ANNOTATION
from rollouts.api.owners import controller_reference
from rollouts.planning.experiment_context import ExperimentContext
from rollouts.planning.experiment_status import Status, by_name, passed_duration
from rollouts.planning.hashing import pod_template_hash, strip_hash_label
from rollouts.planning.observed import ObservedReplicaSet, format_timestamp, parse_timestamp
from rollouts.planning.plan import CreateReplicaSet, CreateService, DeleteService, ScaleReplicaSet

_COUNTS = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")


def desired_replicas(ctx: ExperimentContext, template: TemplateSpec, previous: Mapping[str, Any]) -> int:
    """Argo's CalculateTemplateReplicasCount: 0 once the Experiment or this template is done, else replicas."""
    if ctx.terminating or previous.get("status") in ("Successful", "Failed", "Error"):
        return 0
    return template.effective_replicas


def owner(ctx: ExperimentContext) -> dict[str, Any]:
    ex = ctx.experiment
    return dict(controller_reference(api_version=API_VERSION, kind=KIND, name=ex.name, uid=ex.metadata.uid or ""))


def replica_set_manifest(ctx: ExperimentContext, template: TemplateSpec, collision_count: int | None
                         ) -> dict[str, Any]:
    """``<experiment>-<template>`` with 0 replicas (Argo creates it empty and scales it on the next pass)."""
    pod_template = strip_hash_label(template.template)
    pod_hash = pod_template_hash(pod_template, collision_count)
    metadata = dict(pod_template.get("metadata") or {})
    labels = {**(metadata.get("labels") or {}), POD_TEMPLATE_HASH_LABEL: pod_hash}
    pod_template["metadata"] = {**metadata, "labels": labels}
    selector = template.selector.model_dump(by_alias=True, exclude_none=True) if template.selector else {}
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), POD_TEMPLATE_HASH_LABEL: pod_hash}
    ex = ctx.experiment
    spec: dict[str, Any] = {"replicas": 0, "selector": selector, "template": pod_template}
    if template.min_ready_seconds:
        spec["minReadySeconds"] = template.min_ready_seconds
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{ex.name}-{template.name}",
            "namespace": ex.namespace,
            "labels": dict(labels),
            "annotations": {NAME_ANNOTATION: ex.name, TEMPLATE_NAME_ANNOTATION: template.name},
            "ownerReferences": [owner(ctx)],
        },
        "spec": spec,
    }


def _container_ports(rs: ObservedReplicaSet) -> list[dict[str, Any]]:
    ports: list[dict[str, Any]] = []
    for container in (rs.template.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            number = port.get("containerPort")
            entry: dict[str, Any] = {"port": number, "targetPort": number}
            if port.get("protocol"):
                entry["protocol"] = port["protocol"]
            if port.get("name"):
                entry["name"] = port["name"]
            ports.append(entry)
    return ports


def _service_manifest(ctx: ExperimentContext, template: TemplateSpec, name: str, rs: ObservedReplicaSet,
                      ports: list[dict[str, Any]]) -> dict[str, Any]:
    ex = ctx.experiment
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ex.namespace, "ownerReferences": [owner(ctx)],
                     "annotations": {NAME_ANNOTATION: ex.name, TEMPLATE_NAME_ANNOTATION: template.name}},
        "spec": {"selector": dict(rs.labels), "ports": ports},
    }


def _reconcile_service(ctx: ExperimentContext, template: TemplateSpec, ts: Status, rs: ObservedReplicaSet,
                       desired: int, target: int) -> None:
    """A Service per template while it runs (selecting its ReplicaSet's labels), deleted once it has no pods
    (Argo: available 0) or in the pass that scales them to 0, so no reader sees pods gone and the Service left."""
    svc = ctx.observed.services.get(template.name)
    if template.service is None or (desired == 0 and (rs.available_replicas == 0 or target == 0)):
        if svc is not None:
            ctx.act(DeleteService(svc.name))
            ts.pop("serviceName", None)
            ts.pop("podTemplateHash", None)
        return
    if desired == 0:
        return
    ports = _container_ports(rs)
    name = template.service.name or rs.name
    if svc is not None and svc.name == name:
        return
    if not ports:
        return
    if name in ctx.observed.foreign_services:
        ts["status"] = "Error"
        ts["message"] = (f"Failed to create Service {name} for template '{template.name}': service {name} already "
                         f"exists and is not owned by experiment template {template.name}")
        return
    ctx.act(CreateService(_service_manifest(ctx, template, name, rs, ports)))
    ts["serviceName"] = name
    ts["podTemplateHash"] = rs.pod_template_hash


def _scale(ctx: ExperimentContext, template: TemplateSpec, ts: Status, rs: ObservedReplicaSet, desired: int) -> int:
    """Scale to ``desired``; scaling to 0 waits for the scale-down deadline (set now when missing). Returns the
    replicas planned."""
    annotations: dict[str, str | None] = {}
    deadline = parse_timestamp(rs.annotations[SCALE_DOWN_DEADLINE_ANNOTATION]) \
        if rs.annotations.get(SCALE_DOWN_DEADLINE_ANNOTATION) else None
    target = desired
    if desired == 0:
        delay = ctx.experiment.spec.effective_scale_down_delay_seconds
        if delay == 0 and deadline is not None:
            annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = None
            deadline = None
        elif delay > 0 and deadline is None:
            deadline = ctx.now + timedelta(seconds=delay)
            annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = format_timestamp(deadline)
    if rs.spec_replicas != desired:
        ts["lastTransitionTime"] = ctx.now_text
        if desired == 0 and deadline is not None and deadline > ctx.now:
            target = template.effective_replicas
            ctx.requeue_in((deadline - ctx.now).total_seconds())
    if target != rs.spec_replicas:
        verb = "up" if target > rs.spec_replicas else "down"
        ctx.event("Normal", "ScalingReplicaSet",
                  f"Scaled {verb} ReplicaSet {rs.name} from {rs.spec_replicas} to {target}")
    if target != rs.spec_replicas or annotations:
        ctx.act(ScaleReplicaSet(rs.name, target, annotations))
    return target


def _status_code(ctx: ExperimentContext, template: TemplateSpec, ts: Status, desired: int) -> None:
    if ts.get("status") in ("Successful", "Failed", "Error"):
        return
    if desired == ts.get("availableReplicas", 0):
        done = passed_duration(ctx.experiment.spec, ctx.previous, ctx.now) or ctx.terminating
        ts["status"] = "Successful" if done else "Running"
        return
    since = parse_timestamp(ts["lastTransitionTime"]) if ts.get("lastTransitionTime") else ctx.now
    deadline_seconds = ctx.experiment.spec.effective_progress_deadline_seconds
    if ctx.now > since + timedelta(seconds=deadline_seconds):
        ts["status"] = "Failed"
        ts["message"] = f"Template '{template.name}' exceeded its progressDeadlineSeconds ({deadline_seconds})"
    else:
        ts["status"] = "Successful" if ctx.terminating else "Progressing"


def reconcile_template(ctx: ExperimentContext, template: TemplateSpec) -> Status:
    """The template's new status; the actions and events it needs go into ``ctx``."""
    previous = by_name(ctx.previous.get("templateStatuses")).get(template.name) or {"name": template.name}
    ts: Status = dict(previous)
    desired = desired_replicas(ctx, template, previous)
    rs = ctx.observed.replica_sets.get(template.name)
    if rs is None:
        ctx.act(CreateReplicaSet(replica_set_manifest(ctx, template, previous.get("collisionCount"))))
        ts["lastTransitionTime"] = ctx.now_text
        counts = dict.fromkeys(_COUNTS, 0)
        ctx.requeue_in(1.0)  # the scale-up is the next plan's, once the ReplicaSet is observed
    else:
        target = _scale(ctx, template, ts, rs, desired)
        _reconcile_service(ctx, template, ts, rs, desired, target)
        counts = {"replicas": rs.status_replicas, "updatedReplicas": rs.status_replicas,
                  "readyReplicas": rs.ready_replicas, "availableReplicas": rs.available_replicas}
    if any(previous.get(k, 0) != v for k, v in counts.items()):
        ts["lastTransitionTime"] = ctx.now_text
    ts.update(counts)
    _status_code(ctx, template, ts, desired)
    if previous.get("status") != ts.get("status"):
        message = f"Template '{template.name}' transitioned from {previous.get('status') or ''} -> {ts['status']}"
        if ts.get("message"):
            message += f": {ts['message']}"
        kind: Literal["Normal", "Warning"] = "Warning" if ts["status"] in ("Failed", "Error") else "Normal"
        ctx.event(kind, f"Template{ts['status']}", message)
    return ts
