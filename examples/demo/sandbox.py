"""The demo's long-running helpers (controller, Prometheus, exporter): started, recorded, stopped by pid.

Why it exists: the demo leaves its sandbox running so the user can try the plugin afterwards, so whatever
it starts must be findable later by `run.py --stop` or the next `make demo`. Every process is started in
its own session (its pid is its process-group id) and recorded in ``<state-dir>/state.json`` with its
command line; stopping checks that the pid still runs that command line before signalling it, so a
recycled pid is never killed. Everything listens on 127.0.0.1 only. `until` waits for a helper to be
ready (Prometheus scraping, the controller's /readyz) and fails with the helper's log if it exits first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


class DemoFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Recorded:
    name: str
    pid: int
    argv: list[str]
    log: str


@dataclass
class State:
    """What a running demo left behind (``state.json``)."""

    namespace: str = ""
    applications_namespace: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    processes: list[Recorded] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> State:
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        return cls(namespace=raw.get("namespace", ""), applications_namespace=raw.get("applications_namespace", ""),
                   ports=dict(raw.get("ports") or {}),
                   processes=[Recorded(**p) for p in raw.get("processes") or []])

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def start(state: State, state_file: Path, name: str, argv: list[str], *, log: Path,
          env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, logging to `log`, and record it at once (so a crash is still stoppable)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, cwd=cwd,
                                start_new_session=True)
    state.processes.append(Recorded(name, proc.pid, argv, str(log)))
    state.save(state_file)
    return proc


def _runs(recorded: Recorded) -> bool:
    """Whether the recorded pid is alive and still runs the recorded command line."""
    try:
        cmdline = Path(f"/proc/{recorded.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return [c.decode(errors="replace") for c in cmdline if c] == recorded.argv


def stop_recorded(state: State, *, timeout: float = 15.0) -> list[str]:
    """SIGTERM each recorded process group, SIGKILL what is left after `timeout`; the names stopped."""
    alive = [p for p in state.processes if _runs(p)]
    for p in alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_runs(p) for p in alive):
        time.sleep(0.2)
    for p in alive:
        if _runs(p):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
    return [p.name for p in alive]


def tail(path: str | Path, lines: int = 25) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def prometheus_up(address: str, job: str) -> bool:
    try:
        query = urllib.parse.urlencode({"query": f'up{{job="{job}"}}'})
        with urllib.request.urlopen(f"{address}/api/v1/query?{query}", timeout=2) as resp:
            result = json.loads(resp.read())["data"]["result"]
        return bool(result) and result[0]["value"][1] == "1"
    except (urllib.error.URLError, OSError, KeyError, ValueError, IndexError):
        return False


async def until(what: str, check: Any, *, timeout: float, proc: subprocess.Popen[bytes] | None = None,
                log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and proc.poll() is not None:
            raise DemoFailed(f"{what}: the process exited with {proc.returncode}\n{tail(log) if log else ''}")
        if time.monotonic() > deadline:
            raise DemoFailed(f"timed out after {timeout:.0f}s waiting for {what}\n{tail(log) if log else ''}")
        await asyncio.sleep(0.25)
