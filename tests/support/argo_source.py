"""Argo Rollouts' source (the module v1.10.2 from the Go module proxy), for tests that read Argo's own test data.

Argo's plugin tests render fixed objects (`pkg/kubectl-argo-rollouts/info/testdata`); our golden tests render the
same objects, read from the module where it lies, instead of copies of them in this repository. `go mod download`
fetches the module once into the Go module cache (a fresh machine needs the module proxy once; afterwards it
answers from the cache in milliseconds).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from pathlib import Path

MODULE = "github.com/argoproj/argo-rollouts"
VERSION = "v1.10.2"


@functools.cache
def argo_rollouts_dir() -> Path:
    """The unpacked module directory (Argo v1.10 needs Go >= 1.26.10: GOTOOLCHAIN go1.27.3, as for the oracles); a clear failure (not a skip) when Go or the proxy is unavailable."""
    with tempfile.TemporaryDirectory() as scratch:  # outside any go.mod: a plain module download
        try:
            result = subprocess.run(["go", "mod", "download", "-json", f"{MODULE}@{VERSION}"], cwd=scratch,
                                    capture_output=True, text=True, timeout=600,
                                    env={**os.environ, "GOFLAGS": "-mod=mod",
                                         "GOTOOLCHAIN": os.environ.get("ROLLOUTS_ORACLE_GOTOOLCHAIN", "go1.27.3")})
        except FileNotFoundError as exc:
            raise AssertionError("these tests read Argo Rollouts' test data from the Go module proxy: install Go "
                                 "(testbed/system-deps.sh does)") from exc
    if result.returncode != 0:
        raise AssertionError(f"go mod download {MODULE}@{VERSION} failed: {result.stderr or result.stdout}")
    return Path(json.loads(result.stdout)["Dir"])


def plugin_testdata(*parts: str) -> Path:
    """A path under Argo's `pkg/kubectl-argo-rollouts/info/testdata`."""
    return argo_rollouts_dir().joinpath("pkg", "kubectl-argo-rollouts", "info", "testdata", *parts)
