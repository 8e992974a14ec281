"""experiment_info / experiment_phase as Argo's collector writes them (controller/metrics/experiments.go)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from rollouts.controller.state_metrics import experiment_families


class _Families:
    def __init__(self, experiments: list[dict[str, object]]) -> None:
        self.experiments = experiments

    def collect(self):  # type: ignore[no-untyped-def]
        return experiment_families(self.experiments)


def _lines(experiments: list[dict[str, object]]) -> set[str]:
    registry = CollectorRegistry()
    registry.register(_Families(experiments))  # type: ignore[arg-type]
    return set(generate_latest(registry).decode().splitlines())


def test_info_and_the_five_deprecated_phase_series() -> None:
    lines = _lines([{"metadata": {"namespace": "shop", "name": "e"}, "status": {"phase": "Running"}},
                    {"metadata": {"namespace": "shop", "name": "new"}}])
    assert 'experiment_info{name="e",namespace="shop",phase="Running"} 1.0' in lines
    assert 'experiment_phase{name="e",namespace="shop",phase="Running"} 1.0' in lines
    assert 'experiment_phase{name="e",namespace="shop",phase="Pending"} 0.0' in lines
    assert 'experiment_phase{name="new",namespace="shop",phase="Pending"} 1.0' in lines  # no phase yet: Pending
    assert not [line for line in lines if 'phase="Failed"' in line and line.startswith("experiment_phase")]
