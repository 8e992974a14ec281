"""Argo Rollouts' use of expr (utils/evaluate at v1.10.2): the environment, the compile options, the
bool check and the wording of errors, so a condition behaves here as it does in Argo.

Argo compiles each condition against `expr.Env(env)` where env holds `result` (the provider's value, a
pointer dereferenced) and six functions: `asInt`, `asFloat`, `isNaN`, `isInf`, `isNil` and `default`.
`isNil` and `default` ignore their first argument and look at the *result* (`default(result.x, 0)` is the
result when there is one). The environment's Go types drive type checking, so the compiled program is
cached per (condition, type of the result).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from analysis.expr import ast
from analysis.expr import gotypes as t
from analysis.expr.builtins import NAMES as BUILTIN_NAMES
from analysis.expr.checker import Checker
from analysis.expr.errors import ErrorKind, ExprError
from analysis.expr.evaluator import Evaluator
from analysis.expr.gofmt import format_v
from analysis.expr.gonumbers import parse_float, parse_int
from analysis.expr.gotypes import GoType, Kind
from analysis.expr.nature import Nature
from analysis.expr.optimizer import optimize
from analysis.expr.parser import parse
from analysis.expr.runtime import GoPanic
from analysis.expr.values import (
    Func,
    GoInt,
    GoTime,
    Pointer,
    Slice,
    Value,
    deref,
    float_to_int,
    is_nil,
    type_name,
    type_of,
)

ENV_NAMES = frozenset({"result", "asInt", "asFloat", "isNaN", "isInf", "isNil", "default"})

# expr accepts up to 10,000 nodes and Go's stacks grow; the interpreter recurses about three Python frames
# per nesting level, which Python 3.11 keeps off the C stack, so a deep but legal condition needs a higher
# limit than Python's default of 1,000.
RECURSION_LIMIT = 40_000


@contextmanager
def _deep_recursion() -> Iterator[None]:
    previous = sys.getrecursionlimit()
    if previous < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    try:
        yield
    finally:
        if previous < RECURSION_LIMIT:
            sys.setrecursionlimit(previous)


def _argo_is_nil(value: Value) -> bool:
    """evaluate.isNil: nil, or a nil pointer, map, slice."""
    return is_nil(value)


def _as_int(value: Value) -> Value:
    if isinstance(value, float):
        return GoInt(float_to_int(value), t.INT64)
    if isinstance(value, int) and not isinstance(value, bool):
        return GoInt(value, t.INT64)
    if isinstance(value, GoInt) and not value.type.name:
        from analysis.expr.values import wrap_int

        return GoInt(wrap_int(value.value, Kind.INT64), t.INT64)
    if isinstance(value, str):
        number, problem = parse_int(value, 10)
        if problem:
            raise GoPanic(problem)
        return GoInt(number, t.INT64)
    raise GoPanic(f"asInt() not supported on {type_name(value)} {format_v(value)}")


def _as_float(value: Value) -> Value:
    if isinstance(value, float):
        return value
    if (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, GoInt) and not value.type.name):
        return float(value.value if isinstance(value, GoInt) else value)
    if isinstance(value, str):
        number, problem = parse_float(value)
        if problem:
            raise GoPanic(problem)
        return number
    raise GoPanic(f"asFloat() not supported on {type_name(value)} {format_v(value)}")


_AS_INT = t.func_of((t.ANY,), (t.INT64,))
_AS_FLOAT = t.func_of((t.ANY,), (t.FLOAT64,))
_FLOAT_TEST = t.func_of((t.FLOAT64,), (t.BOOL,))
_IS_NIL = t.func_of((t.ANY,), (t.BOOL,))
_DEFAULT = t.func_of((t.ANY, t.ANY), (t.ANY,))


def environment(result: Value) -> dict[str, Value]:
    """EvalCondition's env for a provider value."""
    value = deref(result)
    return {
        "result": value,
        "asInt": Func("asInt", _AS_INT, _as_int),
        "asFloat": Func("asFloat", _AS_FLOAT, _as_float),
        "isNaN": Func("isNaN", _FLOAT_TEST, math.isnan),
        "isInf": Func("isInf", _FLOAT_TEST, math.isinf),
        "isNil": Func("isNil", _IS_NIL, lambda _: _argo_is_nil(result)),
        "default": Func("default", _DEFAULT, lambda _, fallback: fallback if _argo_is_nil(result) else value),
    }


def _result_key(value: Value) -> GoType | None:
    return type_of(value)


