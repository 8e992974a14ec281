"""Calls at run time: environment functions and methods (with the argument checks of expr's typed and
reflective calls), plain builtins (with expr's memory accounting), and the predicate builtins' loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from analysis.expr import ast
from analysis.expr import gotypes as t
from analysis.expr import runtime as rt
from analysis.expr.gotypes import GoType, Kind
from analysis.expr.values import Func, GoMap, Slice, Value, deref, type_name, type_of

if TYPE_CHECKING:
    from analysis.expr.evaluator import Evaluator


# --- environment functions and methods ------------------------------------------------------------------

_TYPED_SIGNATURES = frozenset({
    "func(float64) bool", "func(interface {}) bool", "func(interface {}) float64",
    "func(interface {}, interface {}) interface {}", "func() int", "func() int64", "func() float64",
    "func() string", "func() bool", "func() time.Month", "func() time.Weekday", "func() time.Time",
    "func() time.Duration", "func(time.Time) bool", "func(time.Time) time.Duration",
    "func(time.Duration) time.Time", "func(time.Duration) time.Duration", "func(string) string",
})


def _check_arguments(fn: Func, args: list[Value]) -> list[Value]:
    """What expr's typed call (a type assertion per argument) or reflect.Call does with each argument."""
    typed = fn.type.string() in _TYPED_SIGNATURES
    checked: list[Value] = []
    for value, want in zip(args, fn.type.params, strict=False):
        if want.kind == Kind.INTERFACE:
            checked.append(value)
            continue
        have = type_of(value)
        if have is not None and have.assignable_to(want):
            checked.append(value)
            continue
        if typed:
            raise rt.interface_conversion(value, want.string())
        if value is None:
            checked.append(rt.zero_value(want))
            continue
        raise rt.GoPanic(f"reflect: Call using {type_name(value)} as type {want.string()}")
    return checked


def call_function(ev: Evaluator, fn: Value, args: list[Value]) -> Value:
    if fn is None:
        raise rt.GoPanic("invalid operation: cannot call nil")
    if not isinstance(fn, Func):
        raise rt.GoPanic(f"invalid operation: cannot call non-function of type {type_name(fn)}")
    if len(args) != len(fn.type.params):
        raise rt.GoPanic(f"reflect: Call with too {'few' if len(args) < len(fn.type.params) else 'many'} "
                         "input arguments")
    return ev.charge(fn.call(*_check_arguments(fn, args)))


def call(ev: Evaluator, node: ast.Call) -> Value:
    callee_type = node.callee.static_type
    args: list[Value] = []
    for arg in node.arguments:
        value = ev.eval(arg)
        if callee_type is not None and callee_type.kind == Kind.FUNC and isinstance(value, object):
            arg_type = arg.static_type
            if arg_type is not None and arg_type.kind == Kind.PTR:
                value = deref(value)
        args.append(value)
    fn = ev.eval(node.callee)
    return call_function(ev, fn, args)


# --- plain builtins ---------------------------------------------------------------------------------------


