"""Decode a pod template (or canary steps) into the Go struct Argo would hold, and write it back as Go would.

Argo Rollouts names a revision by FNV-32a over ``json.Marshal(&rollout.Spec.Template)``: the template as the
API server sent it, decoded by client-go (case-sensitive keys, unknown keys dropped, a type mismatch is an
error), then re-encoded from the struct. So the bytes depend on the struct layout (``layout.json``) and on Go's
encoder: struct fields in declaration order, map keys sorted, ``omitempty`` / ``omitzero``, HTML-safe string
escapes (``<`` -> ``\\u003c``), invalid UTF-16 replaced by U+FFFD, and each special type's own marshalling:

* ``resource.Quantity``: canonical text (``quantity.py``), from a JSON string or number;
* ``intstr.IntOrString``: an int32 or a string, whichever JSON type it was given (null -> 0);
* ``metav1.Time``: RFC 3339 in UTC, whole seconds (null or the zero time is omitted under omitzero);
* ``metav1.FieldsV1`` and ``json.RawMessage`` (a step plugin's config): the raw JSON, as the API server wrote
  it (sorted keys, Go's number spelling); a RawMessage keeps an explicit null as the text ``null``.

The decoded value is plain Python data: a struct is a ``dict`` of the fields the JSON set (a JSON ``null`` on a
struct field leaves the zero value, as in Go), a slice a ``list`` (``None`` = nil), a map a ``dict`` (``None`` =
nil), a pointer ``None`` or its target. Equality (``equality.py``) works on the same values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from rollouts.api.podtemplate.layout import Field, Map, Prim, Ptr, Slice, Special, Struct, TypeRef, layout
from rollouts.api.podtemplate.quantity import ZERO, Quantity, QuantityError, parse_quantity


class MalformedTemplate(ValueError):
    """The template does not decode into ``corev1.PodTemplateSpec`` (Argo could not read such a Rollout)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class IntOrString:
    is_string: bool = False
    int_val: int = 0
    str_val: str = ""


@dataclass(frozen=True)
class GoTime:
    """A ``metav1.Time``: seconds since the epoch and the nanoseconds Go keeps (marshalled without them)."""

    seconds: int = 0
    nanos: int = 0
    zero: bool = True


@dataclass(frozen=True)
class RawJSON:
    """A ``metav1.FieldsV1``: the JSON text as Go holds it."""

    text: str


ZERO_TIME = GoTime()
_GO_ZERO_SECONDS = -62135596800  # 0001-01-01T00:00:00Z, Go's zero time.Time
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- decoding ------------------------------------------------------------------------------------


def _fix_utf16(text: str) -> str:
    """Go decodes an unpaired ``\\uD800``-style escape as U+FFFD; Python keeps a lone surrogate."""
    if text.isascii():
        return text
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _mismatch(path: str, value: object, want: str) -> MalformedTemplate:
    return MalformedTemplate(path, f"cannot unmarshal {_kind(value)} into a field of type {want}")


