"""The AnalysisRun reconciler: read run -> resolve args -> take due measurements -> one status write -> requeue.

All the rules live in analysis.run (pure); this module only gathers inputs (the run from the informer,
Secret values and field references through the API), calls the providers for what is due, writes the
status through the status subresource guarded by resourceVersion (a 409 re-reads and re-plans), and
requeues the run at its next due time. A measurement already written survives a restart, and one taken
but not written is simply taken again, so killing the process at any line converges.

Secret values are read into memory only for the measurement and passed to `record_measurements` /
`error_status`, which redact them from every message and value written to the run; they are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError

from analysis.measuring import take_measurements
from analysis.providers import MetricProvider, ProviderDeps, build_providers
from analysis.redaction import remember
from analysis.run import (
    completed_metrics,
    due_measurements,
    error_status,
    next_reconcile_at,
    record_measurements,
    validate_metrics,
)
from analysis.sandbox import DEFAULT_DEADLINE, ProcessSandbox, Sandbox
from analysis.templating import TemplateError, argument_values, resolve_metric
from rollouts.api.analysis import AnalysisPhase, AnalysisRun, AnalysisRunStatus
from rollouts.api.owners import controller_name
from rollouts.controller.events import EventRecorder
from rollouts.controller.metrics import AnalysisRunMetrics
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.informer import Informer
from rollouts.kube.resources import ANALYSISRUN, JOB, POD, ROLLOUT, SECRET
from rollouts.kube.shards import ShardSet
from rollouts.kube.worker import run_worker
from rollouts.kube.workqueue import WorkQueue

Key = tuple[str, str]
Clock = Callable[[], datetime]
log = structlog.get_logger("rollouts.analysis")


class ArgumentError(Exception):
    """An argument's valueFrom could not be resolved (missing Secret, key or field)."""


class KubeJobClient:
    """The job provider's JobClient on top of KubeClient (analysis/ must not import rollouts.kube)."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client

    async def create_job(self, namespace: str, job: dict[str, Any]) -> dict[str, Any]:
        return await self.client.create(JOB, job, namespace)

    async def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self.client.get_or_none(JOB, name, namespace)

    async def delete_job(self, namespace: str, name: str) -> None:
        try:
            await self.client.delete(JOB, name, namespace, propagation="Background")
        except NotFound:
            return

    async def job_pods(self, namespace: str, job: dict[str, Any]) -> list[dict[str, Any]]:
        labels = ((job.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not labels:
            return []
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        pods, _ = await self.client.list(POD, namespace, label_selector=selector)
        return pods


class KubeSecretReader:
    """The vendor providers' SecretReader (their credential Secrets) on top of KubeClient."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self.client.get_or_none(SECRET, name, namespace)


_FIELD_STEP = re.compile(r"\.?([A-Za-z0-9_-]+)|\[['\"]([^'\"]+)['\"]\]")


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """`metadata.labels['app']` / `spec.replicas` read from an object, as a string (Kubernetes fieldRef)."""
    current: Any = obj
    position = 0
    for match in _FIELD_STEP.finditer(path):
        if match.start() != position:
            break
        key = match.group(1) or match.group(2)
        current = current.get(key) if isinstance(current, Mapping) else None
        position = match.end()
    if position != len(path) or not path:
        raise ArgumentError(f"unsupported fieldPath {path!r}")
    if current is None:
        raise ArgumentError(f"fieldPath {path!r} has no value")
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


