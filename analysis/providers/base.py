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

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from analysis.redaction import remember
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

    async def job_pods(self, namespace: str, job: dict[str, Any]) -> list[dict[str, Any]]:
        """The pods the Job's selector matches (their container states show a pull that can never succeed)."""
        ...


class SecretReader(Protocol):
    """Reads one Secret by name (the vendor providers' credentials); None when it does not exist. The
    controller implements it on KubeClient; `data` values come base64-encoded, as the API returns them."""

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None: ...


def controller_namespace() -> str:
    """Where provider credential Secrets live: the controller's own namespace, as Argo's
    defaults.Namespace() (POD_NAMESPACE, else argo-rollouts)."""
    return os.environ.get("POD_NAMESPACE") or "argo-rollouts"


class CredentialsError(Exception):
    """A provider's credentials could not be read; the message names the Secret (never a value)."""


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
    secret_reader: SecretReader | None = None
    """Where vendor providers read their credentials (None: no cluster, so credentials cannot be read)."""
    namespace: str = field(default_factory=controller_namespace)
    """The controller's namespace: where Argo looks for the datadog, newrelic, influxdb, ... Secrets."""

    async def secret_data(self, name: str, *, credentials: tuple[str, ...], namespace: str | None = None
                          ) -> dict[str, str]:
        """The decoded data of Secret `name` (in the controller's namespace unless told); the values of the
        `credentials` keys are registered for redaction (not an address or a region: "us" would be redacted
        from every log line). CredentialsError worded as the API server's NotFound when it is missing."""
        where = namespace or self.namespace
        if self.secret_reader is None:
            raise CredentialsError(f"cannot read secret {name!r}: no Kubernetes API available")
        secret = await self.secret_reader.get_secret(where, name)
        if secret is None:
            raise CredentialsError(f'secrets "{name}" not found')
        data: dict[str, str] = {}
        for key, value in (secret.get("data") or {}).items():
            data[key] = base64.b64decode(value).decode("utf-8", errors="replace") if value else ""
        for key, value in (secret.get("stringData") or {}).items():
            data.setdefault(key, str(value))
        remember(data[key] for key in credentials if key in data)  # every log line and event redacts them
        return data


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
