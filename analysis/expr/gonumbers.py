"""strconv's number parsing, with Go's error texts (`strconv.ParseInt: parsing "0x": invalid syntax`)."""

from __future__ import annotations

import math

from analysis.expr.gofmt import quote

_MAX_INT64 = (1 << 63) - 1


def _syntax(func: str, text: str) -> str:
    return f"strconv.{func}: parsing {quote(text)}: invalid syntax"


def _range(func: str, text: str) -> str:
    return f"strconv.{func}: parsing {quote(text)}: value out of range"


def parse_int(text: str, base: int, bits: int = 64) -> tuple[int, str]:
    """strconv.ParseInt(text, base, bits): (value, "") or (value Go returns, error text)."""
    body, negative = text, False
    if body[:1] in "+-" and body:
        negative, body = body[0] == "-", body[1:]
    digits, radix = _split_base(body, base)
    if radix == 0 or not digits or not _valid_digits(digits, radix, base == 0):
        return 0, _syntax("ParseInt", text)
    value = int(digits.replace("_", ""), radix)
    limit = 1 << (bits - 1)
    if not negative and value >= limit:
        return limit - 1, _range("ParseInt", text)
    if negative and value > limit:
        return -limit, _range("ParseInt", text)
    return (-value if negative else value), ""


def _split_base(body: str, base: int) -> tuple[str, int]:
    if base != 0:
        return body, base
    lower = body.lower()
    if lower.startswith("0x"):
        return body[2:], 16
    if lower.startswith("0b"):
        return body[2:], 2
    if lower.startswith("0o"):
        return body[2:], 8
    if lower.startswith("0") and len(body) > 1:
        return body[1:], 8
    return body, 10


def _valid_digits(digits: str, radix: int, underscores: bool) -> bool:
    allowed = "0123456789abcdefghijklmnopqrstuvwxyz"[:radix]
    cleaned = digits.replace("_", "") if underscores else digits
    return bool(cleaned) and all(c in allowed for c in cleaned.lower())


def parse_uint(text: str) -> tuple[int, str]:
    if not text or not text.isdigit():
        return 0, f"strconv.ParseUint: parsing {quote(text)}: invalid syntax"
    value = int(text)
    if value >= 1 << 64:
        return (1 << 64) - 1, f"strconv.ParseUint: parsing {quote(text)}: value out of range"
    return value, ""


def parse_float(text: str) -> tuple[float, str]:
    """strconv.ParseFloat(text, 64) for decimal forms: (value, "") or (value, error text)."""
    body = text
    lowered = body.lower().lstrip("+-")
    if lowered in ("inf", "infinity"):
        return (-math.inf if body.startswith("-") else math.inf), ""
    if lowered == "nan":
        return math.nan, ""
    if not _decimal_syntax(body):
        return 0.0, _syntax("ParseFloat", text)
    value = float(body.replace("_", ""))
    if math.isinf(value):
        return value, _range("ParseFloat", text)
    return value, ""


def _decimal_syntax(body: str) -> bool:
    i, n = 0, len(body)
    if i < n and body[i] in "+-":
        i += 1
    mantissa = 0
    while i < n and body[i].isdigit() and body[i].isascii():
        i, mantissa = i + 1, mantissa + 1
    if i < n and body[i] == ".":
        i += 1
        while i < n and body[i].isdigit() and body[i].isascii():
            i, mantissa = i + 1, mantissa + 1
    if mantissa == 0:
        return False
    if i < n and body[i] in "eE":
        i += 1
        if i < n and body[i] in "+-":
            i += 1
        start = i
        while i < n and body[i].isdigit() and body[i].isascii():
            i += 1
        if i == start:
            return False
    return i == n


def atoi(text: str) -> tuple[int, str]:
    """strconv.Atoi: as ParseInt(text, 10, 0), with Atoi's name in the error."""
    value, problem = parse_int(text, 10)
    return value, problem.replace("strconv.ParseInt", "strconv.Atoi") if problem else ""
