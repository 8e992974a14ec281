"""The condition evaluator against the syntax found in real Argo templates, and against hostile input.

Expected values are what Argo Rollouts v1.10.2 (utils/evaluate with expr-lang v1.17.7) gives for the same
condition and the same Go-typed result; tests/unit/analysis/test_expr_differential.py checks the whole
language against Argo's own code.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.conditions import ErrorKind, Outcome, evaluate_condition, float64_vector, from_json_value

NAN = math.nan


def _result(value: object) -> object:
    """Results shaped as Argo's providers shape them: a list of numbers is Prometheus's []float64, a dict
    is a web provider's JSON body (numbers are float64)."""
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return float64_vector(value)  # type: ignore[arg-type]
    if isinstance(value, dict | list):
        return from_json_value(value)
    return value


def _evaluate(expression: str, result: object) -> Outcome:
    return evaluate_condition(expression, _result(result))


@pytest.mark.parametrize(
    ("expression", "result", "expected"),
    [
        pytest.param("result[0] >= 0.95", [0.97], True, id="index-ge"),
        pytest.param("result[0] >= 0.95", [0.90], False, id="index-ge-false"),
        pytest.param("result < 0.01 && result >= 0", 0.005, True, id="and-range"),
        pytest.param("result < 0.01 && result >= 0", -1.0, False, id="and-range-negative"),
        pytest.param("len(result) > 0", [], False, id="len-empty"),
        pytest.param("len(result) > 0", [1.0, 2.0], True, id="len-two"),
        pytest.param("isNaN(result)", NAN, True, id="isnan"),
        pytest.param("isNaN(result[0])", [NAN], True, id="isnan-index"),
        pytest.param("isNaN(result)", 1.0, False, id="isnan-number"),
        pytest.param('result == "ok"', "ok", True, id="string-eq"),
        pytest.param('result == "ok"', "bad", False, id="string-ne"),
        pytest.param("!(result > 1)", 0.5, True, id="not-paren"),
        pytest.param("not (result > 1)", 2, False, id="word-not"),
        pytest.param("default(result, 0) > 5", None, False, id="default-nil"),
        pytest.param("default(result, 0) > 5", 6, True, id="default-value"),
        pytest.param("asFloat(result) < 100", "99.5", True, id="asfloat-string"),
        pytest.param("result > 5 || result < 1", 0, True, id="or"),
        pytest.param("result > 5 or result < 1", 3, False, id="word-or"),
        pytest.param("result > 1 and result < 5", 3, True, id="word-and"),
        pytest.param("result in [1, 2, 3]", 2, True, id="in-list"),
        pytest.param("result not in [1, 2, 3]", 2, False, id="not-in"),
        pytest.param('"b" in result', {"a": 1, "b": 2}, True, id="in-map"),
        pytest.param("result * 2 + 1 == 7", 3, True, id="arithmetic"),
        pytest.param("result % 2 == 1", 7, True, id="modulo"),
        pytest.param("2 ** 10 == 1024", None, True, id="power"),
        pytest.param("-2 ** 2 == -4", None, True, id="unary-binds-looser-than-power"),
        pytest.param("2 ** 3 ** 2 == 512", None, True, id="power-right-assoc"),
        pytest.param("1 + 2 * 3 == 7", None, True, id="precedence"),
        pytest.param("result.foo == 1", {"foo": 1}, True, id="dot-key"),
        pytest.param('result["foo"] == 1', {"foo": 1}, True, id="bracket-key"),
        pytest.param("result.missing == nil", {"foo": 1}, True, id="missing-key-nil"),
        pytest.param("result.data.ok == true", {"data": {"ok": True}}, True, id="nested"),
        pytest.param("result[-1] > 3", [1, 2, 4], True, id="negative-index"),
        pytest.param("all(result, {# < 0.1})", [0.01, 0.02], True, id="all-closure"),
        pytest.param("any(result, {# > 0.1})", [0.01, 0.02], False, id="any-closure"),
        pytest.param("result > 0 ? true : false", 1, True, id="ternary"),
        pytest.param("isInf(result)", math.inf, True, id="isinf"),
        pytest.param("result == 1", 1.0, True, id="int-float-equal"),
        pytest.param("result >= 0.95", NAN, False, id="nan-compare-false"),
        pytest.param("max(result) < 5 && min(result) > 0", [1, 4], True, id="min-max"),
        pytest.param("1_000 == 1000 && 1e3 == 1000 && .5 == 0.5", None, True, id="number-forms"),
        pytest.param("'a\\'b' == \"a'b\"", None, True, id="escapes"),
    ],
)
def test_evaluates_argo_syntax(expression: str, result: object, expected: bool) -> None:
    assert _evaluate(expression, result) == Outcome(value=expected)


