"""The web provider reads whole bodies, however slowly and in however many chunks they arrive.

A real HTTP server on 127.0.0.1 streams JSON arrays of a given size in small chunks with a pause between
them (so aiohttp's buffer never holds the whole body at once), with and without Content-Length. Up to the
limit (4 MiB) the condition sees the whole array; above it the measurement is an Error naming the limit,
never a value judged on a truncated body. Also checked through the AnalysisRun reconciler on the real
control plane: a 1 MB chunked body is judged whole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from aiohttp import web

from analysis.providers import MeasurementContext, ProviderDeps
from analysis.providers.web import MAX_BODY_BYTES, WebProvider
from rollouts.api.analysis import AnalysisPhase, Metric
from rollouts.controller.analysis_runs import run_analysis_runs
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ANALYSISRUN
from tests.integration.analysis.conftest import free_port
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

CHUNK = 32 * 1024


def json_array(size: int) -> tuple[bytes, int]:
    """A JSON array of small integers exactly `size` bytes long, and how many items it has."""
    if size < 2:
        raise ValueError(size)
    items = (size - 1) // 2  # "[" + "1," * (items - 1) + "1" + "]" is 2 * items + 1 bytes
    body = b"[" + b"1," * (items - 1) + b"1"
    body += b" " * (size - len(body) - 1) + b"]"  # pad with whitespace up to `size`
    assert len(body) == size
    return body, items


class Served:
    def __init__(self) -> None:
        self.sent: dict[str, int] = {}


@pytest.fixture
async def slow_server() -> AsyncIterator[tuple[str, Served]]:
    served = Served()

    async def body(request: web.Request) -> web.StreamResponse:
        size = int(request.match_info["size"])
        declared = request.query.get("length") == "1"
        payload, _ = json_array(size)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        if declared:
            response.content_length = size
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        key = request.path_qs
        served.sent[key] = 0
        try:
            for offset in range(0, size, CHUNK):
                await response.write(payload[offset:offset + CHUNK])
                served.sent[key] = offset + CHUNK
                if offset // CHUNK % 8 == 0:
                    await asyncio.sleep(0.005)  # let the client see a partial body
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            pass  # the client stopped reading at the limit
        return response

    app = web.Application()
    app.router.add_get("/body/{size}", body)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", served
    finally:
        await runner.cleanup()


def _metric(url: str, condition: str) -> Metric:
    return Metric.model_validate({"name": "body", "successCondition": condition,
                                  "provider": {"web": {"url": url, "timeoutSeconds": 60}}})


def _context() -> MeasurementContext:
    return MeasurementContext(namespace="ns", run_name="run", run_uid="uid", started_at=datetime.now(UTC))


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
@pytest.mark.parametrize("size", [100 * 1024, 1024 * 1024, MAX_BODY_BYTES],
                         ids=["100KB", "1MB", "4MB"])
async def test_bodies_up_to_the_limit_are_judged_whole(slow_server: tuple[str, Served], size: int,
                                                        declared: bool) -> None:
    base, _ = slow_server
    _, items = json_array(size)
    url = f"{base}/body/{size}" + ("?length=1" if declared else "")
    measurement = await WebProvider(ProviderDeps()).measure(_metric(url, f"len(result) == {items}"), _context())
    assert measurement.phase is AnalysisPhase.SUCCESSFUL, (
        f"expected the whole {size}-byte body ({items} items) to be judged; got {measurement.phase}: "
        f"{measurement.message} (value starts {(measurement.value or '')[:60]!r})")


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 50 * 1024 * 1024], ids=["4MB+1", "50MB"])
async def test_bodies_above_the_limit_are_an_error_naming_it(slow_server: tuple[str, Served], size: int,
                                                             declared: bool) -> None:
    base, served = slow_server
    url = f"{base}/body/{size}" + ("?length=1" if declared else "")
    started = time.monotonic()
    # `len(result) > 0` would pass on any truncated prefix: the classic false Successful
    measurement = await WebProvider(ProviderDeps()).measure(_metric(url, "len(result) > 0"), _context())
    assert measurement.phase is AnalysisPhase.ERROR, (
        f"expected an Error for a {size}-byte body; got {measurement.phase}: {measurement.message}")
    assert f"larger than {MAX_BODY_BYTES} bytes" in (measurement.message or ""), measurement.message
    assert measurement.value in (None, ""), "no value may be recorded from a body that was not read whole"
    # reading stops at the limit: a 50 MB body is not downloaded to find out it is too large
    assert time.monotonic() - started < 30
    if size > 2 * MAX_BODY_BYTES:
        sent = served.sent.get(url.removeprefix(base), 0)
        assert sent < size, f"the server sent all {size} bytes; the client should have stopped at the limit"


async def test_a_1mb_chunked_body_is_judged_whole_by_the_analysis_run_reconciler(
    kube: KubeClient, namespace: str, crds: None, slow_server: tuple[str, Served]
) -> None:
    base, _ = slow_server
    size = 1024 * 1024
    _, items = json_array(size)
    stop = asyncio.Event()
    task = asyncio.create_task(run_analysis_runs(kube, SimpleNamespace(namespace=namespace), stop))
    try:
        await kube.create(ANALYSISRUN, {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
            "metadata": {"name": "whole-body", "namespace": namespace},
            "spec": {"metrics": [{"name": "body", "successCondition": f"len(result) == {items}",
                                  "provider": {"web": {"url": f"{base}/body/{size}"}}}]}}, namespace)
        run = await eventually(
            lambda: kube.get(ANALYSISRUN, "whole-body", namespace),
            lambda r: (r.get("status") or {}).get("phase") in ("Successful", "Failed", "Error", "Inconclusive"),
            timeout=60, expected="the AnalysisRun to complete")
        result = run["status"]["metricResults"][0]
        assert run["status"]["phase"] == "Successful", result
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
