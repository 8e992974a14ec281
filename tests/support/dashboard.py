"""Running `kubectl rollouts dashboard` in integration tests: the real command, as a child process on a free
loopback port, with the kubeconfig given; the page's CSRF token read from the page itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.plugin import VENV_BIN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Dashboard:
    url: str
    token: str
    session: aiohttp.ClientSession

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.url + path) as response:
            return response.status, await response.json()

    async def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Origin": self.url.rstrip("/"), "X-CSRF-Token": self.token, "Content-Type": "application/json"}
        async with self.session.post(self.url + path, data=json.dumps(body or {}), headers=headers) as response:
            return response.status, await response.json()


@contextlib.asynccontextmanager
async def dashboard(kubeconfig: Path, *args: str) -> AsyncIterator[Dashboard]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        f"{VENV_BIN}/kubectl-rollouts", "dashboard", "--port", str(port), "--kubeconfig", str(kubeconfig), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line == f"Dashboard is available at http://127.0.0.1:{port}/\n", (
            line, (await proc.stderr.read()).decode() if proc.stderr and not line else "")
        url = f"http://127.0.0.1:{port}/"
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as page:
                html = await page.text()
            found = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
            assert found, html
            yield Dashboard(url, found.group(1), session)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
