"""Job metric provider: a Kubernetes Job from the metric's `spec`; Job succeeded -> Successful, failed -> Failed.

As in Argo, the Job is named `<run uid>.<metric>.<attempt>`, labelled with the run's uid and the metric
name, and owned by the AnalysisRun (so deleting the run deletes its Jobs). The measurement stays Running
with `metadata.job-name` / `job-namespace` and a `resumeAt` `POLL_INTERVAL` ahead; each resume reads the
Job's conditions. Terminating a run deletes its running Jobs and ends the measurement Successful, which is
what Argo does. A Job that disappeared while running is an Error measurement. Creation is idempotent:
after a controller restart the same name is found rather than created twice.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from analysis.measurement import error_measurement
from analysis.providers.base import Clock, JobClient, MeasurementContext, ProviderDeps
from rollouts.api.analysis import API_VERSION, AnalysisPhase, Measurement, Metric
from rollouts.api.owners import controller_reference

POLL_INTERVAL = timedelta(seconds=5)
RUN_UID_LABEL = "analysisrun.argoproj.io/uid"
RUN_NAME_ANNOTATION = "analysisrun.argoproj.io/name"
METRIC_NAME_LABEL = "analysisrun.argoproj.io/metric-name"


JOB_NAME_LIMIT = 63
"""Argo's defaults.Kubernetes_DNS_Limit: the Job controller copies the Job's name into a pod label value."""


def job_name(context: MeasurementContext, metric_name: str) -> str:
    """`<uid>.<metric>.<attempt>`, lowercased; over 63 characters the metric part is cut, as Argo's newJobName
    (the Job controller puts the name into the pods' `job-name` label, which allows 63).

    uid ``00058338-0884-40b1-97ab-8215fc01d286``, metric ``long-running-job-deadline-metric``, attempt 5 ->
    ``00058338-0884-40b1-97ab-8215fc01d286.long-running-job-deadlin.5``. A cut that ends on ``-`` or ``.`` is
    cut further (Argo would have the API server reject that name)."""
    safe = re.sub(r"[^a-z0-9.-]+", "-", metric_name.lower()).strip("-.") or "metric"
    name = f"{context.run_uid}.{safe}.{context.attempt}"
    over = len(name) - JOB_NAME_LIMIT
    if over > 0:
        safe = safe[: max(1, len(safe) - over)].rstrip("-.") or safe[:1]
        name = f"{context.run_uid}.{safe}.{context.attempt}"
    return name


def job_manifest(metric: Metric, context: MeasurementContext) -> dict[str, Any]:
    spec = metric.provider.job
    if spec is None:
        raise ValueError("job provider is not set")
    label_value = re.sub(r"[^A-Za-z0-9_.-]+", "-", metric.name)[:63].strip("-_.")
    labels = {**spec.metadata.labels, RUN_UID_LABEL: context.run_uid, METRIC_NAME_LABEL: label_value}
    annotations = {**spec.metadata.annotations, RUN_NAME_ANNOTATION: context.run_name}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(context, metric.name),
            "namespace": context.namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [controller_reference(api_version=API_VERSION, kind="AnalysisRun",
                                                     name=context.run_name, uid=context.run_uid)],
        },
        "spec": spec.spec,
    }


TERMINAL_WAITING_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})
"""Container waiting reasons after which a Job never makes progress by itself (Argo's terminalWaitingReasons)."""


def terminal_pod_error(pods: list[dict[str, Any]]) -> str | None:
    """Argo's processJobPods: the first (init) container stuck on an image it cannot pull, as Argo words it.

    A pod ``j-x`` whose container ``c`` waits in ImagePullBackOff "Back-off pulling image" -> ``Pod j-x, container
    c has terminal error (ImagePullBackOff): Back-off pulling image``."""
    for pod in pods:
        status = pod.get("status") or {}
        for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in TERMINAL_WAITING_REASONS:
                return (f"Pod {pod.get('metadata', {}).get('name')}, container {cs.get('name')} has terminal error "
                        f"({waiting['reason']}): {waiting.get('message', '')}")
    return None


def job_outcome(job: dict[str, Any]) -> AnalysisPhase:
    """Successful / Failed from the Job's conditions, Running otherwise."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") in ("Complete", "SuccessCriteriaMet"):
            return AnalysisPhase.SUCCESSFUL
        if condition.get("type") in ("Failed", "FailureTarget"):
            return AnalysisPhase.FAILED
    return AnalysisPhase.RUNNING


class JobProvider:
    def __init__(self, deps: ProviderDeps) -> None:
        self.clock: Clock = deps.clock
        self.client: JobClient | None = deps.job_client

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        if self.client is None:
            return error_measurement("job metrics need a Kubernetes client, none is configured",
                                     started_at=started, finished_at=started)
        try:
            manifest = job_manifest(metric, context)
            name = manifest["metadata"]["name"]
            existing = await self.client.get_job(context.namespace, name)
            job = existing if existing is not None else await self.client.create_job(context.namespace, manifest)
        except Exception as exc:  # API errors become Error measurements; the run retries in 10 s
            return error_measurement(f"cannot create job for metric {metric.name!r}: {exc}", started_at=started,
                                     finished_at=self.clock())
        running = Measurement(phase=AnalysisPhase.RUNNING, started_at=started,
                              metadata={"job-name": name, "job-namespace": context.namespace},
                              resume_at=started + POLL_INTERVAL)
        return self._settle(running, job)

    def _settle(self, measurement: Measurement, job: dict[str, Any]) -> Measurement:
        now = self.clock()
        phase = job_outcome(job)
        if phase is AnalysisPhase.RUNNING:
            return measurement.model_copy(update={"resume_at": now + POLL_INTERVAL})
        name = (measurement.metadata or {}).get("job-name", "")
        message = None if phase is AnalysisPhase.SUCCESSFUL else f"job {name} failed"
        return measurement.model_copy(update={"phase": phase, "finished_at": now, "resume_at": None,
                                              "message": message})

    async def resume(self, metric: Metric, measurement: Measurement, context: MeasurementContext
                     ) -> Measurement:
        metadata = measurement.metadata or {}
        name, namespace = metadata.get("job-name"), metadata.get("job-namespace", context.namespace)
        if self.client is None or not name:
            return measurement.model_copy(update={"phase": AnalysisPhase.ERROR, "finished_at": self.clock(),
                                                  "message": "running job measurement has no job to follow"})
        try:
            job = await self.client.get_job(namespace, name)
        except Exception as exc:
            return measurement.model_copy(update={"resume_at": self.clock() + POLL_INTERVAL,
                                                  "message": f"cannot read job {name}: {exc}"})
        if job is None:
            return measurement.model_copy(update={"phase": AnalysisPhase.ERROR, "finished_at": self.clock(),
                                                  "resume_at": None, "message": f"job {name} not found"})
        settled = self._settle(measurement, job)
        if settled.phase is AnalysisPhase.RUNNING:
            return await self._stuck(settled, namespace, job)
        return settled

    async def _stuck(self, measurement: Measurement, namespace: str, job: dict[str, Any]) -> Measurement:
        """A running Job whose pod cannot pull its image is Inconclusive: it would never finish, and a person
        should look (Argo's Resume with processJobPods; TestCanaryBackgroundAnalysisInvalidImageJob)."""
        assert self.client is not None
        try:
            error = terminal_pod_error(await self.client.job_pods(namespace, job))
        except Exception:  # pods unreadable now: look again at the next poll
            return measurement
        if error is None:
            return measurement
        return measurement.model_copy(update={"phase": AnalysisPhase.INCONCLUSIVE, "finished_at": self.clock(),
                                              "resume_at": None, "message": error})

    async def terminate(self, metric: Metric, measurement: Measurement, context: MeasurementContext
                        ) -> Measurement:
        metadata = measurement.metadata or {}
        name, namespace = metadata.get("job-name"), metadata.get("job-namespace", context.namespace)
        if self.client is not None and name:
            try:
                await self.client.delete_job(namespace, name)
            except Exception:  # already gone or not deletable: the run ends anyway, owner refs clean up
                pass
        # Argo's Terminate: the Job is deleted and the measurement is Inconclusive (a promotion that ends a
        # background run whose Job still runs leaves it Inconclusive: TestCanaryBackgroundAnalysisLongRunningJob).
        return measurement.model_copy(update={"phase": AnalysisPhase.INCONCLUSIVE, "finished_at": self.clock(),
                                              "resume_at": None, "message": "Metric terminated"})
