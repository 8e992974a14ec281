"""Every success/failure condition in Argo Rollouts v1.10.2's docs, examples and e2e tests.

`argo_conditions()` reads them from Argo's module source (docs/**/*.md, examples/**, test/e2e/**) through
the Go module proxy; `corpus()` is the same list stored as test data (argo_conditions.yaml, each condition
with the files and lines it appears in), so a test can check that the stored corpus is complete and the
differential tests run on every one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ARGO_MODULE = "github.com/argoproj/argo-rollouts"
ARGO_VERSION = "v1.10.2"
DATA = Path(__file__).with_name("argo_conditions.yaml")

_FIELD = re.compile(r"""["']?(successCondition|failureCondition)["']?\s*:\s*(.+?)\s*,?\s*$""")
_SCANNED = (("docs", "*.md"), ("examples", "*"), ("test/e2e", "*"))

# What `{{args.x}}` placeholders stand for when a corpus condition is evaluated (Argo substitutes
# arguments textually before evaluating; these are the values the docs and tests use).
ARGUMENTS = {
    "{{ args.restarts.max-restarts }}": "5",
    "{{ `{{ args.restarts.max-restarts }}` }}": "5",
    "{{args.success-condition}}": "It worked!",
}


@dataclass(frozen=True)
class CorpusCondition:
    condition: str
    sources: tuple[str, ...]

    @property
    def evaluated(self) -> str:
        text = self.condition
        for placeholder, value in ARGUMENTS.items():
            text = text.replace(placeholder, value)
        return text


def _unquote(value: str) -> str | None:
    if value.startswith(("{", "|", ">", "[")) or value in ("", '""', "''"):
        return None
    if value[0] in "'\"" and value[-1] == value[0] and len(value) >= 2:
        inner = value[1:-1]
        return inner.replace("''", "'") if value[0] == "'" else bytes(inner, "utf-8").decode("unicode_escape")
    return value


def argo_conditions(root: Path) -> dict[str, list[str]]:
    """condition -> ["docs/analysis/web.md:38", ...] for every condition in Argo's module tree."""
    found: dict[str, list[str]] = {}
    for folder, pattern in _SCANNED:
        for path in sorted((root / folder).rglob(pattern)):
            if not path.is_file() or path.suffix in (".png", ".jpg", ".svg", ".gif"):
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
                match = _FIELD.search(line)
                if match is None or "`" + match.group(1) + "`" in line:
                    continue
                condition = _unquote(match.group(2))
                if condition is not None:
                    found.setdefault(condition, []).append(f"{path.relative_to(root).as_posix()}:{number}")
    return found


def corpus() -> list[CorpusCondition]:
    entries = yaml.safe_load(DATA.read_text())["conditions"]
    return [CorpusCondition(e["condition"], tuple(e["sources"])) for e in entries]


def write_corpus(root: Path) -> None:
    """Regenerate argo_conditions.yaml from Argo's module (run by hand when the anchor version changes)."""
    found = argo_conditions(root)
    entries = [{"condition": c, "sources": s} for c, s in sorted(found.items())]
    header = (f"# Every successCondition/failureCondition in Argo Rollouts {ARGO_VERSION}'s docs/, examples/ and\n"
              "# test/e2e/, with the files and lines each appears in (tests/unit/analysis/expr/corpus.py).\n")
    DATA.write_text(header + yaml.safe_dump({"version": ARGO_VERSION, "conditions": entries}, sort_keys=False,
                                            allow_unicode=True, width=200))
