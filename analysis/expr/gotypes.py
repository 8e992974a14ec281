"""Go's type system as far as expr-lang sees it: the reflect.Type of every value a condition can touch.

expr-lang type-checks a condition against the *Go types* of its environment (Argo passes `result` with
the concrete type the provider produced: `float64`, `[]float64`, `map[string]interface {}`...), and its
messages print those types the way Go's reflect prints them (`[]interface {}`, `map[string]interface {}`,
`func(float64) bool`). This module models exactly that: kinds, named types, element/key types,
function signatures, struct fields and method sets, and `String()` as reflect writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Kind(IntEnum):
    """reflect.Kind, in Go's order (only the kinds a condition can meet)."""

    INVALID = 0
    BOOL = 1
    INT = 2
    INT8 = 3
    INT16 = 4
    INT32 = 5
    INT64 = 6
    UINT = 7
    UINT8 = 8
    UINT16 = 9
    UINT32 = 10
    UINT64 = 11
    UINTPTR = 12
    FLOAT32 = 13
    FLOAT64 = 14
    ARRAY = 17
    FUNC = 19
    INTERFACE = 20
    MAP = 21
    PTR = 22
    SLICE = 23
    STRING = 24
    STRUCT = 25


KIND_NAMES = {
    Kind.INVALID: "invalid", Kind.BOOL: "bool", Kind.INT: "int", Kind.INT8: "int8", Kind.INT16: "int16",
    Kind.INT32: "int32", Kind.INT64: "int64", Kind.UINT: "uint", Kind.UINT8: "uint8", Kind.UINT16: "uint16",
    Kind.UINT32: "uint32", Kind.UINT64: "uint64", Kind.UINTPTR: "uintptr", Kind.FLOAT32: "float32",
    Kind.FLOAT64: "float64", Kind.ARRAY: "array", Kind.FUNC: "func", Kind.INTERFACE: "interface",
    Kind.MAP: "map", Kind.PTR: "ptr", Kind.SLICE: "slice", Kind.STRING: "string", Kind.STRUCT: "struct",
}

INTEGER_KINDS = frozenset({Kind.INT, Kind.INT8, Kind.INT16, Kind.INT32, Kind.INT64, Kind.UINT, Kind.UINT8,
                           Kind.UINT16, Kind.UINT32, Kind.UINT64, Kind.UINTPTR})
SIGNED_KINDS = frozenset({Kind.INT, Kind.INT8, Kind.INT16, Kind.INT32, Kind.INT64})
FLOAT_KINDS = frozenset({Kind.FLOAT32, Kind.FLOAT64})
INT_BITS = {Kind.INT: 64, Kind.INT8: 8, Kind.INT16: 16, Kind.INT32: 32, Kind.INT64: 64, Kind.UINT: 64,
            Kind.UINT8: 8, Kind.UINT16: 16, Kind.UINT32: 32, Kind.UINT64: 64, Kind.UINTPTR: 64}


