"""The checker's rules for binary operators: which operand types each operator accepts and what it
produces (int op int is int, / and ** are float64, time minus time is a duration, `..` builds []int)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.expr import ast
from analysis.expr import gotypes as t
from analysis.expr.nature import Nature

if TYPE_CHECKING:
    from analysis.expr.checker import Checker

BOOL = Nature.of_type(t.BOOL)
INT = Nature.of_type(t.INT)
FLOAT = Nature.of_type(t.FLOAT64)
STRING = Nature.of_type(t.STRING)
TIME = Nature.of_type(t.TIME)
DURATION = Nature.of_type(t.DURATION)
UNKNOWN = Nature()


def _ordering(l: Nature, r: Nature) -> Nature | None:  # noqa: E741 - l/r as in expr
    if (l.is_number() and r.is_number()) or (l.is_string() and r.is_string()) or (l.is_time() and r.is_time()) \
            or (l.is_duration() and r.is_duration()):
        return BOOL
    if l.maybe_compatible(r, "number", "string", "time", "duration"):
        return BOOL
    return None


def _minus(l: Nature, r: Nature) -> Nature | None:  # noqa: E741
    if l.is_number() and r.is_number():
        return l.promote_numeric(r)
    if l.is_time() and r.is_time():
        return DURATION
    if l.is_time() and r.is_duration():
        return TIME
    if l.is_duration() and r.is_duration():
        return DURATION
    if l.maybe_compatible(r, "number", "time", "duration"):
        return UNKNOWN
    return None


def _times(l: Nature, r: Nature) -> Nature | None:  # noqa: E741
    if l.is_number() and r.is_number():
        return l.promote_numeric(r)
    if (l.is_number() and r.is_duration()) or (l.is_duration() and r.is_number()) \
            or (l.is_duration() and r.is_duration()):
        return DURATION
    if l.maybe_compatible(r, "number", "duration"):
        return UNKNOWN
    return None


def _plus(l: Nature, r: Nature) -> Nature | None:  # noqa: E741
    if l.is_number() and r.is_number():
        return l.promote_numeric(r)
    if l.is_string() and r.is_string():
        return STRING
    if (l.is_time() and r.is_duration()) or (l.is_duration() and r.is_time()):
        return TIME
    if l.is_duration() and r.is_duration():
        return DURATION
    if l.maybe_compatible(r, "number", "string", "time", "duration"):
        return UNKNOWN
    return None


def _float_result(l: Nature, r: Nature) -> Nature | None:  # noqa: E741
    if (l.is_number() and r.is_number()) or l.maybe_compatible(r, "number"):
        return FLOAT
    return None


def _modulo(l: Nature, r: Nature) -> Nature | None:  # noqa: E741
    if (l.is_integer and r.is_integer) or l.maybe_compatible(r, "integer"):
        return INT
    return None


def _logical(l: Nature, r: Nature) -> Nature | None:  # noqa: E741
    if (l.is_bool() and r.is_bool()) or l.maybe_compatible(r, "bool"):
        return BOOL
    return None


def _string_test(l: Nature, r: Nature) -> Nature | None:  # noqa: E741
    if (l.is_string() and r.is_string()) or l.maybe_compatible(r, "string"):
        return BOOL
    return None


def _range(l: Nature, r: Nature) -> Nature | None:  # noqa: E741
    if (l.is_integer and r.is_integer) or l.maybe_compatible(r, "integer"):
        return Nature(type=t.ANY_SLICE, ref=INT)
    return None


def _coalesce(l: Nature, r: Nature) -> Nature:  # noqa: E741
    if l.nil and not r.nil:
        return r
    if not l.nil and r.nil:
        return l
    if l.nil and r.nil:
        return Nature.of_nil()
    if r.assignable_to(l):
        return l
    return UNKNOWN


_RULES = {
    "<": _ordering, ">": _ordering, "<=": _ordering, ">=": _ordering, "-": _minus, "*": _times, "+": _plus,
    "/": _float_result, "**": _float_result, "^": _float_result, "%": _modulo, "or": _logical, "||": _logical,
    "and": _logical, "&&": _logical, "contains": _string_test, "startsWith": _string_test,
    "endsWith": _string_test, "..": _range,
}


def _in(checker: Checker, node: ast.Binary, l: Nature, r: Nature) -> Nature | None:  # noqa: E741
    if (l.is_string() or l.is_unknown()) and r.is_struct():
        return BOOL
    if r.is_map():
        key = r.key()
        if not l.is_unknown() and not l.assignable_to(key):
            raise checker.error(node, f"cannot use {l} as type {key} in map key")
        return BOOL
    if r.is_array():
        elem = r.elem()
        if not l.comparable_to(elem):
            raise checker.error(node, f"cannot use {l} as type {elem} in array")
        return BOOL
    if l.is_unknown() and r.is_any_of("string", "array", "map"):
        return BOOL
    if r.is_unknown():
        return BOOL
    return None


def _matches(checker: Checker, node: ast.Binary, l: Nature, r: Nature) -> Nature | None:  # noqa: E741
    if isinstance(node.right, ast.String):
        from analysis.expr.goregexp import compile_error

        problem = compile_error(node.right.value)
        if problem is not None:
            raise checker.error(node, problem)
    if ((l.is_string() or l.is_byte_slice()) and r.is_string()) or l.maybe_compatible(r, "string"):
        return BOOL
    return None


def binary_nature(checker: Checker, node: ast.Binary, l: Nature, r: Nature) -> Nature:  # noqa: E741
    op = node.operator
    result: Nature | None
    if op in ("==", "!="):
        result = BOOL if l.comparable_to(r) else None
    elif op == "??":
        return _coalesce(l, r)
    elif op == "in":
        result = _in(checker, node, l, r)
    elif op == "matches":
        result = _matches(checker, node, l, r)
    elif op in _RULES:
        result = _RULES[op](l, r)
    else:
        raise checker.error(node, f"unknown operator ({op})")
    if result is None:
        raise checker.error(node, f"invalid operation: {op} (mismatched types {l} and {r})")
    return result