@pytest.mark.parametrize(
    ("expression", "column", "message"),
    [
        pytest.param("result >", 8, "unexpected token EOF", id="dangling-operator"),
        pytest.param("result >= 0.95)", 15, 'unexpected token Bracket(")")', id="extra-paren"),
        pytest.param("(result > 1", 11, "unexpected token EOF", id="missing-paren"),
        pytest.param("result $ 1", 8, 'unexpected token Identifier("$")', id="bad-char"),
        pytest.param("'abc", 5, "literal not terminated", id="unterminated-string"),
        pytest.param("", 1, "unexpected token EOF", id="empty"),
        pytest.param("evil(result)", 1, "unknown name evil", id="unknown-function"),
        pytest.param("result.__class__()", 8, "type int has no method __class__", id="method-call"),
        pytest.param("result.1", 7, 'unexpected token Number(".1")', id="dot-number"),
    ],
)
def test_syntax_errors_report_position(expression: str, column: int, message: str) -> None:
    outcome = evaluate_condition(expression, 1)
    assert outcome.failure is not None
    assert outcome.failure.kind is ErrorKind.COMPILE
    assert outcome.failure.message == message
    assert (outcome.failure.line, outcome.failure.column) == (1, column)
    assert expression not in outcome.failure.at_position() or not expression


@pytest.mark.parametrize(
    ("expression", "result", "kind", "message"),
    [
        pytest.param("result.__class__ == nil", 1, ErrorKind.COMPILE, "type int has no field __class__",
                     id="attribute-on-number"),
        pytest.param("result.__class__ == nil", "s", ErrorKind.COMPILE, "type string has no field __class__",
                     id="attribute-on-string"),
        pytest.param("__import__('os')", None, ErrorKind.COMPILE, "unknown name __import__", id="import"),
        pytest.param("os == 1", None, ErrorKind.COMPILE, "unknown name os", id="unknown-name"),
        pytest.param("result > 1", "abc", ErrorKind.COMPILE, "invalid operation: > (mismatched types string and int)",
                     id="type-error"),
        pytest.param("result + 1", 1, ErrorKind.TYPE, "expected bool, but got int", id="non-boolean"),
        pytest.param("result[5] > 1", [1], ErrorKind.RUN, "index out of range: 5 (array length is 1)",
                     id="index-out-of-range"),
        pytest.param("result[0] > 1", None, ErrorKind.COMPILE, "type unknown[int] is undefined", id="index-nil"),
        pytest.param("result % 0 == 1", 1, ErrorKind.RUN, "runtime error: integer divide by zero", id="modulo-zero"),
        pytest.param("# > 1", 1, ErrorKind.COMPILE, 'unexpected token Operator("#")', id="pointer-outside"),
        pytest.param("1" * 40 + " > 1", None, ErrorKind.COMPILE,
                     'invalid integer literal: strconv.ParseInt: parsing "' + "1" * 40 + '": value out of range',
                     id="huge-int-literal"),
        pytest.param("x" * 5000, None, ErrorKind.COMPILE, "unknown name " + "x" * 5000, id="huge-expression"),
    ],
)
def test_refuses_hostile_or_invalid_input(expression: str, result: object, kind: ErrorKind, message: str) -> None:
    outcome = _evaluate(expression, result)
    assert outcome.failure is not None
    assert (outcome.failure.kind, outcome.failure.message) == (kind, message)


def test_division_by_zero_follows_ieee_like_go() -> None:
    assert evaluate_condition("1 / 0 == 1 / 0 && 1 / 0 > 1e308", None) == Outcome(value=True)
    assert evaluate_condition("let z = 0; isNaN(0.0 / z)", None) == Outcome(value=True)


