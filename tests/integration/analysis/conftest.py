"""A real Prometheus on 127.0.0.1 scraping a small in-test exporter whose series the tests set.

Prometheus comes from Debian's `prometheus` package (installed by the test setup if missing: CI runs
`apt-get install -y prometheus`; see .ci/run). It scrapes the exporter every second, so a test sets a
value and polls Prometheus until the value is visible: no fixed sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import aiohttp
import pytest
from aiohttp import web

Sample = float | Callable[[], float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Exporter:
    """Serves `series` in the Prometheus text format; a value may be a callable (fresh noise per scrape)."""

    port: int = 0
    series: dict[str, Sample] = field(default_factory=dict)

    def set(self, name: str, labels: dict[str, str], value: Sample) -> None:
        rendered = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        self.series[f"{name}{{{rendered}}}"] = value

    def clear(self) -> None:
        self.series.clear()

    async def handle(self, _: web.Request) -> web.Response:
        lines = []
        for key, value in list(self.series.items()):
            number = value() if callable(value) else value
            lines.append(f"{key} {number!r}".replace("nan", "NaN"))
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


@dataclass(frozen=True)
class Prometheus:
    address: str
    exporter: Exporter

    async def query(self, expression: str) -> list[dict[str, object]]:
        async with aiohttp.ClientSession() as session, session.get(
                f"{self.address}/api/v1/query", params={"query": expression}) as response:
            body = await response.json()
        result: list[dict[str, object]] = body["data"]["result"]
        return result


def _prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        pytest.fail("Prometheus is not installed; run: apt-get update && apt-get install -y prometheus")
    return found


def _start(binary: str, config: Path, workdir: Path, port: int, log: IO[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1h"],
        stdout=log, stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="session")
async def exporter() -> AsyncIterator[Exporter]:
    exp = Exporter(port=free_port())
    app = web.Application()
    app.router.add_get("/metrics", exp.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", exp.port).start()
    try:
        yield exp
    finally:
        await runner.cleanup()


@pytest.fixture(scope="session")
async def prometheus(exporter: Exporter) -> AsyncIterator[Prometheus]:
    binary = _prometheus_binary()
    workdir = Path(tempfile.mkdtemp(prefix="rollouts-prometheus-"))
    port = free_port()
    config = workdir / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: exporter\n    static_configs: [{{targets: ['127.0.0.1:{exporter.port}']}}]\n"
    )
    log = (workdir / "prometheus.log").open("w")
    process = _start(binary, config, workdir, port, log)
    server = Prometheus(f"http://127.0.0.1:{port}", exporter)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited with {process.returncode}: {(workdir / 'prometheus.log').read_text()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError, KeyError, asyncio.TimeoutError):
                if await server.query("up") and (await server.query("up"))[0]["value"][1] == "1":  # type: ignore[index]
                    break
            if time.monotonic() > deadline:
                pytest.fail("prometheus did not scrape the test exporter within 60 s")
            await asyncio.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


def noise(level: float, spread: float = 0.03, seed: int | None = None) -> Callable[[], float]:
    """A sample that varies around `level` on each scrape (log-normal, `spread` relative)."""
    rng = random.Random(seed)
    return lambda: level * rng.lognormvariate(0, spread)