def _as_int(value: object, path: str, bits: int, signed: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _mismatch(path, value, f"{'int' if signed else 'uint'}{bits}")
    if isinstance(value, float):
        # The API server re-encodes a float that is a whole number without a fraction (2.0 -> 2); only
        # such a value could reach Go as an integer literal.
        if not value.is_integer():
            raise MalformedTemplate(path, f"cannot unmarshal number {value!r} into a field of type int{bits}")
        value = int(value)
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= value <= high:
        raise MalformedTemplate(path, f"number {value} overflows {'int' if signed else 'uint'}{bits}")
    return value


def decode(value: object, ref: TypeRef, path: str) -> Any:
    """The Go value for JSON ``value`` of type ``ref`` (``path`` names it in errors)."""
    match ref:
        case Ptr(elem):
            return None if value is None else decode(value, elem, path)
        case Slice(elem):
            if value is None:
                return None
            if not isinstance(value, list | tuple):
                raise _mismatch(path, value, "array")
            return [decode(item, elem, f"{path}[{i}]") for i, item in enumerate(value)]
        case Map(elem):
            if value is None:
                return None
            if not isinstance(value, Mapping):
                raise _mismatch(path, value, "object")
            return {_fix_utf16(str(key)): decode(item, elem, f"{path}[{key!r}]") for key, item in value.items()}
        case Struct(name):
            return _decode_struct(value, name, path)
    return _decode_leaf(value, ref, path)


def _decode_struct(value: object, name: str, path: str) -> dict[str, Any]:
    """A struct's known fields by their Go JSON names; unknown keys are dropped, as client-go does, and a
    null leaves a value field (not a pointer, slice, map or special) as it was."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _mismatch(path, value, "object")
    struct = layout().structs[name]
    fields: dict[str, Any] = {}
    for key, item in value.items():
        field = struct.by_name.get(_fix_utf16(str(key)))
        if field is None:
            continue
        decoded = decode(item, field.type, f"{path}.{field.name}" if path else field.name)
        if item is None and not isinstance(field.type, Ptr | Slice | Map | Special):
            continue
        fields[field.name] = decoded
    return fields


def _decode_leaf(value: object, ref: TypeRef, path: str) -> Any:
    """A string, bool, integer or one of apimachinery's special types (quantity, intstr, time, raw JSON)."""
    match ref:
        case Prim("string"):
            if value is None:
                return ""
            if not isinstance(value, str):
                raise _mismatch(path, value, "string")
            return _fix_utf16(value)
        case Prim("bool"):
            if value is None:
                return False
            if not isinstance(value, bool):
                raise _mismatch(path, value, "bool")
            return value
        case Prim(kind, bits):
            return 0 if value is None else _as_int(value, path, bits, signed=kind == "int")
        case Special("quantity"):
            return _decode_quantity(value, path)
        case Special("intorstring"):
            if isinstance(value, str):
                return IntOrString(is_string=True, str_val=_fix_utf16(value))
            if value is None:
                return IntOrString()
            return IntOrString(int_val=_as_int(value, path, 32))
        case Special("time"):
            return _decode_time(value, path)
        case Special("fieldsv1"):
            return None if value is None else RawJSON(go_json_value(value))
        case Special("rawjson"):
            return RawJSON(go_json_value(value))  # json.RawMessage keeps even a null, as the text "null"
    raise AssertionError(f"unhandled type {ref}")


_GO_SPACES = frozenset(" \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                       "\u200a\u2028\u2029\u202f\u205f\u3000")


def _go_trim_space(text: str) -> str:
    start, end = 0, len(text)
    while start < end and text[start] in _GO_SPACES:
        start += 1
    while end > start and text[end - 1] in _GO_SPACES:
        end -= 1
    return text[start:end]


def quantity_from_json(value: object) -> Quantity:
    """``Quantity.UnmarshalJSON`` of a JSON value as the API server spells it (QuantityError if Go refuses).

    The method gets the raw JSON text: a string is unquoted but *not* unescaped, a number is parsed from
    its Go spelling (``1e-07`` arrives as ``1e-7``), null is the zero quantity."""
    if value is None:
        return ZERO
    if isinstance(value, str):
        raw = go_json_string(value)[1:-1]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        raw = go_json_number(value)
    else:
        raw = go_json_value(value)
    return parse_quantity(_go_trim_space(raw))


def _decode_quantity(value: object, path: str) -> Quantity:
    try:
        return quantity_from_json(value)
    except QuantityError as err:
        raise MalformedTemplate(path, str(err)) from None


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


def _decode_time(value: object, path: str) -> GoTime:
    if value is None:
        return ZERO_TIME
    if not isinstance(value, str):
        raise _mismatch(path, value, "string (RFC 3339 time)")
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise MalformedTemplate(path, f"parsing time {value!r} as RFC 3339 failed")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone = match.group(7) or "", match.group(8)
    try:
        if zone == "Z":
            tz = UTC
        else:
            sign = 1 if zone[0] == "+" else -1
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours >= 24 or minutes >= 60:
                raise ValueError("time zone offset out of range")
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        moment = datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError as err:
        raise MalformedTemplate(path, f"parsing time {value!r}: {err}") from None
    seconds = (moment - _EPOCH) // timedelta(seconds=1)
    nanos = int((fraction + "000000000")[:9])
    return GoTime(seconds=seconds, nanos=nanos, zero=seconds == _GO_ZERO_SECONDS and nanos == 0)


def decode_root(root: str, value: object) -> Any:
    """The Go value of one of the layout's roots ("podTemplate", "canarySteps"); MalformedTemplate if Go can't."""
    return decode(value, layout().roots[root], "")


def decode_pod_template(template: Mapping[str, Any] | None) -> dict[str, Any]:
    """``corev1.PodTemplateSpec`` from a template as the API server returns it; MalformedTemplate if Go can't."""
    return decode_root("podTemplate", template)  # type: ignore[no-any-return]


# -- encoding ------------------------------------------------------------------------------------

_HEX = "0123456789abcdef"
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def go_json_string(text: str) -> str:
    """A JSON string as Go's encoding/json writes it (HTML-safe: ``<``, ``>``, ``&`` escaped)."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or ch in "<>&":
            out.append("\\u00" + _HEX[code >> 4] + _HEX[code & 0xF])
        elif ch in "\u2028\u2029":
            out.append("\\u202" + _HEX[code & 0xF])
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json_number(value: int | float) -> str:
    """A number as Go writes an int64 or a float64: shortest digits, positional between 1e-6 and 1e21,
    otherwise ``1e-7`` / ``1.5e+21`` (Go's ``e-07`` cleaned to ``e-7``)."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a JSON number")
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    exact = Decimal(repr(abs(value)))  # repr: the shortest digits that round-trip, as Go's -1 precision
    digits_tuple, exponent = exact.as_tuple().digits, int(exact.as_tuple().exponent)
    digits = "".join(map(str, digits_tuple)).rstrip("0") or "0"
    exponent += len(digits_tuple) - len(digits)  # value = int(digits) * 10**exponent
    if 1e-6 <= abs(value) < 1e21:
        point = len(digits) + exponent  # digits before the decimal point
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    scientific = exponent + len(digits) - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp_text = f"{abs(scientific):02d}"
    if scientific < 0 and exp_text.startswith("0"):
        exp_text = exp_text[1:]
    return f"{sign}{mantissa}e{'-' if scientific < 0 else '+'}{exp_text}"


def go_json_value(value: object) -> str:
    """Plain JSON data (as the API server would write it: maps with sorted keys), compact."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return go_json_number(value)
    if isinstance(value, str):
        return go_json_string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = sorted(((_fix_utf16(str(k)), v) for k, v in value.items()), key=lambda kv: kv[0].encode())
        return "{" + ",".join(go_json_string(k) + ":" + go_json_value(v) for k, v in items) + "}"
    raise TypeError(f"not JSON data: {type(value).__name__}")


def _format_time(value: GoTime) -> str:
    if value.zero:
        return "null"
    moment = _EPOCH + timedelta(seconds=value.seconds)
    return '"' + f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%SZ") + '"'


def is_zero(value: Any, ref: TypeRef) -> bool:
    """Go's zero value test (``omitzero``; ``reflect.Value.IsZero``): nil, not empty, for slices and maps."""
    match ref:
        case Ptr() | Slice() | Map() | Special("fieldsv1") | Special("rawjson"):
            return value is None
        case Struct(name):
            if not value:
                return True
            struct = layout().structs[name]
            return all(is_zero(value.get(f.name), f.type) for f in struct.fields)
        case Prim("string"):
            return value in (None, "")
        case Prim("bool"):
            return value in (None, False)
        case Prim():
            return value in (None, 0)
        case Special("quantity"):
            return value is None or value == ZERO
        case Special("intorstring"):
            return value is None or value == IntOrString()
        case Special("time"):
            return value is None or value.zero
    raise AssertionError(f"unhandled type {ref}")


def _is_empty(value: Any, ref: TypeRef) -> bool:
    """``omitempty``: false, 0, "", nil pointer, and nil *or empty* slices and maps; structs never."""
    match ref:
        case Ptr() | Special("fieldsv1") | Special("rawjson"):
            return value is None
        case Slice() | Map():
            return not value
        case Prim():
            return is_zero(value, ref)
    return False


def _omitted(field: Field, value: Any) -> bool:
    return (field.omitempty and _is_empty(value, field.type)) or (field.omitzero and is_zero(value, field.type))


def encode(value: Any, ref: TypeRef) -> str:
    """Go's ``json.Marshal`` of a decoded value (``None``/absent = the type's zero value)."""
    match ref:
        case Ptr(elem):
            return "null" if value is None else encode(value, elem)
        case Slice(elem):
            return "null" if value is None else "[" + ",".join(encode(v, elem) for v in value) + "]"
        case Map(elem):
            if value is None:
                return "null"
            keys = sorted(value, key=lambda k: k.encode())
            return "{" + ",".join(go_json_string(k) + ":" + encode(value[k], elem) for k in keys) + "}"
        case Struct(name):
            present = value or {}
            parts = [go_json_string(field.name) + ":" + encode(present.get(field.name), field.type)
                     for field in layout().structs[name].fields if not _omitted(field, present.get(field.name))]
            return "{" + ",".join(parts) + "}"
    return _encode_leaf(value, ref)


def _encode_leaf(value: Any, ref: TypeRef) -> str:
    match ref:
        case Prim("string"):
            return go_json_string(value or "")
        case Prim("bool"):
            return "true" if value else "false"
        case Prim():
            return str(value or 0)
        case Special("quantity"):
            return go_json_string((value or ZERO).canonical())
        case Special("intorstring"):
            item = value or IntOrString()
            return go_json_string(item.str_val) if item.is_string else str(item.int_val)
        case Special("time"):
            return _format_time(value or ZERO_TIME)
        case Special("fieldsv1") | Special("rawjson"):
            return "null" if value is None else value.text
    raise AssertionError(f"unhandled type {ref}")


def marshal(root: str, value: object) -> bytes:
    """``json.Marshal`` of ``value`` decoded as the layout's root ``root`` (as client-go would decode it)."""
    return encode(decode_root(root, value), layout().roots[root]).encode("utf-8")


def pod_template_go_json(template: Mapping[str, Any] | None) -> bytes:
    """``json.Marshal(&template)`` after client-go's decoding: the bytes Argo's pod-template hash covers."""
    return marshal("podTemplate", template)


def canary_steps_go_json(steps: object) -> bytes:
    """``json.Marshal(rollout.Spec.Strategy.Canary.Steps)``: the bytes Argo's ``currentStepHash`` covers."""
    return marshal("canarySteps", steps)