def test_nested_predicates_over_a_large_list_run_out_of_budget_quickly() -> None:
    """issue 11: the nested all() that froze the controller for 85 s stops at the budget."""
    items = from_json_value({"items": list(range(1, 301))})
    outcome = evaluate_condition("all(result.items,{all(result.items,{all(result.items,{# > 0})})})", items,
                                 budget=100_000)
    assert outcome.failure is not None
    assert outcome.failure.kind is ErrorKind.BUDGET
    assert outcome.failure.message == "condition exceeded its evaluation budget of 100000 steps"


@given(st.text(max_size=200))
def test_arbitrary_text_either_evaluates_or_fails_cleanly(text: str) -> None:
    outcome = evaluate_condition(text, float64_vector([1.0, 2.0]))  # never raises
    assert (outcome.value is None) == (outcome.failure is not None)
    assert outcome.value in (None, True, False)


@given(st.floats(allow_nan=False), st.floats(allow_nan=False, allow_infinity=False))
def test_comparison_matches_python(result: float, threshold: float) -> None:
    assert evaluate_condition(f"result < {threshold!r}", result) == Outcome(value=result < threshold)


# Where the hand-written evaluator this module replaced behaved differently from Argo, the expectation is
# now Argo's: each value is what Argo Rollouts v1.10.2's evaluate.EvalCondition returns for the same
# condition and Go-typed result (checked by tests/oracles/expr, which runs Argo's own utils/evaluate).
@pytest.mark.parametrize(
    ("expression", "result", "expected"),
    [
        # issue 19: "accepted although Argo errors: `result > 0.5` on `[0.7]`" - a vector is []float64
        pytest.param("result < 0.01", [0.005], ErrorKind.COMPILE, id="one-element-vector-as-number"),
        # default() returns the result itself when it is not nil, and an empty []float64 is not nil
        pytest.param("default(result, 0) > 5", [], ErrorKind.RUN, id="default-empty-list"),
        # Argo's TestAsInt: asInt("1.1") panics (strconv.ParseInt does not read decimals)
        pytest.param("asInt(result) == 3", "3.7", ErrorKind.RUN, id="asint"),
        # issue 19: "accepted although Argo errors: `result ?? 5 > 4`"
        pytest.param("result ?? 3 == 3", None, ErrorKind.COMPILE, id="coalesce"),
        # Go's math.Pow overflows to +Inf instead of failing; expr has no literal or nesting limits below
        # its 10,000 nodes
        pytest.param("10 ** 100000 > 1", None, True, id="huge-exponent"),
        pytest.param("10.0 ** 1000 > 1", None, True, id="overflowing-power"),
        pytest.param("'" + "a" * 5000 + "' == result", "a", False, id="long-string"),
        pytest.param("(" * 200 + "1" + ")" * 200 + " == 1", None, True, id="deep-nesting"),
        pytest.param("!" * 500 + "true", None, True, id="deep-unary"),
        pytest.param("result " + "+ 'x'" * 1000 + " == ''", "x" * 4000, False, id="string-growth"),
    ],
)
def test_behaves_as_argo_where_the_old_evaluator_did_not(expression: str, result: object,
                                                          expected: bool | ErrorKind) -> None:
    outcome = _evaluate(expression, result)
    if isinstance(expected, ErrorKind):
        assert outcome.failure is not None and outcome.failure.kind is expected, outcome
    else:
        assert outcome == Outcome(value=expected)


@pytest.mark.parametrize(
    ("expression", "result", "message"),
    [
        pytest.param("result < 0.01", [0.005], "invalid operation: < (mismatched types []float64 and float64)",
                     id="vector-compared-with-a-number"),
        pytest.param("default(result, 0) > 5", [], "invalid operation: []float64 > int", id="default-of-empty"),
        pytest.param("asInt(result) == 3", "3.7", 'strconv.ParseInt: parsing "3.7": invalid syntax', id="asint"),
        pytest.param("result ?? 3 == 3", None,
                     "Operator (==) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses.",
                     id="coalesce-mixed"),
    ],
)
def test_argo_messages_for_what_argo_rejects(expression: str, result: object, message: str) -> None:
    outcome = _evaluate(expression, result)
    assert outcome.failure is not None and outcome.failure.message == message
