"""Fail when a function in rollouts/ or analysis/ is too complex or too long (``make limits``, part of ``make check``).

The limits and every exception to them live in ``[tool.limits]`` of pyproject.toml, in one place:

* ``max-complexity``: radon's cyclomatic complexity of one function (closures included, as ``radon cc`` shows);
* ``max-lines``: from the ``def`` line to the last line of the body;
* ``tables``: functions that may be longer because they are declarative tables (argparse command definitions),
  listed as ``path:Qualified.name``; they still must meet the complexity limit;
* ``exclude``: files (glob patterns) or single functions (``path:Qualified.name``) excluded while their owners
  rework them; the owner deletes the line once the code meets the limits.

Run it directly to see every offender: ``.venv/bin/python tools/limits.py [--all]`` (``--all`` also reports
what the exclusions hide).
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Offence:
    where: str
    complexity: int
    lines: int
    excluded: bool

    def describe(self, max_complexity: int, max_lines: int) -> str:
        parts = []
        if self.complexity > max_complexity:
            parts.append(f"complexity {self.complexity} > {max_complexity}")
        if self.lines > max_lines:
            parts.append(f"{self.lines} lines > {max_lines}")
        return f"{self.where}: {', '.join(parts)}" + (" (excluded)" if self.excluded else "")


def offences(config: dict[str, object]) -> list[Offence]:
    max_complexity = int(config["max-complexity"])  # type: ignore[call-overload]
    max_lines = int(config["max-lines"])  # type: ignore[call-overload]
    tables = set(config.get("tables", []))  # type: ignore[call-overload]
    exclude = list(config.get("exclude", []))  # type: ignore[call-overload]
    found: list[Offence] = []
    for top in config["paths"]:  # type: ignore[attr-defined]
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            file_excluded = any(fnmatch.fnmatch(rel, pattern) for pattern in exclude)
            for block in cc_visit(path.read_text()):
                if not hasattr(block, "closures"):
                    continue  # a class: its methods are listed as functions
                name = f"{block.classname}.{block.name}" if block.classname else block.name
                where = f"{rel}:{name}"
                excluded = file_excluded or where in exclude
                lines = block.endline - block.lineno + 1
                too_long = lines > max_lines and where not in tables
                if block.complexity > max_complexity or too_long:
                    found.append(Offence(where, block.complexity, lines if too_long else 0, excluded))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also list offenders in excluded files")
    args = parser.parse_args()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["limits"]
    found = offences(config)
    shown = [o for o in found if args.all or not o.excluded]
    for offence in shown:
        print(offence.describe(int(config["max-complexity"]), int(config["max-lines"])))
    failing = [o for o in found if not o.excluded]
    hidden = len(found) - len(failing)
    print(f"limits: {len(failing)} function(s) over the limits, {hidden} more in excluded code "
          f"(complexity <= {config['max-complexity']}, <= {config['max-lines']} lines; see [tool.limits] in "
          "pyproject.toml)")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