async def resolve_arguments(client: KubeClient, run: AnalysisRun, raw: Mapping[str, Any]
                            ) -> tuple[dict[str, str], list[str]]:
    """Values of the run's valueFrom arguments, and the list of those that are secret."""
    namespace = run.metadata.namespace or ""
    resolved: dict[str, str] = {}
    secrets: list[str] = []
    owner: Mapping[str, Any] | None = None
    for arg in run.spec.args:
        source = arg.value_from
        if arg.value is not None or source is None:
            continue
        if source.secret_key_ref is not None:
            ref = source.secret_key_ref
            secret = await client.get_or_none(SECRET, ref.name, namespace)
            if secret is None:
                raise ArgumentError(f"argument {arg.name!r}: secret {ref.name!r} not found")
            data = (secret.get("data") or {}).get(ref.key)
            if data is None:
                raise ArgumentError(f"argument {arg.name!r}: secret {ref.name!r} has no key {ref.key!r}")
            value = base64.b64decode(data).decode("utf-8", errors="replace")
            resolved[arg.name] = value
            secrets.append(value)
            remember([value])  # every log line and event of this process redacts it from now on
        elif source.field_ref is not None:
            if owner is None:
                owner = await _owner(client, raw) or raw
            resolved[arg.name] = field_value(owner, source.field_ref.field_path)
    return resolved, secrets


