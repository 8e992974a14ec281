"""What the plugin shows about a Rollout, computed from plain API dicts.

The plugin reads Rollouts, ReplicaSets, Pods and AnalysisRuns as the API server returns them and
turns them into frozen summaries (`RolloutInfo`) that the renderers draw. Nothing here does I/O or
reads the clock: `now` is a parameter, so the golden-output tests are exact.

Two Argo quirks are handled here:

- `status.observedGeneration` is a *string* in Argo's schema. Until it reaches `metadata.generation`
  the status describes the previous spec, so the phase is reported as Progressing ("waiting for
  rollout spec update to be observed"), never the stale Healthy a CI pipeline would trust after a
  `set image`.
- The displayed "set weight" is the weight of the last `setWeight` step at or before
  `currentStepIndex` (100 once every step is done, 0 after an abort), as Argo's plugin shows it;
  the "actual weight" comes from `status.canary.weights` with traffic routing, or from the share
  of available pods without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

Obj = Mapping[str, Any]

REVISION_ANNOTATION = "rollout.argoproj.io/revision"
POD_TEMPLATE_HASH_LABEL = "rollouts-pod-template-hash"
SCALE_DOWN_DEADLINE_ANNOTATION = "scale-down-deadline"


class Phase(StrEnum):
    """The four phases Argo reports in `status.phase`."""

    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    DEGRADED = "Degraded"


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
class PhaseReport:
    phase: Phase
    message: str


@dataclass(frozen=True)
class ImageInfo:
    image: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ReplicaCounts:
    desired: int
    current: int
    updated: int
    ready: int
    available: int


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


@dataclass(frozen=True)
class RolloutInfo:
    name: str
    namespace: str
    phase: Phase
    message: str
    strategy: str
    step: str | None
    set_weight: str | None
    actual_weight: str | None
    images: tuple[ImageInfo, ...]
    replicas: ReplicaCounts
    age: str
    revisions: tuple[RevisionInfo, ...]


# ---------------------------------------------------------------------------------------------------
# small readers


def _get(obj: Obj | None, *path: str) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _status(rollout: Obj) -> Mapping[str, Any]:
    status = rollout.get("status")
    return status if isinstance(status, Mapping) else {}


def as_int(value: Any, default: int = 0) -> int:
    """An int from an int or a numeric string (Argo writes some counters as strings); else `default`."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def parse_time(value: Any) -> datetime | None:
    """Parses a Kubernetes RFC 3339 timestamp ("2024-01-02T03:04:05Z"); None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """kubectl's short age format: 45s, 2m30s, 17m, 5h10m, 20h, 3d4h, 30d, 2y.

    Negative values (clock skew) read as 0s, as kubectl prints them.
    """
    s = max(int(seconds), 0)
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest_m = minutes % 60
        return f"{hours}h{rest_m}m" if rest_m else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = s // 86400
    if days < 8:
        rest_h = hours % 24
        return f"{days}d{rest_h}h" if rest_h else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def age_of(obj: Obj, now: datetime) -> str:
    created = parse_time(_get(obj, "metadata", "creationTimestamp"))
    if created is None:
        return "<unknown>"
    return human_duration((now - created).total_seconds())


def revision_of(obj: Obj) -> int:
    return as_int(_get(obj, "metadata", "annotations", REVISION_ANNOTATION))


def pod_template_hash_of(obj: Obj) -> str:
    value = _get(obj, "metadata", "labels", POD_TEMPLATE_HASH_LABEL)
    return value if isinstance(value, str) else ""


def is_owned_by(obj: Obj, owner_uid: str) -> bool:
    refs = _list(_get(obj, "metadata", "ownerReferences"))
    return any(isinstance(r, Mapping) and r.get("uid") == owner_uid for r in refs)


# ---------------------------------------------------------------------------------------------------
# the rollout itself


def strategy_of(rollout: Obj) -> str:
    strategy = _get(rollout, "spec", "strategy") or {}
    if "blueGreen" in strategy:
        return "BlueGreen"
    if "canary" in strategy:
        return "Canary"
    return "Unknown"


def canary_steps(rollout: Obj) -> list[Mapping[str, Any]]:
    steps = _get(rollout, "spec", "strategy", "canary", "steps")
    return [s for s in steps if isinstance(s, Mapping)] if isinstance(steps, list) else []


def is_generation_observed(rollout: Obj) -> bool:
    """Has the controller seen the current spec? `observedGeneration` is a string in Argo's schema;
    a non-numeric value (legacy spec hash) counts as observed, as Argo's plugin treats it."""
    observed = _get(rollout, "status", "observedGeneration")
    generation = as_int(_get(rollout, "metadata", "generation"))
    if observed is None or observed == "":
        return generation == 0
    if isinstance(observed, int) and not isinstance(observed, bool):
        return observed >= generation
    if isinstance(observed, str):
        try:
            return int(observed) >= generation
        except ValueError:
            return True
    return True


