"""Argo Rollouts' state metrics, computed at scrape time from the informer caches (as Argo's collectors do).

    rollout_info{namespace,name,strategy,traffic_router,phase} 1        (phase: Argo's calculatePhase)
    rollout_info_replicas_available|unavailable|desired|updated{namespace,name}
    rollout_phase{namespace,name,strategy,phase}                       (deprecated; one series per phase)
    analysis_run_info{namespace,name,phase} 1, analysis_run_phase{...,phase} (deprecated, one per phase)
    analysis_run_metric_type{namespace,name,metric,type} 1
    analysis_run_metric_phase{namespace,name,metric,type,dry_run,phase}
    analysis_template_info{namespace,name} 1, analysis_template_metric_info{namespace,name,type,metric} 1
    experiment_info{namespace,name,phase} 1, experiment_phase{...,phase} (deprecated, Argo's five phases)

The phase is Argo's, not the status phase: Completed, Progressing, Paused, Timeout, Error, Abort or
InvalidSpec, read from the Progressing and InvalidSpec conditions, which is what Argo's dashboard and
alerts select on. The status phase (Healthy, Degraded, ...) is ours: ``rollouts_status_phase``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

ROLLOUT_PHASES = ("Completed", "Progressing", "Paused", "Timeout", "Error", "Abort")
RUN_PHASES = ("Pending", "Error", "Failed", "Successful", "Running", "Inconclusive")
# traffic routers in the order Argo checks them (a later one wins)
ROUTERS = (("alb", "ALB"), ("ambassador", "Ambassador"), ("istio", "Istio"), ("nginx", "Nginx"), ("smi", "SMI"),
           ("appMesh", "AppMesh"))
REASON_PHASE = {"NewReplicaSetAvailable": "Completed", "RolloutPaused": "Paused",
                "ReplicaSetCreateError": "Error", "ProgressDeadlineExceeded": "Timeout", "RolloutAborted": "Abort"}
PROVIDER_TYPES = {"prometheus": "Prometheus", "web": "Web", "job": "Job", "datadog": "Datadog",
                  "newRelic": "NewRelic", "wavefront": "Wavefront", "kayenta": "Kayenta",
                  "cloudWatch": "CloudWatch", "graphite": "Graphite", "influxdb": "Influxdb",
                  "skywalking": "Skywalking", "judge": "Judge"}


def _condition(status: Mapping[str, Any], ctype: str) -> Mapping[str, Any] | None:
    for c in status.get("conditions") or ():
        if isinstance(c, dict) and c.get("type") == ctype:
            return c
    return None


def argo_phase(rollout: Mapping[str, Any]) -> str:
    """Argo's metrics.calculatePhase."""
    status = rollout.get("status") or {}
    phase = "Progressing"
    progressing = _condition(status, "Progressing")
    if progressing is not None:
        phase = REASON_PHASE.get(str(progressing.get("reason")), phase)
    if _condition(status, "InvalidSpec") is not None:
        phase = "InvalidSpec"
    return phase


def strategy_and_router(rollout: Mapping[str, Any]) -> tuple[str, str]:
    strategy = ((rollout.get("spec") or {}).get("strategy")) or {}
    if strategy.get("blueGreen") is not None:
        return "blueGreen", ""
    canary = strategy.get("canary")
    if canary is None:
        return "none", ""
    routing = canary.get("trafficRouting") or {}
    router = ""
    for key, name in ROUTERS:
        if routing.get(key) is not None:
            router = name
    return "canary", router


def _int(value: Any) -> float:
    try:
        return float(int(value or 0))
    except (TypeError, ValueError):
        return 0.0


