"""Go values as Python objects, so a condition sees the same types Argo's does.

The plain Python types stand for the Go types they usually come from, and a few small classes carry the
rest (what a provider or a builtin can produce that Python has no type for):

    None -> nil            bool -> bool         int -> int (64-bit, wraps)     float -> float64
    str -> string          list -> []interface {}                dict (str keys) -> map[string]interface {}
    GoInt(v, int64 | uint8 | time.Duration | time.Month ...)      Slice([]float64 | []int | []string ..., items)
    GoMap(map[interface {}][]interface {} ..., entries)           Struct(types.MetricDataResult, fields)
    Pointer(*float64, target or None)    Func(name, signature, implementation)    GoTime, Location

`type_of` is reflect.TypeOf. Nothing here reads a Python attribute chosen by a condition: field and method
lookups go through the declared GoType, so a condition can never reach Python internals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from analysis.expr import gotypes as t
from analysis.expr.gotypes import GoType, Kind

Value = Any
"""A Go value in the representation above."""


@dataclass(frozen=True, slots=True)
class GoInt:
    """An integer whose Go type is not plain `int`: int64 (asInt), uint8 (a string's byte), time.Duration."""

    value: int
    type: GoType

    def __post_init__(self) -> None:
        assert self.type.kind in t.INTEGER_KINDS


@dataclass(slots=True)
class Slice:
    """A slice (or array) that is not `[]interface {}`, or a nil slice (`items is None`)."""

    type: GoType
    items: list[Value] | None

    def __len__(self) -> int:
        return len(self.items) if self.items is not None else 0


@dataclass(slots=True)
class GoMap:
    """A map whose type is not `map[string]interface {}` (groupBy's `map[interface {}][]interface {}`, the
    optimizer's `map[int]struct {}`, fromPairs' `map[interface {}]interface {}`). Keys are Go values; two
    keys are the same key when Go's `==` says so for the key's dynamic type (1 and 1.0 differ)."""

    type: GoType
    entries: dict[object, tuple[Value, Value]] = field(default_factory=dict)
    nil: bool = False

    def get(self, key: Value) -> tuple[bool, Value]:
        entry = self.entries.get(map_key(key))
        return (False, None) if entry is None else (True, entry[1])

    def set(self, key: Value, value: Value) -> None:
        self.entries[map_key(key)] = (key, value)

    def keys(self) -> list[Value]:
        return [k for k, _ in self.entries.values()]

    def values(self) -> list[Value]:
        return [v for _, v in self.entries.values()]

    def __len__(self) -> int:
        return len(self.entries)


class _NaNKey:
    """NaN is never equal to itself in Go, so each NaN key is a key of its own."""


def map_key(key: Value) -> object:
    """A hashable stand-in for a Go map key that keeps Go's identity: int 1, float64 1 and true differ."""
    if isinstance(key, float) and math.isnan(key):
        return _NaNKey()
    if isinstance(key, GoInt):
        return (key.type.string(), key.value)
    if isinstance(key, bool | int | float | str) or key is None:
        return (type(key).__name__, key)
    if isinstance(key, GoTime):
        return ("time.Time", key.unix_nano, key.location.name)
    if isinstance(key, Pointer):
        return ("ptr", id(key))
    return ("value", repr(key))


@dataclass(slots=True)
class Struct:
    """A Go struct value; `fields` holds every field of `type.fields`."""

    type: GoType
    fields: dict[str, Value]


@dataclass(slots=True)
class Pointer:
    """A pointer; `target is None` with `nil=True` is a nil pointer (Datadog's `*float64` with no data)."""

    type: GoType
    target: Value = None
    nil: bool = False


@dataclass(frozen=True, slots=True)
class Func:
    """A function value: an environment function, a builtin used as a value, or a bound method."""

    name: str
    type: GoType
    call: Callable[..., Value] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Location:
    """A *time.Location (UTC, Local, or an IANA zone)."""

    name: str


UTC = Location("UTC")
LOCAL = Location("Local")


@dataclass(frozen=True, slots=True)
class GoTime:
    """A time.Time: nanoseconds since the Unix epoch plus the location it is shown in."""

    unix_nano: int
    location: Location = UTC


# --- reflect.TypeOf and friends -----------------------------------------------------------------------


def type_of(value: Value) -> GoType | None:
    """reflect.TypeOf(value); None for nil."""
    if value is None:
        return None
    if isinstance(value, bool):
        return t.BOOL
    if isinstance(value, int):
        return t.INT
    if isinstance(value, float):
        return t.FLOAT64
    if isinstance(value, str):
        return t.STRING
    if isinstance(value, list):
        return t.ANY_SLICE
    if isinstance(value, dict):
        return t.STRING_ANY_MAP
    if isinstance(value, GoInt | Slice | GoMap | Struct | Pointer | Func):
        return value.type
    if isinstance(value, GoTime):
        return t.TIME
    if isinstance(value, Location):
        return t.LOCATION_PTR
    raise TypeError(f"not a Go value: {type(value).__name__}")


def type_name(value: Value) -> str:
    """fmt's %T: "float64", "[]interface {}", "<nil>"."""
    typ = type_of(value)
    return "<nil>" if typ is None else typ.string()


def kind_of(value: Value) -> Kind:
    typ = type_of(value)
    return Kind.INVALID if typ is None else typ.kind


def is_nil(value: Value) -> bool:
    """runtime.IsNil: nil, or a nil pointer, map, slice or func."""
    if value is None:
        return True
    if isinstance(value, Slice):
        return value.items is None
    if isinstance(value, Pointer | GoMap):
        return value.nil
    return False


def deref(value: Value) -> Value:
    """deref.Interface: follow pointers; a nil pointer is nil."""
    while isinstance(value, Pointer):
        if value.nil:
            return None
        value = value.target
    return value


def is_sequence(value: Value) -> bool:
    """Kind is Slice or Array."""
    return isinstance(value, (list, Slice))


def items(value: Value) -> list[Value]:
    """The elements of a slice or array (empty for a nil slice)."""
    if isinstance(value, list):
        return value
    if isinstance(value, Slice):
        return value.items if value.items is not None else []
    raise TypeError(f"not a slice: {type_name(value)}")


def elem_type(value: Value) -> GoType | None:
    typ = type_of(value)
    return typ.elem if typ is not None else None


def map_items(value: Value) -> Iterator[tuple[Value, Value]]:
    if isinstance(value, dict):
        yield from value.items()
    elif isinstance(value, GoMap):
        yield from value.entries.values()
    else:
        raise TypeError(f"not a map: {type_name(value)}")


def is_number(value: Value) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) or isinstance(value, GoInt)


def int_value(value: Value) -> int:
    """The integer of an int or GoInt."""
    return value.value if isinstance(value, GoInt) else int(value)


def wrap_int(value: int, kind: Kind = Kind.INT) -> int:
    """Two's-complement wrap-around of Go's sized integers."""
    bits = t.INT_BITS[kind]
    mask = (1 << bits) - 1
    value &= mask
    if kind in t.SIGNED_KINDS and value >> (bits - 1):
        value -= 1 << bits
    return value


def make_int(value: int, typ: GoType) -> Value:
    """A value of integer type `typ` (a plain Python int when the type is `int`)."""
    wrapped = wrap_int(value, typ.kind)
    if typ == t.INT:
        return wrapped
    return GoInt(wrapped, typ)


def float_to_int(value: float) -> int:
    """Go's int(f) on amd64: truncation, and 0x8000000000000000 for NaN, infinities and overflow."""
    if math.isnan(value) or math.isinf(value) or not -9.223372036854775808e18 <= value < 9.223372036854775808e18:
        return -(1 << 63)
    return int(value)
