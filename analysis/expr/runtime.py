"""expr-lang's run-time operations (vm/runtime): equality, ordering, arithmetic, fetch, `in`, slicing.

Each function follows the type switches of expr's generated helpers, so mixed operands behave as in Go:
int op int is int (wrapping at 64 bits), anything with a float is float64, `/` and `**` are always float64,
`%` only takes integers, and a pair no case covers panics with expr's text ("invalid operation: string
< int"). `GoPanic` carries such a text; the evaluator turns it into a run-time error of the condition.
"""

from __future__ import annotations

import math

from analysis.expr import gotime
from analysis.expr import gotypes as t
from analysis.expr.gofmt import format_v
from analysis.expr.gotypes import GoType, Kind
from analysis.expr.strings import byte_at, byte_len, byte_slice, go_less
from analysis.expr.values import (
    GoInt,
    GoMap,
    GoTime,
    Pointer,
    Slice,
    Struct,
    Value,
    deref,
    float_to_int,
    is_nil,
    items,
    type_name,
    type_of,
    wrap_int,
)


class GoPanic(Exception):
    """A Go panic inside the VM; its text becomes the condition's error message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.node: object = None  # the node whose operation panicked, set by the evaluator


def interface_conversion(value: Value, want: str) -> GoPanic:
    """The panic of a failed type assertion `v.(want)` on an `interface {}`."""
    have = "nil" if value is None else type_name(value)
    return GoPanic(f"interface conversion: interface {{}} is {have}, not {want}")


def as_bool(value: Value) -> bool:
    if not isinstance(value, bool):
        raise interface_conversion(value, "bool")
    return value


def as_string(value: Value) -> str:
    if not isinstance(value, str):
        raise interface_conversion(value, "string")
    return value


def as_int(value: Value) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise interface_conversion(value, "int")
    return value


# --- numbers ------------------------------------------------------------------------------------------


def _number(value: Value, *, duration: bool = False) -> tuple[str, int | float] | None:
    """("int", n) / ("float", x) / ("duration", n) for the types expr's helpers switch on, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value)
    if isinstance(value, GoInt):
        if not value.type.name:
            return ("int", wrap_int(value.value))
        if duration and value.type == t.DURATION:
            return ("duration", value.value)
    return None


def _arith(op: str, a: Value, b: Value, *, duration: bool = False) -> Value | None:
    x, y = _number(a, duration=duration), _number(b, duration=duration)
    if x is None or y is None:
        return None
    if x[0] == "float" or y[0] == "float":
        fx, fy = float(x[1]), float(y[1])
        return {"+": lambda: fx + fy, "-": lambda: fx - fy, "*": lambda: fx * fy}[op]()
    ix, iy = int(x[1]), int(y[1])
    result = {"+": ix + iy, "-": ix - iy, "*": ix * iy}[op]
    if x[0] == "duration" or y[0] == "duration":
        return GoInt(wrap_int(result, Kind.INT64), t.DURATION)
    return wrap_int(result)


def add(a: Value, b: Value) -> Value:
    result = _arith("+", a, b)
    if result is not None:
        return result
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(a, GoTime) and _is_duration(b):
        return gotime.add(a, b.value)
    if _is_duration(a):
        if isinstance(b, GoTime):
            return gotime.add(b, a.value)
        if _is_duration(b):
            return GoInt(wrap_int(a.value + b.value, Kind.INT64), t.DURATION)
    raise GoPanic(f"invalid operation: {type_name(a)} + {type_name(b)}")


def subtract(a: Value, b: Value) -> Value:
    result = _arith("-", a, b)
    if result is not None:
        return result
    if isinstance(a, GoTime):
        if isinstance(b, GoTime):
            return GoInt(gotime.sub(a, b), t.DURATION)
        if _is_duration(b):
            return gotime.add(a, -b.value)
    if _is_duration(a) and _is_duration(b):
        return GoInt(wrap_int(a.value - b.value, Kind.INT64), t.DURATION)
    raise GoPanic(f"invalid operation: {type_name(a)} - {type_name(b)}")


def multiply(a: Value, b: Value) -> Value:
    result = _arith("*", a, b, duration=True)
    if result is not None:
        return result
    raise GoPanic(f"invalid operation: {type_name(a)} * {type_name(b)}")


def divide(a: Value, b: Value) -> float:
    x, y = _number(a), _number(b)
    if x is None or y is None:
        raise GoPanic(f"invalid operation: {type_name(a)} / {type_name(b)}")
    return float_divide(float(x[1]), float(y[1]))


