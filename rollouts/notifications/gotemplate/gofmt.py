"""Go's fmt for the values templates print: ``%v`` (what ``{{.x}}`` prints), ``Sprint`` and ``Sprintf``.

Exactness matters because users paste the output into Slack attachments and JSON webhook bodies: a float64
replica count prints ``3`` but a million prints ``1e+06``, a Secret value (``[]byte``) prints as a list of
numbers, a map as ``map[k:v]`` with sorted keys, a nil as ``<nil>``.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rollouts.notifications.gotemplate.values import MISSING, GoFunc, Iface, Int64, type_name


def _digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(f) and the decimal point position (as strconv's)."""
    _sign, digits, exp = Decimal(repr(abs(f))).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exp)
    if text == "0":
        point = 1
    return text, point


def format_float(f: float, verb: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(f, verb, prec, 64) for the verbs templates use (g shortest, e, f)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    neg = f < 0 or (f == 0 and math.copysign(1, f) < 0)
    if verb == "f":
        body = f"{abs(f):.{prec}f}" if prec >= 0 else _fixed(*_digits(f))
    elif verb == "e":
        body = _exp_form(f"{abs(f):.{prec}e}") if prec >= 0 else _sci(*_digits(f))
    else:
        digits, point = _digits(f)
        exp = point - 1
        body = _sci(digits, point) if exp < -4 or exp >= (6 if prec < 0 else prec) else _fixed(digits, point)
    return ("-" if neg else "") + body


def _fixed(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _sci(digits: str, point: int) -> str:
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mant}e{_exp_suffix(point - 1)}"


def _exp_suffix(exp: int) -> str:
    return f"{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _exp_form(py: str) -> str:
    mant, _, exp = py.partition("e")
    return f"{mant}e{_exp_suffix(int(exp))}"


_TZ_NAMES = {timedelta(0): "UTC"}


def format_time(t: datetime) -> str:
    """time.Time.String(): 2006-01-02 15:04:05.999999999 -0700 MST."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    offset = t.utcoffset() or timedelta(0)
    frac = f".{t.microsecond:06d}".rstrip("0") if t.microsecond else ""
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    name = _TZ_NAMES.get(offset) or t.tzname() or zone
    if name.startswith("UTC") and name != "UTC":
        name = zone
    return f"{t:%Y-%m-%d %H:%M:%S}{frac} {zone} {name}"


def format_value(v: Any, *, top: bool = True) -> str:
    """fmt's %v."""
    if isinstance(v, Iface):
        v = v.value
    if v is None or v is MISSING:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return format_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return "[" + " ".join(str(b) for b in v) + "]"
    if isinstance(v, list):
        return "[" + " ".join(format_value(e, top=False) for e in v) + "]"
    if isinstance(v, dict):
        items = " ".join(f"{format_value(k, top=False)}:{format_value(v[k], top=False)}" for k in sort_keys(v))
        return f"map[{items}]"
    if isinstance(v, datetime):
        return format_time(v)
    if isinstance(v, GoFunc):
        return "0x1"  # a function's address: never the same in Go either
    return str(v)


def sort_keys(m: dict[Any, Any]) -> list[Any]:
    """fmtsort's order for the key types templates meet (strings, ints)."""
    return sorted(m, key=lambda k: (0, k, "") if isinstance(k, (int, float)) else (1, 0, str(k)))


def _hex_float(f: float) -> str:
    """%x of a float64: shortest hexadecimal mantissa, binary exponent (0x1.f9p+12)."""
    if math.isnan(f) or math.isinf(f):
        return format_float(f)
    text = f.hex()
    mant, _, exp = text.partition("p")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    sign = "-" if exp.startswith("-") else "+"
    return f"{mant}p{sign}{int(exp.lstrip('+-')):02d}"


def sprint(*args: Any) -> str:
    """fmt.Sprint: spaces between operands when neither side is a string."""
    out: list[str] = []
    prev_string = True
    for i, a in enumerate(args):
        is_string = isinstance(a, str) and type(a).__name__ != "_NoValueStr"
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(format_value(a))
        prev_string = is_string
    return "".join(out)


def sprintln(*args: Any) -> str:
    return " ".join(format_value(a) for a in args) + "\n"


_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d+)?)?([a-zA-Z%])")


def go_quote(s: str) -> str:
    """strconv.Quote."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\v":
            out.append("\\v")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif not ch.isprintable() and code > 0x7F:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class _Bad(str):
    """A mismatched verb's ``%!v(type=value)``: the width pads the value inside, as Go does."""

    inner: str
    verb: str
    type: str | None
    value: Any

    def __new__(cls, verb: str, v: Any) -> _Bad:
        inner = format_value(v)
        self = super().__new__(cls, f"%!{verb}(<nil>)" if v is None else f"%!{verb}({type_name(v)}={inner})")
        self.inner, self.verb, self.type, self.value = inner, verb, None if v is None else type_name(v), v
        return self

    def padded(self, flags: str, width: int | None, prec: int | None = None) -> str:
        if self.type is None:
            return str(self)
        inner = self.inner
        if prec is not None and isinstance(self.value, int) and not isinstance(self.value, bool):
            n = int(self.value)
            inner = ("-" if n < 0 else "") + str(abs(n)).rjust(prec, "0")
        elif prec is not None and isinstance(self.value, str):
            inner = self.value[:prec]
        return f"%!{self.verb}({self.type}={_pad(inner, flags, width)})"


