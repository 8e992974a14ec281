"""Go's text formatting of values, as expr-lang's messages and `string()` produce it.

fmt's `%v` and `%T`, strconv.Quote (`%q`, and `%#v` of a string), strconv.FormatFloat's shortest `'g'`
(`1e+06`, `0.1`, `+Inf`) and encoding/json's float format. Messages such as `cannot fetch foo from
map[string]interface {}` or `string(1e6) == "1e+06"` depend on these being exact.
"""

from __future__ import annotations

import math
import unicodedata
from decimal import Decimal

from analysis.expr import gotypes as t
from analysis.expr.values import (
    Func,
    GoInt,
    GoMap,
    GoTime,
    Location,
    Pointer,
    Slice,
    Struct,
    Value,
    map_items,
    type_name,
)


def shortest_digits(x: float) -> tuple[str, int]:
    """The shortest decimal digits that round-trip `x` (> 0) and the decimal point position:
    0.001 -> ("1", -2), 1234.5 -> ("12345", 4)."""
    _sign, digits, exponent = Decimal(repr(x)).as_tuple()
    text = "".join(str(d) for d in digits).rstrip("0")
    assert isinstance(exponent, int)
    point = len(digits) + exponent
    stripped = text.lstrip("0")
    point -= len(text) - len(stripped)
    return stripped or "0", point


def _format_e(neg: bool, digits: str, point: int, precision: int) -> str:
    mantissa = digits[0] + ("." + digits[1:precision + 1] if precision > 0 else "")
    exp = point - 1 if digits != "0" else 0
    sign = "-" if exp < 0 else "+"
    return ("-" if neg else "") + mantissa + "e" + sign + f"{abs(exp):02d}"


def _format_f(neg: bool, digits: str, point: int, decimals: int) -> str:
    if point <= 0:
        whole = "0"
        frac = "0" * (-point) + digits
    elif point >= len(digits):
        whole = digits + "0" * (point - len(digits))
        frac = ""
    else:
        whole, frac = digits[:point], digits[point:]
    frac = (frac + "0" * decimals)[:decimals]
    return ("-" if neg else "") + whole + ("." + frac if decimals > 0 else "")


def format_float(x: float, fmt: str = "g") -> str:
    """strconv.FormatFloat(x, fmt, -1, 64) for fmt in g, e, f."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    neg = math.copysign(1.0, x) < 0
    if x == 0:
        digits, point = "0", 1
    else:
        digits, point = shortest_digits(abs(x))
    nd = len(digits)
    if fmt == "e":
        return _format_e(neg, digits, point, nd - 1)
    if fmt == "f":
        return _format_f(neg, digits, point, max(nd - point, 0))
    exp = point - 1
    if exp < -4 or exp >= 6:  # shortest precision: strconv decides with precision 6
        return _format_e(neg, digits, point, nd - 1)
    return _format_f(neg, digits, point, max(nd - point, 0))


def json_float(x: float) -> str:
    """encoding/json's rendering of a float64 (callers reject NaN and infinities first)."""
    magnitude = abs(x)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = format_float(x, "e")
        if len(text) >= 4 and text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
            text = text[:-2] + text[-1]
        return text
    return format_float(x, "f")


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
            "\\": "\\\\", '"': '\\"'}


def is_printable(ch: str) -> bool:
    """unicode.IsPrint."""
    if ch == " ":
        return True
    category = unicodedata.category(ch)
    return category[0] in "LMNPS"


def quote(text: str) -> str:
    """strconv.Quote: `"a\\tb"`; printable runes stay, others become \\x, \\u or \\U escapes."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # an invalid UTF-8 byte kept by surrogateescape
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif is_printable(ch):
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


# --- %v -------------------------------------------------------------------------------------------------


def format_v(value: Value) -> str:
    """fmt's %v of a value (Stringer types print through String(), as fmt does)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, GoInt):
        return _format_named_int(value)
    if isinstance(value, list | Slice):
        return _format_sequence(value)
    if isinstance(value, dict | GoMap):
        return _format_map(value)
    return _format_other(value)


def _format_named_int(value: GoInt) -> str:
    from analysis.expr import gotime  # the time package formats its own named integers

    if value.type == t.DURATION:
        return gotime.duration_string(value.value)
    if value.type == t.MONTH:
        return gotime.month_name(value.value)
    if value.type == t.WEEKDAY:
        return gotime.weekday_name(value.value)
    return str(value.value)


def _format_sequence(value: list[Value] | Slice) -> str:
    items = value if isinstance(value, list) else (value.items or [])
    return "[" + " ".join(format_v(item) for item in items) + "]"


def _format_map(value: dict[str, Value] | GoMap) -> str:
    pairs = sorted(map_items(value), key=lambda kv: sort_key(kv[0]))
    return "map[" + " ".join(f"{format_v(k)}:{format_v(v)}" for k, v in pairs) + "]"


def _format_other(value: Value) -> str:
    from analysis.expr import gotime

    if isinstance(value, GoTime):
        return gotime.time_string(value)
    if isinstance(value, Location):
        return value.name
    if isinstance(value, Struct):
        return "{" + " ".join(format_v(value.fields[name]) for name, _ in value.type.fields) + "}"
    if isinstance(value, Pointer | Func):
        return "0xc000010000" if not getattr(value, "nil", False) else "<nil>"
    raise TypeError(f"cannot format {type_name(value)}")


_KIND_ORDER = {"nil": 0, "bool": 1, "int": 2, "float": 3, "string": 4}


def sort_key(key: Value) -> tuple[object, ...]:
    """internal/fmtsort's order for map keys of one map: numbers by value, strings bytewise, false < true."""
    if key is None:
        return (0,)
    if isinstance(key, bool):
        return (1, key)
    if isinstance(key, int | GoInt):
        return (2, key.value if isinstance(key, GoInt) else key)
    if isinstance(key, float):
        return (3, -math.inf if math.isnan(key) else key, not math.isnan(key))
    if isinstance(key, str):
        return (4, key.encode("utf-8", "surrogateescape"))
    return (5, format_v(key))