def rollout_families(rollouts: Iterable[Mapping[str, Any]]) -> list[Metric]:
    nn = ["namespace", "name"]
    info = GaugeMetricFamily("rollout_info", "Information about rollout.",
                             labels=[*nn, "strategy", "traffic_router", "phase"])
    replicas = {k: GaugeMetricFamily(f"rollout_info_replicas_{k}", f"The number of {k} replicas per rollout.",
                                     labels=nn) for k in ("available", "unavailable", "desired", "updated")}
    phases = GaugeMetricFamily("rollout_phase",
                               "Information on the state of the rollout (DEPRECATED - use rollout_info)",
                               labels=[*nn, "strategy", "phase"])
    ours = GaugeMetricFamily("rollouts_status_phase", "1 for the Rollout's status.phase (Healthy, Degraded, ...)",
                             labels=[*nn, "phase"])
    for ro in rollouts:
        meta, status, spec = ro.get("metadata") or {}, ro.get("status") or {}, ro.get("spec") or {}
        key = [str(meta.get("namespace") or ""), str(meta.get("name") or "")]
        strategy, router = strategy_and_router(ro)
        phase = argo_phase(ro)
        info.add_metric([*key, strategy, router, phase], 1)
        available = _int(status.get("availableReplicas"))
        replicas["available"].add_metric(key, available)
        replicas["unavailable"].add_metric(key, _int(status.get("replicas")) - available)
        replicas["desired"].add_metric(key, _int(spec.get("replicas", 1)))
        replicas["updated"].add_metric(key, _int(status.get("updatedReplicas")))
        for known in ROLLOUT_PHASES:
            phases.add_metric([*key, strategy, known], 1 if known == phase else 0)
        if status.get("phase"):
            ours.add_metric([*key, str(status["phase"])], 1)
    return [info, *replicas.values(), phases, ours]


def metric_type(metric: Mapping[str, Any]) -> str:
    provider = metric.get("provider") or {}
    for key, name in PROVIDER_TYPES.items():
        if provider.get(key) is not None:
            return name
    plugin = provider.get("plugin") or {}
    return str(next(iter(plugin), "")) if isinstance(plugin, dict) else ""


def _dry_run(spec: Mapping[str, Any]) -> set[str]:
    names = set()
    for entry in spec.get("dryRun") or ():
        name = str((entry or {}).get("metricName") or "")
        names |= {str(m.get("name")) for m in spec.get("metrics") or ()} if name == "*" else {name}
    return names


_DETECTED = re.compile(r"detected at interval (\d+)")


def _latest_judge_measurements(runs: Iterable[Mapping[str, Any]]) -> Iterator[tuple[list[str], Mapping[str, Any]]]:
    """([namespace, name, metric], latest measurement) of every Judge metric of every run that has one."""
    for run in runs:
        meta, spec, status = run.get("metadata") or {}, run.get("spec") or {}, run.get("status") or {}
        judged = {str(m.get("name")) for m in spec.get("metrics") or () if metric_type(m) == "Judge"}
        for result in status.get("metricResults") or ():
            name = str(result.get("name"))
            measurements = result.get("measurements") or []
            if name in judged and measurements:
                yield [str(meta.get("namespace") or ""), str(meta.get("name") or ""), name], measurements[-1]


