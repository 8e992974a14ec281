"""Runs a checked, optimized condition: a tree-walking interpreter with expr's VM semantics and a budget.

Each node does what expr's compiled bytecode for it does (short-circuit `&&` that requires a bool on the
left but returns whatever the right gives, `??` on nil, optional chains, map literals where the first of
two equal keys wins...), including expr's memory budget (`memory budget exceeded`). On top of expr, every
node visit and every predicate iteration costs one step of a total budget, and building strings costs
steps by size, so no condition can run long or grow memory without bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from analysis.expr import ast
from analysis.expr import gotypes as t
from analysis.expr import runtime as rt
from analysis.expr.errors import BudgetExceeded
from analysis.expr.gotypes import Kind
from analysis.expr.values import Value, deref, is_nil

MEMORY_BUDGET = 1_000_000  # expr's conf.DefaultMemoryBudget
STRING_BYTES_PER_STEP = 256


class _ChainNil(Exception):
    """An optional access met nil: the whole chain is nil."""


@dataclass
class Scope:
    """One predicate's iteration state (expr's vm.Scope)."""

    array: Value
    length: int
    index: int = 0
    count: int = 0
    acc: Value = None


@dataclass
class Evaluator:
    env: dict[str, Value]
    budget: int
    steps: int = 0
    memory: int = 0
    variables: dict[str, Value] = field(default_factory=dict)
    scopes: list[Scope] = field(default_factory=list)

    # --- accounting ---------------------------------------------------------------------------------

    def step(self, cost: int = 1) -> None:
        self.steps += cost
        if self.steps > self.budget:
            raise BudgetExceeded(self.budget)

    def grow(self, size: int) -> None:
        """vm.memGrow."""
        self.memory += max(size, 0)
        if self.memory >= MEMORY_BUDGET:
            raise rt.GoPanic("memory budget exceeded")

    def charge(self, value: Value) -> Value:
        """Steps for what a string- or array-building operation produced."""
        if isinstance(value, str | list) and len(value) > STRING_BYTES_PER_STEP:
            self.step(len(value) // STRING_BYTES_PER_STEP)
        return value

    # --- dispatch -----------------------------------------------------------------------------------

    def eval(self, node: ast.Node) -> Value:
        self.step()
        try:
            return _DISPATCH[type(node)](self, node)
        except rt.GoPanic as exc:
            if exc.node is None:
                exc.node = node
            raise

    def run(self, node: ast.Node) -> Value:
        try:
            return self.eval(node)
        except _ChainNil:
            return None

    # --- leaves -------------------------------------------------------------------------------------

    def nil(self, node: ast.Nil) -> Value:
        return None

    def identifier(self, node: ast.Identifier) -> Value:
        if node.value in self.variables:
            return self.variables[node.value]
        if node.value == "$env":
            return self.env
        return self.env.get(node.value)

    def integer(self, node: ast.Integer) -> Value:
        typ = node.static_type
        if typ is None or typ == t.INT or typ.kind not in t.INTEGER_KINDS | t.FLOAT_KINDS:
            return node.value
        if typ.kind in t.FLOAT_KINDS:
            return float(node.value)
        from analysis.expr.values import make_int

        return make_int(node.value, typ)

    def literal(self, node: ast.Float | ast.Bool | ast.String | ast.Constant) -> Value:
        return node.value

    # --- operators -----------------------------------------------------------------------------------

    def unary(self, node: ast.Unary) -> Value:
        value = deref(self.eval(node.node))
        if node.operator in ("!", "not"):
            return not rt.as_bool(value)
        if node.operator == "-":
            return rt.negate(value)
        return value

    def binary(self, node: ast.Binary) -> Value:
        from analysis.expr.evaluator_operators import binary

        return binary(self, node)

    def chain(self, node: ast.Chain) -> Value:
        try:
            value = self.eval(node.node)
        except _ChainNil:
            return None
        return None if is_nil(value) else value

    def member(self, node: ast.Member) -> Value:
        base_type = node.node.static_type
        prop = node.property
        if isinstance(prop, ast.String) and base_type is not None and base_type.kind != Kind.INTERFACE \
                and base_type.method(prop.value) is not None:
            from analysis.expr.methods import bound_method

            base = self.eval(node.node)
            if base is None:
                raise rt.GoPanic(f"cannot fetch {prop.value} from {_type_name(base)}")
            return bound_method(base, prop.value)
        base = self.eval(node.node)
        if node.optional and is_nil(base):
            raise _ChainNil
        nature = node.node.nature
        if isinstance(prop, ast.String) and nature is not None and nature.deref().kind == Kind.STRUCT \
                and nature.deref().field_by_name(prop.value) is not None:
            return rt.fetch_field(base, prop.value)
        key = self.eval(prop)
        return rt.fetch(base, deref(key))

    def slice(self, node: ast.SliceNode) -> Value:
        container = self.eval(node.node)
        high = deref(self.eval(node.to)) if node.to is not None else rt.length(container)
        low = deref(self.eval(node.from_)) if node.from_ is not None else 0
        return self.charge(rt.slice_range(container, low, high))

    # --- calls and builtins ---------------------------------------------------------------------------

    def call(self, node: ast.Call) -> Value:
        from analysis.expr.evaluator_calls import call

        return call(self, node)

    def builtin(self, node: ast.Builtin) -> Value:
        from analysis.expr.evaluator_calls import builtin

        return builtin(self, node)

    def predicate(self, node: ast.Predicate) -> Value:
        return self.eval(node.node)

    def pointer(self, node: ast.Pointer) -> Value:
        scope = self.scopes[-1]
        if node.name == "index":
            return scope.index
        if node.name == "acc":
            return scope.acc
        return element(scope.array, scope.index)

    # --- structure -------------------------------------------------------------------------------------

    def variable(self, node: ast.VariableDeclarator) -> Value:
        self.variables[node.name] = self.eval(node.value)
        try:
            return self.eval(node.expr)
        finally:
            del self.variables[node.name]

    def sequence(self, node: ast.Sequence) -> Value:
        result: Value = None
        for child in node.nodes:
            result = self.eval(child)
        return result

    def conditional(self, node: ast.Conditional) -> Value:
        if rt.as_bool(deref(self.eval(node.cond))):
            return self.eval(node.exp1)
        return self.eval(node.exp2)

    def array(self, node: ast.Array) -> Value:
        values = [self.eval(child) for child in node.nodes]
        self.grow(len(values))
        return values

    def map(self, node: ast.MapNode) -> Value:
        pairs: list[tuple[Value, Value]] = []
        for pair in node.pairs:
            assert isinstance(pair, ast.Pair)
            pairs.append((self.eval(pair.key), self.eval(pair.value)))
        self.grow(len(pairs))
        result: dict[str, Value] = {}
        for key, value in reversed(pairs):
            result[rt.as_string(key)] = value
        return result


def _type_name(value: Value) -> str:
    from analysis.expr.values import type_name

    return type_name(value)


def element(array: Value, index: int) -> Value:
    """scope.Array.Index(i).Interface(), with reflect's panics."""
    from analysis.expr.values import GoInt, Slice

    if isinstance(array, list):
        if not 0 <= index < len(array):
            raise rt.GoPanic("reflect: slice index out of range")
        return array[index]
    if isinstance(array, Slice):
        elements = array.items or []
        if not 0 <= index < len(elements):
            raise rt.GoPanic("reflect: slice index out of range" if array.type.kind == Kind.SLICE
                             else "reflect: array index out of range")
        return elements[index]
    if isinstance(array, str):
        from analysis.expr.strings import byte_at, byte_len

        if not 0 <= index < byte_len(array):
            raise rt.GoPanic("reflect: string index out of range")
        return GoInt(byte_at(array, index), t.UINT8)
    from analysis.expr.gotypes import KIND_NAMES
    from analysis.expr.values import kind_of

    raise rt.GoPanic(f"reflect: call of reflect.Value.Index on {KIND_NAMES[kind_of(array)]} Value")


_DISPATCH: dict[type, Callable[[Evaluator, Any], Value]] = {
    ast.Nil: Evaluator.nil, ast.Identifier: Evaluator.identifier, ast.Integer: Evaluator.integer,
    ast.Float: Evaluator.literal, ast.Bool: Evaluator.literal, ast.String: Evaluator.literal,
    ast.Constant: Evaluator.literal, ast.Unary: Evaluator.unary, ast.Binary: Evaluator.binary,
    ast.Chain: Evaluator.chain, ast.Member: Evaluator.member, ast.SliceNode: Evaluator.slice,
    ast.Call: Evaluator.call, ast.Builtin: Evaluator.builtin, ast.Predicate: Evaluator.predicate,
    ast.Pointer: Evaluator.pointer, ast.VariableDeclarator: Evaluator.variable, ast.Sequence: Evaluator.sequence,
    ast.Conditional: Evaluator.conditional, ast.Array: Evaluator.array, ast.MapNode: Evaluator.map,
}
