"""`make bench`: runs every benchmark in this folder and prints each one's figures.

Each benchmark is a script `*_bench.py` that prints its figures (JSON lines or a table) to stdout; record
what you measure in benchmarks/README.md. A failing benchmark is reported and the others still run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(HERE.glob("*_bench.py")):
        print(f"== {script.name}", flush=True)
        started = time.monotonic()
        res = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False)
        print(f"== {script.name}: exit {res.returncode} in {time.monotonic() - started:.0f}s", flush=True)
        if res.returncode:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