def float_divide(x: float, y: float) -> float:
    if y == 0:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def modulo(a: Value, b: Value) -> int:
    x, y = _number(a), _number(b)
    if x is None or y is None or x[0] == "float" or y[0] == "float":
        raise GoPanic(f"invalid operation: {type_name(a)} % {type_name(b)}")
    return int_modulo(int(x[1]), int(y[1]))


def int_modulo(x: int, y: int) -> int:
    """Go's truncated remainder on int."""
    if y == 0:
        raise GoPanic("runtime error: integer divide by zero")
    remainder = abs(x) % abs(y)
    return wrap_int(-remainder if x < 0 else remainder)


def exponent(a: Value, b: Value) -> float:
    return go_pow(to_float64(a), to_float64(b))


def go_pow(x: float, y: float) -> float:
    """math.Pow with Go's special cases (no exceptions: overflow is Inf, a negative base NaN)."""
    if y == 0 or x == 1:
        return 1.0
    if y == 1:
        return x
    if math.isnan(x) or math.isnan(y):
        return math.nan
    special = _pow_special(x, y)
    if special is not None:
        return special
    if x < 0 and not float(y).is_integer():
        return math.nan
    try:
        return math.pow(x, y)
    except OverflowError:
        return -math.inf if x < 0 and _odd_integer(y) else math.inf
    except ZeroDivisionError:
        return math.inf


def _pow_special(x: float, y: float) -> float | None:
    """Pow's cases for a zero or infinite base or an infinite exponent."""
    if x == 0:
        if y < 0:
            return math.copysign(math.inf, x) if _odd_integer(y) else math.inf
        return x if _odd_integer(y) else 0.0
    if math.isinf(y):
        if x == -1:
            return 1.0
        return math.inf if (abs(x) < 1) == (y < 0) else 0.0
    if math.isinf(x):
        if x < 0:
            return go_pow(1 / x, -y)
        return 0.0 if y < 0 else math.inf
    return None


def _odd_integer(y: float) -> bool:
    return float(y).is_integer() and abs(y) < 2**53 and int(y) % 2 == 1


def negate(value: Value) -> Value:
    if isinstance(value, bool):
        raise GoPanic(f"invalid operation: - {type_name(value)}")
    if isinstance(value, int):
        return wrap_int(-value)
    if isinstance(value, float):
        return -value
    if isinstance(value, GoInt) and not value.type.name:
        return GoInt(wrap_int(-value.value, value.type.kind), value.type)
    raise GoPanic(f"invalid operation: - {type_name(value)}")


def to_int(value: Value) -> int:
    """runtime.ToInt."""
    number = _number(value)
    if number is None:
        raise GoPanic(f"invalid operation: int({type_name(value)})")
    return float_to_int(number[1]) if number[0] == "float" else int(number[1])


def to_float64(value: Value) -> float:
    number = _number(value)
    if number is None:
        raise GoPanic(f"invalid operation: float({type_name(value)})")
    return float(number[1])


def _is_duration(value: Value) -> bool:
    return isinstance(value, GoInt) and value.type == t.DURATION


# --- comparison ---------------------------------------------------------------------------------------


def equal(a: Value, b: Value) -> bool:
    """runtime.Equal."""
    x, y = _number(a), _number(b)
    if x is not None:
        if y is not None:
            if x[0] == "float" or y[0] == "float":
                return float(x[1]) == float(y[1])
            return x[1] == y[1]
    elif _is_sequence(a) and _is_sequence(b) and _array_cases(a, b) is not None:
        return bool(_array_cases(a, b))
    elif isinstance(a, (str, bool)):
        if type(a) is type(b):
            return bool(a == b)
    elif isinstance(a, GoTime) and isinstance(b, GoTime):
        return a.unix_nano == b.unix_nano
    elif _is_duration(a) and _is_duration(b):
        return bool(a.value == b.value)
    if is_nil(a) and is_nil(b):
        return True
    return deep_equal(a, b)


_ARRAY_ELEMS = frozenset({"string", "uint", "uint8", "uint16", "uint32", "uint64", "int", "int8", "int16", "int32",
                          "int64", "float32", "float64"})


def _is_sequence(value: Value) -> bool:
    return isinstance(value, list) or (isinstance(value, Slice) and value.type.kind == Kind.SLICE)


def _array_case_type(value: Value) -> str | None:
    if isinstance(value, list):
        return "any"
    typ: GoType = value.type
    if typ == t.ANY_SLICE:
        return "any"
    elem = typ.elem
    if elem is not None and not elem.name and elem.string() in _ARRAY_ELEMS:
        return str(elem.string())
    return None