def builtin(ev: Evaluator, node: ast.Builtin) -> Value:
    loop = _PREDICATE_LOOPS.get(node.name)
    if loop is not None:
        return loop(ev, node)
    from analysis.expr.builtins import BY_NAME

    fn = BY_NAME[node.name]
    args: list[Value] = []
    for i, arg in enumerate(node.arguments):
        value = ev.eval(arg)
        arg_type = arg.type
        needs_deref = arg_type.kind == Kind.PTR or arg.nature is None or arg.nature.is_unknown()
        if needs_deref and (fn.deref is None or fn.deref(i, arg_type)):
            value = deref(value)
        args.append(value)
    if fn.fast is not None:
        return ev.charge(fn.fast(args[0]))
    if fn.safe is not None:
        if fn.cost is not None:
            ev.grow(fn.cost(*args))
            ev.step(fn.cost(*args) // 32)
        result, memory = fn.safe(*args)
        ev.grow(memory)
        return ev.charge(result)
    assert fn.func is not None
    return ev.charge(fn.func(*args))


# --- predicate loops ----------------------------------------------------------------------------------------


def _begin(ev: Evaluator, node: ast.Builtin) -> Value:
    from analysis.expr.evaluator import Scope

    array = deref(ev.eval(node.arguments[0]))
    ev.scopes.append(Scope(array=array, length=_reflect_len(array)))
    return array


def _reflect_len(value: Value) -> int:
    """reflect.Value.Len, with its panic for kinds that have no length."""
    if isinstance(value, list | Slice | GoMap | dict):
        return len(value)
    if isinstance(value, str):
        from analysis.expr.strings import byte_len

        return byte_len(value)
    if value is None:
        raise rt.GoPanic("reflect: call of reflect.Value.Len on zero Value")
    from analysis.expr.gotypes import KIND_NAMES
    from analysis.expr.values import kind_of

    raise rt.GoPanic(f"reflect: call of reflect.Value.Len on {KIND_NAMES[kind_of(value)]} Value")


def _iterate(ev: Evaluator, node: ast.Builtin, body: Callable[[], bool]) -> None:
    """emitLoop: run `body` for each index until it returns False (a break)."""
    scope = ev.scopes[-1]
    while scope.index < scope.length:
        ev.step()
        if not body():
            return
        scope.index += 1


def _scoped(run: Callable[[Evaluator, ast.Builtin], Value]) -> Callable[[Evaluator, ast.Builtin], Value]:
    def wrapper(ev: Evaluator, node: ast.Builtin) -> Value:
        _begin(ev, node)
        try:
            return run(ev, node)
        finally:
            ev.scopes.pop()

    return wrapper


def _test(ev: Evaluator, node: ast.Node) -> bool:
    return rt.as_bool(ev.eval(node))


def _current(ev: Evaluator) -> Value:
    from analysis.expr.evaluator import element

    scope = ev.scopes[-1]
    return element(scope.array, scope.index)


def _quantifier(stop_when: bool, result_on_stop: bool) -> Callable[[Evaluator, ast.Builtin], Value]:
    """all: stop at the first false (false); any: at the first true (true); none: at the first true (false)."""

    def run(ev: Evaluator, node: ast.Builtin) -> Value:
        scope = ev.scopes[-1]
        while scope.index < scope.length:
            ev.step()
            if _test(ev, node.arguments[1]) == stop_when:
                return result_on_stop
            scope.index += 1
        return not result_on_stop

    return _scoped(run)


@_scoped
def _one(ev: Evaluator, node: ast.Builtin) -> Value:
    scope = ev.scopes[-1]

    def body() -> bool:
        if _test(ev, node.arguments[1]):
            scope.count += 1
        return True

    _iterate(ev, node, body)
    return rt.equal(scope.count, 1)


@_scoped
def _filter(ev: Evaluator, node: ast.Builtin) -> Value:
    kept: list[Value] = []
    scope = ev.scopes[-1]

    def body() -> bool:
        if _test(ev, node.arguments[1]):
            scope.count += 1
            kept.append(ev.eval(node.map) if node.map is not None else _current(ev))
        return True

    _iterate(ev, node, body)
    ev.grow(scope.count)
    return kept


@_scoped
def _map(ev: Evaluator, node: ast.Builtin) -> Value:
    mapped: list[Value] = []

    def body() -> bool:
        mapped.append(ev.eval(node.arguments[1]))
        return True

    _iterate(ev, node, body)
    ev.grow(ev.scopes[-1].length)
    return mapped


@_scoped
def _count(ev: Evaluator, node: ast.Builtin) -> Value:
    scope = ev.scopes[-1]

    def body() -> bool:
        value = ev.eval(node.arguments[1]) if len(node.arguments) == 2 else _current(ev)
        if rt.as_bool(value):
            scope.count += 1
        return True

    _iterate(ev, node, body)
    return scope.count


@_scoped
def _sum(ev: Evaluator, node: ast.Builtin) -> Value:
    scope = ev.scopes[-1]
    scope.acc = 0

    def body() -> bool:
        value = ev.eval(node.arguments[1]) if len(node.arguments) == 2 else _current(ev)
        scope.acc = rt.add(value, scope.acc)
        return True

    _iterate(ev, node, body)
    return scope.acc


def _finder(want_index: bool, backwards: bool) -> Callable[[Evaluator, ast.Builtin], Value]:
    def run(ev: Evaluator, node: ast.Builtin) -> Value:
        scope = ev.scopes[-1]
        indices = range(scope.length - 1, -1, -1) if backwards else range(scope.length)
        for index in indices:
            ev.step()
            scope.index = index
            if _test(ev, node.arguments[1]):
                if want_index:
                    return index
                return ev.eval(node.map) if node.map is not None else _current(ev)
        if node.throws:
            raise rt.GoPanic("reflect: slice index out of range")
        return None

    return _scoped(run)


@_scoped
def _group_by(ev: Evaluator, node: ast.Builtin) -> Value:
    groups = GoMap(t.GROUP_BY_MAP)

    def body() -> bool:
        key = ev.eval(node.arguments[1])
        _hashable(key)
        found, members = groups.get(key)
        item = _current(ev)
        if found:
            members.append(item)
        else:
            groups.set(key, [item])
        return True

    _iterate(ev, node, body)
    return groups


def _hashable(key: Value) -> None:
    typ = type_of(key)
    if typ is not None and typ.kind in (Kind.SLICE, Kind.MAP, Kind.FUNC):
        raise rt.GoPanic(f"hash of unhashable type: {typ.string()}")


@_scoped
def _sort_by(ev: Evaluator, node: ast.Builtin) -> Value:
    from analysis.expr.gosort import sort_values

    order = ev.eval(node.arguments[2]) if len(node.arguments) == 3 else "asc"
    direction = rt.as_string(order)
    if direction not in ("asc", "desc"):
        raise rt.GoPanic("unknown order, use asc or desc")
    elements: list[Value] = []
    keys: list[Value] = []

    def body() -> bool:
        keys.append(ev.eval(node.arguments[1]))
        elements.append(_current(ev))
        return True

    _iterate(ev, node, body)
    ev.step(len(elements))
    sort_values(elements, keys, descending=direction == "desc")
    ev.grow(ev.scopes[-1].length)
    return elements


@_scoped
def _reduce(ev: Evaluator, node: ast.Builtin) -> Value:
    scope = ev.scopes[-1]
    if len(node.arguments) == 3:
        scope.acc = deref(ev.eval(node.arguments[2]))
    else:
        scope.acc = _current(ev)
        scope.index += 1

    def body() -> bool:
        scope.acc = ev.eval(node.arguments[1])
        return True

    _iterate(ev, node, body)
    return scope.acc


_PREDICATE_LOOPS: dict[str, Callable[[Evaluator, ast.Builtin], Value]] = {
    "all": _quantifier(stop_when=False, result_on_stop=False), "any": _quantifier(stop_when=True, result_on_stop=True),
    "none": _quantifier(stop_when=True, result_on_stop=False), "one": _one, "filter": _filter, "map": _map,
    "count": _count, "sum": _sum, "find": _finder(want_index=False, backwards=False),
    "findIndex": _finder(want_index=True, backwards=False), "findLast": _finder(want_index=False, backwards=True),
    "findLastIndex": _finder(want_index=True, backwards=True), "groupBy": _group_by, "sortBy": _sort_by,
    "reduce": _reduce,
}

_ = GoType
