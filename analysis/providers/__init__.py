"""Metric providers behind one `MetricProvider` protocol, chosen by the metric's provider key.

`PROVIDERS` is the one list of providers that can run: the AnalysisRun reconciler builds them from it, and
`analysis.run.validate_metrics` (used by the reconciler when a run starts and by `kubectl rollouts lint`) says
"provider 'datadog' is not supported (known: [...])" from it. Adding a provider is one module here plus one
line below, and its typed configuration as a field of `rollouts.api.analysis.MetricProvider` (the CRD schema);
a test checks that the two name the same providers.
"""

from collections.abc import Callable

from analysis.providers.base import (
    JobClient,
    MeasurementContext,
    MetricProvider,
    ProviderDeps,
    SecretReader,
)
from analysis.providers.cloudwatch import CloudWatchProvider
from analysis.providers.datadog import DatadogProvider
from analysis.providers.graphite import GraphiteProvider
from analysis.providers.influxdb import InfluxdbProvider
from analysis.providers.job import JobProvider
from analysis.providers.judge import JudgeProvider
from analysis.providers.kayenta import KayentaProvider
from analysis.providers.newrelic import NewRelicProvider
from analysis.providers.plugin import PluginProvider
from analysis.providers.prometheus import PrometheusProvider
from analysis.providers.skywalking import SkyWalkingProvider
from analysis.providers.wavefront import WavefrontProvider
from analysis.providers.web import WebProvider

ProviderFactory = Callable[[ProviderDeps], MetricProvider]

PROVIDERS: dict[str, ProviderFactory] = {
    "prometheus": PrometheusProvider,
    "web": WebProvider,
    "job": JobProvider,
    "judge": JudgeProvider,
    "datadog": DatadogProvider,
    "graphite": GraphiteProvider,
    "newRelic": NewRelicProvider,
    "wavefront": WavefrontProvider,
    "influxdb": InfluxdbProvider,
    "skywalking": SkyWalkingProvider,
    "kayenta": KayentaProvider,
    "cloudWatch": CloudWatchProvider,
    "plugin": PluginProvider,
}
"""Registry by provider key (the key under `metric.provider`)."""


def build_providers(deps: ProviderDeps) -> dict[str, MetricProvider]:
    """One instance of every registered provider, sharing `deps`."""
    return {key: factory(deps) for key, factory in PROVIDERS.items()}


__all__ = [
    "PROVIDERS", "JobClient", "MeasurementContext", "MetricProvider", "ProviderDeps", "ProviderFactory", "SecretReader",
    "build_providers",
]
