"""The tree under a Rollout in `get rollout`: ReplicaSets with their Pods, and AnalysisRuns.

Each child is summarised as a frozen record (health, status word, age, details) so the renderer only
draws. Statuses use kubectl's words for pods (Running, ContainerCreating, CrashLoopBackOff,
Terminating) and Argo's for ReplicaSets (Healthy, Progressing, ScaledDown) and AnalysisRuns
(Successful, Failed, Error, Inconclusive, Running). A ReplicaSet waiting to be scaled down shows
its `scale-down-deadline` annotation as "delay:Ns" (or "delay:passed").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rollouts.api.labels import SCALE_DOWN_DEADLINE_ANNOTATION
from rollouts.cli.objects import (
    Obj,
    age_of,
    as_int,
    as_list,
    dig,
    is_owned_by,
    parse_time,
    pod_template_hash_of,
    revision_of,
)


class Health(StrEnum):
    """Health of a child object (ReplicaSet, Pod, AnalysisRun) in the tree."""

    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    DEGRADED = "Degraded"
    SCALED_DOWN = "ScaledDown"
    WARNING = "Warning"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class PodInfo:
    name: str
    status: str
    health: Health
    ready: str
    restarts: int
    age: str


@dataclass(frozen=True)
class ReplicaSetInfo:
    name: str
    revision: int
    pod_template_hash: str
    roles: tuple[str, ...]
    health: Health
    status: str
    desired: int
    ready: int
    age: str
    scale_down_delay: str | None
    pods: tuple[PodInfo, ...]


@dataclass(frozen=True)
class AnalysisRunInfo:
    name: str
    revision: int
    phase: str
    health: Health
    successes: int
    failures: int
    inconclusive: int
    errors: int
    age: str


@dataclass(frozen=True)
class RevisionInfo:
    revision: int
    replicasets: tuple[ReplicaSetInfo, ...]
    analysisruns: tuple[AnalysisRunInfo, ...]



def pod_info(pod: Obj, now: datetime) -> PodInfo:
    """Status in kubectl's words (Running, ContainerCreating, CrashLoopBackOff, Terminating...)."""
    status = dig(pod, "status") or {}
    containers = [c for c in as_list(status.get("containerStatuses")) if isinstance(c, Mapping)]
    total = len(as_list(dig(pod, "spec", "containers"))) or len(containers)
    ready = sum(1 for c in containers if c.get("ready"))
    restarts = sum(as_int(c.get("restartCount")) for c in containers)
    reason = str(status.get("reason") or status.get("phase") or "Unknown")
    for c in containers:
        waiting = dig(c, "state", "waiting", "reason")
        terminated = dig(c, "state", "terminated", "reason")
        if waiting:
            reason = str(waiting)
            break
        if terminated:
            reason = str(terminated)
            break
    if dig(pod, "metadata", "deletionTimestamp"):
        reason = "Terminating"
    if reason in {"Running", "Succeeded", "Completed"}:
        health = Health.HEALTHY if reason != "Running" or ready == total else Health.PROGRESSING
    elif reason in {"Pending", "ContainerCreating", "PodInitializing", "Terminating"}:
        health = Health.PROGRESSING
    elif reason == "Unknown":
        health = Health.UNKNOWN
    else:
        health = Health.DEGRADED
    return PodInfo(
        name=str(dig(pod, "metadata", "name") or ""),
        status=reason,
        health=health,
        ready=f"{ready}/{total}",
        restarts=restarts,
        age=age_of(pod, now),
    )


def _scale_down_delay(rs: Obj, now: datetime) -> str | None:
    deadline = parse_time(dig(rs, "metadata", "annotations", SCALE_DOWN_DEADLINE_ANNOTATION))
    if deadline is None:
        return None
    remaining = (deadline - now).total_seconds()
    return f"delay:{int(remaining)}s" if remaining > 0 else "delay:passed"


def replicaset_info(rs: Obj, pods: Sequence[Obj], *, roles: tuple[str, ...], now: datetime) -> ReplicaSetInfo:
    """The ReplicaSet and the pods it owns (by uid; by pod-template hash when the uid is unknown)."""
    uid = dig(rs, "metadata", "uid")
    rs_hash = pod_template_hash_of(rs)
    mine = [
        p
        for p in pods
        if (uid and is_owned_by(p, str(uid))) or (not uid and rs_hash and pod_template_hash_of(p) == rs_hash)
    ]
    desired = as_int(dig(rs, "spec", "replicas"))
    current = as_int(dig(rs, "status", "replicas"))
    ready = as_int(dig(rs, "status", "readyReplicas"))
    if desired == 0 and current == 0:
        health = Health.SCALED_DOWN
    elif ready >= desired and current == desired:
        health = Health.HEALTHY
    else:
        health = Health.PROGRESSING
    return ReplicaSetInfo(
        name=str(dig(rs, "metadata", "name") or ""),
        revision=revision_of(rs),
        pod_template_hash=rs_hash,
        roles=roles,
        health=health,
        status=health.value,
        desired=desired,
        ready=ready,
        age=age_of(rs, now),
        scale_down_delay=_scale_down_delay(rs, now),
        pods=tuple(pod_info(p, now) for p in sorted(mine, key=lambda p: str(dig(p, "metadata", "name")))),
    )


_ANALYSIS_HEALTH = {
    "Successful": Health.HEALTHY,
    "Failed": Health.DEGRADED,
    "Error": Health.WARNING,
    "Inconclusive": Health.WARNING,
    "Running": Health.PROGRESSING,
    "Pending": Health.PROGRESSING,
}


def analysisrun_info(run: Obj, revision: int, now: datetime) -> AnalysisRunInfo:
    results = [r for r in as_list(dig(run, "status", "metricResults")) if isinstance(r, Mapping)]
    phase = str(dig(run, "status", "phase") or "Pending")
    return AnalysisRunInfo(
        name=str(dig(run, "metadata", "name") or ""),
        revision=revision,
        phase=phase,
        health=_ANALYSIS_HEALTH.get(phase, Health.UNKNOWN),
        successes=sum(as_int(r.get("successful")) for r in results),
        failures=sum(as_int(r.get("failed")) for r in results),
        inconclusive=sum(as_int(r.get("inconclusive")) for r in results),
        errors=sum(as_int(r.get("error")) for r in results),
        age=age_of(run, now),
    )


def run_revision(run: Obj, revision_by_hash: Mapping[str, int]) -> int:
    revision = revision_of(run)
    if revision:
        return revision
    return revision_by_hash.get(pod_template_hash_of(run), 0)

