"""What the plugin shows about a Rollout, computed from plain API dicts by the rules of Argo's plugin.

The plugin reads Rollouts, ReplicaSets, Pods, AnalysisRuns and Experiments as the API server returns them and
turns them into a frozen summary (`RolloutInfo`) that the renderers draw. Nothing here does I/O or reads the
clock, so the golden tests (Argo's own expected text) are exact.

The rules are those of Argo's `info` package and `GetRolloutPhase`, because scripts and people read these
words:

- `status.observedGeneration` is a *string* in Argo's schema. Until it reaches `metadata.generation` the
  status describes the previous spec, so the phase is Progressing ("waiting for rollout spec update to be
  observed"), never the stale Healthy a CI pipeline would trust after a `set image`. Likewise right after a
  promote cleared the pause conditions but before the controller reacted ("waiting for rollout to unpause").
- Otherwise `status.phase` and `status.message` are the controller's word; a status without a phase (an old
  controller's) gets the phase the planner calculates (one calculation, shared with the controller).
- Step is `currentStepIndex/len(steps)` as written (no clamping); SetWeight is the planner's (the last
  `setWeight` at or before the current step, 0 after an abort, `maxTrafficWeight` once every step is done);
  ActualWeight is the canary's share of available pods without traffic routing, or `status.canary.weights`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rollouts.api.rollout import RolloutPhase
from rollouts.cli.children import (
    ICON_BAD,
    ICON_NEUTRAL,
    ICON_OK,
    ICON_PAUSED,
    ICON_PROGRESSING,
    ICON_UNKNOWN,
    ICON_WARNING,
    AnalysisRunInfo,
    ExperimentInfo,
    ReplicaSetInfo,
    Roles,
    analysisrun_infos,
    experiment_infos,
    replicaset_infos,
)
from rollouts.cli.objects import (
    Obj,
    as_int,
    as_list,
    created_of,
    dig,
    pod_template_hash_of,
    status_of,
    strategy_of,
)


@dataclass(frozen=True)
class PhaseReport:
    phase: str  # a RolloutPhase, or whatever word a (newer) controller wrote into status.phase
    message: str


@dataclass(frozen=True)
class ImageInfo:
    image: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class RolloutInfo:
    name: str
    namespace: str
    created: datetime | None
    status: str
    message: str
    icon: str
    strategy: str  # "Canary", "BlueGreen" or "" (neither)
    step: str
    set_weight: str
    actual_weight: str
    desired: int
    current: int
    updated: int
    ready: int
    available: int
    replicasets: tuple[ReplicaSetInfo, ...]
    experiments: tuple[ExperimentInfo, ...]
    analysisruns: tuple[AnalysisRunInfo, ...]


def canary_steps(rollout: Obj) -> list[Mapping[str, Any]]:
    steps = dig(rollout, "spec", "strategy", "canary", "steps")
    return [s for s in steps if isinstance(s, Mapping)] if isinstance(steps, list) else []


def _numeric(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def is_generation_observed(rollout: Obj) -> bool:
    """Has the controller seen the current spec? `observedGeneration` is a string in Argo's schema; a value
    that is not a number (a legacy spec hash, or none) counts as observed, as Argo's plugin treats it."""
    observed = _numeric(dig(rollout, "status", "observedGeneration"))
    if observed is None:
        return True
    return observed >= as_int(dig(rollout, "metadata", "generation"))


def is_unpausing(rollout: Obj) -> bool:
    """A promote cleared the pause conditions but the controller has not yet reacted (controllerPause is
    still set)."""
    status = status_of(rollout)
    return bool(status.get("controllerPause")) and not as_list(status.get("pauseConditions"))


def reported_phase(rollout: Obj) -> PhaseReport:
    """The phase and message to show, by Argo's rule (``GetRolloutPhase`` in utils/rollout/rolloututil.go).

    An unobserved spec is Progressing ("waiting for rollout spec update to be observed"), and so is a promote
    the controller has not acted on yet ("waiting for rollout to unpause"); otherwise `status.phase` and
    `status.message` as the controller wrote them (a word we do not know is shown as written, as Argo's plugin
    does). A status without a phase (written by a controller older than Argo v1.0) gets the phase the controller
    would write, from the planner's own ``rollout_phase``; an object that does not parse as a Rollout is
    Degraded with the InvalidSpec message the controller would give it. Argo's workload-generation check is not
    repeated: it depends on TemplateResolvedFromRef, which is not serialised, so Argo's plugin never takes it.
    """
    if not is_generation_observed(rollout):
        return PhaseReport(RolloutPhase.PROGRESSING, "waiting for rollout spec update to be observed")
    if is_unpausing(rollout):
        return PhaseReport(RolloutPhase.PROGRESSING, "waiting for rollout to unpause")
    status = status_of(rollout)
    phase = status.get("phase")
    if isinstance(phase, str) and phase:
        known = {p.value: p for p in RolloutPhase}
        return PhaseReport(known.get(phase, phase), str(status.get("message") or ""))
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


