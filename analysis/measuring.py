"""Carry out the measurements `run.due_measurements` asked for, through the providers, concurrently.

This is the "do" half of an AnalysisRun reconcile that does not involve Kubernetes: it maps each due
measurement to its provider's measure / resume / terminate and turns any exception a provider lets escape
into an Error measurement, so one broken provider can never stop the run's other metrics or crash the
controller. It knows nothing about how the run is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from analysis.measurement import error_measurement
from analysis.providers.base import Clock, MeasurementContext, MetricProvider
from analysis.redaction import redact_then_cut
from analysis.run import Action, DueMeasurement
from rollouts.api.analysis import AnalysisRun, Measurement

MEASUREMENT_DEADLINE = 120.0


def context_for(run: AnalysisRun, due: DueMeasurement, *, now_started: Clock, secrets: Sequence[str] = ()
                ) -> MeasurementContext:
    status = run.status
    started = status.started_at if status is not None and status.started_at else now_started()
    result = next((r for r in (status.metric_results if status else []) if r.name == due.metric.name), None)
    attempt = 1 + (result.count + result.error if result is not None else 0)
    return MeasurementContext(
        namespace=run.metadata.namespace or "", run_name=run.metadata.name or "",
        run_uid=run.metadata.uid or "", started_at=started, attempt=attempt, secrets=tuple(secrets),
    )


async def take_measurements(
    run: AnalysisRun, due: Sequence[DueMeasurement], providers: Mapping[str, MetricProvider], *, clock: Clock,
    deadline: float = MEASUREMENT_DEADLINE, secrets: Sequence[str] = (),
) -> dict[str, Measurement]:
    """Measurements by metric name for everything in `due` (each one completed, Running or Error)."""

    async def one(item: DueMeasurement) -> Measurement:
        started = clock()
        keys = item.metric.provider.provider_keys()
        provider = providers.get(keys[0]) if len(keys) == 1 else None
        if provider is None:
            return error_measurement(f"no provider for metric {item.metric.name!r} ({keys})", started_at=started,
                                     finished_at=started)
        context = context_for(run, item, now_started=clock, secrets=secrets)
        try:
            if item.action is Action.MEASURE:
                call = provider.measure(item.metric, context)
            elif item.running is None:
                return error_measurement("nothing to resume", started_at=started, finished_at=started)
            elif item.action is Action.RESUME:
                call = provider.resume(item.metric, item.running, context)
            else:
                call = provider.terminate(item.metric, item.running, context)
            return await asyncio.wait_for(call, timeout=deadline)
        except TimeoutError:
            return error_measurement(f"measurement took longer than {deadline:g}s", started_at=started,
                                     finished_at=clock())
        except Exception as exc:
            detail = redact_then_cut(str(exc), secrets, 400)  # a cut must not leave a piece of a secret
            return error_measurement(f"{keys[0]} provider failed: {type(exc).__name__}: {detail}",
                                     started_at=started, finished_at=clock())

    results = await asyncio.gather(*(one(item) for item in due))
    return {item.metric.name: measurement for item, measurement in zip(due, results, strict=True)}
