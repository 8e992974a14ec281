"""One run of the plugin as a command sees it: its arguments, its name, its streams, and a way to the cluster.

Commands receive an `Invocation` instead of reaching for sys.argv, sys.stdout or the kubeconfig themselves,
so the same command code runs under both names (`kubectl rollouts`, `kubectl argo rollouts`), writes to a
pipe or a terminal, and is exercised by tests with plain StringIO streams.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from rollouts.cli.errors import CliError

if TYPE_CHECKING:
    from rollouts.cli.connection import Target
    from rollouts.kube.client import KubeClient

ARGO_NAME = "kubectl-argo-rollouts"
OUR_NAME = "kubectl-rollouts"


def program_names(argv0: str) -> tuple[str, str]:
    """(how users type it, the binary's name) for the name the plugin was started under:
    `.../kubectl-argo-rollouts` -> ("kubectl argo rollouts", "kubectl-argo-rollouts")."""
    base = os.path.basename(argv0)
    if base.startswith(ARGO_NAME):
        return "kubectl argo rollouts", ARGO_NAME
    return "kubectl rollouts", OUR_NAME


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class Invocation:
    args: argparse.Namespace
    prog: str = "kubectl rollouts"
    binary: str = OUR_NAME
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    _target: Target | None = None

    @property
    def terminal(self) -> bool:
        """Is stdout a terminal? Watches redraw in place there and print frame by frame elsewhere."""
        return is_terminal(self.out)

    @property
    def color(self) -> bool:
        """Colours only on a terminal, never with --no-color, NO_COLOR or TERM=dumb."""
        return (self.terminal and not getattr(self.args, "no_color", False) and "NO_COLOR" not in self.environ
                and self.environ.get("TERM") != "dumb")

    @property
    def target(self) -> Target:
        if self._target is None:
            from rollouts.cli.connection import resolve
            from rollouts.cli.flags import connection_flags

            self._target = resolve(connection_flags(self.args), self.environ)
        return self._target

    @property
    def namespace(self) -> str:
        return self.target.namespace

    def print(self, line: str = "") -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def warn(self, line: str) -> None:
        self.err.write(line + "\n")
        self.err.flush()

    @asynccontextmanager
    async def client(self) -> AsyncIterator[KubeClient]:
        from rollouts.cli.connection import connect
        from rollouts.cli.errors import Target as ErrorTarget
        from rollouts.cli.errors import explain

        try:
            client = await connect(self.target)
        except CliError:
            raise
        except Exception as exc:
            raise explain(exc, ErrorTarget("connect to", "cluster", None, None)) from exc
        level = int(getattr(self.args, "kloglevel", 0) or 0)
        if level >= 6:
            client.trace = self._trace
        try:
            yield client
        finally:
            await client.close()

    def _trace(self, method: str, url: str, status: int, seconds: float) -> None:
        from datetime import datetime

        stamp = datetime.now().strftime("%m%d %H:%M:%S.%f")
        reason = f"{status}" if status else "(no response)"
        self.warn(f"I{stamp} {os.getpid()} request] {method} {url} {reason} in "
                  f"{seconds * 1000:.0f} milliseconds")
