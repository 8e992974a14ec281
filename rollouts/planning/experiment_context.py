"""What the Experiment planner observed, and the scratchpad one plan is built on.

``ObservedExperiment`` is frozen data the controller packs from its caches: the Experiment, the ReplicaSets and
Services it controls keyed by template name (claimed as Argo claims them: controller ownerReference plus the
``experiment.argoproj.io/name`` and ``template-name`` annotations), its AnalysisRuns by name and the
(Cluster)AnalysisTemplates its analyses name. ``foreign_services`` are names of Services that exist but belong
to someone else, so a template's ``service.name`` that collides is reported instead of adopted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from rollouts.api.experiment import Experiment
from rollouts.planning.observed import (
    ObservedAnalysisRun,
    ObservedReplicaSet,
    ObservedService,
    TemplateKey,
    format_timestamp,
)
from rollouts.planning.plan import Action, EmitEvent


@dataclass(frozen=True, slots=True)
class ObservedExperiment:
    experiment: Experiment
    replica_sets: Mapping[str, ObservedReplicaSet] = field(default_factory=dict)
    services: Mapping[str, ObservedService] = field(default_factory=dict)
    analysis_runs: Mapping[str, ObservedAnalysisRun] = field(default_factory=dict)
    analysis_templates: Mapping[TemplateKey, Mapping[str, Any] | None] = field(default_factory=dict)
    foreign_services: frozenset[str] = frozenset()


@dataclass(slots=True)
class ExperimentContext:
    """One plan in the making: the previous status (as JSON), the actions and the earliest requeue."""

    observed: ObservedExperiment
    now: datetime
    previous: Mapping[str, Any]
    terminating: bool
    actions: list[Action] = field(default_factory=list)
    requeue_after: float | None = None

    @property
    def experiment(self) -> Experiment:
        return self.observed.experiment

    @property
    def now_text(self) -> str:
        return format_timestamp(self.now)

    def act(self, action: Action) -> None:
        self.actions.append(action)

    def event(self, kind: Literal["Normal", "Warning"], reason: str, message: str) -> None:
        self.actions.append(EmitEvent(kind, reason, message))

    def requeue_in(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        if self.requeue_after is None or seconds < self.requeue_after:
            self.requeue_after = seconds
