"""Go's time layouts (``2006-01-02T15:04:05Z07:00``) for formatting and parsing, and the few time.Time
methods templates call (``Format``, ``Unix``, ``UTC``, ``Year``...).

Sprig's ``date``/``toDate``/``dateInZone`` and the engine's ``time.Parse`` take Go layouts, so a Python
strftime would not do. Go's "Local" zone is UTC here: the controller runs in a container whose zone is UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from rollouts.notifications.gotemplate.functions import Func, GoError
from rollouts.notifications.gotemplate.gofmt import format_time
from rollouts.notifications.gotemplate.values import Int64

_TOKENS = [
    "January", "Monday", "2006", "-07:00:00", "-070000", "Z07:00:00", "Z070000", "-07:00", "-0700", "Z07:00",
    "Z0700", "Jan", "Mon", "MST", "002", "__2", "01", "02", "03", "04", "05", "06", "15", "-07", "Z07", "PM", "pm",
    "_2", "1", "2", "3", "4", "5",
]
_FRACTION = re.compile(r"[.,](0+|9+)(?!\d)")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _tokenize(layout: str) -> list[tuple[bool, str]]:
    """Split a Go layout into (is_token, text) pieces."""
    out: list[tuple[bool, str]] = []
    i = 0
    while i < len(layout):
        m = _FRACTION.match(layout, i)
        if m and i > 0 and layout[i - 1].isdigit():
            out.append((True, m.group(0)))
            i = m.end()
            continue
        for tok in _TOKENS:
            if layout.startswith(tok, i):
                if tok in ("Jan", "Mon") and layout[i + 3:i + 4].islower():
                    continue
                out.append((True, tok))
                i += len(tok)
                break
        else:
            out.append((False, layout[i]))
            i += 1
    return out


def _zone(t: datetime, tok: str) -> str:
    offset = t.utcoffset() or timedelta(0)
    secs = int(offset.total_seconds())
    if tok.startswith("Z") and secs == 0:
        return "Z"
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    hh, mm, ss = secs // 3600, secs // 60 % 60, secs % 60
    core = tok.lstrip("Z-")
    if core == "07":
        return f"{sign}{hh:02d}"
    if core == "0700":
        return f"{sign}{hh:02d}{mm:02d}"
    if core == "07:00":
        return f"{sign}{hh:02d}:{mm:02d}"
    if core == "070000":
        return f"{sign}{hh:02d}{mm:02d}{ss:02d}"
    return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}"


def _zone_name(t: datetime) -> str:
    offset = t.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        return "UTC"
    name = t.tzname()
    if name and not name.startswith("UTC"):
        return name
    return _zone(t, "-0700")[:3] if offset.total_seconds() % 3600 == 0 else _zone(t, "-0700")


def _format_token(t: datetime, tok: str) -> str:
    hour12 = t.hour % 12 or 12
    simple = {
        "2006": f"{t.year:04d}", "06": f"{t.year % 100:02d}", "January": _MONTHS[t.month - 1],
        "Jan": _MONTHS[t.month - 1][:3], "01": f"{t.month:02d}", "1": str(t.month), "Monday": _DAYS[t.weekday()],
        "Mon": _DAYS[t.weekday()][:3], "02": f"{t.day:02d}", "_2": f"{t.day:>2d}", "2": str(t.day),
        "002": f"{t.timetuple().tm_yday:03d}", "__2": f"{t.timetuple().tm_yday:>3d}", "15": f"{t.hour:02d}",
        "03": f"{hour12:02d}", "3": str(hour12), "04": f"{t.minute:02d}", "4": str(t.minute),
        "05": f"{t.second:02d}", "5": str(t.second), "PM": "PM" if t.hour >= 12 else "AM",
        "pm": "pm" if t.hour >= 12 else "am", "MST": _zone_name(t),
    }
    if tok in simple:
        return simple[tok]
    if tok[0] in ".,":
        digits = f"{t.microsecond:06d}000"[: len(tok) - 1]
        if tok[1] == "9":
            digits = digits.rstrip("0")
            return tok[0] + digits if digits else ""
        return tok[0] + digits
    return _zone(t, tok)


def go_format(t: datetime, layout: str) -> str:
    """time.Time.Format."""
    return "".join(_format_token(t, text) if is_tok else text for is_tok, text in _tokenize(layout))


_PARSE_PATTERNS = {
    "2006": r"(?P<year>\d{4})", "06": r"(?P<yy>\d{2})", "January": r"(?P<month_name>[A-Z][a-z]+)",
    "Jan": r"(?P<mon>[A-Z][a-z]{2})", "01": r"(?P<month>\d{2})", "1": r"(?P<month>\d{1,2})",
    "Monday": r"[A-Z][a-z]+", "Mon": r"[A-Z][a-z]{2}", "02": r"(?P<day>\d{2})", "_2": r" ?(?P<day>\d{1,2})",
    "2": r"(?P<day>\d{1,2})", "15": r"(?P<hour>\d{2})", "03": r"(?P<hour12>\d{2})", "3": r"(?P<hour12>\d{1,2})",
    "04": r"(?P<minute>\d{2})", "4": r"(?P<minute>\d{1,2})", "05": r"(?P<second>\d{2})",
    "5": r"(?P<second>\d{1,2})", "PM": r"(?P<ampm>AM|PM)", "pm": r"(?P<ampm>am|pm)", "MST": r"(?P<zname>[A-Z]{3,4})",
}


def _parse_regex(layout: str) -> str:
    parts: list[str] = []
    for is_tok, text in _tokenize(layout):
        if not is_tok:
            parts.append(re.escape(text))
        elif text in _PARSE_PATTERNS:
            parts.append(_PARSE_PATTERNS[text])
        elif text[0] in ".,":
            parts.append(r"(?:[.,](?P<frac>\d+))?" if text[1] == "9" else r"[.,](?P<frac>\d+)")
        elif text.startswith("Z"):
            parts.append(r"(?P<zone>Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)")
        else:
            parts.append(r"(?P<zone>[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)")
    text = "".join(parts)
    if "(?P<frac>" not in text:
        text = text.replace(r"(?P<second>\d{2})", r"(?P<second>\d{2})(?:[.,](?P<frac>\d+))?", 1)
    return "^" + text + "$"


def go_parse(layout: str, value: str) -> datetime:
    """time.Parse (zone-less layouts yield UTC). Raises ValueError with Go's wording on a mismatch."""
    pattern = _parse_regex(layout)
    m = re.match(pattern, value)
    if not m:
        raise GoError(f'parsing time "{value}" as "{layout}": cannot parse "{value}" as "{layout}"')
    g = {k: v for k, v in m.groupdict().items() if v is not None}
    year = int(g["year"]) if "year" in g else (2000 + int(g["yy"]) if int(g.get("yy", "0")) < 69 else 1900 + int(
        g["yy"])) if "yy" in g else 0
    month = int(g["month"]) if "month" in g else _month_index(g.get("month_name") or g.get("mon"))
    hour = int(g.get("hour", 0))
    if "hour12" in g:
        hour = int(g["hour12"]) % 12 + (12 if g.get("ampm", "").upper() == "PM" else 0)
    frac = (g.get("frac") or "0")[:6].ljust(6, "0")
    tz = _tzinfo(g.get("zone"))
    try:
        return datetime(max(year, 1), month, int(g.get("day", 1)), hour, int(g.get("minute", 0)),
                        int(g.get("second", 0)), int(frac), tzinfo=tz)
    except ValueError as exc:
        raise GoError(f'parsing time "{value}": {exc}') from None


def _month_index(name: str | None) -> int:
    if not name:
        return 1
    for i, full in enumerate(_MONTHS):
        if full.startswith(name):
            return i + 1
    raise GoError(f"month out of range: {name}")


def _tzinfo(zone: str | None) -> timezone:
    if not zone or zone == "Z":
        return UTC
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hh, mm, ss = int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    return timezone(sign * timedelta(hours=hh, minutes=mm, seconds=ss))


METHODS: dict[str, Func] = {
    "Format": Func("Format", ("string",), go_format, returns="string"),
    "Unix": Func("Unix", (), lambda t: Int64(int(t.timestamp())), returns="int64"),
    "UTC": Func("UTC", (), lambda t: t.astimezone(UTC), returns="time.Time"),
    "Year": Func("Year", (), lambda t: t.year, returns="int"),
    "String": Func("String", (), format_time, returns="string"),
}


def as_time(v: Any) -> datetime | None:
    return v if isinstance(v, datetime) else None