def _env_nature(result_type: GoType | None, *, unknown_result: bool = False) -> Nature:
    fields = {
        "result": Nature() if unknown_result else (Nature.of_nil() if result_type is None
                                                    else Nature.of_type(result_type)),
        "asInt": Nature.of_type(_AS_INT), "asFloat": Nature.of_type(_AS_FLOAT), "isNaN": Nature.of_type(_FLOAT_TEST),
        "isInf": Nature.of_type(_FLOAT_TEST), "isNil": Nature.of_type(_IS_NIL), "default": Nature.of_type(_DEFAULT),
    }
    return Nature(type=t.STRING_ANY_MAP, strict=True, fields=fields)


def compile_tree(source: str, result_type: GoType | None, *, unknown_result: bool = False) -> ast.Node:
    """expr.Compile(source, expr.Env(env)): parse, type-check, optimize; ExprError(kind=compile)."""
    try:
        with _deep_recursion():
            tree = parse(source, builtins=BUILTIN_NAMES, env_names=ENV_NAMES)
            Checker(_env_nature(result_type, unknown_result=unknown_result), source).check(tree)
            return optimize(tree, source)
    except RecursionError:
        raise ExprError("expression nests too deeply to evaluate", None, ErrorKind.COMPILE) from None


@lru_cache(maxsize=1024)
def _compiled(source: str, result_type: GoType | None) -> ast.Node | ExprError:
    try:
        return compile_tree(source, result_type)
    except ExprError as exc:
        return exc


def check_syntax(source: str) -> ExprError | None:
    """The errors Argo would report for this condition whatever the result is (result's type unknown)."""
    try:
        compile_tree(source, None, unknown_result=True)
    except ExprError as exc:
        return exc
    return None


def eval_condition(result: Value, condition: str, *, budget: int) -> bool:
    """evaluate.EvalCondition: the condition's bool, or ExprError with Argo's message."""
    value = deref(result)
    program = _compiled(condition, _result_key(value))
    if isinstance(program, ExprError):
        raise program
    evaluator = Evaluator(env=environment(result), budget=budget)
    try:
        with _deep_recursion():
            output = evaluator.run(program)
    except GoPanic as exc:
        from analysis.expr.errors import Location

        node = exc.node
        location = Location(node.start, node.end) if isinstance(node, ast.Node) else None
        raise ExprError(exc.message, location, ErrorKind.RUN).bind(condition) from None
    except RecursionError:
        raise ExprError("expression nests too deeply to evaluate", None, ErrorKind.RUN) from None
    if not isinstance(output, bool):
        raise ExprError(f"expected bool, but got {type_name(output)}", None, ErrorKind.TYPE)
    return output


TIME_ENV_NAMES = frozenset({"isNaN", "isInf"})


def eval_time(expression: str, *, budget: int) -> GoTime:
    """evaluate.EvalTime (Prometheus's rangeQuery start/end, e.g. `now() - duration("5m")`): the env has only
    isNaN and isInf, the output must be a time.Time; ExprError with expr's message (no position, as Argo
    unwraps file.Error to its message)."""
    nature = Nature(type=t.STRING_ANY_MAP, strict=True, fields={
        "isNaN": Nature.of_type(_FLOAT_TEST), "isInf": Nature.of_type(_FLOAT_TEST)})
    env: dict[str, Value] = {"isNaN": Func("isNaN", _FLOAT_TEST, math.isnan),
                             "isInf": Func("isInf", _FLOAT_TEST, math.isinf)}
    try:
        with _deep_recursion():
            tree = parse(expression, builtins=BUILTIN_NAMES, env_names=TIME_ENV_NAMES)
            Checker(nature, expression).check(tree)
            output = Evaluator(env=env, budget=budget).run(optimize(tree, expression))
    except GoPanic as exc:
        raise ExprError(exc.message, None, ErrorKind.RUN) from None
    except RecursionError:
        raise ExprError("expression nests too deeply to evaluate", None, ErrorKind.RUN) from None
    if not isinstance(output, GoTime):
        raise ExprError(f"expected time.Time, but got {type_name(output)}", None, ErrorKind.TYPE)
    return output


def is_nil_or_empty(result: Value) -> bool:
    """evaluate.isNilOrEmpty: nil, or a slice or array of length 0."""
    if _argo_is_nil(result):
        return True
    value = result
    return isinstance(value, list | Slice) and len(value) == 0


def evaluation_message(condition_field: str, condition: str, error: ExprError, result: Value) -> str:
    """formatEvalError: what Argo writes into the measurement's message."""
    if is_nil_or_empty(result):
        return (f'could not evaluate {condition_field} "{condition}": metric result is nil or empty: no data '
                "returned from the metric provider")
    return f'could not evaluate {condition_field} "{condition}": {error.message}'


_ = Pointer
