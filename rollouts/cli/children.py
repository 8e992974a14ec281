"""The tree under a Rollout in `get rollout`: ReplicaSets with their Pods, Experiments, AnalysisRuns and their Jobs.

Each child is summarised as a frozen record the way Argo's plugin summarises it (its `info` package), so the
text matches `kubectl argo rollouts get` word for word:

- a Pod's status is kubectl's STATUS column (Running, ContainerCreating, Init:0/1, CrashLoopBackOff,
  ImagePullBackOff, Terminating, ExitCode:1 ...) with Argo's icon for it;
- a ReplicaSet is Progressing until its controller observed the spec and enough pods are available,
  ReplicaFailure when its condition says so, ScaledDown at 0 desired, else Healthy; it carries its
  revision, its role for the Rollout (stable, canary, active, preview, ping, pong) and its
  `scale-down-deadline` annotation;
- an AnalysisRun carries its phase and the counts of its metric results, and one Job per measurement
  whose metadata names a Job (the job provider writes `job-name`);
- an Experiment carries its phase, its own ReplicaSets and AnalysisRuns.

Records hold creation times, not ages: ages are relative to the moment a frame is drawn, and comparing two
records says whether anything a user cares about changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from rollouts.api.labels import SCALE_DOWN_DEADLINE_ANNOTATION
from rollouts.cli.objects import (
    Obj,
    as_int,
    as_list,
    created_of,
    dig,
    human_duration,
    parse_time,
    revision_of,
)

ICON_WAITING = "◷"
ICON_PROGRESSING = "◌"
ICON_WARNING = "⚠"
ICON_UNKNOWN = "?"
ICON_OK = "✔"
ICON_BAD = "✖"
ICON_PAUSED = "॥"
ICON_NEUTRAL = "•"

EXPERIMENT_TEMPLATE_ANNOTATION = "experiment.argoproj.io/template-name"
_EPOCH = datetime.min


@dataclass(frozen=True)
class PodInfo:
    name: str
    created: datetime | None
    status: str
    icon: str
    ready: str
    restarts: int


@dataclass(frozen=True)
class ReplicaSetInfo:
    name: str
    uid: str
    created: datetime | None
    status: str
    icon: str
    revision: int
    template: str  # the Experiment template that made it, for an Experiment's ReplicaSets
    scale_down_deadline: str
    stable: bool
    canary: bool
    active: bool
    preview: bool
    ping: bool
    pong: bool
    replicas: int  # status.replicas: pods that exist now
    available: int
    images: tuple[str, ...]
    pods: tuple[PodInfo, ...]


@dataclass(frozen=True)
class JobInfo:
    name: str
    created: datetime | None
    status: str
    icon: str


@dataclass(frozen=True)
class AnalysisRunInfo:
    name: str
    created: datetime | None
    status: str
    icon: str
    revision: int
    successful: int
    failed: int
    inconclusive: int
    error: int
    jobs: tuple[JobInfo, ...]


@dataclass(frozen=True)
class ExperimentInfo:
    name: str
    namespace: str
    created: datetime | None
    status: str
    icon: str
    message: str
    revision: int
    replicasets: tuple[ReplicaSetInfo, ...]
    analysisruns: tuple[AnalysisRunInfo, ...]


def _sort_time(moment: datetime | None) -> datetime:
    return moment.replace(tzinfo=None) if moment is not None else _EPOCH


def _owner_uids(obj: Obj) -> set[str]:
    return {str(r.get("uid")) for r in as_list(dig(obj, "metadata", "ownerReferences"))
            if isinstance(r, Mapping) and r.get("uid")}


def owned_by(uid: str, objects: Sequence[Obj]) -> list[Obj]:
    """The objects with an ownerReference to `uid` (any reference, as Argo's plugin matches them)."""
    return [o for o in objects if uid and uid in _owner_uids(o)]


# ---------------------------------------------------------------------------------------------------
# pods


def pod_icon(status: str) -> str:
    if status.startswith("Init:"):
        return ICON_PROGRESSING
    if status.startswith(("Signal:", "ExitCode:")):
        return ICON_BAD
    if status.endswith("Error") or status.startswith("Err"):
        return ICON_WARNING
    return {
        "Pending": ICON_PROGRESSING, "Terminating": ICON_PROGRESSING, "ContainerCreating": ICON_PROGRESSING,
        "Running": ICON_OK, "Completed": ICON_OK,
        "Failed": ICON_BAD, "InvalidImageName": ICON_BAD, "CrashLoopBackOff": ICON_BAD,
        "ImagePullBackOff": ICON_WARNING, "RegistryUnavailable": ICON_WARNING,
        "Unknown": ICON_UNKNOWN,
    }.get(status, " ")


def _terminated_reason(terminated: Mapping[str, object], prefix: str) -> str:
    signal = as_int(terminated.get("signal"))
    if signal:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{as_int(terminated.get('exitCode'))}"


def _init_status(pod: Obj, reason: str) -> tuple[str, bool, int]:
    """kubectl's reading of the init containers: (reason, still initialising, restarts)."""
    spec_inits = [c for c in as_list(dig(pod, "spec", "initContainers")) if isinstance(c, Mapping)]
    sidecars = {str(c.get("name")): c.get("restartPolicy") == "Always" for c in spec_inits}
    restarts = 0
    for i, c in enumerate(s for s in as_list(dig(pod, "status", "initContainerStatuses")) if isinstance(s, Mapping)):
        restarts += as_int(c.get("restartCount"))
        terminated = dig(c, "state", "terminated")
        waiting_reason = dig(c, "state", "waiting", "reason")
        if isinstance(terminated, Mapping) and as_int(terminated.get("exitCode")) == 0:
            continue
        if isinstance(terminated, Mapping):
            term_reason = terminated.get("reason")
            return (f"Init:{term_reason}" if term_reason else _terminated_reason(terminated, "Init:")), True, restarts
        if sidecars.get(str(c.get("name"))) and c.get("started"):
            if c.get("ready"):
                continue
            return reason, False, restarts  # a started, not yet ready sidecar: kubectl stops looking here
        if waiting_reason and waiting_reason != "PodInitializing":
            return f"Init:{waiting_reason}", True, restarts
        return f"Init:{i}/{len(spec_inits)}", True, restarts
    return reason, False, restarts


def pod_info(pod: Obj) -> PodInfo:
    """kubectl's STATUS column for a pod (printPod) and Argo's icon for it."""
    status = dig(pod, "status") or {}
    total = len(as_list(dig(pod, "spec", "containers")))
    reason = str(status.get("reason") or status.get("phase") or "")
    reason, initializing, restarts = _init_status(pod, reason)
    ready = 0
    if not initializing:
        restarts = 0
        has_running = False
        statuses = [c for c in as_list(status.get("containerStatuses")) if isinstance(c, Mapping)]
        for c in reversed(statuses):
            restarts += as_int(c.get("restartCount"))
            waiting = dig(c, "state", "waiting")
            terminated = dig(c, "state", "terminated")
            if isinstance(waiting, Mapping) and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif isinstance(terminated, Mapping) and terminated.get("reason"):
                reason = str(terminated["reason"])
            elif isinstance(terminated, Mapping):
                reason = _terminated_reason(terminated, "")
            elif c.get("ready") and isinstance(dig(c, "state", "running"), Mapping):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running"
    if dig(pod, "metadata", "deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return PodInfo(
        name=str(dig(pod, "metadata", "name") or ""),
        created=created_of(pod),
        status=reason,
        icon=pod_icon(reason),
        ready=f"{ready}/{total}",
        restarts=restarts,
    )


# ---------------------------------------------------------------------------------------------------
# ReplicaSets


def replicaset_status(rs: Obj) -> str:
    """Argo's health of a ReplicaSet: Progressing, ReplicaFailure, ScaledDown or Healthy."""
    generation = as_int(dig(rs, "metadata", "generation"))
    observed = as_int(dig(rs, "status", "observedGeneration"))
    spec_replicas = dig(rs, "spec", "replicas")
    desired = as_int(spec_replicas) if spec_replicas is not None else None
    if generation > observed:
        return "Progressing"
    for cond in as_list(dig(rs, "status", "conditions")):
        if isinstance(cond, Mapping) and cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
            return "ReplicaFailure"
    if desired is not None and as_int(dig(rs, "status", "availableReplicas")) < desired:
        return "Progressing"
    if desired == 0:
        return "ScaledDown"
    return "Healthy"


def replicaset_icon(status: str) -> str:
    return {"Progressing": ICON_PROGRESSING, "Healthy": ICON_OK, "ReplicaFailure": ICON_BAD,
            "ScaledDown": ICON_NEUTRAL}.get(status, " ")


@dataclass(frozen=True)
class Roles:
    stable: bool = False
    canary: bool = False
    active: bool = False
    preview: bool = False
    ping: bool = False
    pong: bool = False


def _images(rs: Obj) -> tuple[str, ...]:
    return tuple(str(c.get("image") or "") for c in as_list(dig(rs, "spec", "template", "spec", "containers"))
                 if isinstance(c, Mapping))


def replicaset_infos(owner_uid: str, replicasets: Sequence[Obj], pods: Sequence[Obj],
                     roles: Callable[[Obj], Roles] | None = None) -> tuple[ReplicaSetInfo, ...]:
    """The ReplicaSets owned by `owner_uid`, newest revision first, each with its pods (oldest first).

    `roles(rs)` marks a Rollout's ReplicaSets (stable, canary, ...); an Experiment's have none."""
    infos = []
    for rs in owned_by(owner_uid, replicasets):
        role = roles(rs) if roles is not None else Roles()
        status = replicaset_status(rs)
        uid = str(dig(rs, "metadata", "uid") or "")
        annotations = dig(rs, "metadata", "annotations") or {}
        my_pods = sorted((pod_info(p) for p in owned_by(uid, pods)), key=lambda p: (_sort_time(p.created), p.name))
        infos.append(ReplicaSetInfo(
            name=str(dig(rs, "metadata", "name") or ""),
            uid=uid,
            created=created_of(rs),
            status=status,
            icon=replicaset_icon(status),
            revision=revision_of(rs),
            template=str(annotations.get(EXPERIMENT_TEMPLATE_ANNOTATION) or "") if isinstance(annotations, Mapping)
            else "",
            scale_down_deadline=str(annotations.get(SCALE_DOWN_DEADLINE_ANNOTATION) or "")
            if isinstance(annotations, Mapping) else "",
            stable=role.stable, canary=role.canary, active=role.active, preview=role.preview,
            ping=role.ping, pong=role.pong,
            replicas=as_int(dig(rs, "status", "replicas")),
            available=as_int(dig(rs, "status", "availableReplicas")),
            images=_images(rs),
            pods=tuple(my_pods),
        ))
    return tuple(sorted(infos, key=lambda i: (-i.revision, i.name)))


def scale_down_delay(rs: ReplicaSetInfo, now: datetime) -> str:
    """"3h59m" until the deadline, "passed" after it, "" when the annotation is not a timestamp."""
    deadline = parse_time(rs.scale_down_deadline)
    if deadline is None:
        return ""
    if deadline < now:
        return "passed"
    return human_duration((deadline - now).total_seconds())


# ---------------------------------------------------------------------------------------------------
# AnalysisRuns and Experiments


def analysis_icon(phase: str) -> str:
    return {"Successful": ICON_OK, "Inconclusive": ICON_UNKNOWN, "Failed": ICON_BAD, "Error": ICON_WARNING,
            "Running": ICON_PROGRESSING, "Pending": ICON_WAITING}.get(phase, " ")


def _jobs(run: Obj) -> tuple[JobInfo, ...]:
    jobs = []
    for result in as_list(dig(run, "status", "metricResults")):
        if not isinstance(result, Mapping):
            continue
        for m in as_list(result.get("measurements")):
            metadata = m.get("metadata") if isinstance(m, Mapping) else None
            if isinstance(metadata, Mapping) and metadata.get("job-name"):
                phase = str(m.get("phase") or "")
                jobs.append(JobInfo(str(metadata["job-name"]), parse_time(m.get("startedAt")), phase,
                                    analysis_icon(phase)))
    return tuple(jobs)


def analysisrun_infos(owner_uid: str, runs: Sequence[Obj]) -> tuple[AnalysisRunInfo, ...]:
    """The AnalysisRuns owned by `owner_uid`: newest revision first, then oldest first, then by name (z-a)."""
    infos = []
    for run in owned_by(owner_uid, runs):
        results = [r for r in as_list(dig(run, "status", "metricResults")) if isinstance(r, Mapping)]
        phase = str(dig(run, "status", "phase") or "")
        infos.append(AnalysisRunInfo(
            name=str(dig(run, "metadata", "name") or ""),
            created=created_of(run),
            status=phase,
            icon=analysis_icon(phase),
            revision=revision_of(run),
            successful=sum(as_int(r.get("successful")) for r in results),
            failed=sum(as_int(r.get("failed")) for r in results),
            inconclusive=sum(as_int(r.get("inconclusive")) for r in results),
            error=sum(as_int(r.get("error")) for r in results),
            jobs=_jobs(run),
        ))
    by_name_desc = sorted(infos, key=lambda i: i.name, reverse=True)
    return tuple(sorted(by_name_desc, key=lambda i: (-i.revision, _sort_time(i.created))))


def experiment_info(exp: Obj, replicasets: Sequence[Obj], runs: Sequence[Obj], pods: Sequence[Obj]) -> ExperimentInfo:
    uid = str(dig(exp, "metadata", "uid") or "")
    phase = str(dig(exp, "status", "phase") or "")
    return ExperimentInfo(
        name=str(dig(exp, "metadata", "name") or ""),
        namespace=str(dig(exp, "metadata", "namespace") or ""),
        created=created_of(exp),
        status=phase,
        icon=analysis_icon(phase),
        message=str(dig(exp, "status", "message") or ""),
        revision=revision_of(exp),
        replicasets=replicaset_infos(uid, replicasets, pods),
        analysisruns=analysisrun_infos(uid, runs),
    )


def experiment_infos(owner_uid: str, experiments: Sequence[Obj], replicasets: Sequence[Obj], runs: Sequence[Obj],
                     pods: Sequence[Obj]) -> tuple[ExperimentInfo, ...]:
    infos = [experiment_info(e, replicasets, runs, pods) for e in owned_by(owner_uid, experiments)]
    return tuple(sorted(infos, key=lambda i: (-i.revision, _sort_time(i.created))))

