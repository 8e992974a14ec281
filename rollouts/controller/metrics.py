"""Prometheus metrics of the controller (served on --metrics-port at /metrics), with Argo Rollouts' names,
labels and semantics so its dashboards and alerts work unchanged (docs/features/controller-metrics.md):

* rollout_reconcile (histogram, Argo's buckets) and rollout_reconcile_error {namespace, name};
  analysis_run_reconcile and analysis_run_reconcile_error (in the AnalysisRun component);
* rollout_events_total {namespace, name, type, reason}: every event recorded on a Rollout;
* the state metrics of ``state_metrics`` (rollout_info and its replicas, rollout_phase, analysis_run_*,
  experiment_info/_phase), computed from the caches at scrape time;
* controller_clientset_k8s_request_total {kind, namespace, name, verb, status_code};
* workqueue_* {name} as client-go names them (adds, depth, queue and work duration, retries,
  unfinished work, longest running processor) for every named queue (Rollouts, AnalysisRuns, ...);
* argo_rollouts_controller_info {version}; the process_* and python_* collectors, and, for Argo's
  dashboard's memory panel, go_memstats_heap_alloc_bytes (this process's resident memory: there is no Go heap);
* ours, under our own names: controller_queue_depth, controller_api_requests, controller_leader,
  rollouts_status_phase.

Argo's counters without ``_total`` (rollout_reconcile_error, ...) keep their exact names: prometheus_client
would add the suffix to a Counter, so they are exposed by ``ExactCounter``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from rollouts import __version__
from rollouts.controller.state_metrics import analysis_families, experiment_families, rollout_families
from rollouts.kube.workqueue import NAMED_QUEUES

ARGO_BUCKETS = (0.01, 0.15, 0.25, 0.5, 1)
WORKQUEUE_BUCKETS = tuple(10.0**e for e in range(-8, 2))  # client-go: 1e-8 .. 10 s


class ExactCounter:
    """A labelled counter exposed under exactly ``name`` (no ``_total`` appended).

    prometheus_client names a counter's family ``<name>_total`` in the text format, so the family is declared
    untyped: the samples carry exactly Argo's name, which is what queries and alerts select on.
    """

    def __init__(self, name: str, documentation: str, labels: Sequence[str]) -> None:
        self.name, self.documentation, self.label_names = name, documentation, tuple(labels)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def collect(self) -> Iterator[Metric]:
        metric = Metric(self.name, self.documentation, "unknown")
        for labels, value in self.values.items():
            metric.add_sample(self.name, dict(zip(self.label_names, labels, strict=True)), value)
        yield metric


class _Collect:
    def __init__(self, produce: Callable[[], list[Metric]]) -> None:
        self.produce = produce

    def collect(self) -> Iterator[Metric]:
        yield from self.produce()


class WorkqueueCollector:
    """client-go's workqueue metrics for the named queues of this process."""

    def __init__(self) -> None:
        self.queue_seconds = Histogram("workqueue_queue_duration_seconds", "How long in seconds an item stays in "
                                       "workqueue before being requested.", ["name"], registry=None,
                                       buckets=WORKQUEUE_BUCKETS)
        self.work_seconds = Histogram("workqueue_work_duration_seconds", "How long in seconds processing an item "
                                      "from workqueue takes.", ["name"], registry=None, buckets=WORKQUEUE_BUCKETS)

    def collect(self) -> Iterator[Metric]:
        now = time.monotonic()
        adds = CounterMetricFamily("workqueue_adds", "Total number of adds handled by workqueue", labels=["name"])
        retries = CounterMetricFamily("workqueue_retries", "Total number of retries handled by workqueue",
                                      labels=["name"])
        depth = GaugeMetricFamily("workqueue_depth", "Current depth of workqueue", labels=["name"])
        unfinished = GaugeMetricFamily("workqueue_unfinished_work_seconds", "How many seconds of work has done "
                                       "that is in progress and hasn't been observed by work_duration.",
                                       labels=["name"])
        longest = GaugeMetricFamily("workqueue_longest_running_processor_seconds", "How many seconds has the "
                                    "longest running processor for workqueue been running.", labels=["name"])
        totals: dict[str, list[float]] = {}  # name -> adds, retries, depth, unfinished, longest
        for queue in list(NAMED_QUEUES):  # queues sharing a name (several controllers in a test process) add up
            queued, worked = queue.stats.drain()
            for s in queued:
                self.queue_seconds.labels(queue.name).observe(s)
            for s in worked:
                self.work_seconds.labels(queue.name).observe(s)
            running = [now - t for t in queue.in_flight.values()]
            row = totals.setdefault(queue.name, [0.0, 0.0, 0.0, 0.0, 0.0])
            row[0] += queue.stats.adds
            row[1] += queue.stats.retries
            row[2] += len(queue)
            row[3] += sum(running)
            row[4] = max(row[4], max(running, default=0.0))
        for name, (n_adds, n_retries, n_depth, n_unfinished, n_longest) in sorted(totals.items()):
            adds.add_metric([name], n_adds)
            retries.add_metric([name], n_retries)
            depth.add_metric([name], n_depth)
            unfinished.add_metric([name], n_unfinished)
            longest.add_metric([name], n_longest)
        yield from (adds, retries, depth, unfinished, longest)
        yield from self.queue_seconds.collect()
        yield from self.work_seconds.collect()


