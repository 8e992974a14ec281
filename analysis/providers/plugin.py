"""Python metric-provider plugins: `provider.plugin: {<name>: {...}}`, Argo's plugin config, served by a Python
class that a package registers under the entry point group `rollouts.metric_providers`.

Argo runs metric plugins as Go binaries over RPC; here a plugin is a Python package installed next to the
controller (in its image, or on PYTHONPATH), so it runs in the controller's process without a sidecar:

    [project.entry-points."rollouts.metric_providers"]
    "example.com/uptime" = "rollouts_uptime_plugin:UptimePlugin"

The class is built once with the controller's ProviderDeps and must implement the MetricProvider protocol
(measure / resume / terminate). Most plugins only compute a value: subclassing `ValuePlugin` and writing
`async def value(self, config, metric, context)` is enough; the metric's success and failure conditions then
judge the value exactly as for Argo's own providers (in the sandbox, Argo's messages), and an exception
raised by `value` is an Error measurement with its message (so consecutiveErrorLimit applies).

A name that no installed package registers is an Error measurement naming the installed ones; a plugin that
fails to import is an Error with the import's error, and the controller keeps serving every other metric.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from analysis.conditions import Value, from_json_value
from analysis.measurement import error_measurement, measurement_from_result
from analysis.providers.base import Clock, ImmediateProvider, MeasurementContext, MetricProvider, ProviderDeps
from rollouts.api.analysis import Measurement, Metric

ENTRY_POINT_GROUP = "rollouts.metric_providers"


class PluginError(Exception):
    pass


def installed_plugins() -> dict[str, Any]:
    """Entry points of the group by name (what `provider.plugin` may name)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def plugin_config(metric: Metric) -> tuple[str, Mapping[str, Any]]:
    configured = metric.provider.plugin or {}
    if len(configured) != 1:
        raise PluginError(f"provider.plugin must name exactly one plugin, got {sorted(configured)}")
    name, config = next(iter(configured.items()))
    return name, config if isinstance(config, Mapping) else {}


class ValuePlugin(ImmediateProvider):
    """Base of a plugin that computes one value per measurement; conditions judge it."""

    def __init__(self, deps: ProviderDeps) -> None:
        self.deps = deps
        self.clock: Clock = deps.clock
        self.sandbox = deps.sandbox

    async def value(self, config: Mapping[str, Any], metric: Metric, context: MeasurementContext) -> Any:
        """The measured value as JSON data (numbers, strings, lists, dicts): `result` of the conditions."""
        raise NotImplementedError

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        _, config = plugin_config(metric)
        try:
            raw = await self.value(config, metric, context)
            result: Value = from_json_value(raw)
        except Exception as exc:  # the plugin's failure is this measurement's Error, never the controller's
            return error_measurement(str(exc) or type(exc).__name__, started_at=started, finished_at=self.clock())
        return await measurement_from_result(metric, result, sandbox=self.sandbox, started_at=started,
                                             finished_at=self.clock(), secrets=context.secrets)


class PluginProvider:
    """The `plugin` provider key: delegates each metric to the installed plugin it names."""

    def __init__(self, deps: ProviderDeps,
                 discover: Callable[[], Mapping[str, Any]] = installed_plugins) -> None:
        self.deps = deps
        self.clock: Clock = deps.clock
        self.discover = discover
        self.loaded: dict[str, MetricProvider] = {}

    def _plugin(self, name: str) -> MetricProvider:
        if name in self.loaded:
            return self.loaded[name]
        found = self.discover()
        if name not in found:
            raise PluginError(f"metric plugin {name!r} is not installed (entry points in {ENTRY_POINT_GROUP!r}: "
                              f"{sorted(found)})")
        try:
            factory = found[name].load()
            plugin: MetricProvider = factory(self.deps)
        except Exception as exc:
            raise PluginError(f"metric plugin {name!r} could not be loaded: {type(exc).__name__}: {exc}") from None
        self.loaded[name] = plugin
        return plugin

    async def measure(self, metric: Metric, context: MeasurementContext) -> Measurement:
        started = self.clock()
        try:
            name, _ = plugin_config(metric)
            plugin = self._plugin(name)
        except PluginError as exc:
            return error_measurement(str(exc), started_at=started, finished_at=started)
        return await plugin.measure(metric, context)

    async def resume(self, metric: Metric, measurement: Measurement, context: MeasurementContext) -> Measurement:
        try:
            plugin = self._plugin(plugin_config(metric)[0])
        except PluginError as exc:
            return measurement.model_copy(update={"phase": measurement.phase.ERROR, "message": str(exc),
                                                  "finished_at": self.clock(), "resume_at": None})
        return await plugin.resume(metric, measurement, context)

    async def terminate(self, metric: Metric, measurement: Measurement, context: MeasurementContext) -> Measurement:
        try:
            plugin = self._plugin(plugin_config(metric)[0])
        except PluginError:
            return measurement.model_copy(update={"phase": measurement.phase.SUCCESSFUL, "finished_at": self.clock(),
                                                  "message": "Metric terminated", "resume_at": None})
        return await plugin.terminate(metric, measurement, context)
