"""expr-lang's optimizer passes, in expr's order, because they change what a condition does at run time.

Constant folding turns `x > 1 && false` into `false` (x is never evaluated, so it cannot fail) and
`5 % 0` into a compile error; `filter(a, p)[0]` becomes `find` (a different error when nothing matches);
`all(x, p) && all(x, q)` becomes `all(x, p && q)` (one pass, so a failing `q` can surface where the
two-pass form would have stopped early). Reproducing them is part of evaluating exactly as Argo does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from analysis.expr import ast
from analysis.expr import gotypes as t
from analysis.expr.errors import ExprError, Location
from analysis.expr.gotypes import Kind
from analysis.expr.runtime import go_pow
from analysis.expr.values import GoMap, wrap_int


def _retyped(old: ast.Node, new: ast.Node, typ: t.GoType | None) -> ast.Node:
    new.set_type(typ)
    return ast.patch(old, new)


def _patch_with_type(old: ast.Node, new: ast.Node) -> ast.Node:
    from analysis.expr.values import type_of

    types = {ast.Bool: t.BOOL, ast.Integer: t.INT, ast.Float: t.FLOAT64, ast.String: t.STRING}
    if isinstance(new, ast.Constant):
        return _retyped(old, new, type_of(new.value))
    return _retyped(old, new, types[type(new)])


def _patch_copy_type(old: ast.Node, new: ast.Node) -> ast.Node:
    return _retyped(old, new, old.type)


# --- constant folding -----------------------------------------------------------------------------------


def _float_of(node: ast.Node) -> float | None:
    return float(node.value) if isinstance(node, ast.Integer | ast.Float) else None


def _arith(op: str, a: float, b: float) -> float:
    from analysis.expr.runtime import float_divide

    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return float_divide(a, b)
    return go_pow(a, b)


class _Fold:
    def __init__(self) -> None:
        self.applied = False
        self.error: ExprError | None = None

    def visit(self, node: ast.Node) -> ast.Node:
        if self.error is not None:
            return node
        replacement = self._fold(node)
        if replacement is None:
            return node
        self.applied = True
        return replacement

    def _fold(self, node: ast.Node) -> ast.Node | None:
        if isinstance(node, ast.Unary):
            return self._unary(node)
        if isinstance(node, ast.Binary):
            return self._binary(node)
        if isinstance(node, ast.Array):
            return self._array(node)
        if isinstance(node, ast.Builtin) and node.name == "filter":
            return self._filter_filter(node)
        return None

    def _unary(self, node: ast.Unary) -> ast.Node | None:
        inner = node.node
        if node.operator in ("-", "+") and isinstance(inner, ast.Integer):
            value = wrap_int(-inner.value) if node.operator == "-" else inner.value
            return _patch_with_type(node, ast.Integer(value))
        if node.operator in ("-", "+") and isinstance(inner, ast.Float):
            return _patch_with_type(node, ast.Float(-inner.value if node.operator == "-" else inner.value))
        if node.operator in ("!", "not") and isinstance(inner, ast.Bool):
            return _patch_with_type(node, ast.Bool(not inner.value))
        return None

    def _binary(self, node: ast.Binary) -> ast.Node | None:
        op, left, right = node.operator, node.left, node.right
        if op in ("+", "-", "*", "/", "**", "^"):
            return self._arithmetic(node, op, left, right)
        if op == "%" and isinstance(left, ast.Integer) and isinstance(right, ast.Integer):
            if right.value == 0:
                self.error = ExprError("integer divide by zero", Location(node.start, node.end))
                return None
            from analysis.expr.runtime import int_modulo

            return _patch_with_type(node, ast.Integer(int_modulo(left.value, right.value)))
        if op in ("and", "&&", "or", "||"):
            return self._logical(node, op in ("or", "||"))
        if op == "==":
            for kind in (ast.Integer, ast.String, ast.Bool):
                if isinstance(left, kind) and isinstance(right, kind):
                    return _patch_with_type(node, ast.Bool(left.value == right.value))
        return None

    def _arithmetic(self, node: ast.Binary, op: str, left: ast.Node, right: ast.Node) -> ast.Node | None:
        if op == "+" and isinstance(left, ast.String) and isinstance(right, ast.String):
            return _patch_with_type(node, ast.String(left.value + right.value))
        a, b = _float_of(left), _float_of(right)
        if a is None or b is None:
            return None
        if isinstance(left, ast.Integer) and isinstance(right, ast.Integer) and op in ("+", "-", "*"):
            value = {"+": left.value + right.value, "-": left.value - right.value, "*": left.value * right.value}[op]
            return _patch_with_type(node, ast.Integer(wrap_int(value)))
        return _patch_with_type(node, ast.Float(_arith("**" if op == "^" else op, a, b)))

    def _logical(self, node: ast.Binary, is_or: bool) -> ast.Node | None:
        a = node.left.value if isinstance(node.left, ast.Bool) else None
        b = node.right.value if isinstance(node.right, ast.Bool) else None
        neutral, absorbing = (False, True) if is_or else (True, False)
        if a is neutral:
            return _patch_copy_type(node, node.right)
        if b is neutral:
            return _patch_copy_type(node, node.left)
        if a is absorbing or b is absorbing:
            return _patch_with_type(node, ast.Bool(absorbing))
        return None

    def _array(self, node: ast.Array) -> ast.Node | None:
        if not node.nodes or not all(isinstance(n, ast.Integer | ast.Float | ast.String | ast.Bool)
                                     for n in node.nodes):
            return None
        return _patch_with_type(node, ast.Constant([n.value for n in node.nodes]))  # type: ignore[attr-defined]

    def _filter_filter(self, node: ast.Builtin) -> ast.Node | None:
        if len(node.arguments) != 2:
            return None
        base = node.arguments[0]
        if not (isinstance(base, ast.Builtin) and base.name == "filter"):
            return None
        outer, inner = node.arguments[1], base.arguments[1]
        assert isinstance(outer, ast.Predicate) and isinstance(inner, ast.Predicate)
        merged = ast.Predicate(ast.Binary("&&", inner.node, outer.node))
        return _patch_copy_type(node, ast.Builtin("filter", [base.arguments[0], merged]))


# --- the other passes -----------------------------------------------------------------------------------


def _in_array(node: ast.Node) -> ast.Node:
    if not (isinstance(node, ast.Binary) and node.operator == "in" and isinstance(node.right, ast.Array)):
        return node
    elements = node.right.nodes
    if not elements:
        return node
    left_type = node.left.static_type
    if left_type is not None and left_type.kind == Kind.INT and all(isinstance(e, ast.Integer) for e in elements):
        table = GoMap(t.map_of(t.INT, t.EMPTY_STRUCT))
        for e in elements:
            table.set(e.value, None)  # type: ignore[attr-defined]
        return _patch_copy_type(node, ast.Binary("in", node.left, _constant(table)))
    if all(isinstance(e, ast.String) for e in elements):
        table = GoMap(t.map_of(t.STRING, t.EMPTY_STRUCT))
        for e in elements:
            table.set(e.value, None)  # type: ignore[attr-defined]
        return _patch_copy_type(node, ast.Binary("in", node.left, _constant(table)))
    return node


def _constant(value: GoMap) -> ast.Node:
    node = ast.Constant(value)
    node.set_type(value.type)
    return node


def _in_range(node: ast.Node) -> ast.Node:
    if not (isinstance(node, ast.Binary) and node.operator == "in"):
        return node
    left_type = node.left.static_type
    if left_type is None or left_type.kind != Kind.INT:
        return node
    span = node.right
    if isinstance(span, ast.Binary) and span.operator == ".." and isinstance(span.left, ast.Integer) \
            and isinstance(span.right, ast.Integer):
        low = ast.Binary(">=", node.left, span.left)
        high = ast.Binary("<=", node.left, span.right)
        return _patch_copy_type(node, ast.Binary("and", low, high))
    return node


def _is_filter(node: ast.Node, *, args: int = 2) -> bool:
    return isinstance(node, ast.Builtin) and node.name == "filter" and len(node.arguments) == args


def _filter_map(node: ast.Node) -> ast.Node:
    if isinstance(node, ast.Builtin) and node.name == "map" and len(node.arguments) == 2 \
            and ast.find(node.arguments[1], lambda n: isinstance(n, ast.Pointer) and n.name == "index") is None:
        predicate, base = node.arguments[1], node.arguments[0]
        if isinstance(predicate, ast.Predicate) and isinstance(base, ast.Builtin) and base.name == "filter" \
                and base.map is None:
            return _patch_copy_type(node, ast.Builtin("filter", base.arguments, map_=predicate.node))
    return node


def _filter_len(node: ast.Node) -> ast.Node:
    if isinstance(node, ast.Builtin) and node.name == "len" and len(node.arguments) == 1 \
            and _is_filter(node.arguments[0]):
        inner = node.arguments[0]
        assert isinstance(inner, ast.Builtin)
        return _patch_copy_type(node, ast.Builtin("count", inner.arguments))
    return node


def _filter_edge(index: int, accessor: str, finder: str) -> Callable[[ast.Node], ast.Node]:
    def visit(node: ast.Node) -> ast.Node:
        if isinstance(node, ast.Member) and not node.optional and isinstance(node.property, ast.Integer) \
                and node.property.value == index and _is_filter(node.node):
            inner = node.node
            assert isinstance(inner, ast.Builtin)
            return _patch_copy_type(node, ast.Builtin(finder, inner.arguments, throws=True, map_=inner.map))
        if isinstance(node, ast.Builtin) and node.name == accessor and len(node.arguments) == 1 \
                and _is_filter(node.arguments[0]):
            inner = node.arguments[0]
            assert isinstance(inner, ast.Builtin)
            return _patch_copy_type(node, ast.Builtin(finder, inner.arguments, throws=False, map_=inner.map))
        return node

    return visit


def _combined_operator(fn: str, op: str) -> str | None:
    if fn == "all" and op in ("and", "&&"):
        return op
    if fn == "any" and op in ("or", "||"):
        return op
    if fn == "none" and op in ("and", "&&"):
        return "or" if op == "and" else "||"
    return None


def _predicate_combination(node: ast.Node) -> ast.Node:
    if not (isinstance(node, ast.Binary) and ast.is_boolean_operator(node.operator)):
        return node
    left, right = node.left, node.right
    if not isinstance(left, ast.Builtin):
        return node
    combined = _combined_operator(left.name, node.operator)
    if combined is None or not (isinstance(right, ast.Builtin) and right.name == left.name):
        return node
    if left.arguments[0].type != right.arguments[0].type or str(left.arguments[0]) != str(right.arguments[0]):
        return node
    lp, rp = left.arguments[1], right.arguments[1]
    assert isinstance(lp, ast.Predicate) and isinstance(rp, ast.Predicate)
    predicate = ast.Predicate(ast.Binary(combined, lp.node, rp.node))
    predicate.node = _predicate_combination(predicate.node)
    return _patch_copy_type(node, ast.Builtin(left.name, [left.arguments[0], predicate]))


def _sum_array(node: ast.Node) -> ast.Node:
    if isinstance(node, ast.Builtin) and node.name == "sum" and len(node.arguments) == 1:
        array = node.arguments[0]
        if isinstance(array, ast.Array) and len(array.nodes) >= 2:
            return _patch_copy_type(node, _sum_fold(array.nodes))
    return node


def _sum_fold(nodes: list[ast.Node]) -> ast.Node:
    if len(nodes) > 2:
        return ast.Binary("+", nodes[0], _sum_fold(nodes[1:]))
    return ast.Binary("+", nodes[0], nodes[1])


def _sum_map(node: ast.Node) -> ast.Node:
    if isinstance(node, ast.Builtin) and node.name == "sum" and len(node.arguments) == 1:
        inner = node.arguments[0]
        if isinstance(inner, ast.Builtin) and inner.name == "map" and len(inner.arguments) == 2:
            return _patch_copy_type(node, ast.Builtin("sum", [inner.arguments[0], inner.arguments[1]]))
    return node


def optimize(tree: ast.Node, source: str) -> ast.Node:
    """optimizer.Optimize; ExprError for a fold that cannot be done (`integer divide by zero`)."""
    tree = ast.walk(tree, _in_array)
    for _ in range(1001):
        fold = _Fold()
        tree = ast.walk(tree, fold.visit)
        if fold.error is not None:
            raise fold.error.bind(source)
        if not fold.applied:
            break
    for visit in (_in_range, _filter_map, _filter_len, _filter_edge(-1, "last", "findLast"),
                  _filter_edge(0, "first", "find"), _predicate_combination, _sum_array, _sum_map):
        tree = ast.walk(tree, visit)
    return tree


_ = math
