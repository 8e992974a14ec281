"""expr's number builtins: abs, ceil, floor, round, int, float, string, type, len, max, min, mean, median,
and the bit functions, with expr's panics for arguments of the wrong type."""

from __future__ import annotations

import math

from analysis.expr import gonumbers
from analysis.expr import gotypes as t
from analysis.expr.gofmt import format_v
from analysis.expr.gotypes import Kind
from analysis.expr.runtime import GoPanic, less, more
from analysis.expr.values import (
    GoInt,
    GoMap,
    Slice,
    Value,
    float_to_int,
    items,
    type_name,
    type_of,
    wrap_int,
)


def _kind(value: Value) -> Kind:
    typ = type_of(value)
    return Kind.INVALID if typ is None else typ.kind


def _plain_number(value: Value) -> bool:
    """One of the cases of expr's numeric type switches (named integers like time.Duration are not)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or (isinstance(value, GoInt) and not value.type.name)


def builtin_len(value: Value) -> Value:
    if isinstance(value, str):
        return len(value)  # runes, as utf8.RuneCountInString
    if isinstance(value, list | dict | Slice | GoMap):
        return len(value)
    raise GoPanic(f"invalid argument for len (type {type_name(value)})")


def builtin_type(value: Value) -> Value:
    if value is None:
        return "nil"
    typ = type_of(value)
    assert typ is not None
    if typ.pkg:
        return typ.name  # "time.Time", "time.Duration"
    kind = typ.kind
    if kind == Kind.BOOL:
        return "bool"
    if kind in (Kind.INT, Kind.INT8, Kind.INT16, Kind.INT32, Kind.INT64):
        return "int"
    if kind in t.INTEGER_KINDS:
        return "uint"
    names = {Kind.FLOAT32: "float", Kind.FLOAT64: "float", Kind.STRING: "string", Kind.ARRAY: "array",
             Kind.SLICE: "array", Kind.MAP: "map", Kind.FUNC: "func", Kind.STRUCT: "struct"}
    return names.get(kind, "unknown")


def builtin_abs(value: Value) -> Value:
    if isinstance(value, float):
        return -value if value < 0 else value
    if isinstance(value, int) and not isinstance(value, bool):
        return wrap_int(-value) if value < 0 else value
    if isinstance(value, GoInt) and not value.type.name:
        if value.value < 0:
            return GoInt(wrap_int(-value.value, value.type.kind), value.type)
        return value
    raise GoPanic(f"invalid argument for abs (type {type_name(value)})")


def _rounding(name: str, op: object) -> object:
    def run(value: Value) -> Value:
        if isinstance(value, float):
            return op(value)  # type: ignore[operator]
        if _plain_number(value):
            return builtin_float(value)
        raise GoPanic(f"invalid argument for {name} (type {type_name(value)})")

    return run


def _go_round(x: float) -> float:
    """math.Round: half away from zero, keeping the sign of zero."""
    if math.isnan(x) or math.isinf(x):
        return x
    whole = float(math.trunc(x))
    if abs(x - whole) >= 0.5:
        whole += math.copysign(1.0, x)
    return math.copysign(whole, x) if whole == 0 else whole


def _go_ceil(x: float) -> float:
    if math.isnan(x) or math.isinf(x) or x == 0:
        return x
    whole = float(math.ceil(x))
    return math.copysign(whole, x) if whole == 0 else whole


def _go_floor(x: float) -> float:
    if math.isnan(x) or math.isinf(x) or x == 0:
        return x
    return float(math.floor(x))


builtin_ceil = _rounding("ceil", _go_ceil)
builtin_floor = _rounding("floor", _go_floor)
builtin_round = _rounding("round", _go_round)


def builtin_int(value: Value) -> Value:
    if isinstance(value, float):
        return float_to_int(value)
    if _plain_number(value):
        return wrap_int(value.value if isinstance(value, GoInt) else value)
    if isinstance(value, str):
        number, problem = gonumbers.atoi(value)
        if problem:
            raise GoPanic(f"invalid operation: int({value})")
        return number
    if isinstance(value, GoInt):  # a named integer type converts (time.Duration -> int)
        return wrap_int(value.value)
    raise GoPanic(f"invalid operation: int({type_name(value)})")


def builtin_float(value: Value) -> Value:
    if isinstance(value, float):
        return value
    if _plain_number(value):
        return float(value.value if isinstance(value, GoInt) else value)
    if isinstance(value, str):
        number, problem = gonumbers.parse_float(value)
        if problem and "out of range" not in problem:
            raise GoPanic(f"invalid operation: float({value})")
        if problem:
            raise GoPanic(f"invalid operation: float({value})")
        return number
    raise GoPanic(f"invalid operation: float({type_name(value)})")


def builtin_string(value: Value) -> Value:
    return format_v(value)


MAX_DEPTH = 10_000


def _min_max(name: str, better: object, depth: int, args: tuple[Value, ...]) -> Value:
    if depth > MAX_DEPTH:
        raise GoPanic("recursion depth exceeded")
    best: Value = None
    for arg in args:
        if isinstance(arg, list | Slice):
            for element in items(arg):
                candidate = _min_max(name, better, depth + 1, (element,))
                if not _plain_number(candidate):
                    raise GoPanic(f"invalid argument for {name} (type {type_name(candidate)})")
                if best is None or better(best, candidate):  # type: ignore[operator]
                    best = candidate
        elif _plain_number(arg):
            if best is None or better(best, arg):  # type: ignore[operator]
                best = arg
        else:
            if len(args) == 1:
                return args[0]
            raise GoPanic(f"invalid argument for {name} (type {type_name(arg)})")
    return best


def builtin_max(*args: Value) -> Value:
    return _min_max("max", less, 0, args)


def builtin_min(*args: Value) -> Value:
    return _min_max("min", more, 0, args)


def _numbers(name: str, depth: int, args: tuple[Value, ...]) -> list[float]:
    if depth > MAX_DEPTH:
        raise GoPanic("recursion depth exceeded")
    out: list[float] = []
    for arg in args:
        if isinstance(arg, list | Slice):
            for element in items(arg):
                out.extend(_numbers(name, depth + 1, (element,)))
        elif _kind(arg) in t.INTEGER_KINDS or _kind(arg) in t.FLOAT_KINDS:
            out.append(float(arg.value if isinstance(arg, GoInt) else arg))
        else:
            raise GoPanic(f"invalid argument for {name} (type {type_name(arg)})")
    return out


def builtin_mean(*args: Value) -> Value:
    values = _numbers("mean", 0, args)
    if not values:
        return 0.0
    total = 0.0
    for v in values:
        total += v
    return total / len(values)


def builtin_median(*args: Value) -> Value:
    values = _numbers("median", 0, args)
    if not values:
        return 0.0
    values.sort(key=lambda v: (not math.isnan(v), v if not math.isnan(v) else 0.0))
    n = len(values)
    if n % 2 == 1:
        return values[n // 2]
    return (values[n // 2 - 1] + values[n // 2]) / 2


def _to_int(value: Value, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, GoInt) and not value.type.name:
        return wrap_int(value.value)
    raise GoPanic(f"cannot use {type_name(value)} as argument (type int) to call {name}")


def bit_function(name: str) -> object:
    def run(*args: Value) -> Value:
        if len(args) != 2:
            raise GoPanic(f"invalid number of arguments for {name} (expected 2, got {len(args)})")
        x, y = _to_int(args[0], name), _to_int(args[1], name)
        if name in ("bitshl", "bitshr", "bitushr") and y < 0:
            raise GoPanic(f"invalid operation: negative shift count {y} (type int)")
        ops = {
            "bitand": lambda: x & y, "bitor": lambda: x | y, "bitxor": lambda: x ^ y, "bitnand": lambda: x & ~y,
            "bitshl": lambda: wrap_int(x << min(y, 64)), "bitshr": lambda: x >> min(y, 63),
            "bitushr": lambda: wrap_int((x & (2**64 - 1)) >> min(y, 64)),
        }
        return ops[name]()

    return run


def builtin_bitnot(*args: Value) -> Value:
    if len(args) != 1:
        raise GoPanic(f"invalid number of arguments for bitnot (expected 1, got {len(args)})")
    return ~_to_int(args[0], "bitnot")
