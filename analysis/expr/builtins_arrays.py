"""expr's array and map builtins that are plain functions (first, last, get, take, keys, values, toPairs,
fromPairs, reverse, uniq, concat, flatten, sort); the predicate builtins (all, filter, map...) are
evaluated by the evaluator because their second argument is a closure."""

from __future__ import annotations

from analysis.expr import gotypes as t
from analysis.expr.gofmt import format_v
from analysis.expr.gosort import sort_values
from analysis.expr.gotypes import Kind
from analysis.expr.runtime import GoPanic, as_string, equal, fetch, map_lookup, to_int
from analysis.expr.values import (
    GoInt,
    GoMap,
    Pointer,
    Slice,
    Struct,
    Value,
    deref,
    items,
    kind_of,
    map_items,
    type_name,
    type_of,
)


def builtin_first(*args: Value) -> Value:
    try:
        return fetch(args[0], 0)
    except GoPanic:
        return None


def builtin_last(*args: Value) -> Value:
    try:
        return fetch(args[0], -1)
    except GoPanic:
        return None


def builtin_get(*args: Value) -> Value:
    container, key = args[0], args[1]
    if container is None:
        return None
    typ = type_of(container)
    assert typ is not None
    if typ.methods and isinstance(key, str) and key in typ.methods:
        from analysis.expr.methods import bound_method

        return bound_method(container, key)
    if isinstance(container, list | Slice | str):
        from analysis.expr.strings import byte_at, byte_len

        index = to_int(key)
        size = byte_len(container) if isinstance(container, str) else len(container)
        if index < 0:
            index += size
        if 0 <= index < size:
            return GoInt(byte_at(container, index), t.UINT8) if isinstance(container, str) else items(container)[index]
        return None
    if isinstance(container, dict | GoMap):
        found, value = map_lookup(container, key)
        return value if found else None
    if isinstance(container, Struct):
        if not isinstance(key, str):
            from analysis.expr.runtime import interface_conversion

            raise interface_conversion(key, "string")
        return container.fields.get(key)
    return None


def _kind_name(value: Value) -> str:
    from analysis.expr.gotypes import KIND_NAMES

    return KIND_NAMES[kind_of(value)]


def builtin_take(*args: Value) -> Value:
    if len(args) != 2:
        raise GoPanic(f"invalid number of arguments (expected 2, got {len(args)})")
    array, n = args
    if not isinstance(array, list | Slice):
        raise GoPanic(f"cannot take from {_kind_name(array)}")
    if not (isinstance(n, int) and not isinstance(n, bool)) and not (
            isinstance(n, GoInt) and n.type.kind in t.SIGNED_KINDS):
        raise GoPanic(f"cannot take {_kind_name(n)} elements")
    count = n.value if isinstance(n, GoInt) else n
    size = len(array)
    to = size if count > size else count
    if to < 0:
        raise GoPanic("reflect: slice index out of range")
    if isinstance(array, list):
        return array[:to]
    return Slice(array.type, items(array)[:to])


def _map_arg(args: tuple[Value, ...], what: str) -> Value:
    if len(args) != 1:
        raise GoPanic(f"invalid number of arguments (expected 1, got {len(args)})")
    value = args[0]
    if not isinstance(value, dict | GoMap):
        raise GoPanic(f"cannot {what} {_kind_name(value)}")
    return value


def builtin_keys(*args: Value) -> Value:
    return [k for k, _ in map_items(_map_arg(args, "get keys from"))]


def builtin_values(*args: Value) -> Value:
    return [v for _, v in map_items(_map_arg(args, "get values from"))]


def builtin_to_pairs(*args: Value) -> Value:
    value = _map_arg(args, "transform") if isinstance(args[0] if args else None, dict | GoMap) else None
    if value is None:
        if len(args) != 1:
            raise GoPanic(f"invalid number of arguments (expected 1, got {len(args)})")
        raise GoPanic(f"cannot transform {_kind_name(args[0])} to pairs")
    pair_type = t.array_of(2, t.ANY)
    return Slice(t.PAIRS, [Slice(pair_type, [k, v]) for k, v in map_items(value)])


def builtin_from_pairs(*args: Value) -> Value:
    if len(args) != 1:
        raise GoPanic(f"invalid number of arguments (expected 1, got {len(args)})")
    array = args[0]
    if not isinstance(array, list | Slice):
        raise GoPanic(f"cannot transform {format_v(array)} from pairs")
    out = GoMap(t.ANY_ANY_MAP)
    for element in items(array):
        pair = deref(element)
        if not isinstance(pair, list | Slice):
            raise GoPanic(f"invalid pair {format_v(pair)}")
        if len(pair) != 2:
            raise GoPanic(f"invalid pair length {format_v(pair)}")
        key, value = items(pair)
        out.set(key, value)
    return out


def _sequence_arg(args: tuple[Value, ...], what: str) -> list[Value]:
    if len(args) != 1:
        raise GoPanic(f"invalid number of arguments (expected 1, got {len(args)})")
    value = args[0]
    if not isinstance(value, list | Slice):
        raise GoPanic(f"cannot {what} {_kind_name(value)}")
    return items(value)


def builtin_reverse(*args: Value) -> tuple[Value, int]:
    elements = _sequence_arg(args, "reverse")
    return list(reversed(elements)), len(elements)


def builtin_uniq(*args: Value) -> Value:
    elements = _sequence_arg(args, "uniq")
    out: list[Value] = []
    for element in elements:
        if not any(equal(element, kept) for kept in out):
            out.append(element)
    return out


def builtin_concat(*args: Value) -> tuple[Value, int]:
    if not args:
        raise GoPanic("invalid number of arguments (expected at least 1, got 0)")
    out: list[Value] = []
    for arg in args:
        if not isinstance(arg, list | Slice):
            raise GoPanic(f"cannot concat {_kind_name(arg)}")
        out.extend(items(arg))
    return (out if out else Slice(t.ANY_SLICE, None)), len(out)


def _flatten(elements: list[Value], depth: int) -> list[Value]:
    if depth > 10_000:
        raise GoPanic("recursion depth exceeded")
    out: list[Value] = []
    for element in elements:
        value = deref(element)
        if isinstance(value, list | Slice):
            out.extend(_flatten(items(value), depth + 1))
        else:
            out.append(value)
    return out


def builtin_flatten(*args: Value) -> tuple[Value, int]:
    elements = _sequence_arg(args, "flatten")
    out = _flatten(elements, 0)
    return out, len(out)


def builtin_sort(*args: Value) -> tuple[Value, int]:
    if len(args) not in (1, 2):
        raise GoPanic(f"invalid number of arguments (expected 1 or 2, got {len(args)})")
    source = args[0]
    array: list[Value] | None = None
    if isinstance(source, list):
        array = list(source)
    elif isinstance(source, Slice) and source.type in (t.INT_SLICE, t.FLOAT64_SLICE, t.STRING_SLICE):
        array = list(items(source))
    descending = False
    if len(args) == 2:
        order = as_string(args[1])
        if order not in ("asc", "desc"):
            raise GoPanic(f"invalid order {format_v(args[1])}, expected asc or desc")
        descending = order == "desc"
    if array is None:
        return None, 0
    sort_values(array, None, descending=descending)
    return array, len(array)


def is_pointer(value: Value) -> bool:
    return isinstance(value, Pointer)


def kind_is(value: Value, *kinds: Kind) -> bool:
    return kind_of(value) in kinds


def type_of_name(value: Value) -> str:
    return type_name(value)