def _array_cases(a: Value, b: Value) -> bool | None:
    """The generated `[]any` / `[]T` cases of Equal; None when no case matches."""
    ta, tb = _array_case_type(a), _array_case_type(b)
    if ta is None or tb is None:
        return None
    xs, ys = items(a), items(b)
    if ta == "any":
        if len(xs) != len(ys):
            return False
        return all(equal(x, y) for x, y in zip(xs, ys, strict=True))
    if tb == "any":
        return equal(b, a)
    if ta != tb:
        return None
    return len(xs) == len(ys) and all(x == y for x, y in zip(xs, ys, strict=True))


def deep_equal(a: Value, b: Value) -> bool:
    """reflect.DeepEqual for the values a condition can build or receive."""
    ta, tb = type_of(a), type_of(b)
    if ta is None or tb is None:
        return ta is None and tb is None
    if ta != tb:
        return False
    if isinstance(a, list | Slice | dict | GoMap | Struct):
        return _deep_equal_container(a, b)
    if isinstance(a, Pointer):
        return a is b or (a.nil and b.nil) or (not a.nil and not b.nil and deep_equal(a.target, b.target))
    if isinstance(a, GoInt):
        return bool(a.value == b.value)
    return bool(a == b)


def _deep_equal_container(a: Value, b: Value) -> bool:
    if isinstance(a, list | Slice):
        if is_nil(a) != is_nil(b):
            return False
        xs, ys = items(a), items(b)
        return len(xs) == len(ys) and all(deep_equal(x, y) for x, y in zip(xs, ys, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(deep_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, GoMap):
        if a.nil != b.nil or len(a) != len(b):
            return False
        return all(b.get(k)[0] and deep_equal(v, b.get(k)[1]) for k, v in a.entries.values())
    return all(deep_equal(a.fields[n], b.fields[n]) for n, _ in a.type.fields)


def _compare(op: str, a: Value, b: Value) -> bool:
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        if x[0] == "float" or y[0] == "float":
            fx, fy = float(x[1]), float(y[1])
            return {"<": fx < fy, ">": fx > fy, "<=": fx <= fy, ">=": fx >= fy}[op]
        ix, iy = x[1], y[1]
        return {"<": ix < iy, ">": ix > iy, "<=": ix <= iy, ">=": ix >= iy}[op]
    if isinstance(a, str) and isinstance(b, str):
        less, more = go_less(a, b), go_less(b, a)
        return {"<": less, ">": more, "<=": not more, ">=": not less}[op]
    if isinstance(a, GoTime) and isinstance(b, GoTime):
        ia, ib = a.unix_nano, b.unix_nano
        return {"<": ia < ib, ">": ia > ib, "<=": ia <= ib, ">=": ia >= ib}[op]
    if _is_duration(a) and _is_duration(b):
        da, db = int(a.value), int(b.value)
        return {"<": da < db, ">": da > db, "<=": da <= db, ">=": da >= db}[op]
    raise GoPanic(f"invalid operation: {type_name(a)} {op} {type_name(b)}")


def less(a: Value, b: Value) -> bool:
    return _compare("<", a, b)


def more(a: Value, b: Value) -> bool:
    return _compare(">", a, b)


def less_or_equal(a: Value, b: Value) -> bool:
    return _compare("<=", a, b)


def more_or_equal(a: Value, b: Value) -> bool:
    return _compare(">=", a, b)


# --- containers ---------------------------------------------------------------------------------------


def length(value: Value) -> int:
    """runtime.Len (bytes for a string)."""
    if isinstance(value, str):
        return byte_len(value)
    if isinstance(value, list | dict | Slice | GoMap):
        return len(value)
    raise GoPanic(f"invalid argument for len (type {type_name(value)})")


def zero_value(typ: GoType | None) -> Value:
    """reflect.Zero(typ).Interface()."""
    if typ is None or typ.kind == Kind.INTERFACE:
        return None
    zeros: dict[Kind, Value] = {Kind.BOOL: False, Kind.STRING: "", Kind.FLOAT64: 0.0, Kind.FLOAT32: 0.0}
    if typ.kind in zeros and not typ.name:
        return zeros[typ.kind]
    if typ.kind in t.INTEGER_KINDS:
        return 0 if typ == t.INT else GoInt(0, typ)
    if typ.kind == Kind.SLICE:
        return Slice(typ, None)
    if typ.kind == Kind.MAP:
        return GoMap(typ, nil=True)
    if typ.kind == Kind.PTR:
        return Pointer(typ, nil=True)
    if typ == t.TIME:
        return gotime.ZERO_TIME
    if typ.kind == Kind.STRUCT:
        return Struct(typ, {name: zero_value(ft) for name, ft in typ.fields})
    return None


def _map_key_panic(key: Value, key_type: GoType) -> GoPanic:
    return GoPanic(f"reflect.Value.MapIndex: value of type {type_name(key)} is not assignable to type "
                   f"{key_type.string()}")


def map_lookup(container: dict[str, Value] | GoMap, key: Value) -> tuple[bool, Value]:
    """v.MapIndex(key) (a nil key looks up the key type's zero value), with reflect's panic."""
    if isinstance(container, dict):
        if key is None:
            key = ""
        if not isinstance(key, str):
            raise _map_key_panic(key, t.STRING)
        return (key in container, container.get(key))
    key_type = container.type.key
    assert key_type is not None
    if key is None:
        key = zero_value(key_type)
    elif not _assignable(key, key_type):
        raise _map_key_panic(key, key_type)
    return container.get(key)


def _assignable(value: Value, typ: GoType) -> bool:
    vt = type_of(value)
    return vt is not None and vt.assignable_to(typ)


def fetch(container: Value, key: Value) -> Value:
    """runtime.Fetch: `a[b]` and `a.b` on maps, slices, strings, structs and method sets."""
    if container is None:
        raise GoPanic(f"cannot fetch {format_v(key)} from {type_name(container)}")
    typ = type_of(container)
    assert typ is not None
    if typ.methods and isinstance(key, str) and key in typ.methods:
        from analysis.expr.methods import bound_method

        return bound_method(container, key)
    base = deref(container)
    if isinstance(base, list | Slice | str):
        return _fetch_index(base, key)
    if isinstance(base, dict | GoMap):
        found, value = map_lookup(base, key)
        if found:
            return value
        return zero_value(typ.elem if isinstance(container, GoMap) else None)
    if isinstance(base, Struct):
        if not isinstance(key, str):
            raise interface_conversion(key, "string")
        if key in base.fields:
            return base.fields[key]
    raise GoPanic(f"cannot fetch {format_v(key)} from {type_name(container)}")


def _fetch_index(base: list[Value] | Slice | str, key: Value) -> Value:
    index = to_int(key)
    size = byte_len(base) if isinstance(base, str) else len(base)
    if index < 0:
        index += size
    if index < 0 or index >= size:
        raise GoPanic(f"index out of range: {index} (array length is {size})")
    if isinstance(base, str):
        return GoInt(byte_at(base, index), t.UINT8)
    return items(base)[index]


def fetch_field(container: Value, name: str) -> Value:
    """runtime.FetchField: a struct field the checker resolved."""
    base = deref(container)
    if isinstance(base, Struct) and name in base.fields:
        return base.fields[name]
    raise GoPanic(f"cannot get {name} from {type_name(container)}")


def contains(needle: Value, container: Value) -> bool:
    """runtime.In: `needle in container`."""
    if container is None:
        return False
    if isinstance(container, list | Slice):
        return any(equal(item, needle) for item in items(container))
    if isinstance(container, dict | GoMap):
        return map_lookup(container, needle)[0]
    if isinstance(container, Struct):
        if not isinstance(needle, str):
            raise GoPanic(f"cannot use {type_name(needle)} as field name of {type_name(container)}")
        return needle in container.fields
    if isinstance(container, Pointer):
        return False if container.nil else contains(needle, container.target)
    raise GoPanic(f'operator "in" not defined on {type_name(container)}')


def slice_range(container: Value, low: Value, high: Value) -> Value:
    """runtime.Slice: container[low:high] with negative and out-of-range bounds clamped."""
    if isinstance(container, list | Slice | str):
        size = byte_len(container) if isinstance(container, str) else len(container)
        a, b = to_int(low), to_int(high)
        a = max(a + size if a < 0 else a, 0)
        b = min(max(b + size if b < 0 else b, 0), size)
        a = min(a, b)
        if isinstance(container, str):
            return byte_slice(container, a, b)
        if isinstance(container, list):
            return container[a:b]
        typ = container.type if container.type.kind == Kind.SLICE else t.slice_of(container.type.elem or t.ANY)
        return Slice(typ, items(container)[a:b])
    if isinstance(container, Pointer) and not container.nil:
        return slice_range(container.target, low, high)
    raise GoPanic(f"cannot slice {format_v(low)}")


def make_range(low: int, high: int) -> Slice:
    size = high - low + 1
    return Slice(t.INT_SLICE, list(range(low, high + 1)) if size > 0 else [])
