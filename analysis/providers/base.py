"""The one small interface every metric provider implements, and what a provider may be given.

A provider turns one metric into one Measurement. Most answer at once (`measure` returns a completed
measurement); job-like providers start something, return a Running measurement with `resumeAt`, and are
polled through `resume` until it completes; when the run ends early they are stopped with `terminate`.
Failures to reach a backend are returned as Error measurements (never raised), so the AnalysisRun's
consecutiveErrorLimit applies exactly as in Argo.

The job provider needs Kubernetes, but analysis/ must not import rollouts.kube: it receives a `JobClient`
(implemented by the controller on top of KubeClient) through `ProviderDeps`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from analysis.sandbox import InlineSandbox, Sandbox
from rollouts.api.analysis import Measurement, Metric

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MeasurementContext:
    """Where a measurement is taken: the run it belongs to and which attempt of the metric this is."""

    namespace: str
    run_name: str
    run_uid: str
    started_at: datetime
    attempt: int = 1
    labels: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    """Secret argument values of the run: redacted from a value before it is cut (analysis.redaction)."""


class MetricProvider(Protocol):
    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        """Take a measurement: completed, or Running (with resumeAt) for long-running providers."""
        ...

    async def resume(self, metric: Metric, measurement: Measurement, context: MeasurementContext
                     ) -> Measurement:
        """Check a Running measurement again; return it completed or still Running."""
        ...

    async def terminate(self, metric: Metric, measurement: Measurement, context: MeasurementContext
                        ) -> Measurement:
        """Stop a Running measurement because the run ends; returns the final measurement."""
        ...


class JobClient(Protocol):
    """The Kubernetes operations the job provider needs; Job objects are plain dicts (batch/v1)."""

    async def create_job(self, namespace: str, job: dict[str, Any]) -> dict[str, Any]: ...

    async def get_job(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def delete_job(self, namespace: str, name: str) -> None: ...


@dataclass(frozen=True, slots=True)
class ProviderDeps:
    """Everything a provider factory may need. `job_client` is None where Jobs are not available (the
    `rollouts judge` CLI), and then a job metric is an Error measurement saying so. `sandbox` runs the
    CPU-bound part of a measurement (analysis.sandbox)."""

    clock: Clock = utc_now
    job_client: JobClient | None = None
    sandbox: Sandbox = field(default_factory=InlineSandbox)
    """Where conditions, JSONPath and judges run: the controller passes a ProcessSandbox (off the loop,
    with a deadline); the CLI and unit tests run them inline."""


class ImmediateProvider:
    """Base for providers whose measurements complete at once: resume and terminate are trivial."""

    clock: Clock

    async def resume(self, metric: Metric, measurement: Measurement, context: MeasurementContext
                     ) -> Measurement:
        return measurement

    async def terminate(self, metric: Metric, measurement: Measurement, context: MeasurementContext
                        ) -> Measurement:
        now = self.clock()
        return measurement.model_copy(update={"phase": measurement.phase.SUCCESSFUL, "finished_at": now,
                                              "message": "Metric terminated"})
