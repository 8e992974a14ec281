"""The checker's rules for calls: environment functions (`asInt`, `isNaN`...), methods, builtins with
overloads or validators, and the predicate builtins (`all`, `filter`, `map`, `reduce`...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.expr import ast
from analysis.expr import gotypes as t
from analysis.expr.errors import Location
from analysis.expr.gotypes import GoType, Kind
from analysis.expr.nature import Nature

if TYPE_CHECKING:
    from analysis.expr.builtins import Function
    from analysis.expr.checker import Checker, CheckError

BOOL = Nature.of_type(t.BOOL)
INT = Nature.of_type(t.INT)
UNKNOWN = Nature()


def call_nature(checker: Checker, node: ast.Call) -> Nature:
    callee = checker.visit(node.callee)
    if callee.is_unknown():
        return UNKNOWN
    if callee.func is not None:
        return check_function(checker, callee.func, node, node.arguments)
    name = "function"
    if isinstance(node.callee, ast.Identifier):
        name = node.callee.value
    if isinstance(node.callee, ast.Member) and isinstance(node.callee.property, ast.String):
        name = node.callee.property.value
    if callee.nil:
        raise checker.error(node, f"{name} is nil; cannot call nil as function")
    if callee.kind == Kind.FUNC:
        out, err = check_arguments(checker, name, callee, node.arguments, node)
        if err is not None:
            raise err
        return out
    raise checker.error(node, f"{callee} is not callable")


def check_function(checker: Checker, fn: Function, node: ast.Node, arguments: list[ast.Node]) -> Nature:
    from analysis.expr.builtins import ValidationError

    if fn.validate is not None:
        types: list[GoType | None] = []
        for arg in arguments:
            nature = checker.visit(arg)
            types.append(t.ANY if nature.is_unknown() else nature.type)
        try:
            return Nature.of_type(fn.validate(types))
        except ValidationError as exc:
            raise checker.error(node, str(exc)) from None
    if not fn.types:
        out, err = check_arguments(checker, fn.name, Nature.of_type(fn.type), arguments, node)
        if err is not None:
            raise err
        return out
    last: CheckError | None = None
    for signature in fn.types:
        out, err = check_arguments(checker, fn.name, Nature.of_type(signature), arguments, node)
        if err is not None:
            last = err
            continue
        if isinstance(node, ast.Call):
            node.callee.set_type(signature)
        return out
    assert last is not None
    raise last


def _fail(checker: Checker, node: ast.Node, message: str) -> CheckError:
    from analysis.expr.checker import CheckError

    return CheckError(message, Location(node.start, node.end))


def check_arguments(checker: Checker, name: str, fn: Nature, arguments: list[ast.Node],
                    node: ast.Node) -> tuple[Nature, CheckError | None]:
    """checkArguments: (out nature, None) or (nature, the error the caller may report)."""
    if fn.is_unknown():
        return UNKNOWN, None
    num_out = fn.num_out()
    if num_out == 0:
        return UNKNOWN, _fail(checker, node, f"func {name} doesn't return value")
    if num_out > 2:
        return UNKNOWN, _fail(checker, node, f"func {name} returns more then two values")
    num_in = fn.num_in() - (1 if fn.method else 0)
    offset = 1 if fn.method else 0
    err = None
    if fn.is_variadic():
        if len(arguments) < num_in - 1:
            err = _fail(checker, node, f"not enough arguments to call {name}")
    else:
        if len(arguments) > num_in:
            err = _fail(checker, node, f"too many arguments to call {name}")
        if len(arguments) < num_in:
            err = _fail(checker, node, f"not enough arguments to call {name}")
    if err is not None:
        for arg in arguments:
            checker.visit(arg)
        return fn.out(0), err
    for i, arg in enumerate(arguments):
        problem = _check_argument(checker, name, fn, arguments, i, arg, num_in, offset)
        if problem is not None:
            return UNKNOWN, problem
    return fn.out(0), None


def _check_argument(checker: Checker, name: str, fn: Nature, arguments: list[ast.Node], i: int, arg: ast.Node,
                    num_in: int, offset: int) -> CheckError | None:
    nature = checker.visit(arg)
    want = fn.in_elem(num_in - 1) if fn.is_variadic() and i >= num_in - 1 else fn.in_(i + offset)
    if want.is_float and nature.is_integer:
        arguments[i] = replace_integers_with_floats(arg, want)
        return None
    if want.is_integer and nature.is_integer and nature.kind != want.kind:
        retype_integers(arg, want)
        return None
    if nature.nil:
        if want.kind in (Kind.PTR, Kind.INTERFACE):
            return None
        return _fail(checker, arg, f"cannot use nil as argument (type {want}) to call {name}")
    assignable = nature.assignable_to(want)
    if not assignable and nature.is_pointer():
        assignable = nature.deref().assignable_to(want)
    if not assignable and not nature.is_unknown():
        return _fail(checker, arg, f"cannot use {nature} as argument (type {want}) to call {name} ")
    return None


def replace_integers_with_floats(node: ast.Node, want: Nature) -> ast.Node:
    if isinstance(node, ast.Integer):
        replacement = ast.Float(float(node.value))
        replacement.set_type(want.type)
        return replacement  # the location stays at 0:0, as in expr
    if isinstance(node, ast.Unary):
        node.node = replace_integers_with_floats(node.node, want)
    elif isinstance(node, ast.Binary) and node.operator in ("+", "-", "*"):
        node.left = replace_integers_with_floats(node.left, want)
        node.right = replace_integers_with_floats(node.right, want)
    return node


def retype_integers(node: ast.Node, want: Nature) -> None:
    if isinstance(node, ast.Integer):
        node.set_type(want.type)
    elif isinstance(node, ast.Unary):
        node.set_type(want.type)
        retype_integers(node.node, want)
    elif isinstance(node, ast.Binary) and node.operator in ("+", "-", "*"):
        retype_integers(node.left, want)
        retype_integers(node.right, want)


# --- builtins -------------------------------------------------------------------------------------------


def _collection(checker: Checker, node: ast.Builtin) -> Nature:
    collection = checker.visit(node.arguments[0]).deref()
    if not collection.is_array() and not collection.is_unknown():
        raise checker.error(node.arguments[0], f"builtin {node.name} takes only array (got {collection})")
    return collection


def _one_in_one_out(predicate: Nature) -> bool:
    return predicate.is_func() and predicate.num_out() == 1 and predicate.num_in() == 1 \
        and predicate.is_first_arg_unknown()


def _predicate(checker: Checker, node: ast.Builtin, collection: Nature, **variables: Nature) -> Nature:
    checker.begin(collection, **variables)
    try:
        return checker.visit(node.arguments[1])
    finally:
        checker.end()


def _boolean_out(checker: Checker, node: ast.Builtin, predicate: Nature) -> None:
    out = predicate.out(0)
    if not out.is_bool() and not out.is_unknown():
        raise checker.error(node.arguments[1], f"predicate should return boolean (got {out})")


def _bad_predicate(checker: Checker, node: ast.Builtin) -> CheckError:
    return checker.error(node.arguments[1], "predicate should has one input and one output param")


def _quantifier(checker: Checker, node: ast.Builtin) -> Nature:
    collection = _collection(checker, node)
    predicate = _predicate(checker, node, collection)
    if not _one_in_one_out(predicate):
        raise _bad_predicate(checker, node)
    _boolean_out(checker, node, predicate)
    if node.name == "filter":
        if collection.is_unknown():
            return Nature.of_type(t.ANY_SLICE)
        return collection.elem().make_array_of()
    if node.name in ("find", "findLast"):
        return UNKNOWN if collection.is_unknown() else collection.elem()
    if node.name in ("findIndex", "findLastIndex"):
        return INT
    return BOOL


def _map(checker: Checker, node: ast.Builtin) -> Nature:
    collection = _collection(checker, node)
    predicate = _predicate(checker, node, collection, index=INT)
    if not _one_in_one_out(predicate):
        raise _bad_predicate(checker, node)
    assert predicate.ref is not None
    return predicate.ref.make_array_of()


def _count(checker: Checker, node: ast.Builtin) -> Nature:
    collection = _collection(checker, node)
    if len(node.arguments) == 1:
        return INT
    predicate = _predicate(checker, node, collection)
    if not _one_in_one_out(predicate):
        raise _bad_predicate(checker, node)
    _boolean_out(checker, node, predicate)
    return INT


def _sum(checker: Checker, node: ast.Builtin) -> Nature:
    from analysis.expr.builtins import BY_NAME

    collection = _collection(checker, node)
    if len(node.arguments) == 2:
        predicate = _predicate(checker, node, collection)
        if _one_in_one_out(predicate):
            return predicate.out(0)
        return check_function(checker, BY_NAME["sum"], node, node.arguments)  # expr falls through to this
    if collection.is_unknown():
        return UNKNOWN
    return collection.elem()


def _group_by(checker: Checker, node: ast.Builtin) -> Nature:
    collection = _collection(checker, node)
    predicate = _predicate(checker, node, collection)
    if not _one_in_one_out(predicate):
        raise _bad_predicate(checker, node)
    elements = collection.elem().make_array_of()
    return Nature(type=t.map_of(t.ANY, t.ANY_SLICE), ref=elements)


def _sort_by(checker: Checker, node: ast.Builtin) -> Nature:
    collection = _collection(checker, node)
    predicate = _predicate(checker, node, collection)
    if len(node.arguments) == 3:
        checker.visit(node.arguments[2])
    if not _one_in_one_out(predicate):
        raise _bad_predicate(checker, node)
    return collection


def _reduce(checker: Checker, node: ast.Builtin) -> Nature:
    collection = _collection(checker, node)
    predicate = _predicate(checker, node, collection, index=INT, acc=UNKNOWN)
    if len(node.arguments) == 3:
        checker.visit(node.arguments[2])
    if predicate.is_func() and predicate.num_out() == 1:
        assert predicate.ref is not None
        return predicate.ref
    raise checker.error(node.arguments[1], "predicate should has two input and one output param")


_PREDICATE_RULES = {
    "all": _quantifier, "none": _quantifier, "any": _quantifier, "one": _quantifier, "filter": _quantifier,
    "find": _quantifier, "findLast": _quantifier, "findIndex": _quantifier, "findLastIndex": _quantifier,
    "map": _map, "count": _count, "sum": _sum, "groupBy": _group_by, "sortBy": _sort_by, "reduce": _reduce,
}


def builtin_nature(checker: Checker, node: ast.Builtin) -> Nature:
    from analysis.expr.builtins import BY_NAME

    rule = _PREDICATE_RULES.get(node.name)
    if rule is not None:
        return rule(checker, node)
    if node.name == "get":
        return _get(checker, node)
    fn = BY_NAME.get(node.name)
    if fn is None:
        raise checker.error(node, f"unknown builtin {node.name}")
    return check_function(checker, fn, node, node.arguments)


def _get(checker: Checker, node: ast.Builtin) -> Nature:
    if len(node.arguments) != 2:
        raise checker.error(node, f"invalid number of arguments (expected 2, got {len(node.arguments)})")
    base = checker.visit(node.arguments[0])
    prop = checker.visit(node.arguments[1]).deref()
    first = node.arguments[0]
    if isinstance(first, ast.Identifier) and first.value == "$env":
        second = node.arguments[1]
        if isinstance(second, ast.String):
            found = checker.env.get(second.value)
            if found is not None:
                return found
        return UNKNOWN
    if base.is_unknown():
        return UNKNOWN
    if base.kind in (Kind.SLICE, Kind.ARRAY):
        if not prop.is_integer and not prop.is_unknown():
            raise checker.error(node.arguments[1], f"non-integer slice index {prop}")
        return base.elem()
    if base.kind == Kind.MAP:
        if not prop.assignable_to(base.key()) and not prop.is_unknown():
            raise checker.error(node.arguments[1], f"cannot use {prop} to get an element from {base}")
        return base.elem()
    raise checker.error(node.arguments[0], f"type {base} does not support indexing")
