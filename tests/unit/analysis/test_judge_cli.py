"""`rollouts judge`: JSONL in, JSONL out, malformed lines reported without stopping the others."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rollouts.cli.judge import run

ROOT = Path(__file__).resolve().parents[3]


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _cases() -> list[str]:
    rng = np.random.default_rng(3)
    control = (100 * np.exp(rng.normal(0, 0.03, 30))).round(2).tolist()
    slow = (130 * np.exp(rng.normal(0, 0.03, 30))).round(2).tolist()
    same = (100 * np.exp(rng.normal(0, 0.03, 30))).round(2).tolist()
    return [
        json.dumps({"id": "slow", "control": control, "canary": slow, "direction": "increase", "mode": "sequential"}),
        json.dumps({"id": "same", "control": control, "canary": same, "direction": "increase"}),
        "{not json",
        json.dumps({"id": "nocanary", "control": control}),
        json.dumps({"id": "errors", "control": [1] * 30, "canary": [9] * 30, "control_total": [100] * 30,
                    "canary_total": [100] * 30, "direction": "increase", "mode": "sequential"}),
        json.dumps({"id": "baddir", "control": control, "canary": same, "direction": "up"}),
        "",
        json.dumps({"id": "few", "control": [1, None], "canary": [2, "NaN"], "direction": "either"}),
    ]


def test_judges_each_line_and_reports_malformed_ones(tmp_path: Path) -> None:
    source, sink = tmp_path / "cases.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(_cases()) + "\n")
    assert run(["--input", str(source), "--output", str(sink)]) == 1
    out = _lines(sink)
    assert [o.get("id") for o in out] == ["slow", "same", None, "nocanary", "errors", "baddir", "few"]
    slow, same, bad_json, missing, errors, baddir, few = out
    assert slow["label"] == "High" and isinstance(slow["detected_at"], int)
    assert same == {"id": "same", "label": "Pass"}  # fixed mode: no detected_at
    assert "not valid JSON" in str(bad_json["error"]) and "line 3" in str(bad_json["error"])
    assert "'canary' is missing" in str(missing["error"])
    assert errors["label"] == "High"
    assert "direction must be one of" in str(baddir["error"])
    assert few["label"] == "NoData"


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        pytest.param(["--alpha", "0.9"], 2, id="bad-alpha"),
        pytest.param(["--input", "/nonexistent/cases.jsonl"], 2, id="missing-file"),
    ],
)
def test_bad_arguments(argv: list[str], status: int) -> None:
    assert run(argv) == status


def test_reads_standard_input_as_a_process() -> None:
    case = json.dumps({"id": "a", "control": [1, 2, 3, 4], "canary": [1, 2, 3, 4], "mode": "sequential"})
    done = subprocess.run([sys.executable, "-m", "rollouts.cli.judge"], input=case + "\n", capture_output=True,
                          text=True, cwd=ROOT, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"id": "a", "label": "Pass", "detected_at": None}
