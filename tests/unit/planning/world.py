"""A tiny simulated cluster for driving ``plan_rollout`` through whole updates in unit tests.

It applies a plan's effects the way the executor would (ReplicaSets created/scaled/deleted, Service
selectors, router weight, AnalysisRuns, pods deleted, the status written once), and ``settle`` plays the
part of the ReplicaSet controller: pods come up and become available. Tests then assert on pod counts,
services and status at each stage, exactly as the integration tests do on a real cluster.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.api.common import format_time
from rollouts.api.rollout import Rollout
from rollouts.planning import (
    CreateAnalysisRun,
    CreateReplicaSet,
    DeleteAnalysisRun,
    DeleteReplicaSet,
    EmitEvent,
    EvictPod,
    ObservedAnalysisRun,
    ObservedPod,
    ObservedReplicaSet,
    ObservedRollout,
    ObservedService,
    ObservedTraffic,
    Plan,
    ScaleReplicaSet,
    ScaleWorkload,
    SetCanaryWeight,
    SetEphemeralMetadata,
    SetServiceSelector,
    TerminateAnalysisRun,
    plan_rollout,
)
from rollouts.planning.observed import OwnedExperiment
from rollouts.planning.plan import CreateExperiment, DeleteExperiment, TerminateExperiment

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def template(image: str = "web:1") -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": image}]},
    }


def canary_rollout(
    *,
    replicas: int = 5,
    steps: list[dict[str, Any]] | None = None,
    image: str = "web:1",
    **canary: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-1", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(image),
            "strategy": {"canary": {"steps": steps or [], **canary}},
        },
    }


def blue_green_rollout(*, replicas: int = 3, image: str = "web:1", **blue_green: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-1", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(image),
            "strategy": {"blueGreen": {"activeService": "web-active", **blue_green}},
        },
    }


def assert_plain_json(value: object, path: str = "status") -> None:
    """The status is written as JSON by the executor: only plain dict/list/str/int/bool (no enums)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            assert type(key) is str, f"{path}: key {key!r} is {type(key).__name__}"
            assert_plain_json(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_plain_json(item, f"{path}[{i}]")
    else:
        assert value is None or type(value) in (str, int, bool, float), f"{path} is {type(value).__name__}"


@dataclass
class World:
    rollout: dict[str, Any]
    services: dict[str, dict[str, str] | None] = field(default_factory=dict)
    service_annotations: dict[str, dict[str, str]] = field(default_factory=dict)
    replica_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    traffic_routed: bool = False
    weight: int = 0
    header_routes: tuple[str, ...] = ()
    traffic_error: str | None = None
    pod_hashes: tuple[str, str] | None = None
    """(canary, stable) hashes a router selects pods by (Istio DestinationRule subsets); None: no such router."""
    analysis_templates: dict[tuple[str, bool], Mapping[str, Any] | None] = field(default_factory=dict)
    workload_template: Mapping[str, Any] | None = None
    workload_replicas: int | None = None
    defaulted_template: Mapping[str, Any] | None = None
    unready_images: set[str] = field(default_factory=set)
    """Pods of these images are created but never become ready (a bad command, a missing image)."""
    now: datetime = START
    events: list[EmitEvent] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    pod_counter: int = 0
    last_spec: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        # Every object the API server creates has its own uid (the planner memoises per uid and generation).
        self.rollout["metadata"]["uid"] = str(uuid.uuid4())

    # --- observation ---------------------------------------------------------------------------------------

    def observe(self) -> ObservedRollout:
        # Like the API server: any change of the spec increments metadata.generation.
        if self.rollout["spec"] != self.last_spec:
            if self.last_spec is not None:
                self.rollout["metadata"]["generation"] += 1
            self.last_spec = copy.deepcopy(self.rollout["spec"])
        return ObservedRollout(
            rollout=Rollout.model_validate(copy.deepcopy(self.rollout)),
            replica_sets=tuple(ObservedReplicaSet.from_object(rs) for rs in self.replica_sets.values()),
            services={
                name: (
                    None
                    if selector is None
                    else ObservedService(name, dict(selector), dict(self.service_annotations.get(name, {})))
                )
                for name, selector in self.services.items()
            },
            analysis_runs=tuple(ObservedAnalysisRun.from_object(run) for run in self.runs.values()),
            experiments=tuple(OwnedExperiment.from_object(ex) for ex in self.experiments.values()),
            analysis_templates=dict(self.analysis_templates),
            workload_template=self.workload_template,
            workload_replicas=self.workload_replicas,
            traffic=(
                ObservedTraffic(self.weight, self.header_routes, self.traffic_error, pod_hashes=self.pod_hashes)
                if self.traffic_routed else None
            ),
            pods=tuple(ObservedPod.from_object(pod) for pod in self.pods.values()),
            defaulted_template=self.defaulted_template,
        )

    def plan(self) -> Plan:
        return plan_rollout(self.observe(), now=self.now)

    # --- effects -----------------------------------------------------------------------------------------------

    def apply(self, plan: Plan) -> None:
        assert_plain_json(plan.status)
        self.plans.append(plan)
        for action in plan.actions:
            self._apply(action)
        self.rollout["status"] = copy.deepcopy(dict(plan.status))

    def _apply(self, action: object) -> None:
        match action:
            case CreateReplicaSet(manifest=manifest):
                name = manifest["metadata"]["name"]
                if name not in self.replica_sets:
                    rs = copy.deepcopy(dict(manifest))
                    rs["metadata"]["creationTimestamp"] = format_time(self.now)
                    rs["status"] = {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0}
                    self.replica_sets[name] = rs
            case ScaleReplicaSet(name=name, replicas=replicas, annotations=annotations):
                rs = self.replica_sets[name]
                rs["spec"]["replicas"] = replicas
                meta_annotations = rs["metadata"].setdefault("annotations", {})
                for key, value in annotations.items():
                    if value is None:
                        meta_annotations.pop(key, None)
                    else:
                        meta_annotations[key] = value
                self._shrink(name)
            case DeleteReplicaSet(name=name):
                self.replica_sets.pop(name, None)
            case SetServiceSelector(service=service, pod_template_hash=pod_hash):
                selector = self.services[service]
                assert selector is not None, f"plan touched missing service {service}"
                selector["rollouts-pod-template-hash"] = pod_hash
            case SetCanaryWeight(weight=weight, header_routes=routes, canary_hash=canary, stable_hash=stable):
                self.weight = weight
                self.header_routes = tuple(sorted(r.name for r in routes))
                if self.pod_hashes is not None:
                    self.pod_hashes = (canary, stable)
            case CreateAnalysisRun(manifest=manifest):
                name = manifest["metadata"]["name"]
                if name not in self.runs:
                    run = copy.deepcopy(dict(manifest))
                    run["metadata"]["creationTimestamp"] = format_time(self.now)
                    run["status"] = {"phase": "Running"}
                    self.runs[name] = run
            case TerminateAnalysisRun(name=name):
                self.runs[name]["spec"]["terminate"] = True
                self.runs[name]["status"] = {"phase": "Successful", "message": "Run Terminated"}
            case DeleteAnalysisRun(name=name):
                self.runs.pop(name, None)
            case CreateExperiment(manifest=manifest):
                name = manifest["metadata"]["name"]
                if name not in self.experiments:
                    ex = copy.deepcopy(dict(manifest))
                    ex["metadata"]["creationTimestamp"] = format_time(self.now)
                    ex["status"] = {}
                    self.experiments[name] = ex
            case TerminateExperiment(name=name):
                self.experiments[name]["spec"]["terminate"] = True
            case DeleteExperiment(name=name):
                self.experiments.pop(name, None)
            case EvictPod(name=name):
                pod = self.pods.pop(name)
                owner = self._rs_by_hash(pod["metadata"]["labels"]["rollouts-pod-template-hash"])
                if owner is not None:
                    owner["status"]["availableReplicas"] -= 1
                    owner["status"]["readyReplicas"] -= 1
                    owner["status"]["replicas"] -= 1
            case SetEphemeralMetadata(name=name, labels=labels, annotations=annotations, record=record):
                rs = self.replica_sets[name]
                pod_meta = rs["spec"]["template"].setdefault("metadata", {})
                for field, delta in (("labels", labels), ("annotations", annotations)):
                    target = pod_meta.setdefault(field, {})
                    for key, value in delta.items():
                        if value is None:
                            target.pop(key, None)
                        else:
                            target[key] = value
                rs_annotations = rs["metadata"].setdefault("annotations", {})
                if record is None:
                    rs_annotations.pop("rollout.argoproj.io/ephemeral-metadata", None)
                else:
                    rs_annotations["rollout.argoproj.io/ephemeral-metadata"] = record
            case ScaleWorkload(replicas=replicas):
                self.workload_replicas = replicas
            case EmitEvent():
                self.events.append(action)
            case _:
                raise AssertionError(f"unknown action {action!r}")

    def _rs_by_hash(self, pod_hash: str) -> dict[str, Any] | None:
        for rs in self.replica_sets.values():
            if rs["metadata"]["labels"].get("rollouts-pod-template-hash") == pod_hash:
                return rs
        return None

    def _shrink(self, name: str) -> None:
        """Scale-down takes effect at once (pods are deleted); scale-up waits for ``settle``."""
        rs = self.replica_sets[name]
        spec = rs["spec"]["replicas"]
        status = rs["status"]
        for key in ("replicas", "readyReplicas", "availableReplicas"):
            status[key] = min(status[key], spec)
        pod_hash = rs["metadata"]["labels"]["rollouts-pod-template-hash"]
        mine = sorted(
            n for n, p in self.pods.items() if p["metadata"]["labels"]["rollouts-pod-template-hash"] == pod_hash
        )
        for pod_name in mine[spec:]:
            self.pods.pop(pod_name)

    def settle(self) -> None:
        """Every ReplicaSet gets all its pods, and they are ready and available (unless it is failing)."""
        for rs in self.replica_sets.values():
            if rs["status"].get("conditions"):
                continue  # a failing ReplicaSet (see fail_pods) creates no pods
            spec = rs["spec"]["replicas"]
            up = 0 if rs["spec"]["template"]["spec"]["containers"][0]["image"] in self.unready_images else spec
            rs["status"] = {"replicas": spec, "readyReplicas": up, "availableReplicas": up}
            pod_hash = rs["metadata"]["labels"]["rollouts-pod-template-hash"]
            mine = [
                n for n, p in self.pods.items() if p["metadata"]["labels"]["rollouts-pod-template-hash"] == pod_hash
            ]
            for _ in range(spec - len(mine)):
                self.pod_counter += 1
                name = f"{rs['metadata']['name']}-pod{self.pod_counter}"
                self.pods[name] = {
                    "metadata": {
                        "name": name,
                        "labels": {"rollouts-pod-template-hash": pod_hash},
                        "creationTimestamp": format_time(self.now),
                    },
                    "status": {"conditions": [{"type": "Ready", "status": "True" if up else "False"}]},
                }

    def fail_pods(self, image: str, message: str) -> None:
        """The ReplicaSet controller cannot create pods for ``image`` (e.g. a quota): ReplicaFailure."""
        for rs in self.replica_sets.values():
            if rs["spec"]["template"]["spec"]["containers"][0]["image"] == image:
                rs["status"]["conditions"] = [
                    {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": message}
                ]

    def heal_pods(self) -> None:
        for rs in self.replica_sets.values():
            rs["status"].pop("conditions", None)

    # --- driving -------------------------------------------------------------------------------------------

    def step(self, *, settle: bool = True) -> Plan:
        plan = self.plan()
        self.apply(plan)
        if settle:
            self.settle()
        return plan

    def run(self, *, max_plans: int = 60, settle: bool = True) -> Plan:
        """Plan/apply until a plan changes nothing (no mutation, same status): the world is at rest."""
        for _ in range(max_plans):
            before = copy.deepcopy(self.rollout.get("status"))
            plan = self.plan()
            self.apply(plan)
            world_before = copy.deepcopy(self.replica_sets)
            if settle:
                self.settle()
            if not plan.mutations and dict(plan.status) == before and world_before == self.replica_sets:
                return plan
        raise AssertionError(f"no rest after {max_plans} plans; last status: {self.rollout.get('status')}")

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    # --- reading -----------------------------------------------------------------------------------------------

    @property
    def status(self) -> dict[str, Any]:
        return dict(self.rollout.get("status") or {})

    def set_template(self, image: str) -> None:
        self.rollout["spec"]["template"]["spec"]["containers"][0]["image"] = image

    def patch_status(self, **fields: Any) -> None:
        status = self.rollout.setdefault("status", {})
        for key, value in fields.items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value

    def counts(self) -> dict[str, int]:
        """spec.replicas per image, e.g. {"web:1": 4, "web:2": 1} (zero-sized ReplicaSets omitted)."""
        result: dict[str, int] = {}
        for rs in self.replica_sets.values():
            image = rs["spec"]["template"]["spec"]["containers"][0]["image"]
            if rs["spec"]["replicas"]:
                result[image] = result.get(image, 0) + rs["spec"]["replicas"]
        return result

    def hash_of(self, image: str) -> str:
        for rs in self.replica_sets.values():
            if rs["spec"]["template"]["spec"]["containers"][0]["image"] == image:
                return str(rs["metadata"]["labels"]["rollouts-pod-template-hash"])
        raise AssertionError(f"no ReplicaSet runs {image}")

    def selector(self, service: str) -> dict[str, str]:
        selector = self.services[service]
        assert selector is not None, f"service {service} does not exist"
        return selector

    def reasons(self) -> list[str]:
        return [e.reason for e in self.events]

    def condition(self, cond_type: str) -> dict[str, Any]:
        for cond in self.status.get("conditions") or ():
            if cond["type"] == cond_type:
                return dict(cond)
        raise AssertionError(f"no {cond_type} condition in {self.status.get('conditions')}")