def _condition(rollout: Obj, ctype: str) -> Mapping[str, Any] | None:
    for cond in _list(_get(rollout, "status", "conditions")):
        if isinstance(cond, Mapping) and cond.get("type") == ctype:
            return cond
    return None


def rollout_phase(rollout: Obj) -> PhaseReport:
    """The phase and message to report.

    Argo's rule: an unobserved spec is Progressing; otherwise trust `status.phase` when the
    controller wrote one; otherwise derive it from abort, conditions and pause state.
    """
    if not is_generation_observed(rollout):
        return PhaseReport(Phase.PROGRESSING, "waiting for rollout spec update to be observed")
    status = _status(rollout)
    phase = status.get("phase")
    if isinstance(phase, str) and phase in {p.value for p in Phase}:
        return PhaseReport(Phase(phase), str(status.get("message") or ""))
    return _derived_phase(rollout)


def _derived_phase(rollout: Obj) -> PhaseReport:
    status = _status(rollout)
    invalid = _condition(rollout, "InvalidSpec")
    if invalid is not None and invalid.get("status") == "True":
        return PhaseReport(Phase.DEGRADED, f"InvalidSpec: {invalid.get('message', '')}".rstrip(": "))
    if status.get("abort"):
        return PhaseReport(Phase.DEGRADED, "RolloutAborted: Rollout aborted update")
    progressing = _condition(rollout, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return PhaseReport(Phase.DEGRADED, f"ProgressDeadlineExceeded: {progressing.get('message', '')}")
    if _get(rollout, "spec", "paused"):
        return PhaseReport(Phase.PAUSED, "manually paused")
    pause_conditions = status.get("pauseConditions")
    if isinstance(pause_conditions, list) and pause_conditions:
        reason = _get(pause_conditions[0], "reason") or "Paused"
        return PhaseReport(Phase.PAUSED, str(reason))
    desired = as_int(_get(rollout, "spec", "replicas"), 1)
    if (
        status.get("stableRS")
        and status.get("stableRS") == status.get("currentPodHash")
        and as_int(status.get("updatedReplicas")) >= desired
        and as_int(status.get("availableReplicas")) >= desired
        and as_int(status.get("replicas")) <= desired
    ):
        return PhaseReport(Phase.HEALTHY, "")
    return PhaseReport(Phase.PROGRESSING, "more replicas need to be updated")


def current_step(rollout: Obj) -> str | None:
    """"x/y": x = steps completed (`status.currentStepIndex`), y = number of steps; None without steps."""
    steps = canary_steps(rollout)
    if strategy_of(rollout) != "Canary" or not steps:
        return None
    index = as_int(_get(rollout, "status", "currentStepIndex"))
    return f"{min(index, len(steps))}/{len(steps)}"


def set_weight(rollout: Obj) -> int:
    """The weight the current step asks for (Argo: last setWeight at or before the current index).

    4 steps [setWeight 20, pause, setWeight 50, pause], currentStepIndex 1 -> 20; index 4 -> 100;
    aborted -> 0; no steps -> 100.
    """
    status = _status(rollout)
    if status.get("abort"):
        return 0
    steps = canary_steps(rollout)
    if not steps:
        return 100
    index = as_int(status.get("currentStepIndex"))
    if index >= len(steps):
        return 100
    for step in reversed(steps[: index + 1]):
        weight = step.get("setWeight")
        if isinstance(weight, int) and not isinstance(weight, bool):
            return weight
    return 0


def actual_weight(rollout: Obj, replicasets: Sequence[Obj]) -> int:
    """The weight in effect now.

    With traffic routing: `status.canary.weights.canary.weight` as the router reported it.
    Without: the canary's share of available pods (2 canary of 8 available -> 25).
    """
    status = _status(rollout)
    if _get(rollout, "spec", "strategy", "canary", "trafficRouting"):
        weight = _get(status, "canary", "weights", "canary", "weight")
        return as_int(weight)
    available = as_int(status.get("availableReplicas"))
    if available <= 0:
        return 0
    canary_hash = status.get("currentPodHash")
    if not canary_hash or canary_hash == status.get("stableRS"):
        return 100 if canary_hash else 0
    canary_available = sum(
        as_int(_get(rs, "status", "availableReplicas"))
        for rs in replicasets
        if pod_template_hash_of(rs) == canary_hash
    )
    return round(100 * canary_available / available)


def replicaset_roles(rollout: Obj, rs: Obj) -> tuple[str, ...]:
    status = _status(rollout)
    rs_hash = pod_template_hash_of(rs)
    roles: list[str] = []
    if not rs_hash:
        return ()
    if rs_hash == status.get("stableRS"):
        roles.append("stable")
    if strategy_of(rollout) == "BlueGreen":
        if rs_hash == _get(status, "blueGreen", "activeSelector"):
            roles.append("active")
        elif rs_hash == _get(status, "blueGreen", "previewSelector"):
            roles.append("preview")
    elif rs_hash == status.get("currentPodHash") and rs_hash != status.get("stableRS"):
        roles.append("canary")
    return tuple(roles)


def _template_images(obj: Obj) -> list[str]:
    containers = _list(_get(obj, "spec", "template", "spec", "containers"))
    return [str(c.get("image")) for c in containers if isinstance(c, Mapping) and c.get("image")]


_ROLE_RANK = {"stable": 0, "active": 1, "canary": 2, "preview": 3}


def images(rollout: Obj, replicasets: Sequence[Obj]) -> tuple[ImageInfo, ...]:
    """Images of the ReplicaSets that hold a role, with their roles; stable/active ones first."""
    order: list[str] = []
    roles_by_image: dict[str, list[str]] = {}
    for rs in sorted(replicasets, key=revision_of, reverse=True):
        roles = replicaset_roles(rollout, rs)
        if not roles:
            continue
        for image in _template_images(rs):
            if image not in roles_by_image:
                order.append(image)
                roles_by_image[image] = []
            for role in roles:
                if role not in roles_by_image[image]:
                    roles_by_image[image].append(role)
    ranked = sorted(order, key=lambda image: min(_ROLE_RANK.get(r, 9) for r in roles_by_image[image]))
    return tuple(ImageInfo(image, tuple(roles_by_image[image])) for image in ranked)


def replica_counts(rollout: Obj) -> ReplicaCounts:
    status = _status(rollout)
    return ReplicaCounts(
        desired=as_int(_get(rollout, "spec", "replicas"), 1),
        current=as_int(status.get("replicas")),
        updated=as_int(status.get("updatedReplicas")),
        ready=as_int(status.get("readyReplicas")),
        available=as_int(status.get("availableReplicas")),
    )


# ---------------------------------------------------------------------------------------------------
# children


def pod_info(pod: Obj, now: datetime) -> PodInfo:
    """Status in kubectl's words (Running, ContainerCreating, CrashLoopBackOff, Terminating...)."""
    status = _get(pod, "status") or {}
    containers = [c for c in _list(status.get("containerStatuses")) if isinstance(c, Mapping)]
    total = len(_list(_get(pod, "spec", "containers"))) or len(containers)
    ready = sum(1 for c in containers if c.get("ready"))
    restarts = sum(as_int(c.get("restartCount")) for c in containers)
    reason = str(status.get("reason") or status.get("phase") or "Unknown")
    for c in containers:
        waiting = _get(c, "state", "waiting", "reason")
        terminated = _get(c, "state", "terminated", "reason")
        if waiting:
            reason = str(waiting)
            break
        if terminated:
            reason = str(terminated)
            break
    if _get(pod, "metadata", "deletionTimestamp"):
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
        name=str(_get(pod, "metadata", "name") or ""),
        status=reason,
        health=health,
        ready=f"{ready}/{total}",
        restarts=restarts,
        age=age_of(pod, now),
    )


