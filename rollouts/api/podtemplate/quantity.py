"""Kubernetes resource quantities (``"500m"``, ``"1Gi"``, ``"1e3"``), read and written exactly as apimachinery does.

Why not a float or a Decimal: the pod-template hash is computed over the template *re-encoded by Go*, and Go
writes a quantity in its canonical form (``"1000m"`` -> ``"1"``, ``"1.5"`` -> ``"1500m"``, ``"1024Mi"`` ->
``"1Gi"``) except where the parser kept the text it was given (``"+5"``, ``"05"`` and ``"1e3"`` stay as
written: the parser caches a string it considers canonical without normalising sign or leading zeros). Values
are rounded *up* to a nanounit (``"1e-12"`` -> ``"1e-9"``), binary quantities are capped at 2^63-1, and a
DecimalSI value above ``E`` loses its suffix on output (``"1000E"`` -> ``"1"``). All of this is reproduced
here from the behaviour of apimachinery v0.34 (``pkg/api/resource``), and checked against it by the Go oracle
in ``tests/oracles/podhash``.

A value is kept as an exact integer number of nanounits, which is all the resolution Kubernetes keeps.

    >>> parse_quantity("1.5").canonical()
    '1500m'
    >>> parse_quantity("2048Ki").canonical()
    '2Mi'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction


class QuantityError(ValueError):
    """The text is not a quantity (apimachinery's ErrFormatWrong / ErrSuffix / ErrNumeric)."""


class Format(StrEnum):
    DECIMAL_EXPONENT = "DecimalExponent"  # 1e3
    BINARY_SI = "BinarySI"  # 1Ki
    DECIMAL_SI = "DecimalSI"  # 1k
    NONE = ""  # the zero Quantity{} (a JSON null)


NANO = 10**9
MAX_INT64 = (1 << 63) - 1
# Go would try to build 10^exponent for any int32 exponent and run out of memory; we refuse far earlier.
MAX_EXPONENT = 4096

_DECIMAL_SUFFIXES = {"": 0, "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXPONENT = {v: k for k, v in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER = {v // 10: k for k, v in _BINARY_SUFFIXES.items()}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_PATTERN = "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"  # apimachinery's ErrFormatWrong text


@dataclass(frozen=True)
class Quantity:
    """``nanos`` nanounits, in ``format``; ``text`` is the string Go cached at parse time (printed as is)."""

    nanos: int = 0
    format: Format = Format.NONE
    text: str | None = None

    def canonical(self) -> str:
        """What ``Quantity.MarshalJSON`` writes (without the quotes)."""
        if self.text is not None:
            return self.text
        if self.nanos == 0:
            return "0"
        fmt = self.format
        if fmt is Format.BINARY_SI:
            if -1024 * NANO < self.nanos < 1024 * NANO or self.nanos % NANO:
                fmt = Format.DECIMAL_SI  # small or fractional: shown in decimal rather than rounded
        elif fmt is Format.NONE:
            fmt = Format.DECIMAL_EXPONENT
        if fmt is Format.BINARY_SI:
            mantissa, power = self.nanos // NANO, 0
            while mantissa % 1024 == 0:
                mantissa //= 1024
                power += 1
            return f"{mantissa}{_BINARY_BY_POWER.get(power, '')}"
        mantissa, exponent = self.nanos, -9
        while mantissa % 10 == 0:
            mantissa //= 10
            exponent += 1
        while exponent % 3:
            mantissa *= 10
            exponent -= 1
        if fmt is Format.DECIMAL_SI:
            # No suffix beyond E (10^18): apimachinery then prints the bare mantissa.
            return f"{mantissa}{_DECIMAL_BY_EXPONENT.get(exponent, '')}"
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)


ZERO = Quantity()


def _skip(text: str, pos: int, chars: frozenset[str] | str) -> int:
    """The index after the run of ``chars`` that starts at ``pos``."""
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _split(text: str) -> tuple[bool, str, str, str, str]:
    """(positive, value, numerator, denominator, suffix) as apimachinery's ``parseQuantityString``."""
    positive = not text.startswith("-")
    pos = _skip(text, 1 if text[:1] in ("+", "-") else 0, "0")
    end = len(text)
    if pos >= end:
        return positive, "0", "0", "", ""
    start, pos = pos, _skip(text, pos, _DIGITS)
    if pos >= end:
        return positive, text, text[start:], "", ""
    num = text[start:pos] or "0"
    denom = ""
    if text[pos] == ".":
        start, pos = pos + 1, _skip(text, pos + 1, _DIGITS)
        denom = text[start:pos]
        if pos >= end:
            return positive, text, num, denom, ""
    value, suffix_start = text[:pos], pos
    pos = _skip(text, pos, _SUFFIX_CHARS)
    if pos < end and text[pos] in "+-":
        pos += 1
    if _skip(text, pos, _DIGITS) < end:
        raise QuantityError(f"quantities must match the regular expression {_PATTERN}: {text!r}")
    return positive, value, num, denom, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, Format]:
    """(base, exponent, format) of a suffix, or QuantityError (ErrSuffix)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], Format.DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], Format.BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[:1] in ("+", "-") else digits
        if not body or not body.isdigit() or not body.isascii():
            raise QuantityError(f"unable to parse quantity's suffix: {suffix!r}")
        parsed = int(digits)
        if not -(1 << 63) <= parsed < (1 << 63):
            raise QuantityError(f"unable to parse quantity's suffix: {suffix!r}")
        exponent = ((parsed + (1 << 31)) % (1 << 32)) - (1 << 31)  # Go's int32(parsed)
        if abs(exponent) > MAX_EXPONENT:
            raise QuantityError(f"quantity exponent out of range: {suffix!r}")
        return 10, exponent, Format.DECIMAL_EXPONENT
    raise QuantityError(f"unable to parse quantity's suffix: {suffix!r}")


def parse_quantity(text: str) -> Quantity:
    """``resource.ParseQuantity``: ``"100m"`` -> 0.1 (DecimalSI), ``"1Gi"`` -> 2^30 (BinarySI)."""
    if not text:
        raise QuantityError(f"quantities must match the regular expression {_PATTERN}: ''")
    if text == "0":
        return Quantity(0, Format.DECIMAL_SI, "0")
    positive, value, num, denom, suffix = _split(text)
    base, exponent, fmt = _interpret(suffix)
    fast = _int64_fast_path(text, positive=positive, num=num, denom=denom, exponent=exponent, fmt=fmt)
    if fast is not None:
        return fast
    return _exact(text, value, base=base, exponent=exponent, fmt=fmt)


def _int64_fast_path(text: str, *, positive: bool, num: str, denom: str, exponent: int,
                     fmt: Format) -> Quantity | None:
    """apimachinery's int64 path, when the value fits it (None otherwise); only here may Go keep the text as
    given (``"+5"``, ``"05"``, ``"1e3"``)."""
    precision, scale, mantissa = 0, 0, 1
    if fmt is Format.BINARY_SI:
        if exponent < 0 or denom:
            return None
        mantissa = 1 << exponent
        precision = 15 - len(num) - int(exponent * 3 / 10) - 1
    else:
        scale = exponent
        precision = 18 - (len(num) + len(denom))
    scale -= len(denom)
    if precision < 0 or scale < -9:
        return None
    shifted = num + denom
    result = int(shifted) * mantissa
    if result > MAX_INT64:  # int64Multiply overflowed
        return None
    nanos = (result if positive else -result) * 10 ** (scale + 9)
    if fmt is Format.BINARY_SI:
        cached = exponent % 10 == 0 and int(shifted) & 0x07 != 0
    else:
        cached = scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
    return Quantity(nanos, fmt, text if cached else None)


def _exact(text: str, value: str, *, base: int, exponent: int, fmt: Format) -> Quantity:
    """The arbitrary-precision path: the exact value, its magnitude rounded up to a nanounit; binary values
    capped at 2^63-1 and shown in decimal below one unit."""
    digits = value.lstrip("+-").replace(".", "", 1)
    if not digits or not digits.isdigit() or not digits.isascii():
        raise QuantityError(f"unable to parse quantity's numeric part: {text!r}")
    fraction_digits = len(value) - value.index(".") - 1 if "." in value else 0
    magnitude = Fraction(int(digits), 10**fraction_digits)
    magnitude *= Fraction(10) ** exponent if base == 10 else 2**exponent
    nanos = -((-magnitude * NANO).__floor__())  # ceil
    if fmt is Format.BINARY_SI and nanos > MAX_INT64 * NANO:
        nanos = MAX_INT64 * NANO
    if fmt is Format.BINARY_SI and 0 < nanos < NANO:
        fmt = Format.DECIMAL_SI
    negative = value.startswith("-")
    return Quantity(-nanos if negative else nanos, fmt, None)
