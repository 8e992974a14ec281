"""Go's encoding/json Marshal for template values: what sprig's ``toJson``/``toPrettyJson``/``toRawJson``
produce (sorted map keys, ``<``/``>``/``&`` escaped unless raw, Go's float forms, ``[]byte`` as base64)."""

from __future__ import annotations

import base64
import math
from datetime import datetime
from typing import Any

from rollouts.notifications.gotemplate.functions import GoError
from rollouts.notifications.gotemplate.gofmt import format_float
from rollouts.notifications.gotemplate.gotime import go_format
from rollouts.notifications.gotemplate.values import MISSING, GoFunc, Iface, type_name

_HEX = "0123456789abcdef"


def _string(s: str, *, escape_html: bool) -> str:
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif code < 0x20 or (escape_html and ch in "<>&"):
            out.append("\\u00" + _HEX[code >> 4] + _HEX[code & 0xF])
        elif code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code < 0xE000:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise GoError(f"json: unsupported value: {format_float(f)}")
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        text = format_float(f, "e")
        mant, _, exp = text.partition("e")
        if exp.startswith("-0"):
            exp = "-" + exp[2:]
        elif exp.startswith("+0") and len(exp) > 2:
            exp = "+" + exp[2:]
        return f"{mant}e{exp}"
    return format_float(f, "f")


def marshal(v: Any, *, escape_html: bool = True, indent: str | None = None, level: int = 0) -> str:
    """json.Marshal (or MarshalIndent with prefix "" when ``indent`` is given)."""
    if isinstance(v, Iface):
        v = v.value
    if v is None or v is MISSING:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return _float(v)
    if isinstance(v, str):
        return _string(v, escape_html=escape_html)
    if isinstance(v, bytes):
        return '"' + base64.b64encode(v).decode() + '"'
    if isinstance(v, datetime):
        return _string(go_format(v, "2006-01-02T15:04:05.999999999Z07:00"), escape_html=escape_html)
    if isinstance(v, GoFunc):
        raise GoError(f"json: unsupported type: {type_name(v)}")
    if isinstance(v, list):
        items = [marshal(e, escape_html=escape_html, indent=indent, level=level + 1) for e in v]
        return _container("[", "]", items, indent, level)
    if isinstance(v, dict):
        items = [
            _string(str(k), escape_html=escape_html) + (": " if indent is not None else ":")
            + marshal(v[k], escape_html=escape_html, indent=indent, level=level + 1)
            for k in sorted(v, key=str)
        ]
        return _container("{", "}", items, indent, level)
    raise GoError(f"json: unsupported type: {type_name(v)}")


def _container(open_: str, close: str, items: list[str], indent: str | None, level: int) -> str:
    if not items:
        return open_ + close
    if indent is None:
        return open_ + ",".join(items) + close
    pad = "\n" + indent * (level + 1)
    return open_ + pad + ("," + pad).join(items) + "\n" + indent * level + close


def unmarshal(text: str) -> Any:
    """json.Unmarshal into interface{} (numbers float64)."""
    import json

    from rollouts.notifications.gotemplate.values import from_json

    try:
        return from_json(json.loads(text), numbers="float64")
    except ValueError as exc:
        raise GoError(str(exc)) from None