def rollout_icon(status: str) -> str:
    return {"Progressing": ICON_PROGRESSING, "Error": ICON_WARNING, "InvalidSpec": ICON_WARNING,
            "Paused": ICON_PAUSED, "Healthy": ICON_OK, "Degraded": ICON_BAD, "Unknown": ICON_UNKNOWN,
            "ScaledDown": ICON_NEUTRAL}.get(status, " ")


def max_traffic_weight(rollout: Obj) -> int:
    value = dig(rollout, "spec", "strategy", "canary", "trafficRouting", "maxTrafficWeight")
    return as_int(value, 100) if value is not None else 100


def current_step_index(rollout: Obj) -> int | None:
    """`status.currentStepIndex` when the Rollout has canary steps; None otherwise."""
    if not canary_steps(rollout):
        return None
    return as_int(dig(rollout, "status", "currentStepIndex"))


def current_step(rollout: Obj) -> str:
    """"x/y" as Argo prints it: x = `status.currentStepIndex` as written, y = number of steps; "" when the
    Rollout has no steps or the controller has not written an index yet."""
    steps = canary_steps(rollout)
    index = dig(rollout, "status", "currentStepIndex")
    if strategy_of(rollout) != "Canary" or not steps or index is None:
        return ""
    return f"{as_int(index)}/{len(steps)}"


def set_weight(rollout: Obj) -> int:
    """The weight the current step asks for, computed by the planner (``planning.steps.current_set_weight``,
    Argo's GetCurrentSetWeight): steps [setWeight 20, pause, setWeight 50, pause] at currentStepIndex 1 -> 20;
    index 4 -> maxTrafficWeight (100 unless set); aborted -> 0; no steps -> maxTrafficWeight. A spec that does
    not parse as a canary strategy falls back to maxTrafficWeight from the raw object, as Argo shows an invalid
    Rollout (TestGetInvalidRollout: SetWeight 100)."""
    from rollouts.api.validation import parse_rollout
    from rollouts.planning.steps import current_set_weight

    parsed, _ = parse_rollout({**rollout, "status": None})
    canary = parsed.spec.strategy.canary if parsed is not None else None
    status = status_of(rollout)
    if canary is None:
        return 0 if status.get("abort") else max_traffic_weight(rollout)
    index = status.get("currentStepIndex")
    return current_set_weight(canary, current_step_index=as_int(index) if index is not None else None,
                              aborted=bool(status.get("abort")))


def actual_weight(rollout: Obj, replicasets: Sequence[ReplicaSetInfo]) -> int:
    """The weight in effect now: without traffic routing the canary's share of available pods (1 canary of 4
    available -> 25, rounded down), with it `status.canary.weights.canary.weight` (the set weight until the
    router reported one); `maxTrafficWeight` once every step is done."""
    steps = canary_steps(rollout)
    index = current_step_index(rollout)
    if index is None or index >= len(steps):
        return max_traffic_weight(rollout)
    status = status_of(rollout)
    available = as_int(status.get("availableReplicas"))
    if available <= 0:
        return 0
    if dig(rollout, "spec", "strategy", "canary", "trafficRouting") is None:
        weight = 0
        for rs in replicasets:
            if rs.canary:
                weight = rs.available * max_traffic_weight(rollout) // available
        return weight
    weights = dig(status, "canary", "weights")
    if isinstance(weights, Mapping):
        return as_int(dig(weights, "canary", "weight"))
    return set_weight(rollout)


def replicaset_roles(rollout: Obj) -> Callable[[Obj], Roles]:
    """A function telling a ReplicaSet's roles for this Rollout (stable, canary, active, preview, ping/pong)."""
    status = status_of(rollout)
    stable, current = status.get("stableRS") or "", status.get("currentPodHash") or ""
    canary = dig(rollout, "spec", "strategy", "canary")
    blue_green = dig(rollout, "spec", "strategy", "blueGreen")
    ping_pong = isinstance(canary, Mapping) and canary.get("pingPong") is not None
    stable_is_ping = dig(status, "canary", "stablePingPong") == "ping"
    active = dig(status, "blueGreen", "activeSelector") or ""
    preview = dig(status, "blueGreen", "previewSelector") or ""

    def roles(rs: Obj) -> Roles:
        rs_hash = pod_template_hash_of(rs)
        is_stable = is_canary = is_active = is_preview = ping = pong = False
        if canary is not None:
            if stable == rs_hash:
                is_stable = True
                if ping_pong:
                    ping, pong = stable_is_ping, not stable_is_ping
            elif current == rs_hash:
                is_canary = True
                if ping_pong:
                    ping, pong = not stable_is_ping, stable_is_ping
        if blue_green is not None:
            is_stable = is_stable or stable == rs_hash
            if active == rs_hash:
                is_active = True
            elif preview == rs_hash:
                is_preview = True
        return Roles(stable=is_stable, canary=is_canary, active=is_active, preview=is_preview, ping=ping,
                     pong=pong)

    return roles


