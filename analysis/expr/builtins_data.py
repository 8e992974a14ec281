"""expr's conversion and time builtins: toJSON, fromJSON, toBase64, fromBase64, now, duration, date,
timezone (Go's encodings, Go's duration and layout parsers, Go's error texts)."""

from __future__ import annotations

import base64
import binascii

from analysis.expr import gojson, gotime
from analysis.expr import gotypes as t
from analysis.expr.runtime import GoPanic, as_string
from analysis.expr.strings import from_bytes, to_bytes
from analysis.expr.values import GoInt, Location, Value


def builtin_to_json(*args: Value) -> Value:
    return gojson.marshal_indent(args[0])


def builtin_from_json(*args: Value) -> Value:
    return gojson.unmarshal(as_string(args[0]))


def builtin_to_base64(*args: Value) -> Value:
    return base64.b64encode(to_bytes(as_string(args[0]))).decode("ascii")


def builtin_from_base64(*args: Value) -> Value:
    text = as_string(args[0])
    data = text.encode("utf-8", "surrogateescape")
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise GoPanic(f"illegal base64 data at input byte {_bad_base64_offset(data)}") from None
    return from_bytes(decoded)


def _bad_base64_offset(data: bytes) -> int:
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stripped = data.replace(b"\r", b"").replace(b"\n", b"")
    for i, byte in enumerate(stripped):
        if byte == ord("="):
            if len(stripped) % 4 != 0 or i < len(stripped) - 2:
                return i
            return i if (len(stripped) - i > 2) else len(stripped) - (len(stripped) - i) - 0
        if byte not in alphabet:
            return i
    return len(stripped) - (len(stripped) % 4 or 4) if len(stripped) % 4 else len(stripped)


def builtin_now(*args: Value) -> Value:
    if not args:
        return gotime.now()
    if len(args) == 1 and isinstance(args[0], Location):
        return gotime.in_location(gotime.now(), args[0])
    raise GoPanic(f"invalid number of arguments (expected 0, got {len(args)})")


def builtin_duration(*args: Value) -> Value:
    try:
        return GoInt(gotime.parse_duration(as_string(args[0])), t.DURATION)
    except gotime.TimeError as exc:
        raise GoPanic(str(exc)) from None


_DEFAULT_LAYOUTS = ("2006-01-02", "15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00",
                    "02 Jan 06 15:04 MST", "Monday, 02-Jan-06 15:04:05 MST", "Mon, 02 Jan 2006 15:04:05 MST")


def builtin_date(*args: Value) -> Value:
    location = args[0] if args and isinstance(args[0], Location) else None
    if location is not None:
        args = args[1:]
    text = as_string(args[0])
    try:
        if len(args) == 2:
            return gotime.parse_time(as_string(args[1]), text, location)
        if len(args) == 3:
            zone = gotime.load_location(as_string(args[2]))
            return gotime.parse_time(as_string(args[1]), text, zone)
    except gotime.TimeError as exc:
        raise GoPanic(str(exc)) from None
    for layout in _DEFAULT_LAYOUTS:
        try:
            return gotime.parse_time(layout, text, location)
        except gotime.TimeError:
            continue
    raise GoPanic(f"invalid date {text}")


def builtin_timezone(*args: Value) -> Value:
    try:
        return gotime.load_location(as_string(args[0]))
    except gotime.TimeError as exc:
        raise GoPanic(str(exc)) from None