@dataclass(frozen=True, eq=False)
class GoType:
    """One reflect.Type. Compared by identity for named types and by structure otherwise (Go's rule)."""

    kind: Kind
    name: str = ""  # a named type's qualified name as reflect prints it ("time.Duration"); "" if unnamed
    pkg: str = ""  # PkgPath of a named type ("time"); "" for predeclared and unnamed types
    elem: GoType | None = None  # slice, array, pointer and map element
    key: GoType | None = None  # map key
    length: int = 0  # array length
    params: tuple[GoType, ...] = ()
    results: tuple[GoType, ...] = ()
    variadic: bool = False
    fields: tuple[tuple[str, GoType], ...] = ()  # struct fields, exported, in declaration order
    methods: dict[str, GoType] = field(default_factory=dict, compare=False, hash=False)
    """Exported methods by name; each a FUNC type whose first parameter is the receiver."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GoType):
            return NotImplemented
        if self is other:
            return True
        if self.name or other.name:
            return self.name == other.name and self.pkg == other.pkg and self.kind == other.kind
        return self._shape() == other._shape()

    def __hash__(self) -> int:
        return hash((self.kind, self.name)) if self.name else hash(self._shape())

    def _shape(self) -> tuple[object, ...]:
        return (self.kind, self.elem, self.key, self.length, self.params, self.results, self.variadic,
                self.fields)

    def __str__(self) -> str:
        return self.string()

    def __repr__(self) -> str:
        return f"GoType({self.string()})"

    def string(self) -> str:
        """reflect.Type.String(): "[]interface {}", "map[string]interface {}", "func(float64) bool"."""
        if self.name:
            return self.name
        k = self.kind
        if k == Kind.SLICE:
            return "[]" + _elem(self).string()
        if k == Kind.ARRAY:
            return f"[{self.length}]" + _elem(self).string()
        if k == Kind.PTR:
            return "*" + _elem(self).string()
        if k == Kind.MAP:
            assert self.key is not None
            return f"map[{self.key.string()}]{_elem(self).string()}"
        if k == Kind.INTERFACE:
            return "interface {}"
        if k == Kind.FUNC:
            return self._func_string()
        if k == Kind.STRUCT:
            if not self.fields:
                return "struct {}"
            return "struct { " + "; ".join(f"{n} {t.string()}" for n, t in self.fields) + " }"
        return KIND_NAMES[k]

    def _func_string(self) -> str:
        params = [p.string() for p in self.params]
        if self.variadic and params:
            params[-1] = "..." + _elem(self.params[-1]).string()
        text = f"func({', '.join(params)})"
        if len(self.results) == 1:
            return f"{text} {self.results[0].string()}"
        if self.results:
            return f"{text} ({', '.join(r.string() for r in self.results)})"
        return text

    # --- what the checker asks -------------------------------------------------------------------

    @property
    def is_named(self) -> bool:
        return bool(self.pkg)

    def field_type(self, name: str) -> GoType | None:
        for field_name, field_type in self.fields:
            if field_name == name:
                return field_type
        return None

    def field_index(self, name: str) -> int | None:
        for i, (field_name, _) in enumerate(self.fields):
            if field_name == name:
                return i
        return None

    def method(self, name: str) -> GoType | None:
        return self.methods.get(name)

    def assignable_to(self, other: GoType) -> bool:
        """reflect.Type.AssignableTo for the types a condition meets."""
        if self == other:
            return True
        if other.kind == Kind.INTERFACE:
            return True  # every type implements interface {} (we model no other interface)
        if self.name and other.name:
            return False
        if not self.name and not other.name:
            return False
        # one named, one unnamed: assignable when the underlying types are identical and not both named
        named, unnamed = (self, other) if self.name else (other, self)
        if named.kind in (Kind.SLICE, Kind.MAP, Kind.PTR, Kind.FUNC, Kind.ARRAY, Kind.STRUCT):
            return named.kind == unnamed.kind and named._shape() == unnamed._shape()
        return False


def _elem(t: GoType) -> GoType:
    assert t.elem is not None, t
    return t.elem


# --- the types that exist ---------------------------------------------------------------------------

ANY = GoType(Kind.INTERFACE)
BOOL = GoType(Kind.BOOL)
INT = GoType(Kind.INT)
INT8 = GoType(Kind.INT8)
INT16 = GoType(Kind.INT16)
INT32 = GoType(Kind.INT32)
INT64 = GoType(Kind.INT64)
UINT = GoType(Kind.UINT)
UINT8 = GoType(Kind.UINT8)
UINT16 = GoType(Kind.UINT16)
UINT32 = GoType(Kind.UINT32)
UINT64 = GoType(Kind.UINT64)
FLOAT32 = GoType(Kind.FLOAT32)
FLOAT64 = GoType(Kind.FLOAT64)
STRING = GoType(Kind.STRING)
ERROR = GoType(Kind.INTERFACE, name="error")


def slice_of(elem: GoType) -> GoType:
    return GoType(Kind.SLICE, elem=elem)


def array_of(length: int, elem: GoType) -> GoType:
    return GoType(Kind.ARRAY, elem=elem, length=length)


def map_of(key: GoType, elem: GoType) -> GoType:
    return GoType(Kind.MAP, key=key, elem=elem)


def pointer_to(elem: GoType) -> GoType:
    return GoType(Kind.PTR, elem=elem)


def func_of(params: tuple[GoType, ...], results: tuple[GoType, ...], *, variadic: bool = False) -> GoType:
    return GoType(Kind.FUNC, params=params, results=results, variadic=variadic)


ANY_SLICE = slice_of(ANY)
FLOAT64_SLICE = slice_of(FLOAT64)
INT_SLICE = slice_of(INT)
STRING_SLICE = slice_of(STRING)
BYTE_SLICE = slice_of(UINT8)
STRING_ANY_MAP = map_of(STRING, ANY)
ANY_ANY_MAP = map_of(ANY, ANY)
GROUP_BY_MAP = map_of(ANY, ANY_SLICE)
EMPTY_STRUCT = GoType(Kind.STRUCT)
PAIRS = slice_of(array_of(2, ANY))

# time: the methods a condition may call on a time.Time, a time.Duration and a *time.Location
DURATION = GoType(Kind.INT64, name="time.Duration", pkg="time")
MONTH = GoType(Kind.INT, name="time.Month", pkg="time")
WEEKDAY = GoType(Kind.INT, name="time.Weekday", pkg="time")
TIME = GoType(Kind.STRUCT, name="time.Time", pkg="time")
LOCATION = GoType(Kind.STRUCT, name="time.Location", pkg="time")
LOCATION_PTR = pointer_to(LOCATION)


def _methods(receiver: GoType, table: dict[str, tuple[tuple[GoType, ...], tuple[GoType, ...]]]) -> None:
    for name, (params, results) in table.items():
        receiver.methods[name] = func_of((receiver, *params), results)


_methods(TIME, {
    "Add": ((DURATION,), (TIME,)), "After": ((TIME,), (BOOL,)), "Before": ((TIME,), (BOOL,)),
    "Compare": ((TIME,), (INT,)), "Day": ((), (INT,)), "Equal": ((TIME,), (BOOL,)),
    "Format": ((STRING,), (STRING,)), "Hour": ((), (INT,)), "In": ((LOCATION_PTR,), (TIME,)),
    "IsZero": ((), (BOOL,)), "Local": ((), (TIME,)), "Location": ((), (LOCATION_PTR,)),
    "Minute": ((), (INT,)), "Month": ((), (MONTH,)), "Nanosecond": ((), (INT,)), "Round": ((DURATION,), (TIME,)),
    "Second": ((), (INT,)), "String": ((), (STRING,)), "Sub": ((TIME,), (DURATION,)),
    "Truncate": ((DURATION,), (TIME,)), "UTC": ((), (TIME,)), "Unix": ((), (INT64,)),
    "UnixMicro": ((), (INT64,)), "UnixMilli": ((), (INT64,)), "UnixNano": ((), (INT64,)),
    "Weekday": ((), (WEEKDAY,)), "Year": ((), (INT,)), "YearDay": ((), (INT,)),
    "AddDate": ((INT, INT, INT), (TIME,)),
})
_methods(DURATION, {
    "Abs": ((), (DURATION,)), "Hours": ((), (FLOAT64,)), "Microseconds": ((), (INT64,)),
    "Milliseconds": ((), (INT64,)), "Minutes": ((), (FLOAT64,)), "Nanoseconds": ((), (INT64,)),
    "Round": ((DURATION,), (DURATION,)), "Seconds": ((), (FLOAT64,)), "String": ((), (STRING,)),
    "Truncate": ((DURATION,), (DURATION,)),
})
_methods(MONTH, {"String": ((), (STRING,))})
_methods(WEEKDAY, {"String": ((), (STRING,))})
_methods(LOCATION_PTR, {"String": ((), (STRING,))})


def struct_type(name: str, pkg: str, fields: tuple[tuple[str, GoType], ...]) -> GoType:
    """A named struct type (e.g. CloudWatch's `types.MetricDataResult`), for providers that hand one over."""
    return GoType(Kind.STRUCT, name=name, pkg=pkg, fields=fields)


def is_integer(t: GoType | None) -> bool:
    """Nature.IsInteger: a *builtin* integer type (time.Duration is named, so it is not one)."""
    return t is not None and not t.name and t.kind in INTEGER_KINDS


def is_float(t: GoType | None) -> bool:
    return t is not None and not t.name and t.kind in FLOAT_KINDS