async def _owner(client: KubeClient, raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The controlling Rollout of the run, which Argo evaluates fieldRef arguments against."""
    name = controller_name(raw, ROLLOUT.kind)
    if name is None:
        return None
    return await client.get_or_none(ROLLOUT, name, (raw.get("metadata") or {}).get("namespace"))


def status_body(status: AnalysisRunStatus) -> dict[str, Any]:
    body: dict[str, Any] = status.model_dump(by_alias=True, exclude_none=True, mode="json")
    return body


class AnalysisRunReconciler:
    """Owns a work queue of AnalysisRun keys, fed by an informer; `worker()` loops reconcile."""

    def __init__(self, client: KubeClient, runs: Informer, *, providers: Mapping[str, MetricProvider] | None = None,
                 recorder: EventRecorder | None = None, clock: Clock = lambda: datetime.now(UTC),
                 sandbox: Sandbox | None = None, metrics: AnalysisRunMetrics | None = None,
                 shards: ShardSet | None = None) -> None:
        self.client = client
        self.shards = shards
        self.metrics = metrics or AnalysisRunMetrics()
        self.runs = runs
        self.clock = clock
        self.queue: WorkQueue[Key] = WorkQueue(name="AnalysisRuns")
        if shards is not None:  # a run is sharded by its own name: each run has one owner, maybe not its Rollout's
            shards.requeue_on_acquire(runs, self.queue.add)
        deps = ProviderDeps(clock=clock, job_client=KubeJobClient(client), secret_reader=KubeSecretReader(client))
        if sandbox is not None:
            deps = dataclasses.replace(deps, sandbox=sandbox)
        self.providers = dict(providers) if providers is not None else build_providers(deps)
        self.recorder = recorder
        runs.add_handler(self._on_run)

    def _on_run(self, etype: str, obj: dict[str, Any]) -> None:
        if etype == "DELETED":
            return
        meta = obj.get("metadata") or {}
        self.queue.add((meta.get("namespace", ""), meta["name"]))

    async def worker(self) -> None:
        await run_worker(self.queue, self.reconcile, kind="analysis run", log=log,
                         fields=lambda key: {"namespace": key[0], "analysisrun": key[1]},
                         on_error=lambda key: self.metrics.reconcile_errors.inc(*key),
                         on_finished=lambda key, s: self.metrics.reconcile_seconds.labels(*key).observe(s),
                         shards=self.shards, shard_key=lambda key: f"{key[0]}/{key[1]}")

    async def reconcile(self, key: Key) -> float | None:
        """One pass over one run; returns seconds until it is due again (None: nothing more to do)."""
        namespace, name = key
        raw = self.runs.get(namespace, name)
        if raw is None or (raw.get("metadata") or {}).get("deletionTimestamp"):
            return None
        now = self.clock()
        try:
            run = AnalysisRun.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            await self._write(raw, None, AnalysisRunStatus(phase=AnalysisPhase.ERROR, message=f"invalid: {problems}",
                                                           started_at=now))
            return None
        if run.status is not None and run.status.phase.is_completed():
            return None
        secrets: list[str] = []
        try:
            resolved, secrets = await resolve_arguments(self.client, run, raw)
            values = argument_values(run.spec.args, resolved)
            metrics = [resolve_metric(metric, values) for metric in run.spec.metrics]
            problem = validate_metrics(metrics, self.providers, secrets=secrets)
        except (ArgumentError, TemplateError) as exc:
            problem = str(exc)
            metrics = []
        if problem is not None:
            await self._write(raw, run, error_status(run, problem, now=now, secrets=secrets))
            return None
        if run.status is None or not run.status.phase:
            # A new run says Running before its first measurement is taken: taking it can take a while (a
            # Job, a slow provider, the condition sandbox starting) and the Rollout, Argo's e2e suite and a
            # user look at the run's phase meanwhile (Argo's measurements are taken within milliseconds).
            started = record_measurements(run, metrics, {}, now=now, secrets=secrets)
            await self._write(raw, run, started)
            raw = self.runs.get(namespace, name) or raw
            run = run.model_copy(update={"status": started})
        due = due_measurements(run, metrics, now=now)
        taken = await take_measurements(run, due, self.providers, clock=self.clock, secrets=secrets) if due else {}
        status = record_measurements(run, metrics, taken, now=now, secrets=secrets)
        await self._write(raw, run, status)
        updated = run.model_copy(update={"status": status})
        return _delay(next_reconcile_at(updated, metrics, now=self.clock()), self.clock())

    async def _write(self, raw: dict[str, Any], run: AnalysisRun | None, status: AnalysisRunStatus) -> None:
        body = status_body(status)
        if raw.get("status") == body:
            return
        try:
            updated = await self.client.replace(ANALYSISRUN, {**raw, "status": body}, subresource="status")
        except NotFound:
            return
        self.runs.upsert(updated)
        if self.recorder is not None:
            for completion in completed_metrics(run.status if run is not None else None, status):
                await self.recorder.record(updated, type=completion.event_type, reason=completion.reason,
                                           message=completion.message)
        before = (raw.get("status") or {}).get("phase")
        if status.phase.is_completed() and before != str(status.phase):
            meta = raw.get("metadata") or {}
            log.info("analysis run completed", namespace=meta.get("namespace"), run=meta.get("name"),
                     phase=str(status.phase), message=status.message)
            if self.recorder is not None:  # Argo's recordAnalysisRunCompletionEvent: Warning for Failed and Error
                kind = "Warning" if status.phase in (AnalysisPhase.FAILED, AnalysisPhase.ERROR) else "Normal"
                await self.recorder.record(updated, type=kind, reason=f"AnalysisRun{status.phase}",
                                           message=f"Analysis Completed. Result: {status.phase}")


def _delay(when: datetime | None, now: datetime) -> float | None:
    if when is None:
        return None
    return max((when - now).total_seconds(), 0.05)


async def run_analysis_runs(client: KubeClient, config: Any, stop: asyncio.Event, *, workers: int = 2,
                            clock: Clock = lambda: datetime.now(UTC),
                            metrics: AnalysisRunMetrics | None = None) -> None:
    """The controller component (rollouts.controller.runtime.Component): its own informer, queue and
    workers, until `stop` is set. `config.namespace` limits it to one namespace."""
    informer = Informer(client, ANALYSISRUN, namespace=getattr(config, "namespace", None))
    recorder = EventRecorder(client)
    # conditions, JSONPath and judges run in worker processes with a deadline, never on this event loop
    sandbox = ProcessSandbox(deadline=float(getattr(config, "evaluation_deadline", DEFAULT_DEADLINE)))
    reconciler = AnalysisRunReconciler(client, informer, recorder=recorder, clock=clock, sandbox=sandbox,
                                       metrics=metrics, shards=getattr(config, "shard_set", None))
    tasks = [asyncio.create_task(informer.run(), name="informer-analysisruns")]
    try:
        await informer.synced.wait()
        tasks.append(asyncio.create_task(reconciler.queue.run_timers(), name="analysis-requeue-timers"))
        tasks += [asyncio.create_task(reconciler.worker(), name=f"analysis-worker-{n}") for n in range(workers)]
        log.info("analysis run reconciler started", runs=len(informer), workers=workers)
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await recorder.close()
        await asyncio.to_thread(sandbox.close)


__all__ = ["AnalysisRunReconciler", "KubeJobClient", "KubeSecretReader", "resolve_arguments", "run_analysis_runs"]

