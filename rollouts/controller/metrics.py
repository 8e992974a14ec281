"""Prometheus metrics about the controller itself (served on --metrics-port at /metrics).

Names follow Argo Rollouts' where an equivalent exists (rollout_info, rollout_reconcile, ...) so existing
dashboards keep working; each controller process owns one registry so tests can run several in-process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from rollouts.api.rollout import RolloutPhase


class ControllerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconcile_seconds = Histogram(
            "rollout_reconcile", "Rollout reconciliation duration in seconds", ["namespace", "name"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.reconcile_errors = Counter(
            "rollout_reconcile_error", "Reconciliations that failed", ["namespace", "name"],
            registry=self.registry,
        )
        self.rollout_phase = Gauge(
            "rollout_info", "Information about a rollout: 1 for its current phase",
            ["namespace", "name", "strategy", "phase"], registry=self.registry,
        )
        self.queue_depth = Gauge("controller_queue_depth", "Keys waiting in the work queue", ["queue"],
                                 registry=self.registry)
        self.api_requests = Gauge("controller_api_requests", "API requests sent since start, by verb", ["verb"],
                                  registry=self.registry)
        self.is_leader = Gauge("controller_leader", "1 when this replica is the leader", registry=self.registry)

    def set_phase(self, namespace: str, name: str, strategy: str, phase: str) -> None:
        for known in RolloutPhase:
            self.rollout_phase.labels(namespace, name, strategy, known).set(1 if known == phase else 0)

    def forget(self, namespace: str, name: str, strategy: str) -> None:
        for known in RolloutPhase:
            try:
                self.rollout_phase.remove(namespace, name, strategy, known)
            except KeyError:
                pass
