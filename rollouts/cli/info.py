"""What the plugin shows about a Rollout, computed from plain API dicts.

The plugin reads Rollouts, ReplicaSets, Pods and AnalysisRuns as the API server returns them and
turns them into frozen summaries (`RolloutInfo`) that the renderers draw. Nothing here does I/O or
reads the clock: `now` is a parameter, so the golden-output tests are exact.

Two Argo quirks are handled here:

- `status.observedGeneration` is a *string* in Argo's schema. Until it reaches `metadata.generation`
  the status describes the previous spec, so the phase is reported as Progressing ("waiting for
  rollout spec update to be observed"), never the stale Healthy a CI pipeline would trust after a
  `set image`.
- The displayed "set weight" is the planner's: the weight of the last `setWeight` step at or before
  `currentStepIndex` (maxTrafficWeight once every step is done, 0 after an abort), as Argo's plugin shows it;
  the "actual weight" comes from `status.canary.weights` with traffic routing, or from the share
  of available pods without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rollouts.api.rollout import RolloutPhase
from rollouts.cli.children import (
    RevisionInfo,
    analysisrun_info,
    replicaset_info,
    run_revision,
)
from rollouts.cli.objects import (
    Obj,
    age_of,
    as_int,
    as_list,
    dig,
    owned_children,
    pod_template_hash_of,
    revision_of,
    status_of,
    strategy_of,
)


@dataclass(frozen=True)
class PhaseReport:
    phase: RolloutPhase
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
class RolloutInfo:
    name: str
    namespace: str
    phase: RolloutPhase
    message: str
    strategy: str
    step: str | None
    set_weight: str | None
    actual_weight: str | None
    images: tuple[ImageInfo, ...]
    replicas: ReplicaCounts
    age: str
    revisions: tuple[RevisionInfo, ...]



def canary_steps(rollout: Obj) -> list[Mapping[str, Any]]:
    steps = dig(rollout, "spec", "strategy", "canary", "steps")
    return [s for s in steps if isinstance(s, Mapping)] if isinstance(steps, list) else []


def is_generation_observed(rollout: Obj) -> bool:
    """Has the controller seen the current spec? `observedGeneration` is a string in Argo's schema;
    a non-numeric value (legacy spec hash) counts as observed, as Argo's plugin treats it."""
    observed = dig(rollout, "status", "observedGeneration")
    generation = as_int(dig(rollout, "metadata", "generation"))
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


def reported_phase(rollout: Obj) -> PhaseReport:
    """The phase and message to show, by Argo's rule (``GetRolloutPhase`` in utils/rollout/rolloututil.go).

    An unobserved spec is Progressing ("waiting for rollout spec update to be observed"), and so is a promote
    the controller has not acted on yet (``controllerPause`` with no pause condition left: "waiting for rollout
    to unpause"); otherwise `status.phase` as the controller wrote it. A status without a phase (written by a
    controller older than Argo v1.0) gets the phase the controller would write, from the planner's own
    ``rollout_phase``; an object that does not parse as a Rollout is Degraded with the InvalidSpec message the
    controller would give it.
    """
    if not is_generation_observed(rollout):
        return PhaseReport(RolloutPhase.PROGRESSING, "waiting for rollout spec update to be observed")
    status = status_of(rollout)
    if status.get("controllerPause") is True and not as_list(status.get("pauseConditions")):
        return PhaseReport(RolloutPhase.PROGRESSING, "waiting for rollout to unpause")
    phase = status.get("phase")
    if isinstance(phase, str) and phase in {p.value for p in RolloutPhase}:
        return PhaseReport(RolloutPhase(phase), str(status.get("message") or ""))
    return _calculated_phase(rollout)


def _calculated_phase(rollout: Obj) -> PhaseReport:
    from rollouts.api.validation import invalid_spec_message, parse_rollout
    from rollouts.planning.conditions import rollout_phase

    parsed, problems = parse_rollout({**rollout, "status": None})
    if parsed is None:
        return PhaseReport(RolloutPhase.DEGRADED, f"InvalidSpec: {invalid_spec_message(problems)}")
    phase, message = rollout_phase(parsed.spec, _readable_status(status_of(rollout)))
    return PhaseReport(phase, message)


