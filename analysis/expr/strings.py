"""Go string semantics over Python str: string literal unescaping as expr does it, and byte offsets.

A Go string is a sequence of bytes; `len()` of expr's builtin counts runes, but slicing, indexing and
`indexOf` work on UTF-8 bytes. Python strings hold code points, so the byte-level operations encode to
UTF-8 and back (with `surrogateescape`, so a slice that splits a character keeps its bytes).
"""

from __future__ import annotations

_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'",
           '"': '"', "`": "`", "?": "?"}
_HEX = "0123456789abcdefABCDEF"


def unescape(quoted: str) -> str:
    """expr's unescape of a quoted literal (`"a\\tb"` -> a<TAB>b); ValueError with expr's message."""
    value = quoted.replace("\r\n", "\n").replace("\r", "\n")
    if len(value) < 2 or value[0] != value[-1] or value[0] not in "\"'":
        raise ValueError("unable to unescape string")
    body = value[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError("unable to unescape string, found '\\' as last character")
        ch, i = _escape(body, i + 1)
        out.append(ch)
    return "".join(out)


def _escape(body: str, i: int) -> tuple[str, int]:
    c = body[i]
    rest = i + 1
    if c in _SIMPLE:
        return _SIMPLE[c], rest
    if c == "u" and rest < len(body) and body[rest] == "{":
        return _braced(body, rest + 1)
    if c in "xXuU":
        n = {"x": 2, "X": 2, "u": 4, "U": 8}[c]
        digits = body[rest:rest + n]
        if len(digits) < n or any(d not in _HEX for d in digits):
            raise ValueError("unable to unescape string")
        return _rune(int(digits, 16)), rest + n
    if c in "0123":
        digits = body[rest:rest + 2]
        if len(digits) < 2:
            raise ValueError("unable to unescape octal sequence in string")
        if any(d not in "01234567" for d in digits):
            raise ValueError("unable to unescape octal sequence in string")
        return _rune(int(c + digits, 8)), rest + 2
    raise ValueError("unable to unescape string")


def _braced(body: str, i: int) -> tuple[str, int]:
    value, digits = 0, 0
    while i < len(body) and body[i] != "}":
        if body[i] not in _HEX or digits >= 6:
            raise ValueError("unable to unescape string")
        value = value << 4 | int(body[i], 16)
        digits += 1
        i += 1
    if i >= len(body) or digits == 0:
        raise ValueError("unable to unescape string")
    return _rune(value), i + 1


def _rune(value: int) -> str:
    if value > 0x10FFFF:
        raise ValueError("unable to unescape string")
    if 0xD800 <= value <= 0xDFFF:
        return "\ufffd"  # utf8.EncodeRune writes RuneError for surrogates
    return chr(value)


# --- byte-level views -----------------------------------------------------------------------------------


def to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def from_bytes(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def byte_len(text: str) -> int:
    return len(text) if text.isascii() else len(to_bytes(text))


def byte_slice(text: str, start: int, end: int) -> str:
    if text.isascii():
        return text[start:end]
    return from_bytes(to_bytes(text)[start:end])


def byte_at(text: str, index: int) -> int:
    return ord(text[index]) if text.isascii() else to_bytes(text)[index]


def byte_index(text: str, sub: str) -> int:
    """strings.Index: a byte offset, -1 when absent."""
    if text.isascii() and sub.isascii():
        return text.find(sub)
    return to_bytes(text).find(to_bytes(sub))


def byte_last_index(text: str, sub: str) -> int:
    if text.isascii() and sub.isascii():
        return text.rfind(sub)
    return to_bytes(text).rfind(to_bytes(sub))


def go_less(a: str, b: str) -> bool:
    """Go compares strings bytewise; for valid UTF-8 that is code point order."""
    return a < b if a.isascii() or b.isascii() or not (_escaped(a) or _escaped(b)) else to_bytes(a) < to_bytes(b)


def _escaped(text: str) -> bool:
    return any(0xDC80 <= ord(ch) <= 0xDCFF for ch in text)
