"""`version`: the first line is what scripts read (`kubectl-argo-rollouts: v0.1.0`, under the name the plugin
was started as); without --short the build details follow, as Argo's plugin prints them for a Go build."""

from __future__ import annotations

import platform
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rollouts.cli.invocation import Invocation


def version_lines(binary: str, *, short: bool) -> list[str]:
    from rollouts import __version__

    lines = [f"{binary}: v{__version__}"]
    if not short:
        machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
        lines += [
            f"  PythonVersion: {platform.python_version()}",
            f"  Implementation: {sys.implementation.name}",
            f"  Platform: {sys.platform}/{machine}",
        ]
    return lines


def version_cmd(inv: Invocation) -> int:
    for line in version_lines(inv.binary, short=inv.args.short):
        inv.print(line)
    return 0
