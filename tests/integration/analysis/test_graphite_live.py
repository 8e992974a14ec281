"""The Graphite provider against a real graphite-web (Debian's package, installed by testbed/system-deps.sh):
its render API serving whisper files this test writes, so the request Argo sends and the datapoints Graphite
really answers (nulls for empty buckets included) meet end to end."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.providers.graphite import GraphiteProvider
from rollouts.api.analysis import AnalysisPhase, Metric
from tests.support.metric_vendors import context, deps_with, free_port

pytestmark = pytest.mark.integration

SETTINGS = '''import os
_base = os.environ["ROLLOUTS_GRAPHITE_DIR"]
SECRET_KEY = "test-only"
GRAPHITE_ROOT = "/usr/share/graphite-web"
CONF_DIR = STORAGE_DIR = LOG_DIR = _base
WHISPER_DIR = os.path.join(_base, "whisper")
STANDARD_DIRS = [WHISPER_DIR]
INDEX_FILE = os.path.join(_base, "index")
LOG_ROTATION = False
DEFAULT_XFILES_FACTOR = 0
TAGDB = ""
DATABASES = {"default": {"NAME": os.path.join(_base, "graphite.db"), "ENGINE": "django.db.backends.sqlite3"}}
'''
WRITE = '''import sys, time, whisper
path, now = sys.argv[1], int(time.time())
whisper.create(path, [(10, 360)])
whisper.update_many(path, [(now - 10 * (i + 1), float(v)) for i, v in enumerate(reversed(sys.argv[2:]))])
'''


def _series(root: Path, name: str, *values: float) -> None:
    path = root / "whisper" / (name.replace(".", "/") + ".wsp")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["/usr/bin/python3", "-c", WRITE, str(path), *map(str, values)], check=True)


@pytest.fixture(scope="module")
def graphite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    manage = shutil.which("graphite-manage")
    if manage is None:
        pytest.fail("graphite-web is not installed; run: apt-get install -y graphite-web (testbed/system-deps.sh)")
    root = tmp_path_factory.mktemp("graphite")
    (root / "rollouts_graphite_settings.py").write_text(SETTINGS)
    _series(root, "app.http.ok", 5, 7.5, 10)
    _series(root, "app.http.err", 1, 0, 2)
    port = free_port()
    env = {**os.environ, "ROLLOUTS_GRAPHITE_DIR": str(root), "GRAPHITE_SETTINGS_MODULE": "rollouts_graphite_settings",
           "PYTHONPATH": str(root)}
    with (root / "server.log").open("w") as log:
        server = subprocess.Popen(["/usr/bin/python3", manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                import urllib.request

                urllib.request.urlopen(f"http://127.0.0.1:{port}/render?target=app.http.ok&format=json", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"graphite-web exited: {(root / 'server.log').read_text()[-2000:]}")
                time.sleep(0.3)
        else:
            pytest.fail(f"graphite-web did not answer in 30 s: {(root / 'server.log').read_text()[-2000:]}")
        yield f"http://127.0.0.1:{port}", root
    finally:
        server.terminate()
        server.wait(timeout=10)


def _metric(address: str, query: str, success: str) -> Metric:
    return Metric.model_validate({"name": "g", "successCondition": success,
                                  "provider": {"graphite": {"address": address, "query": query}}})


async def test_sum_series_over_real_whisper_data(graphite: tuple[str, Path]) -> None:
    address, _ = graphite
    provider = GraphiteProvider(deps_with())
    m = await provider.measure(_metric(address, "target=sumSeries(app.http.*)&from=-2min", "result[len(result)-1] == 12"),
                               context())
    assert (m.phase, m.value) == (AnalysisPhase.SUCCESSFUL, "[6.000000,7.500000,12.000000]"), m
    errors = await provider.measure(_metric(address, """
        target=asPercent(app.http.err, sumSeries(app.http.*))
        &from=-2min""", "all(result, {# < 10})"), context())
    assert errors.phase is AnalysisPhase.FAILED, errors
    assert errors.value == "[16.666667,0.000000,16.666667]"  # 1/6, 0/7.5, 2/12


async def test_unknown_series_is_no_values_and_bad_function_is_graphites_error(graphite: tuple[str, Path]) -> None:
    address, _ = graphite
    provider = GraphiteProvider(deps_with())
    missing = await provider.measure(_metric(address, "target=app.nothing.here&from=-2min", "true"), context())
    assert (missing.phase, missing.message) == (AnalysisPhase.ERROR, "no values found")
    bad = await provider.measure(_metric(address, "target=noSuchFunction(app.http.ok)&from=-2min", "true"), context())
    assert bad.phase is AnalysisPhase.ERROR and (bad.message or "").startswith("error response: "), bad
