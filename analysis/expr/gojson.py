"""encoding/json as expr's `toJSON` / `fromJSON` use it: Go's output format and Go's error texts.

Marshal sorts map keys, escapes `<`, `>`, `&` (HTML-safe, Go's default), writes floats as Go does and
refuses NaN; Unmarshal into `interface {}` gives float64 numbers, `map[string]interface {}` objects, and
the scanner's messages (`invalid character 'x' looking for beginning of value`).
"""

from __future__ import annotations

import math

from analysis.expr import gotypes as t
from analysis.expr.gofmt import json_float, quote
from analysis.expr.gotypes import Kind
from analysis.expr.runtime import GoPanic
from analysis.expr.values import GoInt, GoMap, GoTime, Pointer, Slice, Struct, Value, type_name, type_of


def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif code < 0x20 or ch in "<>&" or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        elif 0xDC80 <= code <= 0xDCFF or 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _encode_scalar(value: Value) -> str | None:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            from analysis.expr.gofmt import format_float

            raise GoPanic(f"json: unsupported value: {format_float(value)}")
        return json_float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, GoInt):
        return str(value.value)
    if isinstance(value, GoTime):
        from analysis.expr.gotime import format_time

        return _string(format_time(value, "2006-01-02T15:04:05.999999999Z07:00"))
    return None


def _encode(value: Value, indent: str, level: int) -> str:
    scalar = _encode_scalar(value)
    if scalar is not None:
        return scalar
    sep = " " if indent else ""
    if isinstance(value, list | Slice):
        if isinstance(value, Slice) and value.items is None:
            return "null"
        elements = value if isinstance(value, list) else (value.items or [])
        return _container("[", "]", [_encode(v, indent, level + 1) for v in elements], indent, level)
    if isinstance(value, dict):
        pairs = [f"{_string(k)}:{sep}{_encode(value[k], indent, level + 1)}"
                 for k in sorted(value, key=lambda k: k.encode("utf-8", "surrogateescape"))]
        return _container("{", "}", pairs, indent, level)
    if isinstance(value, Struct):
        pairs = [f"{_string(n)}:{sep}{_encode(value.fields[n], indent, level + 1)}" for n, _ in value.type.fields]
        return _container("{", "}", pairs, indent, level)
    if isinstance(value, Pointer):
        return "null" if value.nil else _encode(value.target, indent, level)
    if isinstance(value, GoMap):
        return _encode_go_map(value, indent, level)
    raise GoPanic(f"json: unsupported type: {type_name(value)}")


def _encode_go_map(value: GoMap, indent: str, level: int) -> str:
    key_type = value.type.key
    assert key_type is not None
    if key_type.kind not in (Kind.STRING, *t.INTEGER_KINDS):
        raise GoPanic(f"json: unsupported type: {value.type.string()}")
    if value.nil:
        return "null"
    keyed = sorted(((str(k.value if isinstance(k, GoInt) else k), v) for k, v in value.entries.values()))
    pairs = [f"{_string(k)}:{' ' if indent else ''}{_encode(v, indent, level + 1)}" for k, v in keyed]
    return _container("{", "}", pairs, indent, level)


def _container(open_: str, close: str, parts: list[str], indent: str, level: int) -> str:
    if not parts:
        return open_ + close
    if not indent:
        return open_ + ",".join(parts) + close
    inner = "\n" + indent * (level + 1)
    return open_ + inner + ("," + inner).join(parts) + "\n" + indent * level + close


def marshal(value: Value) -> str:
    """json.Marshal."""
    return _encode(value, "", 0)


def marshal_indent(value: Value) -> str:
    """json.MarshalIndent(value, "", "  ")."""
    return _encode(value, "  ", 0)


# --- decoding -------------------------------------------------------------------------------------------


class _SyntaxError(Exception):
    pass