def _bad(verb: str, v: Any) -> str:
    return _Bad(verb, v)


def _pad(s: str, flags: str, width: int | None) -> str:
    if width is None or len(s) >= width:
        return s
    if "-" in flags:
        return s + " " * (width - len(s))
    if "0" in flags and s[:1] in "+-" and s[1:].replace(".", "").isdigit():
        return s[0] + "0" * (width - len(s)) + s[1:]
    if "0" in flags and s.replace(".", "").isdigit():
        return "0" * (width - len(s)) + s
    return " " * (width - len(s)) + s


def _format_nested(verb: str, flags: str, prec: int | None, v: Any) -> str:
    """An element inside a map or slice: a nil interface prints <nil> whatever the verb."""
    if v is None or (isinstance(v, Iface) and v.value is None):
        return "<nil>"
    return _format_one(verb, flags, prec, v)


def _format_one(verb: str, flags: str, prec: int | None, v: Any) -> str:
    if isinstance(v, Iface):
        v = v.value
    if verb not in ("v", "T") and isinstance(v, (bytes, list, dict)):
        container = _format_container(verb, flags, prec, v)
        if container is not None:
            return container
    if verb == "v":
        if "+" in flags and isinstance(v, (int, float)) and not isinstance(v, bool):
            text = format_value(v)
            return text if text.startswith("-") else "+" + text
        return format_value(v)
    if verb == "T":
        return "<nil>" if v is None else type_name(v)
    for formatter in (_format_text, _format_int, _format_float_verb):
        found = formatter(verb, flags, prec, v)
        if found is not None:
            return found
    return _bad(verb, v)


def _format_container(verb: str, flags: str, prec: int | None, v: Any) -> str | None:
    if isinstance(v, bytes):
        if verb in "sqxX":
            return None
        return "[" + " ".join(_format_one(verb, flags, prec, int(e)) for e in v) + "]"
    if isinstance(v, list):
        return "[" + " ".join(_format_nested(verb, flags, prec, e) for e in v) + "]"
    items = " ".join(f"{_format_nested(verb, flags, prec, k)}:{_format_nested(verb, flags, prec, v[k])}"
                     for k in sort_keys(v))
    return f"map[{items}]"


def _format_text(verb: str, flags: str, prec: int | None, v: Any) -> str | None:
    if verb in "sq":
        if isinstance(v, bytes):
            v = v.decode(errors="replace")
        if not isinstance(v, str):
            return _bad(verb, v)
        if prec is not None:
            v = v[:prec]
        return go_quote(v) if verb == "q" else v
    if verb == "t":
        return ("true" if v else "false") if isinstance(v, bool) else _bad(verb, v)
    if verb in "xX" and isinstance(v, (str, bytes)):
        raw = v.encode() if isinstance(v, str) else v
        return raw.hex() if verb == "x" else raw.hex().upper()
    return None


def _format_int(verb: str, flags: str, prec: int | None, v: Any) -> str | None:
    if verb not in "dxXob" or not isinstance(v, int) or isinstance(v, bool):
        return None
    n = int(v)
    body = {"d": str(abs(n)), "x": f"{abs(n):x}", "X": f"{abs(n):X}", "o": f"{abs(n):o}", "b": f"{abs(n):b}"}[verb]
    return ("-" if n < 0 else "+" if "+" in flags else "") + body


def _format_float_verb(verb: str, flags: str, prec: int | None, v: Any) -> str | None:
    if not isinstance(v, float):
        return None
    if verb in "xX":
        text = _hex_float(v)
        return text.upper() if verb == "X" else text
    if verb not in "feEgG":
        return None
    if verb in "gG":
        text = format_float(v, "g", -1 if prec is None else prec)
    else:
        text = format_float(v, verb.lower(), 6 if prec is None else prec)
    text = text.upper() if verb in "EG" else text
    return "+" + text if "+" in flags and not text.startswith("-") else text


def format_verb(verb: str, v: Any) -> str:
    """One operand under a verb, as fmt formats it (used for Go's ``%s`` in error messages)."""
    return str(_format_one(verb, "", None, v))


def sprintf(fmt: str, *args: Any) -> str:
    """fmt.Sprintf for the verbs notification templates use; mismatches render as Go renders them."""
    out: list[str] = []
    pos = 0
    argi = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width_s, prec_s, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        width = None
        if width_s == "*":
            width = int(args[argi]) if argi < len(args) and isinstance(args[argi], int) else None
            argi += 1
        elif width_s:
            width = int(width_s)
        prec: int | None = None
        if prec_s == "*":
            prec = int(args[argi]) if argi < len(args) and isinstance(args[argi], int) else 0
            argi += 1
        elif m.group(0).find(".") >= 0:
            prec = int(prec_s) if prec_s else 0
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        text = _format_one(verb, flags, prec, args[argi])
        out.append(text.padded(flags, width, prec) if isinstance(text, _Bad) else _pad(text, flags, width))
        argi += 1
    out.append(fmt[pos:])
    if argi < len(args):
        extra = ", ".join("<nil>" if a is None else f"{type_name(a)}={format_value(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


__all__ = ["Int64", "format_float", "format_value", "go_quote", "sprint", "sprintf", "sprintln"]
