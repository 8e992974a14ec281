"""Golden output of `get rollout` for representative states: fixed width 100, no colour, fixed `now`.

Regenerate after an intended change with `UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/cli/test_render_golden.py`
and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.cli.info import rollout_info
from rollouts.cli.render import render_text, rollout_view, rollouts_table
from tests.unit.cli import scenarios
from tests.unit.cli.scenarios import NOW, State

GOLDEN = Path(__file__).parent / "golden"

CASES: dict[str, Callable[[], State]] = {
    "progressing_canary_with_analysis": scenarios.progressing_canary_with_analysis,
    "paused_blue_green": scenarios.paused_blue_green,
    "degraded_after_abort": scenarios.degraded_after_abort,
}


def _check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name}: rendering changed; diff against {path}"


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_get_rollout_golden(name: str) -> None:
    state = CASES[name]()
    info = rollout_info(state.rollout, state.replicasets, state.pods, state.analysisruns, now=NOW)
    text = render_text(rollout_view(info), width=100)
    assert all(len(line) <= 100 for line in text.splitlines())
    _check(name, text)


def test_list_rollouts_golden() -> None:
    infos = [
        rollout_info(s.rollout, s.replicasets, s.pods, s.analysisruns, now=NOW)
        for s in (f() for f in CASES.values())
    ]
    _check("list_rollouts_all_namespaces", render_text(rollouts_table(infos, all_namespaces=True), width=100))


def test_narrow_terminal_never_exceeds_width() -> None:
    state = scenarios.degraded_after_abort()
    info = rollout_info(state.rollout, state.replicasets, state.pods, state.analysisruns, now=NOW)
    text = render_text(rollout_view(info), width=60)
    assert all(len(line) <= 60 for line in text.splitlines()), text
    assert "payments-9a8b7c6d5" in text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
STATUS_KEYS = ["phase", "message", "abort", "pauseConditions", "currentStepIndex", "stableRS", "currentPodHash",
               "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "observedGeneration",
               "conditions", "canary", "blueGreen"]


@settings(max_examples=150, deadline=None)
@given(status=st.dictionaries(st.sampled_from(STATUS_KEYS), JSON, max_size=8),
       steps=st.one_of(JSON, st.lists(st.dictionaries(st.sampled_from(["setWeight", "pause", "analysis"]), JSON,
                                                      max_size=2), max_size=4)),
       generation=JSON)
def test_any_status_renders_without_error(status: dict[str, object], steps: object, generation: object) -> None:
    """Whatever a (buggy or newer) controller writes into status, `get rollout` still draws something."""
    state = scenarios.progressing_canary_with_analysis()
    state.rollout["status"] = status
    state.rollout["metadata"]["generation"] = generation
    state.rollout["spec"]["strategy"] = {"canary": {"steps": steps}}
    info = rollout_info(state.rollout, state.replicasets, state.pods, state.analysisruns, now=NOW)
    text = render_text(rollout_view(info), width=100)
    assert "Name:            checkout" in text
    render_text(rollouts_table([info], all_namespaces=False), width=100)
