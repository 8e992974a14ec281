"""An Experiment's phase, message and conditions, computed from its template and analysis statuses as Argo does.

Why this module exists: Argo's plugin, Argo CD's health check and a Rollout's experiment step all read
``status.phase`` of an Experiment, and the rules that combine templates and analyses into it are subtle
(experiments/experiment.go calculateStatus, assessTemplates, assessAnalysisRuns; utils/experiment). Kept apart
from the template and analysis reconciliation so the tables in tests/unit/planning/test_experiment_status.py
can drive them directly.

Worked examples (templates -> analyses -> phase):

* baseline Running, canary Progressing; no analyses -> ``Pending`` (a template still progressing).
* both Running, analysis Running -> ``Running``; both Successful (duration passed) -> the analyses' phase.
* a template Failed (progressDeadlineSeconds) -> ``Failed`` with the template's message.
* templates Running, a requiredForCompletion analysis Successful -> ``Successful``, "Required AnalysisRuns
  completed" (the Experiment ends without waiting for a duration).
* templates Running, any analysis Failed / Error / Inconclusive -> that phase (the Experiment ends).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.common import AnalysisPhase, parse_duration
from rollouts.api.experiment import ExperimentSpec, TemplateStatusCode
from rollouts.planning.observed import parse_timestamp

REQUIRED_ANALYSIS_COMPLETED_MESSAGE = "Required AnalysisRuns completed"
PROGRESSING_MESSAGE = 'Experiment "{}" is progressing.'
RUNNING_MESSAGE = 'Experiment "{}" is running.'
COMPLETED_MESSAGE = 'Experiment "{}" has successfully ran and completed.'

Status = dict[str, Any]

_TEMPLATE_ORDER = ("Successful", "Running", "Progressing", "Error", "Failed")
"""Argo's templateStatusOrder, best to worst."""
_ANALYSIS_ORDER = ("Successful", "Running", "Pending", "Inconclusive", "Error", "Failed")
"""Argo's analysisStatusOrder, best to worst."""
_COMPLETED = frozenset({"Successful", "Failed", "Error", "Inconclusive"})


def _rank(order: Sequence[str], value: object) -> int:
    """Index in ``order``; an unknown or empty value ranks as the best, as Argo's loop leaves it at 0."""
    return order.index(str(value)) if value in order else 0


def is_completed(phase: object) -> bool:
    return phase in _COMPLETED


def by_name(items: Iterable[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    return {str(i.get("name")): i for i in items or ()}


def required_analyses_successful(spec: ExperimentSpec, status: Mapping[str, Any]) -> bool:
    """Some analysis is requiredForCompletion and every such analysis is Successful."""
    required = [a.name for a in spec.analyses or () if a.required_for_completion]
    runs = by_name(status.get("analysisRuns"))
    return bool(required) and all((runs.get(n) or {}).get("phase") == "Successful" for n in required)


def is_terminating(spec: ExperimentSpec, status: Mapping[str, Any]) -> bool:
    """Argo's IsTerminating: asked to, finished, a template failed, an analysis went wrong, or done early."""
    if spec.terminate or is_completed(status.get("phase")):
        return True
    if any(t.get("status") in ("Failed", "Error") for t in status.get("templateStatuses") or ()):
        return True
    if any(r.get("phase") in ("Failed", "Error", "Inconclusive") for r in status.get("analysisRuns") or ()):
        return True
    return required_analyses_successful(spec, status)


def duration_remaining(spec: ExperimentSpec, status: Mapping[str, Any], now: datetime) -> float | None:
    """Seconds until ``duration`` has passed since ``availableAt``; None without a duration or before then.

    ``duration: 30s`` and availableAt 10:00:00 -> at 10:00:20 the answer is 10.0, at 10:00:31 it is -1.0."""
    if not spec.duration or not status.get("availableAt"):
        return None
    try:
        seconds = parse_duration(spec.duration)
    except ValueError:
        return None
    ends = parse_timestamp(status["availableAt"]) + timedelta(seconds=seconds)
    return (ends - now).total_seconds()


def passed_duration(spec: ExperimentSpec, status: Mapping[str, Any], now: datetime) -> bool:
    remaining = duration_remaining(spec, status, now)
    return remaining is not None and remaining < 0


def assess_templates(spec: ExperimentSpec, status: Mapping[str, Any]) -> tuple[str, str]:
    """The worst template status as an Experiment phase: Progressing -> Pending, the others by name."""
    worst, message = "Successful", ""
    templates = by_name(status.get("templateStatuses"))
    for template in spec.templates:
        current = templates.get(template.name)
        code = str(current.get("status") or "") if current is not None else "Progressing"
        if _rank(_TEMPLATE_ORDER, code) > _rank(_TEMPLATE_ORDER, worst):
            worst = code
            message = str(current.get("message") or "") if current is not None else message
    return ("Pending" if worst == TemplateStatusCode.PROGRESSING else worst), message


def assess_analyses(spec: ExperimentSpec, status: Mapping[str, Any]) -> tuple[str, str]:
    """The worst analysis phase (Pending reads as Running); with requiredForCompletion analyses all Successful
    and nothing worse, Successful with Argo's "Required AnalysisRuns completed"."""
    worst, message = "Successful", ""
    runs = by_name(status.get("analysisRuns"))
    for analysis in spec.analyses or ():
        run = runs.get(analysis.name) or {}
        if _rank(_ANALYSIS_ORDER, run.get("phase")) > _rank(_ANALYSIS_ORDER, worst):
            worst, message = str(run.get("phase")), str(run.get("message") or "")
    # Argo's IsWorse(worst, Running): only when nothing is worse than Successful
    if required_analyses_successful(spec, status) and _rank(_ANALYSIS_ORDER, worst) < _rank(_ANALYSIS_ORDER, "Running"):
        return "Successful", REQUIRED_ANALYSIS_COMPLETED_MESSAGE
    return ("Running" if worst == AnalysisPhase.PENDING else worst), message


def experiment_phase(spec: ExperimentSpec, status: Status, now_text: str) -> None:
    """Set ``phase``, ``message`` and ``availableAt`` of the status being built (Argo's calculateStatus)."""
    phase = status.get("phase")
    if not phase:
        status["phase"] = "Pending"
        return
    if phase not in ("Pending", "Running"):
        return
    template_phase, template_message = assess_templates(spec, status)
    analyses_phase, analyses_message = assess_analyses(spec, status)
    if template_phase == "Running" and not status.get("availableAt"):
        status["availableAt"] = now_text
    has_required = any(a.required_for_completion for a in spec.analyses or ())
    use_analyses: bool
    if is_completed(template_phase):
        use_analyses = template_phase == "Successful" and (is_completed(analyses_phase) or has_required)
    else:
        use_analyses = (is_completed(analyses_phase) and analyses_phase != "Successful") or \
            required_analyses_successful(spec, status)
    status["phase"], message = (analyses_phase, analyses_message) if use_analyses else (
        template_phase, template_message)
    if message:
        status["message"] = message
    else:
        status.pop("message", None)


def template_progressed(previous: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Argo's ExperimentProgressing: a new template status, or any replica count moved."""
    before, after = by_name(previous.get("templateStatuses")), by_name(current.get("templateStatuses"))
    if len(before) < len(after):
        return True
    counts = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
    return any(name in after and any(old.get(c, 0) != after[name].get(c, 0) for c in counts)
               for name, old in before.items())
