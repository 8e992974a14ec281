"""Success and failure conditions, evaluated exactly as Argo Rollouts v1.10.2 evaluates them.

The language is expr-lang v1.17.7 (the version Argo pins), implemented in `analysis.expr` as a sandboxed
interpreter: lexer, parser, type checker, optimizer and evaluator follow expr's own, so values, compile
errors, run-time errors and their messages are Argo's. The environment is Argo's: `result` plus `asInt`,
`asFloat`, `isNaN`, `isInf`, `isNil` and `default`.

What Argo does not have: a total evaluation budget. Every node visit and every predicate iteration is one
step (building long strings costs steps by length); a condition that runs out fails with "condition
exceeded its evaluation budget of N steps", so `all(result.items, {all(result.items, {# > 0})})` over a
large list stops in well under a second instead of freezing the controller.

This module is the one entry point (`evaluate_condition`); it never raises for a bad condition, and its
results pickle, so callers may run it in a worker process with a deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.expr import argo
from analysis.expr import gotypes as _t
from analysis.expr.errors import ErrorKind, ExprError
from analysis.expr.gojson import from_json_value
from analysis.expr.values import Slice

__all__ = ["DEFAULT_BUDGET", "ConditionFailure", "ErrorKind", "Outcome", "Value", "condition_problem",
           "evaluate_condition", "float64_vector", "from_json_value"]

Value = Any
"""A Go value as `analysis.expr.values` represents it (float for float64, list for []interface {}...)."""

DEFAULT_BUDGET = 100_000
"""Steps a condition may take (about 0.2 s of CPU at most). Argo's documented conditions need well under a
hundred steps on realistic inputs; the largest realistic shape, `all(result, # < 1000)` over a
10,000-sample vector, takes about 40,000."""


@dataclass(frozen=True, slots=True)
class ConditionFailure:
    """Why a condition did not give a bool: expr's message (as Argo shows it) and where."""

    kind: ErrorKind
    message: str
    line: int = 0
    column: int = 0  # 1-based, 0 when unknown

    def at_position(self) -> str:
        """The failure without any text from the condition (safe when it was built from secret arguments)."""
        what = {ErrorKind.COMPILE: "the condition does not compile", ErrorKind.RUN: "the condition failed while "
                "running", ErrorKind.TYPE: "the condition did not produce a boolean",
                ErrorKind.BUDGET: self.message}[self.kind]
        return f"{what} at line {self.line}, column {self.column}" if self.line else what


@dataclass(frozen=True, slots=True)
class Outcome:
    """A condition's verdict (`value`) or its failure."""

    value: bool | None = None
    failure: ConditionFailure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def _failure(error: ExprError) -> ConditionFailure:
    column = error.column + 1 if error.line else 0
    return ConditionFailure(kind=error.kind, message=error.message, line=error.line, column=column)


def evaluate_condition(source: str, result: Value, *, budget: int = DEFAULT_BUDGET) -> Outcome:
    """Evaluate one success/failure condition against a provider's result, as Argo's EvalCondition does."""
    try:
        return Outcome(value=argo.eval_condition(result, source, budget=budget))
    except ExprError as exc:
        return Outcome(failure=_failure(exc))


def condition_problem(source: str) -> ConditionFailure | None:
    """The compile error Argo would report for `source` whatever the result (None when there is none)."""
    error = argo.check_syntax(source)
    return None if error is None else _failure(error)


def failure_message(condition_field: str, source: str, failure: ConditionFailure, result: Value) -> str:
    """The measurement message Argo writes: `could not evaluate successCondition "...": <expr message>`."""
    return argo.evaluation_message(condition_field, source, ExprError(failure.message, None, failure.kind), result)


def float64_vector(values: list[float]) -> Value:
    """A Prometheus vector as Argo hands it to a condition: a Go `[]float64`."""
    return Slice(_t.FLOAT64_SLICE, [float(v) for v in values])
