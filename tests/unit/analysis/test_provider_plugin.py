"""Python metric-provider plugins: the worked example under examples/metric-provider-plugin is installed
(pip, into a temporary directory put on sys.path) and found through its entry point; a metric naming it is
measured against a local endpoint and judged by its conditions; missing and broken plugins are Errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from analysis.providers.plugin import ENTRY_POINT_GROUP, PluginProvider, installed_plugins
from analysis.run import validate_metrics
from rollouts.api.analysis import AnalysisPhase, AnalysisTemplate, Metric
from tests.support.metric_vendors import context, deps_with, serve

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "metric-provider-plugin"
NAME = "example.com/uptime"


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    target, source = tmp_path_factory.mktemp("plugins"), tmp_path_factory.mktemp("source") / "plugin"
    shutil.copytree(EXAMPLE, source)  # the build writes build/ and *.egg-info next to the sources
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True)
    sys.path.insert(0, str(target))
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        for module in [m for m in sys.modules if m.startswith("rollouts_uptime_plugin")]:
            del sys.modules[module]


def _metric(url: str, success: str = "result >= 0.99") -> Metric:
    return Metric.model_validate({"name": "uptime", "successCondition": success,
                                  "provider": {"plugin": {NAME: {"url": url, "timeoutSeconds": 2}}}})


def _summary(up: int, total: int) -> dict[tuple[str, str], Any]:
    async def summary(_: web.Request) -> web.Response:
        return web.json_response({"up": up, "total": total})

    return {("GET", "/health/summary"): summary}


async def test_the_installed_example_is_found_and_measures(installed_example: Path) -> None:
    assert NAME in installed_plugins()
    provider = PluginProvider(deps_with())
    async with serve(_summary(995, 1000)) as server:
        ok = await provider.measure(_metric(f"{server.base}/health/summary"), context())
        low = await provider.measure(_metric(f"{server.base}/health/summary", "result >= 0.999"), context())
    assert (ok.phase, ok.value) == (AnalysisPhase.SUCCESSFUL, "0.995")
    assert low.phase is AnalysisPhase.FAILED


async def test_a_failing_plugin_measurement_is_an_error(installed_example: Path) -> None:
    async with serve({}) as server:
        m = await PluginProvider(deps_with()).measure(_metric(f"{server.base}/health/summary"), context())
    assert (m.phase, m.message) == (AnalysisPhase.ERROR, f"GET {server.base}/health/summary: HTTP 404")


async def test_the_examples_template_is_valid(installed_example: Path) -> None:
    template = AnalysisTemplate.model_validate(yaml.safe_load((EXAMPLE / "analysis-template.yaml").read_text()))
    from analysis.providers import PROVIDERS

    assert validate_metrics(template.spec.metrics, PROVIDERS) is None


async def test_missing_and_broken_plugins() -> None:
    class Broken:
        name = "example.com/broken"

        def load(self) -> Any:
            raise ImportError("No module named 'numpyy'")

    provider = PluginProvider(deps_with(), discover=lambda: {"example.com/broken": Broken()})
    m = await provider.measure(_metric("http://127.0.0.1:1/x"), context())
    assert m.message == (f"metric plugin {NAME!r} is not installed (entry points in {ENTRY_POINT_GROUP!r}: "
                         "['example.com/broken'])")
    broken = Metric.model_validate({"name": "b", "provider": {"plugin": {"example.com/broken": {}}}})
    m = await provider.measure(broken, context())
    assert m.message == "metric plugin 'example.com/broken' could not be loaded: ImportError: No module named 'numpyy'"
    two = Metric.model_validate({"name": "b", "provider": {"plugin": {"a": {}, "b": {}}}})
    m = await provider.measure(two, context())
    assert m.message == "provider.plugin must name exactly one plugin, got ['a', 'b']"