def _scale_down_delay(rs: Obj, now: datetime) -> str | None:
    deadline = parse_time(_get(rs, "metadata", "annotations", SCALE_DOWN_DEADLINE_ANNOTATION))
    if deadline is None:
        return None
    remaining = (deadline - now).total_seconds()
    return f"delay:{int(remaining)}s" if remaining > 0 else "delay:passed"


def replicaset_info(rollout: Obj, rs: Obj, pods: Sequence[Obj], now: datetime) -> ReplicaSetInfo:
    uid = _get(rs, "metadata", "uid")
    rs_hash = pod_template_hash_of(rs)
    mine = [
        p
        for p in pods
        if (uid and is_owned_by(p, str(uid))) or (not uid and rs_hash and pod_template_hash_of(p) == rs_hash)
    ]
    desired = as_int(_get(rs, "spec", "replicas"))
    current = as_int(_get(rs, "status", "replicas"))
    ready = as_int(_get(rs, "status", "readyReplicas"))
    if desired == 0 and current == 0:
        health = Health.SCALED_DOWN
    elif ready >= desired and current == desired:
        health = Health.HEALTHY
    else:
        health = Health.PROGRESSING
    return ReplicaSetInfo(
        name=str(_get(rs, "metadata", "name") or ""),
        revision=revision_of(rs),
        pod_template_hash=rs_hash,
        roles=replicaset_roles(rollout, rs),
        health=health,
        status=health.value,
        desired=desired,
        ready=ready,
        age=age_of(rs, now),
        scale_down_delay=_scale_down_delay(rs, now),
        pods=tuple(pod_info(p, now) for p in sorted(mine, key=lambda p: str(_get(p, "metadata", "name")))),
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
    results = [r for r in _list(_get(run, "status", "metricResults")) if isinstance(r, Mapping)]
    phase = str(_get(run, "status", "phase") or "Pending")
    return AnalysisRunInfo(
        name=str(_get(run, "metadata", "name") or ""),
        revision=revision,
        phase=phase,
        health=_ANALYSIS_HEALTH.get(phase, Health.UNKNOWN),
        successes=sum(as_int(r.get("successful")) for r in results),
        failures=sum(as_int(r.get("failed")) for r in results),
        inconclusive=sum(as_int(r.get("inconclusive")) for r in results),
        errors=sum(as_int(r.get("error")) for r in results),
        age=age_of(run, now),
    )


def _run_revision(run: Obj, revision_by_hash: Mapping[str, int]) -> int:
    revision = revision_of(run)
    if revision:
        return revision
    return revision_by_hash.get(pod_template_hash_of(run), 0)


def owned_children(rollout: Obj, objects: Sequence[Obj]) -> list[Obj]:
    """The objects whose controller is this Rollout (by uid; by nothing when the rollout has none)."""
    uid = _get(rollout, "metadata", "uid")
    if not uid:
        return list(objects)
    return [o for o in objects if is_owned_by(o, str(uid))]


def rollout_info(
    rollout: Obj,
    replicasets: Sequence[Obj],
    pods: Sequence[Obj],
    analysisruns: Sequence[Obj],
    *,
    now: datetime,
) -> RolloutInfo:
    """Everything `get rollout` shows. ReplicaSets and AnalysisRuns not owned by the rollout are
    ignored, so callers may pass a whole namespace's worth."""
    my_rs = owned_children(rollout, replicasets)
    my_runs = owned_children(rollout, analysisruns)
    strategy = strategy_of(rollout)
    report = rollout_phase(rollout)
    revision_by_hash = {pod_template_hash_of(rs): revision_of(rs) for rs in my_rs}

    rs_infos = [replicaset_info(rollout, rs, pods, now) for rs in my_rs]
    run_infos = [analysisrun_info(r, _run_revision(r, revision_by_hash), now) for r in my_runs]
    revisions = sorted({i.revision for i in rs_infos} | {r.revision for r in run_infos}, reverse=True)
    revision_infos = tuple(
        RevisionInfo(
            revision=rev,
            replicasets=tuple(sorted((i for i in rs_infos if i.revision == rev), key=lambda i: i.name)),
            analysisruns=tuple(sorted((r for r in run_infos if r.revision == rev), key=lambda r: r.name)),
        )
        for rev in revisions
    )
    canary = strategy == "Canary"
    return RolloutInfo(
        name=str(_get(rollout, "metadata", "name") or ""),
        namespace=str(_get(rollout, "metadata", "namespace") or ""),
        phase=report.phase,
        message=report.message,
        strategy=strategy,
        step=current_step(rollout),
        set_weight=str(set_weight(rollout)) if canary else None,
        actual_weight=str(actual_weight(rollout, my_rs)) if canary else None,
        images=images(rollout, my_rs),
        replicas=replica_counts(rollout),
        age=age_of(rollout, now),
        revisions=revision_infos,
    )
