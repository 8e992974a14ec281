"""Metric providers behind one `MetricProvider` protocol, chosen by the metric's provider key."""

from collections.abc import Callable

from analysis.providers.base import (
    JobClient,
    MeasurementContext,
    MetricProvider,
    ProviderDeps,
)
from analysis.providers.job import JobProvider
from analysis.providers.judge import JudgeProvider
from analysis.providers.prometheus import PrometheusProvider
from analysis.providers.web import WebProvider

ProviderFactory = Callable[[ProviderDeps], MetricProvider]

PROVIDERS: dict[str, ProviderFactory] = {
    "prometheus": PrometheusProvider,
    "web": WebProvider,
    "job": JobProvider,
    "judge": JudgeProvider,
}
"""Registry by provider key (the key under `metric.provider`)."""


def build_providers(deps: ProviderDeps) -> dict[str, MetricProvider]:
    """One instance of every registered provider, sharing `deps`."""
    return {key: factory(deps) for key, factory in PROVIDERS.items()}


__all__ = [
    "PROVIDERS", "JobClient", "MeasurementContext", "MetricProvider", "ProviderDeps", "ProviderFactory",
    "build_providers",
]
