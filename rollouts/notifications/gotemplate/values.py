"""Go's view of the values a notification template sees, modelled on plain Python objects.

Templates in Argo's notifications engine run on JSON-decoded data (``map[string]interface{}``, ``[]interface{}``,
``float64`` or ``int64`` numbers, ``string``, ``bool``) plus a few typed values (the Secret's
``map[string][]byte``, sprig's ``[]string`` and ``int64`` results, ``time.Time``). What text/template prints,
and which errors it raises, depends on those Go types and on whether a value sits in an ``interface{}`` slot
(a JSON ``null`` in a map is an interface holding nil, which is not the same as a missing key). So:

* ``MISSING`` is an invalid ``reflect.Value`` (a missing map key; printed ``<no value>``);
* ``Iface(v)`` is a value read out of an ``interface{}`` slot (a map entry or list element); ``Iface(None)``
  is a nil interface. Evaluation unwraps it where Go's reflect would (``indirect``, the end of a pipeline);
* ``int`` is Go's ``int``, ``Int64`` its ``int64``; ``float`` is ``float64``; ``bytes`` is ``[]uint8``;
  ``list`` is ``[]interface {}``, ``StrList`` ``[]string``; ``dict`` is ``map[string]interface {}``,
  ``BytesMap`` ``map[string][]uint8``, ``StrMap`` ``map[string]string``; ``datetime`` is ``time.Time``;
  ``GoFunc`` a function value (what ``call`` calls).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class Iface:
    """A value read from an ``interface{}`` slot; ``Iface(None)`` is a nil interface."""

    value: Any


class Int64(int):
    """Go's int64 (plain ``int`` stands for Go's ``int``)."""

    __slots__ = ()


class Uint8(int):
    """Go's uint8 (an element of a []byte)."""

    __slots__ = ()


class StrList(list[str]):
    """``[]string``."""


class StrMap(dict[str, str]):
    """``map[string]string``."""


class BytesMap(dict[str, bytes]):
    """``map[string][]uint8`` (a Secret's data)."""


class Kind(Enum):
    INVALID = "invalid"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float64"
    STRING = "string"
    SLICE = "slice"
    MAP = "map"
    STRUCT = "struct"
    FUNC = "func"
    INTERFACE = "interface"


@dataclass(frozen=True)
class GoFunc:
    """A Go function value: parameter types (see ``assignable``), an optional variadic element type."""

    name: str
    params: Sequence[str]
    returns: str
    impl: Callable[..., Any] = field(compare=False)
    variadic: str | None = None

    @property
    def signature(self) -> str:
        params = list(self.params)
        if self.variadic is not None:
            params.append("..." + self.variadic)
        return f"func({', '.join(params)}) {self.returns}"


def kind(v: Any) -> Kind:
    if v is MISSING:
        return Kind.INVALID
    if isinstance(v, Iface):
        return Kind.INTERFACE
    if isinstance(v, bool):
        return Kind.BOOL
    if isinstance(v, int):
        return Kind.INT
    if isinstance(v, float):
        return Kind.FLOAT
    if isinstance(v, str):
        return Kind.STRING
    if isinstance(v, (bytes, list)):
        return Kind.SLICE
    if isinstance(v, dict):
        return Kind.MAP
    if isinstance(v, GoFunc):
        return Kind.FUNC
    if isinstance(v, datetime):
        return Kind.STRUCT
    if v is None:
        return Kind.INTERFACE
    raise TypeError(f"value of Python type {type(v).__name__} has no Go type")


_TYPE_NAMES: list[tuple[type, str]] = [
    (bool, "bool"), (Int64, "int64"), (Uint8, "uint8"), (int, "int"), (float, "float64"), (str, "string"),
    (bytes, "[]uint8"),
    (StrList, "[]string"), (list, "[]interface {}"), (StrMap, "map[string]string"),
    (BytesMap, "map[string][]uint8"), (dict, "map[string]interface {}"), (datetime, "time.Time"),
]


def type_name(v: Any) -> str:
    """The Go type's name as reflect prints it."""
    if v is MISSING:
        return "<invalid reflect.Value>"
    if isinstance(v, Iface) or v is None:
        return "interface {}"
    if isinstance(v, GoFunc):
        return v.signature
    for py, go in _TYPE_NAMES:
        if isinstance(v, py):
            return go
    raise TypeError(f"value of Python type {type(v).__name__} has no Go type")


def assignable(v: Any, typ: str) -> bool:
    """Whether a (non-interface) value of this Python form is assignable to the Go type named ``typ``."""
    if typ == "any":
        return True
    return type_name(v) == typ


def can_be_nil(typ: str) -> bool:
    return typ in ("any", "value") or typ.startswith(("[]", "map[", "func("))


def zero_of(typ: str) -> Any:
    """reflect.Zero for the types that can be nil (a nil map or slice reads as empty)."""
    if typ == "any":
        return None
    if typ == "value":
        return MISSING
    if typ == "[]string":
        return StrList()
    if typ.startswith("[]"):
        return []
    if typ.startswith("map["):
        return {}
    return None


def indirect(v: Any) -> tuple[Any, bool]:
    """reflect's indirect: unwrap interfaces; report whether a nil was reached."""
    while isinstance(v, Iface):
        if v.value is None:
            return v, True
        v = v.value
    if v is None:
        return v, True
    return v, False


def indirect_interface(v: Any) -> Any:
    """Unwrap one interface level; a nil interface becomes an invalid value."""
    if isinstance(v, Iface):
        return MISSING if v.value is None else v.value
    if v is None:
        return MISSING
    return v


def unwrap(v: Any) -> Any:
    """What a pipeline stage hands on: interface values are replaced by what they hold."""
    if isinstance(v, Iface):
        return MISSING if v.value is None else v.value
    return v


def element(container: Any, v: Any) -> Any:
    """A value read out of a container: boxed when the container's element type is ``interface{}``."""
    if isinstance(container, bytes):
        return Uint8(v)
    if isinstance(container, (StrList, StrMap, BytesMap, IntList)):
        return v
    return Iface(v)


def length(v: Any) -> int | None:
    if isinstance(v, (str, bytes, list, dict)):
        return len(v.encode()) if isinstance(v, str) else len(v)
    return None


def truth(v: Any) -> tuple[bool, bool]:
    """text/template's isTrue: (truth, ok)."""
    v = indirect_interface(v)
    if v is MISSING:
        return False, True
    if isinstance(v, bool):
        return v, True
    if isinstance(v, (int, float)):
        return v != 0, True
    size = length(v)
    if size is not None:
        return size > 0, True
    if isinstance(v, (datetime, GoFunc)):
        return True, True
    return False, False


def from_json(value: Any, *, numbers: str = "float64") -> Any:
    """Turn decoded JSON into the Go values the engine's templates see.

    ``numbers="float64"`` models json.Unmarshal into ``interface{}`` (every number a float64: how Argo
    Rollouts hands the Rollout over); ``"int64"`` models Kubernetes' unstructured objects (integers int64).
    """
    if isinstance(value, dict):
        return {str(k): from_json(v, numbers=numbers) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v, numbers=numbers) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return float(value) if numbers == "float64" else Int64(value)
    if isinstance(value, float):
        return value
    return value


class IntList(list[int]):
    """``[]int`` (sprig's ``until``)."""


_TYPE_NAMES.insert(6, (IntList, "[]int"))
