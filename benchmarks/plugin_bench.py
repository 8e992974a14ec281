"""Start-up time of the kubectl plugin: `--help`, `version`, `get --help` under both names, and Argo's own plugin
binary for the same commands when the conformance kit has built it (a ratio measured in the same run).

    .venv/bin/python benchmarks/plugin_bench.py [--runs 15]

Prints one JSON line per (binary, command): median, min and max wall seconds and the median CPU seconds of
`--runs` runs, and the load average (the machine is shared: say what else ran when you record a figure).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ARGO = Path(os.environ.get("ARGO_BIN", Path.home() / ".cache" / "rollouts-conformance" / "bin")) / "kubectl-argo-rollouts"
COMMANDS = (["--help"], ["version"], ["version", "--short"], ["get", "--help"])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds per run: on a loaded machine the CPU time is the steadier figure."""
    wall, cpu = [], []
    for _ in range(runs):
        started, cpu_before = time.perf_counter(), _children_cpu()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        wall.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - cpu_before)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    binaries = {"kubectl-argo-rollouts": str(BIN / "kubectl-argo-rollouts"), "kubectl-rollouts": str(BIN / "kubectl-rollouts")}
    if ARGO.exists():
        binaries["argo (Go)"] = str(ARGO)
    medians: dict[tuple[str, str], float] = {}
    for label, binary in binaries.items():
        for command in COMMANDS:
            times, cpu = timed([binary, *command], args.runs)
            medians[(label, " ".join(command))] = statistics.median(cpu)
            print(json.dumps({"binary": label, "command": " ".join(command), "runs": args.runs,
                              "median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
                              "max_s": round(max(times), 3), "cpu_median_s": round(statistics.median(cpu), 3),
                              "load_average": os.getloadavg()[0]}), flush=True)
    if ARGO.exists():
        for command in COMMANDS:
            key = " ".join(command)
            ratio = medians[("kubectl-argo-rollouts", key)] / medians[("argo (Go)", key)]
            print(json.dumps({"cpu_ratio_ours_to_argo": round(ratio, 2), "command": key}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