def _readable_status(status: Mapping[str, Any]) -> dict[str, Any]:
    """The status fields the phase is calculated from, with wrong types dropped (an old or foreign controller
    may have written anything): condition lists keep only objects, counters become ints."""
    clean = dict(status)
    for key in ("conditions", "pauseConditions"):
        clean[key] = [item for item in as_list(status.get(key)) if isinstance(item, Mapping)]
    for key in ("replicas", "updatedReplicas", "availableReplicas"):
        clean[key] = as_int(status.get(key))
    blue_green = status.get("blueGreen")
    blue_green = dict(blue_green) if isinstance(blue_green, Mapping) else {}
    if not isinstance(blue_green.get("postPromotionAnalysisRunStatus"), Mapping):
        blue_green.pop("postPromotionAnalysisRunStatus", None)
    clean["blueGreen"] = blue_green
    return clean


def current_step(rollout: Obj) -> str | None:
    """"x/y": x = steps completed (`status.currentStepIndex`), y = number of steps; None without steps."""
    steps = canary_steps(rollout)
    if strategy_of(rollout) != "Canary" or not steps:
        return None
    index = as_int(dig(rollout, "status", "currentStepIndex"))
    return f"{min(index, len(steps))}/{len(steps)}"


def set_weight(rollout: Obj) -> int:
    """The weight the current step asks for, computed by the planner (``planning.steps.current_set_weight``,
    Argo's GetCurrentSetWeight): steps [setWeight 20, pause, setWeight 50, pause] at currentStepIndex 1 -> 20;
    index 4 -> maxTrafficWeight (100 unless set); aborted -> 0; no steps -> maxTrafficWeight. 0 for a spec that
    does not parse as a canary Rollout.
    """
    from rollouts.api.validation import parse_rollout
    from rollouts.planning.steps import current_set_weight

    parsed, _ = parse_rollout({**rollout, "status": None})
    canary = parsed.spec.strategy.canary if parsed is not None else None
    if canary is None:
        return 0
    status = status_of(rollout)
    index = status.get("currentStepIndex")
    return current_set_weight(canary, current_step_index=as_int(index) if index is not None else None,
                              aborted=bool(status.get("abort")))


def actual_weight(rollout: Obj, replicasets: Sequence[Obj]) -> int:
    """The weight in effect now.

    With traffic routing: `status.canary.weights.canary.weight` as the router reported it.
    Without: the canary's share of available pods (2 canary of 8 available -> 25).
    """
    status = status_of(rollout)
    if dig(rollout, "spec", "strategy", "canary", "trafficRouting"):
        weight = dig(status, "canary", "weights", "canary", "weight")
        return as_int(weight)
    available = as_int(status.get("availableReplicas"))
    if available <= 0:
        return 0
    canary_hash = status.get("currentPodHash")
    if not canary_hash or canary_hash == status.get("stableRS"):
        return 100 if canary_hash else 0
    canary_available = sum(
        as_int(dig(rs, "status", "availableReplicas"))
        for rs in replicasets
        if pod_template_hash_of(rs) == canary_hash
    )
    return round(100 * canary_available / available)


def replicaset_roles(rollout: Obj, rs: Obj) -> tuple[str, ...]:
    status = status_of(rollout)
    rs_hash = pod_template_hash_of(rs)
    roles: list[str] = []
    if not rs_hash:
        return ()
    if rs_hash == status.get("stableRS"):
        roles.append("stable")
    if strategy_of(rollout) == "BlueGreen":
        if rs_hash == dig(status, "blueGreen", "activeSelector"):
            roles.append("active")
        elif rs_hash == dig(status, "blueGreen", "previewSelector"):
            roles.append("preview")
    elif rs_hash == status.get("currentPodHash") and rs_hash != status.get("stableRS"):
        roles.append("canary")
    return tuple(roles)


def _template_images(obj: Obj) -> list[str]:
    containers = as_list(dig(obj, "spec", "template", "spec", "containers"))
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
    status = status_of(rollout)
    return ReplicaCounts(
        desired=as_int(dig(rollout, "spec", "replicas"), 1),
        current=as_int(status.get("replicas")),
        updated=as_int(status.get("updatedReplicas")),
        ready=as_int(status.get("readyReplicas")),
        available=as_int(status.get("availableReplicas")),
    )


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
    report = reported_phase(rollout)
    revision_by_hash = {pod_template_hash_of(rs): revision_of(rs) for rs in my_rs}

    rs_infos = [replicaset_info(rs, pods, roles=replicaset_roles(rollout, rs), now=now) for rs in my_rs]
    run_infos = [analysisrun_info(r, run_revision(r, revision_by_hash), now) for r in my_runs]
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
        name=str(dig(rollout, "metadata", "name") or ""),
        namespace=str(dig(rollout, "metadata", "namespace") or ""),
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
