"""`list experiments` rows and table as Argo's plugin prints them (list_experiments.go, v1.10.2), and the
`terminate experiment` patch (terminate.go)."""

from __future__ import annotations

from datetime import UTC, datetime

from rollouts.cli.experiments import experiment_row, experiment_table
from rollouts.cli.patches import plan_terminate_experiment

NOW = datetime(2026, 1, 1, 10, 0, 0, tzinfo=UTC)


def _exp(name: str, phase: str, *, duration: str | None = None, available: str | None = None) -> dict[str, object]:
    status: dict[str, object] = {"phase": phase}
    if available:
        status["availableAt"] = available
    return {"metadata": {"name": name, "namespace": "shop", "creationTimestamp": "2026-01-01T09:58:00Z"},
            "spec": {"templates": [], **({"duration": duration} if duration else {})}, "status": status}


def test_rows_show_duration_remaining_and_age() -> None:
    assert experiment_row(_exp("a", "Running", duration="5m", available="2026-01-01T09:59:00Z"), NOW,
                          all_namespaces=False) == ["a", "Running", "5m", "4m", "2m"]
    assert experiment_row(_exp("b", "Successful", duration="30s", available="2026-01-01T09:59:00Z"), NOW,
                          all_namespaces=True) == ["shop", "b", "Successful", "30s", "-", "2m"]
    assert experiment_row(_exp("c", "Pending"), NOW, all_namespaces=False) == ["c", "Pending", "-", "-", "2m"]


def test_table_is_argos_tabwriter_layout() -> None:
    table = experiment_table([["a", "Running", "5m", "4m", "2m"]], all_namespaces=False)
    assert table == ("NAME        STATUS   DURATION  REMAINING  AGE\n"
                     "a           Running  5m        4m         2m \n")


def test_terminate_sets_spec_terminate() -> None:
    plan = plan_terminate_experiment({"metadata": {"name": "a"}})
    assert plan.spec is not None and plan.spec.body == {"spec": {"terminate": True}}
    assert plan.kind == "experiments" and plan.message == "experiment 'a' terminated"


def test_retry_clears_the_status_on_the_object() -> None:
    """Argo's retry.go: merge patch {"status": null} of the Experiment itself (its CRD has no status subresource)."""
    from rollouts.cli.patches import plan_retry_experiment

    plan = plan_retry_experiment({"metadata": {"name": "a"}})
    assert plan.status is None and plan.spec is not None and plan.spec.body == {"status": None}
    assert plan.kind == "experiments" and plan.message == "experiment 'a' retried"
