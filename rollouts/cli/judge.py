"""`rollouts judge`: replay metric series against the statistical judge, one JSON line per case.

    rollouts judge --input CASES.jsonl            # or: ... | rollouts judge

Input, one JSON object per line:
    {"id": "c1", "control": [101, 99, ...], "canary": [120, 118, ...], "direction": "increase",
     "mode": "sequential"}
    {"id": "e1", "control": [1, 0, 2], "canary": [3, 4, 2], "control_total": [100, 100, 100],
     "canary_total": [100, 100, 100], "direction": "increase"}     # rates: event and request counts
Optional per case: "mode" (fixed, the default, or sequential), "tolerance" (0.05 = 5%).
Output, one line per input line, in order:
    {"id": "c1", "label": "High", "detected_at": 3}              # detected_at only in sequential mode
    {"id": "bad", "error": "line 7: 'canary' is missing"}           # malformed lines; the rest still run
Exit status: 0 when every line was judged, 1 when any line had an error, 2 for unusable arguments.

This lets users backtest a judge on their own past metrics before they trust it with a rollout.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from analysis.judges import Direction, Mode, judge_metric

_KNOWN = {"id", "control", "canary", "direction", "mode", "control_total", "canary_total", "tolerance"}


class CaseError(ValueError):
    pass


def _series(case: dict[str, Any], key: str, required: bool = True) -> list[float | None] | None:
    if key not in case or case[key] is None:
        if required:
            raise CaseError(f"{key!r} is missing")
        return None
    values = case[key]
    if not isinstance(values, list):
        raise CaseError(f"{key!r} must be a list of numbers, got {type(values).__name__}")
    out: list[float | None] = []
    for i, value in enumerate(values):
        if value is None or (isinstance(value, str) and value.lower() == "nan"):
            out.append(None if value is None else math.nan)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out.append(float(value))
        else:
            raise CaseError(f"{key}[{i}] must be a number or null, got {value!r}")
    return out


def _enum(case: dict[str, Any], key: str, kind: type[Direction] | type[Mode], default: str) -> str:
    value = case.get(key, default)
    allowed = [str(m) for m in kind]
    if value not in allowed:
        raise CaseError(f"{key} must be one of {allowed}, got {value!r}")
    return str(value)


def judge_case(case: Any, *, default_mode: Mode = Mode.FIXED, alpha: float = 0.01,
               confidence: float = 0.98) -> dict[str, Any]:
    """The output object for one parsed input object (raises CaseError for bad input)."""
    if not isinstance(case, dict):
        raise CaseError(f"a case must be a JSON object, got {type(case).__name__}")
    unknown = sorted(set(case) - _KNOWN)
    if unknown:
        raise CaseError(f"unknown field(s) {unknown}; known: {sorted(_KNOWN)}")
    direction = Direction(_enum(case, "direction", Direction, "increase"))
    mode = Mode(_enum(case, "mode", Mode, str(default_mode)))
    tolerance = case.get("tolerance", 0.0)
    if not isinstance(tolerance, int | float) or isinstance(tolerance, bool) or tolerance < 0:
        raise CaseError(f"tolerance must be a number >= 0, got {tolerance!r}")
    control, canary = _series(case, "control"), _series(case, "canary")
    control_total = _series(case, "control_total", required=False)
    canary_total = _series(case, "canary_total", required=False)
    assert control is not None and canary is not None
    try:
        verdict = judge_metric(control, canary, direction=direction, mode=mode, tolerance=float(tolerance),
                               control_total=control_total, canary_total=canary_total, alpha=alpha,
                               confidence=confidence)
    except ValueError as exc:
        raise CaseError(str(exc)) from None
    out: dict[str, Any] = {"id": case.get("id"), "label": str(verdict.label)}
    if mode is Mode.SEQUENTIAL:
        out["detected_at"] = verdict.detected_at
    return out


def judge_lines(lines: Iterable[str], out: TextIO, *, default_mode: Mode = Mode.FIXED, alpha: float = 0.01,
                confidence: float = 0.98) -> int:
    """Judge every non-blank line; returns the number of lines that had an error."""
    errors = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        case: Any = None
        try:
            case = json.loads(line)
            result = judge_case(case, default_mode=default_mode, alpha=alpha, confidence=confidence)
        except json.JSONDecodeError as exc:
            result = {"id": None, "error": f"line {number}: not valid JSON: {exc.msg} at column {exc.colno}"}
        except CaseError as exc:
            case_id = case.get("id") if isinstance(case, dict) else None
            result = {"id": case_id, "error": f"line {number}: {exc}"}
        if "error" in result:
            errors += 1
        out.write(json.dumps(result, separators=(", ", ": ")) + "\n")
        out.flush()
    return errors


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", "-i", default="-", help="JSONL file of cases (default: standard input)")
    parser.add_argument("--output", "-o", default="-", help="where to write results (default: standard output)")
    parser.add_argument("--mode", choices=[str(m) for m in Mode], default=str(Mode.FIXED),
                        help="mode for cases that do not set one (default: fixed)")
    parser.add_argument("--alpha", type=float, default=0.01,
                        help="sequential mode: bound on false alarms over all looks (default 0.01)")
    parser.add_argument("--confidence", type=float, default=0.98,
                        help="fixed mode: confidence of the interval (default 0.98)")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register `judge` on the `rollouts` command (rollouts.cli.admin calls `run_args` with the result)."""
    parser = subparsers.add_parser("judge", help="judge canary-vs-control metric series from JSONL",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return parser


def run_args(args: argparse.Namespace) -> int:
    if not 0 < args.alpha < 0.5 or not 0.5 < args.confidence < 1:
        print("rollouts judge: --alpha must be in (0, 0.5) and --confidence in (0.5, 1)", file=sys.stderr)
        return 2
    try:
        source: TextIO = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
        sink: TextIO = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        print(f"rollouts judge: {exc}", file=sys.stderr)
        return 2
    try:
        errors = judge_lines(source, sink, default_mode=Mode(args.mode), alpha=args.alpha,
                             confidence=args.confidence)
    finally:
        if source is not sys.stdin:
            source.close()
        if sink is not sys.stdout:
            sink.close()
    return 1 if errors else 0


def run(argv: Sequence[str]) -> int:
    """Entry point for `rollouts judge ARGS` when called on its own."""
    parser = argparse.ArgumentParser(prog="rollouts judge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run_args(parser.parse_args(list(argv)))


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
