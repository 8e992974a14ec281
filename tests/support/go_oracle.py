"""Build and run the small Go test oracles under ``tests/oracles/<name>/`` (our own few lines of Go that call the
anchor's real code, built from the Go module proxy).

A binary is built once per content of its sources (go.mod, go.sum, *.go) and cached under
``~/.cache/rollouts-oracles/<name>-<digest>/``, so a warm ``make test`` pays nothing and a fresh machine builds
what it needs from nothing. Modules that need a newer Go than the installed one are built with
``GOTOOLCHAIN`` (default ``go1.27.3``). Builds are serialised by a lock file: several test processes, or
several clones on one machine, share the cache.

An oracle speaks JSON lines on stdin/stdout: :class:`Oracle` keeps one process per session and sends batches.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ORACLES = REPO / "tests" / "oracles"
CACHE = Path(os.environ.get("ROLLOUTS_ORACLE_CACHE", Path.home() / ".cache" / "rollouts-oracles"))
TOOLCHAIN = os.environ.get("ROLLOUTS_ORACLE_GOTOOLCHAIN", "go1.27.3")
BUILD_TIMEOUT = 40 * 60  # a cold build downloads k8s.io/kubernetes and Argo Rollouts from the module proxy


class OracleUnavailable(RuntimeError):
    """The oracle could not be built (no Go, no module proxy); the message says why."""


def go_env() -> dict[str, str]:
    return {**os.environ, "GOTOOLCHAIN": TOOLCHAIN, "GOFLAGS": "-mod=mod"}


def _sources(name: str) -> list[Path]:
    src = ORACLES / name
    files = sorted(p for p in src.iterdir() if p.name in ("go.mod", "go.sum") or p.suffix == ".go")
    if not any(p.name == "go.mod" for p in files):
        raise OracleUnavailable(f"{src} has no go.mod")
    return files


def _digest(files: Sequence[Path]) -> str:
    h = hashlib.sha256(TOOLCHAIN.encode())
    for path in files:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build(name: str) -> Path:
    """The oracle binary for ``tests/oracles/<name>``, built now if this content was never built."""
    files = _sources(name)
    target_dir = CACHE / f"{name}-{_digest(files)}"
    binary = target_dir / name
    if binary.exists():
        return binary
    if shutil.which("go") is None:
        raise OracleUnavailable("the Go toolchain is not on PATH (the testbed needs it too)")
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.exists():  # another process built it while we waited
            return binary
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            out = Path(tmp) / name
            res = subprocess.run(
                ["nice", "-n", "10", "go", "build", "-o", str(out), "."],
                cwd=ORACLES / name, env=go_env(), capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                check=False,
            )
            if res.returncode != 0:
                raise OracleUnavailable(f"building the {name} oracle failed:\n{res.stderr[-4000:]}")
            target_dir.mkdir(parents=True, exist_ok=True)
            out.replace(binary)
    return binary


def module_dir(name: str, module: str) -> Path:
    """Where the Go module cache unpacked ``module`` (e.g. ``github.com/argoproj/argo-rollouts``) at the
    version the oracle's go.mod pins: the anchor's source (manifests, tests) to read test cases from."""
    res = subprocess.run(
        ["go", "list", "-m", "-json", module], cwd=ORACLES / name, env=go_env(), capture_output=True, text=True,
        timeout=BUILD_TIMEOUT, check=False,
    )
    if res.returncode != 0:
        raise OracleUnavailable(f"go list -m {module} failed:\n{res.stderr[-2000:]}")
    info = json.loads(res.stdout)
    found = (info.get("Replace") or {}).get("Dir") or info.get("Dir")
    if not found:
        subprocess.run(["go", "mod", "download", module], cwd=ORACLES / name, env=go_env(), check=True,
                       capture_output=True, timeout=BUILD_TIMEOUT)
        return module_dir(name, module)
    return Path(found)


class Oracle:
    """One running oracle process: ``ask`` sends requests (one JSON object each, or its text as is) and returns
    the answers."""

    def __init__(self, binary: Path) -> None:
        self.proc = subprocess.Popen(
            [str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
            bufsize=1,
        )

    def ask(self, requests: Iterable[Any]) -> list[dict[str, Any]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        answers: list[dict[str, Any]] = []
        batch = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=True, allow_nan=False) for r in requests]
        # Write and read in chunks so neither pipe fills up while the other side waits.
        for start in range(0, len(batch), 200):
            chunk = batch[start:start + 200]
            self.proc.stdin.write("\n".join(chunk) + "\n")
            self.proc.stdin.flush()
            for _ in chunk:
                line = self.proc.stdout.readline()
                if not line:
                    raise OracleUnavailable(f"the oracle exited (code {self.proc.poll()})")
                answers.append(json.loads(line))
        return answers

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def run_once(binary: Path, *args: str) -> str:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, check=True, timeout=120).stdout