def _rss_bytes() -> float:
    try:
        with open("/proc/self/statm") as f:
            import os

            return float(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError):
        return 0.0


class ControllerMetrics:
    def __init__(self, caches: Any = None, client: Any = None) -> None:
        self.registry = CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.reconcile_seconds = Histogram("rollout_reconcile", "Rollout reconciliation performance.",
                                           ["namespace", "name"], registry=self.registry, buckets=ARGO_BUCKETS)
        self.reconcile_errors = ExactCounter("rollout_reconcile_error", "Error occurring during the rollout",
                                             ["namespace", "name"])
        self.events = Counter("rollout_events_total", "Count of rollout events",
                              ["namespace", "name", "type", "reason"], registry=self.registry)
        self.info = Gauge("argo_rollouts_controller_info", "Running Argo-rollouts version", ["version"],
                          registry=self.registry)
        self.info.labels(__version__).set(1)
        self.heap = Gauge("go_memstats_heap_alloc_bytes", "This process's resident memory (there is no Go heap; "
                          "kept for Argo's dashboard)", registry=self.registry)
        self.heap.set_function(_rss_bytes)
        self.queue_depth = Gauge("controller_queue_depth", "Keys waiting in the work queue", ["queue"],
                                 registry=self.registry)
        self.api_requests = Gauge("controller_api_requests", "API requests sent since start, by verb", ["verb"],
                                  registry=self.registry)
        self.is_leader = Gauge("controller_leader", "1 when this replica is the leader (sharded: a member acting "
                               "for its shards)", registry=self.registry)
        self.shard_held = Gauge("controller_shard_held", "1 for each shard whose Lease this replica holds "
                                "(--shards)", ["shard"], registry=self.registry)
        self.registry.register(self.reconcile_errors)
        self.registry.register(WorkqueueCollector())
        if caches is not None:
            self.registry.register(_Collect(lambda: [
                *rollout_families(caches.rollouts.items()),
                *analysis_families(caches.analysis_runs.items(), [*caches.analysis_templates.items(),
                                                                 *caches.cluster_analysis_templates.items()]),
                *experiment_families(caches.experiments.items() if caches.experiments is not None else ()),
            ]))
        if client is not None:
            self.registry.register(_Collect(lambda: [_requests_family(client.calls)]))

    def count_event(self, obj: Any, type: str, reason: str) -> None:
        """rollout_events_total: events recorded on Rollouts (Argo counts no other kind)."""
        if (obj.get("kind") or "") == "Rollout":
            meta = obj.get("metadata") or {}
            self.events.labels(str(meta.get("namespace") or ""), str(meta.get("name") or ""), type, reason).inc()


def _requests_family(calls: Any) -> Metric:
    family = CounterMetricFamily("controller_clientset_k8s_request", "Number of kubernetes requests executed during "
                                 "application reconciliation.",
                                 labels=["kind", "namespace", "name", "verb", "status_code"])
    for labels, count in list(calls.items()):
        family.add_metric(list(labels), count)
    return family


class AnalysisRunMetrics:
    """analysis_run_reconcile and analysis_run_reconcile_error, recorded by the AnalysisRun component."""

    def __init__(self) -> None:
        self.reconcile_seconds = Histogram("analysis_run_reconcile", "Analysis Run reconciliation performance.",
                                           ["namespace", "name"], registry=None, buckets=ARGO_BUCKETS)
        self.reconcile_errors = ExactCounter("analysis_run_reconcile_error", "Error occurring during the analysis "
                                             "run", ["namespace", "name"])

    def collect(self) -> Iterator[Metric]:
        yield from self.reconcile_seconds.collect()
        yield from self.reconcile_errors.collect()
