"""Binary operators at run time, as expr compiles them (short-circuits, `??`, equality shortcuts,
`matches` with a constant or a computed pattern, ranges under the memory budget)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from analysis.expr import ast
from analysis.expr import gotypes as t
from analysis.expr import runtime as rt
from analysis.expr.values import Value, deref, is_nil

if TYPE_CHECKING:
    from analysis.expr.evaluator import Evaluator


def _simple(node: ast.Node, kind: t.GoType) -> bool:
    typ = node.static_type
    return typ is not None and typ.kind == kind.kind and not typ.pkg


def _equal(ev: Evaluator, node: ast.Binary) -> bool:
    left, right = deref(ev.eval(node.left)), deref(ev.eval(node.right))
    if _simple(node.left, t.INT) and _simple(node.right, t.INT):
        return rt.as_int(left) == rt.as_int(right)
    if _simple(node.left, t.STRING) and _simple(node.right, t.STRING):
        return rt.as_string(left) == rt.as_string(right)
    return rt.equal(left, right)


def _matches(ev: Evaluator, node: ast.Binary) -> bool:
    from analysis.expr.goregexp import matches

    left = deref(ev.eval(node.left))
    if isinstance(node.right, ast.String):
        pattern = node.right.value
        if is_nil(left):
            return False
    else:
        right = deref(ev.eval(node.right))
        if is_nil(left) or is_nil(right):
            return False
        pattern = rt.as_string(right)
    if not isinstance(left, str):
        raise rt.interface_conversion(left, "[]uint8")
    ev.step(1 + len(left) // rt_steps_per_byte())
    try:
        return matches(pattern, left)
    except ValueError as exc:
        raise rt.GoPanic(str(exc)) from None


def rt_steps_per_byte() -> int:
    from analysis.expr.evaluator import STRING_BYTES_PER_STEP

    return STRING_BYTES_PER_STEP


def _string_test(test: Callable[[str, str], bool]) -> Callable[[Evaluator, ast.Binary], Value]:
    def run(ev: Evaluator, node: ast.Binary) -> Value:
        left, right = deref(ev.eval(node.left)), deref(ev.eval(node.right))
        if is_nil(left) or is_nil(right):
            return False
        return test(rt.as_string(left), rt.as_string(right))

    return run


def _or(ev: Evaluator, node: ast.Binary) -> Value:
    left = deref(ev.eval(node.left))
    if rt.as_bool(left):
        return left
    return deref(ev.eval(node.right))


def _and(ev: Evaluator, node: ast.Binary) -> Value:
    left = deref(ev.eval(node.left))
    if not rt.as_bool(left):
        return left
    return deref(ev.eval(node.right))


def _coalesce(ev: Evaluator, node: ast.Binary) -> Value:
    left = deref(ev.eval(node.left))
    if not is_nil(left):
        return left
    return deref(ev.eval(node.right))


def _range(ev: Evaluator, node: ast.Binary) -> Value:
    low = rt.to_int(deref(ev.eval(node.left)))
    high = rt.to_int(deref(ev.eval(node.right)))
    ev.grow(max(high - low + 1, 0))
    ev.step(max(high - low + 1, 0) // rt_steps_per_byte())
    return rt.make_range(low, high)


def _pairwise(op: Callable[[Value, Value], Value], *, charge: bool = False) -> Callable[[Evaluator, ast.Binary], Value]:
    def run(ev: Evaluator, node: ast.Binary) -> Value:
        left, right = deref(ev.eval(node.left)), deref(ev.eval(node.right))
        result = op(left, right)
        return ev.charge(result) if charge else result

    return run


_OPERATORS: dict[str, Callable[[Evaluator, ast.Binary], Value]] = {
    "==": _equal, "!=": lambda ev, node: not _equal(ev, node), "or": _or, "||": _or, "and": _and, "&&": _and,
    "<": _pairwise(rt.less), ">": _pairwise(rt.more), "<=": _pairwise(rt.less_or_equal),
    ">=": _pairwise(rt.more_or_equal), "+": _pairwise(rt.add, charge=True), "-": _pairwise(rt.subtract),
    "*": _pairwise(rt.multiply), "/": _pairwise(rt.divide), "%": _pairwise(rt.modulo),
    "**": _pairwise(rt.exponent), "^": _pairwise(rt.exponent), "in": _pairwise(rt.contains),
    "matches": _matches, "contains": _string_test(lambda a, b: b in a),
    "startsWith": _string_test(lambda a, b: a.startswith(b)), "endsWith": _string_test(lambda a, b: a.endswith(b)),
    "..": _range, "??": _coalesce,
}


def binary(ev: Evaluator, node: ast.Binary) -> Value:
    return _OPERATORS[node.operator](ev, node)