def _quote_char(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + quote(ch)[1:-1] + "'"


class _Decoder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, context: str) -> _SyntaxError:
        if self.i >= len(self.text):
            return _SyntaxError("unexpected end of JSON input")
        return _SyntaxError(f"invalid character {_quote_char(self.text[self.i])} {context}")

    def skip_space(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def value(self) -> Value:
        self.skip_space()
        if self.i >= len(self.text):
            raise self.fail("looking for beginning of value")
        ch = self.text[self.i]
        if ch == "{":
            return self.object()
        if ch == "[":
            return self.array()
        if ch == '"':
            return self.string()
        if ch == "-" or (ch.isdigit() and ch.isascii()):
            return self.number()
        for word, result in (("true", True), ("false", False), ("null", None)):
            if ch == word[0]:
                return self.literal(word, result)
        raise self.fail("looking for beginning of value")

    def literal(self, word: str, result: Value) -> Value:
        for expected in word:
            if self.i >= len(self.text):
                raise _SyntaxError("unexpected end of JSON input")
            if self.text[self.i] != expected:
                raise self.fail(f"in literal {word} (expecting {_quote_char(expected)})")
            self.i += 1
        return result

    def number(self) -> Value:
        start = self.i
        if self.text[self.i] == "-":
            self.i += 1
            if self.i >= len(self.text) or not self.text[self.i].isdigit():
                raise self.fail("in numeric literal")
        if self.text[self.i] == "0":
            self.i += 1
        else:
            self._digits()
        if self.i < len(self.text) and self.text[self.i] == ".":
            self.i += 1
            if self.i >= len(self.text) or not self.text[self.i].isdigit():
                raise self.fail("after decimal point in numeric literal")
            self._digits()
        if self.i < len(self.text) and self.text[self.i] in "eE":
            self.i += 1
            if self.i < len(self.text) and self.text[self.i] in "+-":
                self.i += 1
            if self.i >= len(self.text) or not self.text[self.i].isdigit():
                raise self.fail("in exponent of numeric literal")
            self._digits()
        text = self.text[start:self.i]
        return _Number(text)

    def _digits(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isdigit() and self.text[self.i].isascii():
            self.i += 1

    def string(self) -> str:
        self.i += 1
        out: list[str] = []
        while True:
            if self.i >= len(self.text):
                raise _SyntaxError("unexpected end of JSON input")
            ch = self.text[self.i]
            if ch == '"':
                self.i += 1
                return "".join(out)
            if ch == "\\":
                out.append(self.escape())
                continue
            if ord(ch) < 0x20:
                raise self.fail("in string literal")
            out.append(ch)
            self.i += 1

    def escape(self) -> str:
        self.i += 1
        if self.i >= len(self.text):
            raise _SyntaxError("unexpected end of JSON input")
        ch = self.text[self.i]
        simple = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
        if ch in simple:
            self.i += 1
            return simple[ch]
        if ch != "u":
            raise self.fail("in string escape code")
        self.i += 1
        code = self._hex4()
        if 0xD800 <= code < 0xDC00 and self.text[self.i:self.i + 2] == "\\u":
            save = self.i
            self.i += 2
            low = self._hex4()
            if 0xDC00 <= low < 0xE000:
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
            self.i = save
        if 0xD800 <= code < 0xE000:
            return "\ufffd"
        return chr(code)

    def _hex4(self) -> int:
        digits = ""
        for _ in range(4):
            if self.i >= len(self.text):
                raise _SyntaxError("unexpected end of JSON input")
            ch = self.text[self.i]
            if ch not in "0123456789abcdefABCDEF":
                raise self.fail("in \\u hexadecimal character escape")
            digits += ch
            self.i += 1
        return int(digits, 16)

    def array(self) -> list[Value]:
        self.i += 1
        out: list[Value] = []
        self.skip_space()
        if self.i < len(self.text) and self.text[self.i] == "]":
            self.i += 1
            return out
        while True:
            out.append(self.value())
            self.skip_space()
            if self.i >= len(self.text):
                raise _SyntaxError("unexpected end of JSON input")
            if self.text[self.i] == ",":
                self.i += 1
                continue
            if self.text[self.i] == "]":
                self.i += 1
                return out
            raise self.fail("after array element")

    def object(self) -> dict[str, Value]:
        self.i += 1
        out: dict[str, Value] = {}
        self.skip_space()
        if self.i < len(self.text) and self.text[self.i] == "}":
            self.i += 1
            return out
        while True:
            self.skip_space()
            if self.i >= len(self.text) or self.text[self.i] != '"':
                raise self.fail("looking for beginning of object key string")
            key = self.string()
            self.skip_space()
            if self.i >= len(self.text) or self.text[self.i] != ":":
                raise self.fail("after object key")
            self.i += 1
            out[key] = self.value()
            self.skip_space()
            if self.i >= len(self.text):
                raise _SyntaxError("unexpected end of JSON input")
            if self.text[self.i] == ",":
                self.i += 1
                continue
            if self.text[self.i] == "}":
                self.i += 1
                return out
            raise self.fail("after object key:value pair")


class _Number(str):
    """A number literal, converted after the whole text was found valid (Go checks syntax first)."""


def _convert(value: Value) -> Value:
    if isinstance(value, _Number):
        number = float(value)
        if math.isinf(number):
            raise GoPanic(f"json: cannot unmarshal number {value} into Go value of type float64")
        return number
    if isinstance(value, list):
        return [_convert(v) for v in value]
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    return value


def unmarshal(text: str) -> Value:
    """json.Unmarshal into `interface {}` (objects are map[string]interface {}, numbers float64)."""
    decoder = _Decoder(text)
    try:
        value = decoder.value()
        decoder.skip_space()
        if decoder.i < len(text):
            raise decoder.fail("after top-level value")
    except _SyntaxError as exc:
        raise GoPanic(str(exc)) from None
    return _convert(value)


def from_json_value(value: object) -> Value:
    """A Python JSON document (json.loads) as Go's Unmarshal would have produced it: every number a float64."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return [from_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): from_json_value(v) for k, v in value.items()}
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def is_json_kind(value: Value) -> bool:
    return type_of(value) in (None, t.BOOL, t.FLOAT64, t.STRING, t.ANY_SLICE, t.STRING_ANY_MAP)
