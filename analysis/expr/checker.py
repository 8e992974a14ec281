"""expr-lang's type checker: the compile-time half of a condition's errors.

It gives every node a Nature from the environment's Go types and rejects what expr rejects before
running (`invalid operation: > (mismatched types []float64 and float64)`, `unknown name foo`, `builtin
all takes only array (got float64)`). Like expr it also rewrites integer literals passed where a float64
is expected (`isNaN(1)`), which changes what runs.
"""

from __future__ import annotations

import re

from analysis.expr import ast
from analysis.expr import gotypes as t
from analysis.expr.errors import ExprError, Location
from analysis.expr.gotypes import Kind
from analysis.expr.nature import Nature

BOOL = Nature.of_type(t.BOOL)
INT = Nature.of_type(t.INT)
FLOAT = Nature.of_type(t.FLOAT64)
STRING = Nature.of_type(t.STRING)
UNKNOWN = Nature()


class CheckError(ExprError):
    pass


class Checker:
    def __init__(self, env: Nature, source: str) -> None:
        self.env = env
        self.source = source
        self.predicate_scopes: list[tuple[Nature, dict[str, Nature]]] = []
        self.var_scopes: list[tuple[str, Nature]] = []

    def error(self, node: ast.Node, message: str) -> CheckError:
        return CheckError(message, Location(node.start, node.end))

    def check(self, node: ast.Node) -> Nature:
        try:
            return self.visit(node)
        except CheckError as exc:
            raise exc.bind(self.source) from None

    def visit(self, node: ast.Node) -> Nature:
        method = getattr(self, "_" + type(node).__name__)
        nature: Nature = method(node)
        node.nature = nature
        return nature

    # --- leaves -----------------------------------------------------------------------------------

    def _Nil(self, node: ast.Nil) -> Nature:
        return Nature.of_nil()

    def _Integer(self, node: ast.Integer) -> Nature:
        return INT

    def _Float(self, node: ast.Float) -> Nature:
        return FLOAT

    def _Bool(self, node: ast.Bool) -> Nature:
        return BOOL

    def _String(self, node: ast.String) -> Nature:
        return STRING

    def _Constant(self, node: ast.Constant) -> Nature:
        from analysis.expr.values import type_of

        return Nature.of_type(type_of(node.value))

    def _Identifier(self, node: ast.Identifier) -> Nature:
        for name, nature in reversed(self.var_scopes):
            if name == node.value:
                return nature
        if node.value == "$env":
            return UNKNOWN
        return self.ident(node, node.value, strict=True, builtins=True)

    def ident(self, node: ast.Node, name: str, *, strict: bool, builtins: bool) -> Nature:
        found = self.env.get(name)
        if found is not None:
            return found
        if builtins:
            from analysis.expr.builtins import BY_NAME

            fn = BY_NAME.get(name)
            if fn is not None:
                return Nature(type=fn.type, func=fn)
        if self.env.strict and strict:
            raise self.error(node, f"unknown name {name}")
        return UNKNOWN

    # --- operators --------------------------------------------------------------------------------

    def _Unary(self, node: ast.Unary) -> Nature:
        nature = self.visit(node.node).deref()
        if node.operator in ("!", "not"):
            if nature.is_bool() or nature.is_unknown():
                return BOOL
        elif node.operator in ("+", "-"):
            if nature.is_number():
                return nature
            if nature.is_unknown():
                return UNKNOWN
        else:
            raise self.error(node, f"unknown operator ({node.operator})")
        raise self.error(node, f"invalid operation: {node.operator} (mismatched type {nature})")

    def _Binary(self, node: ast.Binary) -> Nature:
        from analysis.expr.checker_operators import binary_nature

        left = self.visit(node.left).deref()
        right = self.visit(node.right).deref()
        return binary_nature(self, node, left, right)

    # --- members and slices -----------------------------------------------------------------------

    def _Chain(self, node: ast.Chain) -> Nature:
        return self.visit(node.node)

    def _Member(self, node: ast.Member) -> Nature:
        if isinstance(node.node, ast.Identifier) and node.node.value == "$env":
            if isinstance(node.property, ast.String):
                strict = self.env.strict and not node.optional
                return self.ident(node, node.property.value, strict=strict, builtins=False)
            return UNKNOWN
        base = self.visit(node.node)
        prop = self.visit(node.property)
        if base.is_unknown():
            return UNKNOWN
        if isinstance(node.property, ast.String):
            if base.nil:
                raise self.error(node, f"type nil has no field {node.property.value}")
            method = base.method_by_name(node.property.value)
            if method is not None:
                return method
        base = base.deref()
        if base.kind == Kind.MAP:
            return self._map_member(node, base, prop)
        if base.kind in (Kind.ARRAY, Kind.SLICE):
            prop = prop.deref()
            if not prop.is_integer and not prop.is_unknown():
                raise self.error(node.property,
                                 f"array elements can only be selected using an integer (got {prop})")
            return base.elem()
        if base.kind == Kind.STRUCT and isinstance(node.property, ast.String):
            field = base.field_by_name(node.property.value)
            if field is not None:
                return field
            what = "method" if node.method else "field"
            raise self.error(node, f"type {base} has no {what} {node.property.value}")
        if isinstance(node.property, ast.String):
            what = "method" if node.method else "field"
            raise self.error(node, f"type {base} has no {what} {node.property.value}")
        raise self.error(node, f"type {base}[{prop}] is undefined")

    def _map_member(self, node: ast.Member, base: Nature, prop: Nature) -> Nature:
        key = base.key()
        if not prop.assignable_to(key):
            deref = prop.deref()
            if deref.assignable_to(key):
                prop = deref
        if not prop.assignable_to(key) and not prop.is_unknown():
            raise self.error(node.property, f"cannot use {prop} to get an element from {base}")
        if isinstance(node.property, ast.String) and base.fields is not None:
            field = base.fields.get(node.property.value)
            if field is not None:
                return field
            if base.strict:
                raise self.error(node.property, f"unknown field {node.property.value}")
        return base.elem()

    def _SliceNode(self, node: ast.SliceNode) -> Nature:
        nature = self.visit(node.node)
        if nature.is_unknown():
            return UNKNOWN
        if nature.kind not in (Kind.STRING, Kind.ARRAY, Kind.SLICE):
            raise self.error(node, f"cannot slice {nature}")
        for bound in (node.from_, node.to):
            if bound is not None:
                index = self.visit(bound).deref()
                if not index.is_integer and not index.is_unknown():
                    raise self.error(bound, f"non-integer slice index {index}")
        return nature

    # --- calls --------------------------------------------------------------------------------------

    def _Call(self, node: ast.Call) -> Nature:
        from analysis.expr.checker_calls import call_nature

        return call_nature(self, node)

    def _Builtin(self, node: ast.Builtin) -> Nature:
        from analysis.expr.checker_calls import builtin_nature

        return builtin_nature(self, node)

    def begin(self, collection: Nature, **variables: Nature) -> None:
        self.predicate_scopes.append((collection, variables))

    def end(self) -> None:
        self.predicate_scopes.pop()

    def _Predicate(self, node: ast.Predicate) -> Nature:
        nature = self.visit(node.node)
        results: tuple[t.GoType, ...] = ()
        if nature.is_unknown():
            results = (t.ANY,)
        elif not nature.nil:
            assert nature.type is not None
            results = (nature.type,)
        return Nature(type=t.func_of((t.ANY,), results), ref=nature)

    def _Pointer(self, node: ast.Pointer) -> Nature:
        if not self.predicate_scopes:
            raise self.error(node, "cannot use pointer accessor outside predicate")
        collection, variables = self.predicate_scopes[-1]
        if node.name == "":
            if collection.is_unknown():
                return UNKNOWN
            if collection.kind in (Kind.ARRAY, Kind.SLICE):
                return collection.elem()
            raise self.error(node, f"cannot use {_scope_text(collection, variables)} as array")
        if node.name in variables:
            return variables[node.name]
        raise self.error(node, f"unknown pointer #{node.name}")

    # --- structure -----------------------------------------------------------------------------------

    def _VariableDeclarator(self, node: ast.VariableDeclarator) -> Nature:
        from analysis.expr.builtins import BY_NAME

        if self.env.get(node.name) is not None:
            raise self.error(node, f"cannot redeclare {node.name}")
        if node.name in BY_NAME:
            raise self.error(node, f"cannot redeclare builtin {node.name}")
        if any(name == node.name for name, _ in self.var_scopes):
            raise self.error(node, f"cannot redeclare variable {node.name}")
        value = self.visit(node.value)
        self.var_scopes.append((node.name, value))
        body = self.visit(node.expr)
        self.var_scopes.pop()
        return body

    def _Sequence(self, node: ast.Sequence) -> Nature:
        if not node.nodes:
            raise self.error(node, "empty sequence expression")
        last = UNKNOWN
        for child in node.nodes:
            last = self.visit(child)
        return last

    def _Conditional(self, node: ast.Conditional) -> Nature:
        cond = self.visit(node.cond).deref()
        if not cond.is_bool() and not cond.is_unknown():
            raise self.error(node.cond, f"non-bool expression (type {cond}) used as condition")
        first = self.visit(node.exp1)
        second = self.visit(node.exp2)
        if first.nil and not second.nil:
            return second
        if not first.nil and second.nil:
            return first
        if first.nil and second.nil:
            return Nature.of_nil()
        if first.assignable_to(second):
            if first.is_array() and second.is_array():
                e1, e2 = first.elem(), second.elem()
                if not e1.assignable_to(e2) or not e2.assignable_to(e1):
                    return Nature.of_type(t.ANY_SLICE)
            return first
        return UNKNOWN

    def _Array(self, node: ast.Array) -> Nature:
        previous = UNKNOWN
        same = True
        for i, child in enumerate(node.nodes):
            current = self.visit(child)
            if i > 0 and current.kind != previous.kind:
                same = False
            previous = current
        if same:
            return previous.make_array_of()
        return Nature.of_type(t.ANY_SLICE)

    def _MapNode(self, node: ast.MapNode) -> Nature:
        for pair in node.pairs:
            self.visit(pair)
        return Nature.of_type(t.STRING_ANY_MAP)

    def _Pair(self, node: ast.Pair) -> Nature:
        self.visit(node.key)
        self.visit(node.value)
        return Nature.of_nil()


def _scope_text(collection: Nature, variables: dict[str, Nature]) -> str:
    """fmt's %v of expr's predicateScope struct (an error message that prints Go internals)."""
    return "{" + f"{collection} {list(variables)}" + "}"


def regexp_error(pattern: str) -> str | None:
    from analysis.expr.goregexp import compile_error

    return compile_error(pattern)


_ = re
