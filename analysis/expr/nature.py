"""expr-lang's Nature: what the type checker knows about a node (a Go type, nil, or unknown).

Unknown (no type, or `interface {}`) is what makes conditions on JSON bodies type-check: `result.a.b`
on a `map[string]interface {}` is unknown, so comparisons and calls are left to run time, while
`result > 0.5` on a `[]float64` is rejected at compile time, exactly as Argo rejects it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from analysis.expr import gotypes as t
from analysis.expr.gotypes import GoType, Kind

if TYPE_CHECKING:
    from analysis.expr.builtins import Function


@dataclass(frozen=True)
class Nature:
    type: GoType | None = None
    nil: bool = False
    ref: Nature | None = None  # element nature of an array literal / out nature of a predicate
    strict: bool = False
    method: bool = False  # a method value: the first parameter of `type` is the receiver
    fields: dict[str, Nature] | None = field(default=None, compare=False, hash=False)  # the env map's fields
    func: Function | None = field(default=None, compare=False, hash=False)  # builtin behind an identifier

    # --- constructors -----------------------------------------------------------------------------

    @staticmethod
    def of_type(typ: GoType | None) -> Nature:
        return Nature(type=typ)

    @staticmethod
    def of_nil() -> Nature:
        return Nature(nil=True)

    @staticmethod
    def unknown() -> Nature:
        return Nature()

    def with_ref(self, ref: Nature) -> Nature:
        return replace(self, ref=ref)

    # --- questions --------------------------------------------------------------------------------

    @property
    def kind(self) -> Kind:
        return self.type.kind if self.type is not None else Kind.INVALID

    def is_any(self) -> bool:
        return self.type is not None and self.type.kind == Kind.INTERFACE and not self.type.methods \
            and self.type != t.ERROR

    def is_unknown(self) -> bool:
        return (self.type is None and not self.nil) or self.is_any()

    def __str__(self) -> str:
        return self.type.string() if self.type is not None else "unknown"

    @property
    def is_integer(self) -> bool:
        return t.is_integer(self.type)

    @property
    def is_float(self) -> bool:
        return t.is_float(self.type)

    def is_number(self) -> bool:
        return self.is_integer or self.is_float

    def is_time(self) -> bool:
        return self.type == t.TIME

    def is_duration(self) -> bool:
        return self.type == t.DURATION

    def is_bool(self) -> bool:
        return self.kind == Kind.BOOL

    def is_string(self) -> bool:
        return self.kind == Kind.STRING

    def is_byte_slice(self) -> bool:
        return self.type == t.BYTE_SLICE

    def is_array(self) -> bool:
        return self.kind in (Kind.SLICE, Kind.ARRAY)

    def is_map(self) -> bool:
        return self.kind == Kind.MAP

    def is_struct(self) -> bool:
        return self.kind == Kind.STRUCT

    def is_func(self) -> bool:
        return self.kind == Kind.FUNC

    def is_pointer(self) -> bool:
        return self.kind == Kind.PTR

    def is_any_of(self, *checks: str) -> bool:
        tests = {"bool": self.is_bool, "string": self.is_string, "integer": lambda: self.is_integer,
                 "number": self.is_number, "map": self.is_map, "array": self.is_array, "time": self.is_time,
                 "duration": self.is_duration}
        return any(tests[c]() for c in checks)

    # --- derived natures --------------------------------------------------------------------------

    def deref(self) -> Nature:
        typ = self.type
        if typ is None or typ.kind != Kind.PTR:
            return self
        while typ.kind == Kind.PTR:
            assert typ.elem is not None
            typ = typ.elem
        return Nature.of_type(typ)

    def key(self) -> Nature:
        if self.kind == Kind.MAP:
            assert self.type is not None
            return Nature.of_type(self.type.key)
        return Nature()

    def elem(self) -> Nature:
        if self.kind in (Kind.PTR, Kind.MAP):
            assert self.type is not None
            return Nature.of_type(self.type.elem)
        if self.kind in (Kind.SLICE, Kind.ARRAY):
            if self.ref is not None:
                return self.ref
            assert self.type is not None
            return Nature.of_type(self.type.elem)
        return Nature()

    def make_array_of(self) -> Nature:
        """MakeArrayOf: `[]interface {}` whose element nature is this one."""
        return Nature(type=t.ANY_SLICE, ref=self)

    def promote_numeric(self, other: Nature) -> Nature:
        if self.is_unknown() or other.is_unknown():
            return Nature()
        if self.is_float or other.is_float:
            return Nature.of_type(t.FLOAT64)
        return Nature.of_type(t.INT)

    def assignable_to(self, other: Nature) -> bool:
        if self.nil and other.kind in (Kind.PTR, Kind.INTERFACE, Kind.FUNC, Kind.MAP, Kind.SLICE):
            return True
        if self.type is None or other.type is None:
            return False
        if self.kind != other.kind and other.kind != Kind.INTERFACE:
            return False
        return self.type.assignable_to(other.type)

    def comparable_to(self, other: Nature) -> bool:
        return (self.is_unknown() or other.is_unknown() or self.nil or other.nil
                or (self.is_number() and other.is_number()) or (self.is_duration() and other.is_duration())
                or (self.is_time() and other.is_time()) or (self.is_array() and other.is_array())
                or self.assignable_to(other))

    def maybe_compatible(self, other: Nature, *checks: str) -> bool:
        mine, theirs = self.is_unknown(), other.is_unknown()
        return (mine and theirs) or (mine and other.is_any_of(*checks)) or (theirs and self.is_any_of(*checks))

    # --- functions and members --------------------------------------------------------------------

    def method_by_name(self, name: str) -> Nature | None:
        if self.type is None:
            return None
        method = self.type.method(name)
        if method is None:
            return None
        return Nature(type=method, method=self.type.kind != Kind.INTERFACE)

    def field_by_name(self, name: str) -> Nature | None:
        if self.kind != Kind.STRUCT or self.type is None:
            return None
        field_type = self.type.field_type(name)
        return None if field_type is None else Nature.of_type(field_type)

    def num_in(self) -> int:
        assert self.type is not None
        return len(self.type.params)

    def num_out(self) -> int:
        assert self.type is not None
        return len(self.type.results)

    def is_variadic(self) -> bool:
        return self.type is not None and self.type.variadic

    def in_(self, i: int) -> Nature:
        assert self.type is not None
        return Nature.of_type(self.type.params[i])

    def in_elem(self, i: int) -> Nature:
        return self.in_(i).elem()

    def out(self, i: int) -> Nature:
        if self.type is None:
            return Nature()
        return Nature.of_type(self.type.results[i])

    def is_first_arg_unknown(self) -> bool:
        return self.type is not None and Nature.of_type(self.type.params[0]).is_unknown()

    def get(self, name: str) -> Nature | None:
        """Env lookup: a field of the environment map."""
        if self.fields is not None:
            return self.fields.get(name)
        return None
