"""Build and run the small Go oracles under tests/oracles/ (built on demand, cached by content hash).

A fresh machine has an empty cache: ``oracle_binary`` builds the oracle from its go.mod/go.sum through the
Go module proxy (a few minutes cold) and caches the binary under ``~/.cache/rollouts-oracles/`` keyed by the
sha256 of the oracle's sources and the Go version, so a warm run costs nothing. Builds take a file lock, so
parallel test runs of several engineers build once. ``run_oracle`` sends a batch of JSON requests through
one process; ``OracleProcess`` keeps one running for a test module (hypothesis asks one case at a time).

``module_dir`` unpacks an anchor's module (Argo Rollouts, the notifications engine, Argo CD) from the module
proxy, so tests read the anchors' own catalogs and docs as test input instead of copies of them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ORACLES = REPO / "tests" / "oracles"
CACHE = Path(os.environ.get("ROLLOUTS_ORACLE_CACHE") or Path.home() / ".cache" / "rollouts-oracles")


def _go() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        pytest.fail("the Go toolchain is needed to build the test oracles (go not found on PATH)")
    return go


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Oracles whose modules need a newer Go than the installed one pin it in go.mod's toolchain line; the
    # team-wide pin is go1.27.3 (GOTOOLCHAIN is honoured from the caller's environment when set).
    env.setdefault("GOTOOLCHAIN", "auto")
    return env


def _digest(src: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        h.update(path.relative_to(src).as_posix().encode())
        h.update(path.read_bytes())
    version = subprocess.run([_go(), "version"], capture_output=True, text=True, env=_env(), check=False).stdout
    h.update(version.encode())
    return h.hexdigest()[:16]


def oracle_binary(name: str) -> Path:
    src = ORACLES / name
    out_dir = CACHE / f"{name}-{_digest(src)}"
    binary = out_dir / name
    if binary.exists():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.exists():
            return binary
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = out_dir / f".{name}.tmp"
        res = subprocess.run([_go(), "build", "-trimpath", "-o", str(tmp), "."], cwd=src, env=_env(),
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            pytest.fail(f"building the {name} oracle failed:\n{res.stdout}\n{res.stderr}")
        os.replace(tmp, binary)
    return binary


def run_oracle(name: str, requests: list[dict[str, Any]], *, timeout: float = 300) -> list[dict[str, Any]]:
    binary = oracle_binary(name)
    payload = "".join(json.dumps(r) + "\n" for r in requests)
    res = subprocess.run([str(binary)], input=payload, capture_output=True, text=True, timeout=timeout, check=False)
    if res.returncode != 0:
        pytest.fail(f"the {name} oracle exited {res.returncode}: {res.stderr[-2000:]}")
    lines = res.stdout.splitlines()
    if len(lines) != len(requests):
        pytest.fail(f"the {name} oracle answered {len(lines)} of {len(requests)} requests: {res.stderr[-2000:]}")
    return [json.loads(line) for line in lines]


def module_dir(path: str, version: str) -> Path:
    """The unpacked source of a Go module version (downloaded through the module proxy when needed)."""
    res = subprocess.run([_go(), "mod", "download", "-json", f"{path}@{version}"], capture_output=True, text=True,
                         env=_env(), cwd=CACHE if CACHE.exists() else None, check=False)
    try:
        info = json.loads(res.stdout)
    except ValueError:
        pytest.fail(f"go mod download {path}@{version} failed: {res.stderr[-2000:]}")
    if not info.get("Dir"):
        pytest.fail(f"go mod download {path}@{version} failed: {info.get('Error') or res.stderr[-2000:]}")
    return Path(info["Dir"])


class OracleProcess:
    """One running oracle for many small batches: ``ask`` sends requests (objects, or JSON text sent as is,
    one per line) and returns the answers in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.proc = subprocess.Popen([str(oracle_binary(name))], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, encoding="utf-8", bufsize=1)

    def ask(self, requests: list[Any]) -> list[dict[str, Any]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        lines = [r if isinstance(r, str) else json.dumps(r) for r in requests]
        answers: list[dict[str, Any]] = []
        for start in range(0, len(lines), 200):  # bounded chunks: neither pipe fills while the other waits
            chunk = lines[start:start + 200]
            self.proc.stdin.write("\n".join(chunk) + "\n")
            self.proc.stdin.flush()
            for _ in chunk:
                line = self.proc.stdout.readline()
                if not line:
                    pytest.fail(f"the {self.name} oracle exited ({self.proc.poll()})")
                answers.append(json.loads(line))
        return answers

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)