def _judge_summary(measurement: Mapping[str, Any]) -> dict[str, Any] | None:
    """The judge's JSON value (score and per-metric labels): None when it is not JSON (the measurement is
    skipped), {} when it is JSON but not an object (only its metadata's detected intervals count)."""
    try:
        value = json.loads(measurement.get("value") or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else {}


def judge_families(runs: Iterable[Mapping[str, Any]]) -> list[Metric]:
    """Beyond Argo: the statistical judge's latest verdict per run and judged metric (score, label, and the
    interval at which a sequential test detected a difference)."""
    labels = ["namespace", "name", "metric"]
    score = GaugeMetricFamily("analysis_run_judge_score", "The judge's latest score (0-100) of the canary",
                              labels=labels)
    verdict = GaugeMetricFamily("analysis_run_judge_verdict", "1 for the judge's latest label of each judged "
                                "metric (Pass, High, Low, NoData)", labels=[*labels, "judged_metric", "label"])
    detected = GaugeMetricFamily("analysis_run_judge_detected_interval", "The interval at which the judge "
                                 "detected a difference (sequential mode)", labels=[*labels, "judged_metric"])
    for key, last in _latest_judge_measurements(runs):
        value = _judge_summary(last)
        if value is None:
            continue
        if isinstance(value.get("score"), (int, float)):
            score.add_metric(key, float(value["score"]))
        for judged_metric, label in (value.get("metrics") or {}).items():
            verdict.add_metric([*key, str(judged_metric), str(label)], 1)
        for judged_metric, text in (last.get("metadata") or {}).items():
            found = _DETECTED.search(str(text))
            if found:
                detected.add_metric([*key, str(judged_metric)], float(found.group(1)))
    return [score, verdict, detected]


def analysis_families(runs: Iterable[Mapping[str, Any]], templates: Iterable[Mapping[str, Any]]) -> list[Metric]:
    runs = list(runs)
    nn = ["namespace", "name"]
    info = GaugeMetricFamily("analysis_run_info", "Information about analysis run.", labels=[*nn, "phase"])
    phases = GaugeMetricFamily("analysis_run_phase", "Information on the state of the Analysis Run (DEPRECATED - "
                               "use analysis_run_info)", labels=[*nn, "phase"])
    mtype = GaugeMetricFamily("analysis_run_metric_type", "Information on the type of a specific metric in the "
                              "Analysis Runs", labels=[*nn, "metric", "type"])
    mphase = GaugeMetricFamily("analysis_run_metric_phase", "Information on the duration of a specific metric in "
                               "the Analysis Run", labels=[*nn, "metric", "type", "dry_run", "phase"])
    for run in runs:
        meta, spec, status = run.get("metadata") or {}, run.get("spec") or {}, run.get("status") or {}
        key = [str(meta.get("namespace") or ""), str(meta.get("name") or "")]
        phase = str(status.get("phase") or "")
        info.add_metric([*key, phase], 1)
        for known in RUN_PHASES:
            phases.add_metric([*key, known], 1 if known == (phase or "Pending") else 0)
        results = {str(r.get("name")): str(r.get("phase") or "") for r in status.get("metricResults") or ()}
        dry = _dry_run(spec)
        for metric in spec.get("metrics") or ():
            name, typ = str(metric.get("name")), metric_type(metric)
            mtype.add_metric([*key, name, typ], 1)
            current = results.get(name) or "Pending"
            for known in RUN_PHASES:
                mphase.add_metric([*key, name, typ, str(name in dry).lower(), known], 1 if known == current else 0)
    return [info, phases, mtype, mphase, *template_families(templates), *judge_families(runs)]


def template_families(templates: Iterable[Mapping[str, Any]]) -> Iterator[Metric]:
    info = GaugeMetricFamily("analysis_template_info", "Information about analysis templates.",
                             labels=["namespace", "name"])
    metric_info = GaugeMetricFamily("analysis_template_metric_info", "Information on metrics in analysis templates.",
                                    labels=["namespace", "name", "type", "metric"])
    for t in templates:
        meta = t.get("metadata") or {}
        key = [str(meta.get("namespace") or ""), str(meta.get("name") or "")]
        info.add_metric(key, 1)
        for metric in (t.get("spec") or {}).get("metrics") or ():
            metric_info.add_metric([*key, metric_type(metric), str(metric.get("name"))], 1)
    yield info
    yield metric_info


EXPERIMENT_PHASES = ("Pending", "Error", "Successful", "Running", "Inconclusive")
"""The phases Argo's deprecated experiment_phase reports, in its order (controller/metrics/experiments.go): it has
no Failed series."""


def experiment_families(experiments: Iterable[Mapping[str, Any]]) -> list[Metric]:
    """experiment_info{namespace,name,phase} 1 and experiment_phase{...,phase} (deprecated, one per phase)."""
    nn = ["namespace", "name"]
    info = GaugeMetricFamily("experiment_info", "Information about Experiment.", labels=[*nn, "phase"])
    phases = GaugeMetricFamily("experiment_phase", "Information on the state of the experiment (DEPRECATED - use "
                               "experiment_info)", labels=[*nn, "phase"])
    for ex in experiments:
        meta = ex.get("metadata") or {}
        key = [str(meta.get("namespace") or ""), str(meta.get("name") or "")]
        phase = str((ex.get("status") or {}).get("phase") or "")
        info.add_metric([*key, phase], 1)
        for known in EXPERIMENT_PHASES:
            phases.add_metric([*key, known], 1 if known == (phase or "Pending") else 0)
    return [info, phases]