def _strategy(rollout: Obj) -> str:
    strategy = strategy_of(rollout)
    return strategy if strategy in ("Canary", "BlueGreen") else ""


def rollout_info(
    rollout: Obj,
    replicasets: Sequence[Obj],
    pods: Sequence[Obj],
    analysisruns: Sequence[Obj],
    experiments: Sequence[Obj] = (),
) -> RolloutInfo:
    """Everything `get rollout` shows. Objects not owned by the rollout are ignored, so callers may pass a
    whole namespace's worth."""
    uid = str(dig(rollout, "metadata", "uid") or "")
    rs_infos = replicaset_infos(uid, replicasets, pods, replicaset_roles(rollout))
    report = reported_phase(rollout)
    strategy = _strategy(rollout)
    status = status_of(rollout)
    replicas = dig(rollout, "spec", "replicas")
    return RolloutInfo(
        name=str(dig(rollout, "metadata", "name") or ""),
        namespace=str(dig(rollout, "metadata", "namespace") or ""),
        created=created_of(rollout),
        status=report.phase,
        message=report.message,
        icon=rollout_icon(report.phase),
        strategy=strategy,
        step=current_step(rollout),
        set_weight=str(set_weight(rollout)) if strategy == "Canary" else "",
        actual_weight=str(actual_weight(rollout, rs_infos)) if strategy == "Canary" else "",
        desired=as_int(replicas, 1) if replicas is not None else 1,
        current=as_int(status.get("replicas")),
        updated=as_int(status.get("updatedReplicas")),
        ready=as_int(status.get("readyReplicas")),
        available=as_int(status.get("availableReplicas")),
        replicasets=rs_infos,
        experiments=experiment_infos(uid, experiments, replicasets, analysisruns, pods),
        analysisruns=analysisrun_infos(uid, analysisruns),
    )


def _merge_image(found: dict[str, tuple[str, ...]], image: str, tags: Sequence[str]) -> None:
    """Argo's mergeImageAndTags: an image seen for the first time keeps its tags in the order given; one seen
    again gets the sorted union."""
    if image in found:
        found[image] = tuple(sorted(set(found[image]) | set(tags)))
    else:
        found[image] = tuple(tags)


def images(info: RolloutInfo) -> tuple[ImageInfo, ...]:
    """The images of ReplicaSets that have pods, with their tags (canary, stable, active, preview, ping, pong;
    Σ:template for an Experiment's), sorted by image: Argo's `Images`."""
    found: dict[str, tuple[str, ...]] = {}
    for rs in info.replicasets:
        if rs.replicas <= 0:
            continue
        tags = [tag for tag, on in (("canary", rs.canary), ("stable", rs.stable), ("active", rs.active),
                                    ("preview", rs.preview), ("ping", rs.ping), ("pong", rs.pong)) if on]
        for image in rs.images:
            _merge_image(found, image, tags)
    for exp in info.experiments:
        for image, exp_tags in experiment_images(exp).items():
            _merge_image(found, image, exp_tags)
    return tuple(ImageInfo(image, found[image]) for image in sorted(found))


def experiment_images(exp: ExperimentInfo) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for rs in exp.replicasets:
        if rs.replicas <= 0:
            continue
        for image in rs.images:
            _merge_image(found, image, [f"Σ:{rs.template}"] if rs.template else [])
    return found


def revisions(info: RolloutInfo) -> list[int]:
    found = {rs.revision for rs in info.replicasets} | {e.revision for e in info.experiments} | {
        r.revision for r in info.analysisruns}
    return sorted(found, reverse=True)


@dataclass(frozen=True)
class ListRow:
    """One `list rollouts` line: the watch prints a line only when something in it changed."""

    namespace: str
    name: str
    strategy: str
    status: str
    step: str
    set_weight: str
    ready_current: str
    desired: int
    up_to_date: int
    available: int


def list_row(rollout: Obj) -> ListRow:
    """Argo's `list rollouts` columns: strategy "unknown" without one, step and set weight "-" unless a
    canary has them, READY as ready/current pods."""
    strategy = _strategy(rollout) or "unknown"
    status = status_of(rollout)
    replicas = dig(rollout, "spec", "replicas")
    return ListRow(
        namespace=str(dig(rollout, "metadata", "namespace") or ""),
        name=str(dig(rollout, "metadata", "name") or ""),
        strategy=strategy,
        status=reported_phase(rollout).phase,
        step=current_step(rollout) or "-",
        set_weight=str(set_weight(rollout)) if strategy == "Canary" else "-",
        ready_current=f"{as_int(status.get('readyReplicas'))}/{as_int(status.get('replicas'))}",
        desired=as_int(replicas, 1) if replicas is not None else 1,
        up_to_date=as_int(status.get("updatedReplicas")),
        available=as_int(status.get("availableReplicas")),
    )
