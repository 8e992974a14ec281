"""The condition evaluator against the syntax found in real Argo templates, and against hostile input."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.conditions import ConditionError, evaluate, evaluate_condition

NAN = math.nan


@pytest.mark.parametrize(
    ("expression", "result", "expected"),
    [
        pytest.param("result[0] >= 0.95", [0.97], True, id="index-ge"),
        pytest.param("result[0] >= 0.95", [0.90], False, id="index-ge-false"),
        pytest.param("result < 0.01 && result >= 0", 0.005, True, id="and-range"),
        pytest.param("result < 0.01 && result >= 0", -1.0, False, id="and-range-negative"),
        pytest.param("result < 0.01", [0.005], True, id="one-element-vector-as-number"),
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
        pytest.param("default(result, 0) > 5", [], False, id="default-empty-list"),
        pytest.param("asFloat(result) < 100", "99.5", True, id="asfloat-string"),
        pytest.param("asInt(result) == 3", "3.7", True, id="asint"),
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
        pytest.param("result ?? 3 == 3", None, True, id="coalesce"),
        pytest.param("isInf(result)", math.inf, True, id="isinf"),
        pytest.param("result == 1", 1.0, True, id="int-float-equal"),
        pytest.param("result >= 0.95", NAN, False, id="nan-compare-false"),
        pytest.param("max(result) < 5 && min(result) > 0", [1, 4], True, id="min-max"),
        pytest.param("1_000 == 1000 && 1e3 == 1000 && .5 == 0.5", None, True, id="number-forms"),
        pytest.param("'a\\'b' == \"a'b\"", None, True, id="escapes"),
    ],
)
def test_evaluates_argo_syntax(expression: str, result: object, expected: bool) -> None:
    assert evaluate_condition(expression, result) is expected


@pytest.mark.parametrize(
    ("expression", "position", "reason"),
    [
        pytest.param("result >", 8, "unexpected end", id="dangling-operator"),
        pytest.param("result >= 0.95)", 14, "unexpected ')'", id="extra-paren"),
        pytest.param("(result > 1", 11, "expected ')'", id="missing-paren"),
        pytest.param("result $ 1", 7, "unexpected character", id="bad-char"),
        pytest.param("'abc", 0, "unterminated", id="unterminated-string"),
        pytest.param("", 0, "empty", id="empty"),
        pytest.param("evil(result)", 0, "unknown function", id="unknown-function"),
        pytest.param("result.__class__()", 16, "only built-in functions", id="method-call"),
        pytest.param("result.1", 6, "unexpected", id="dot-number"),
    ],
)
def test_syntax_errors_report_position(expression: str, position: int, reason: str) -> None:
    with pytest.raises(ConditionError) as info:
        evaluate_condition(expression, 1)
    assert info.value.position == position
    assert reason in info.value.reason
    assert expression in str(info.value)


@pytest.mark.parametrize(
    ("expression", "result", "reason"),
    [
        pytest.param("result.__class__ == nil", 1, "cannot index int", id="attribute-on-number"),
        pytest.param('result.__class__ == nil', "s", "array index must be an integer", id="attribute-on-string"),
        pytest.param("__import__('os')", None, "unknown function", id="import"),
        pytest.param("os == 1", None, "unknown name", id="unknown-name"),
        pytest.param("10 ** 100000 > 1", None, "exponent", id="huge-exponent"),
        pytest.param("10.0 ** 1000 > 1", None, "cannot raise", id="overflowing-power"),
        pytest.param("'" + "a" * 5000 + "' == result", "a", "longer than", id="long-string"),
        pytest.param("(" * 200 + "1" + ")" * 200 + " == 1", None, "nested deeper", id="deep-nesting"),
        pytest.param("!" * 500 + "true", None, "nested deeper", id="deep-unary"),
        pytest.param("result > 1", "abc", "expected a number", id="type-error"),
        pytest.param("result + 1", 1, "must be a boolean", id="non-boolean"),
        pytest.param("result[5] > 1", [1], "out of range", id="index-out-of-range"),
        pytest.param("result[0] > 1", None, "cannot index nil", id="index-nil"),
        pytest.param("result % 0 == 1", 1, "modulo by zero", id="modulo-zero"),
        pytest.param("# > 1", 1, "only valid inside a predicate", id="pointer-outside"),
        pytest.param("1" * 40 + " > 1", None, "too large", id="huge-int-literal"),
        pytest.param("result " + "+ 'x'" * 1000 + " == ''", "x" * 4000, "longer", id="string-growth"),
        pytest.param("x" * 5000, None, "longer than", id="huge-expression"),
    ],
)
def test_refuses_hostile_or_invalid_input(expression: str, result: object, reason: str) -> None:
    with pytest.raises(ConditionError) as info:
        evaluate_condition(expression, result)
    assert reason in info.value.reason


def test_division_by_zero_follows_ieee_like_go() -> None:
    assert evaluate("1 / 0", None) == math.inf
    assert math.isnan(evaluate("0 / 0", None))


@given(st.text(max_size=200))
def test_arbitrary_text_either_evaluates_or_raises_condition_error(text: str) -> None:
    with contextlib.suppress(ConditionError):
        evaluate(text, [1.0, 2.0])


@given(st.floats(allow_nan=False), st.floats(allow_nan=False, allow_infinity=False))
def test_comparison_matches_python(result: float, threshold: float) -> None:
    assert evaluate_condition(f"result < {threshold!r}", result) is (result < threshold)
