"""Differential tests: our condition evaluator against Argo Rollouts v1.10.2's own (tests/oracles/expr runs
Argo's utils/evaluate, expr-lang v1.17.7), on the same condition and the same Go-typed provider result.

For each case both sides report the condition's value or its error (kind: compile, run, type; and expr's
message, which Argo shows after `could not evaluate successCondition "..."`), and the phase and message of
a metric with that success condition (Argo's EvaluateResult, our measurement.condition_phase). They must
be equal. The cases: every condition of Argo's docs, examples and e2e tests (corpus.py) over every result
shape in inputs.py; the language table (language.py) over a few shapes; and generated conditions.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.conditions import DEFAULT_BUDGET, ErrorKind, evaluate_condition
from analysis.measurement import condition_phase
from tests.support.oracles import module_dir, run_oracle
from tests.unit.analysis.expr.corpus import ARGO_MODULE, ARGO_VERSION, argo_conditions, corpus
from tests.unit.analysis.expr.inputs import INPUTS, Typed, go_value
from tests.unit.analysis.expr.language import LANGUAGE, RESULT_CONDITIONS, expressions

# Results the language table is evaluated on (it mostly ignores `result`; these cover its main shapes).
LANGUAGE_INPUTS = ("nil", "prom-vector-many", "web-items")


def ours(condition: str, typed: Typed) -> dict[str, Any]:
    """Our answer, in the oracle's shape."""
    result = go_value(typed)
    answer: dict[str, Any] = {}
    outcome = evaluate_condition(condition, result, budget=DEFAULT_BUDGET)
    if outcome.failure is None:
        answer["value"] = outcome.value
    else:
        answer["error"] = outcome.failure.message
        answer["kind"] = outcome.failure.kind.value
    phase, message = condition_phase(condition, None, result)
    answer["phase"] = phase.value
    if message:
        answer["message"] = message
    return answer


def _differences(cases: list[tuple[str, str]]) -> list[str]:
    requests = [{"id": i, "condition": condition, "result": INPUTS[name]} for i, (condition, name) in enumerate(cases)]
    answers = run_oracle("expr", requests)
    problems = []
    for (condition, name), argo in zip(cases, answers, strict=True):
        argo.pop("id", None)
        assert not argo.get("decode"), f"the oracle could not decode input {name}: {argo['decode']}"
        mine = ours(condition, INPUTS[name])
        if mine.get("kind") == ErrorKind.BUDGET.value:
            continue  # Argo has no budget; a budget stop is checked by the budget tests, not compared
        if mine != argo:
            problems.append(f"{condition!r} on {name}:\n   argo: {json.dumps(argo)}\n   ours: {json.dumps(mine)}")
    return problems


def _report(problems: list[str], total: int) -> str:
    return f"{len(problems)} of {total} cases differ from Argo:\n" + "\n".join(problems[:40])


def test_the_corpus_holds_every_condition_of_argos_docs_examples_and_e2e_tests() -> None:
    found = argo_conditions(module_dir(ARGO_MODULE, ARGO_VERSION))
    stored = {c.condition: c.sources for c in corpus()}
    assert len(found) >= 30, f"expected at least 30 distinct conditions in Argo {ARGO_VERSION}, found {len(found)}"
    missing = sorted(set(found) - set(stored))
    assert not missing, f"conditions in Argo's tree missing from argo_conditions.yaml: {missing}"
    for condition, sources in found.items():
        assert set(sources) <= set(stored[condition]), f"{condition!r}: sources {sources} not all recorded"


def test_every_argo_condition_agrees_with_argo_on_every_result_shape() -> None:
    cases = [(c.evaluated, name) for c in corpus() for name in INPUTS]
    problems = _differences(cases)
    assert not problems, _report(problems, len(cases))


def test_the_language_agrees_with_argo() -> None:
    cases = [(condition, name) for condition in LANGUAGE for name in LANGUAGE_INPUTS]
    cases += [(condition, name) for condition in RESULT_CONDITIONS for name in INPUTS]
    problems = _differences(cases)
    assert not problems, _report(problems, len(cases))


@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
          database=None)
@given(st.lists(st.tuples(expressions(), st.sampled_from(sorted(INPUTS))), min_size=150, max_size=150))
def test_generated_conditions_agree_with_argo(cases: list[tuple[str, str]]) -> None:
    problems = _differences(cases)
    assert not problems, _report(problems, len(cases))


def test_the_nested_predicate_that_froze_the_controller_stops_at_the_budget() -> None:
    result = go_value({"t": "json", "v": {"items": list(range(1, 301))}})
    outcome = evaluate_condition("all(result.items,{all(result.items,{all(result.items,{# > 0})})})", result)
    assert outcome.failure is not None and outcome.failure.kind is ErrorKind.BUDGET
    assert outcome.failure.message == f"condition exceeded its evaluation budget of {DEFAULT_BUDGET} steps"



