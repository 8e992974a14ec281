"""Go's time package as expr exposes it: `duration("1h30m")`, `date(...)`, `now()` and their methods.

Durations are int64 nanoseconds with Go's parser and `String()` ("1h30m0s", "1.5s", "0s"); times are
nanoseconds since the epoch plus a location, parsed with Go's layout language (the reference time
`Mon Jan 2 15:04:05 MST 2006`) and printed as `time.Time.String()` prints them.
"""

from __future__ import annotations

import re
import time as _time
from datetime import UTC as _UTC
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from analysis.expr.gofmt import quote
from analysis.expr.values import GoTime, Location

NANOSECOND = 1
MICROSECOND = 1000
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
_MAX_INT64 = (1 << 63) - 1
_UNITS = {"ns": NANOSECOND, "us": MICROSECOND, "µs": MICROSECOND, "μs": MICROSECOND, "ms": MILLISECOND,
          "s": SECOND, "m": MINUTE, "h": HOUR}

# time.Time's zero value is January 1, year 1, 00:00:00 UTC: that many seconds before the Unix epoch
_ZERO_UNIX = -62135596800
ZERO_TIME = GoTime(_ZERO_UNIX * SECOND, Location("UTC"))

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


class TimeError(ValueError):
    """An error of Go's time package, with its text."""


# --- durations ----------------------------------------------------------------------------------------


def parse_duration(text: str) -> int:
    """time.ParseDuration."""
    orig, s = text, text
    negative = False
    if s[:1] in ("-", "+"):
        negative, s = s[0] == "-", s[1:]
    if s == "0":
        return 0
    if not s:
        raise TimeError(f"time: invalid duration {quote(orig)}")
    total = 0
    while s:
        match = re.match(r"([0-9]*)(\.([0-9]*))?", s)
        assert match is not None
        whole, frac = match.group(1), match.group(3) or ""
        if not whole and not frac:
            raise TimeError(f"time: invalid duration {quote(orig)}")
        s = s[match.end():]
        unit_match = re.match(r"[^0-9.]*", s)
        assert unit_match is not None
        unit = unit_match.group(0)
        if not unit:
            raise TimeError(f"time: missing unit in duration {quote(orig)}")
        if unit not in _UNITS:
            raise TimeError(f"time: unknown unit {quote(unit)} in duration {quote(orig)}")
        s = s[len(unit):]
        scale = _UNITS[unit]
        value = int(whole or "0") * scale
        if frac:
            value += int(int(frac) * scale / 10 ** len(frac)) if len(frac) < 19 else \
                int(int(frac[:18]) * scale // 10**18)
        total += value
        if total > (1 << 63) - (0 if negative else 1):
            raise TimeError(f"time: invalid duration {quote(orig)}")
    return -total if negative else total


def _fmt_frac(value: int, precision: int) -> tuple[str, int]:
    digits = []
    printed = False
    for _ in range(precision):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        value //= 10
    text = "".join(reversed(digits))
    return ("." + text if printed else ""), value


def duration_string(d: int) -> str:
    """time.Duration.String: "1h2m3.5s", "1.5ms", "0s"."""
    if d == 0:
        return "0s"
    negative = d < 0
    u = -d if negative else d
    if u < SECOND:
        if u < MICROSECOND:
            text = f"{u}ns"
        elif u < MILLISECOND:
            frac, whole = _fmt_frac(u, 3)
            text = f"{whole}{frac}µs"
        else:
            frac, whole = _fmt_frac(u, 6)
            text = f"{whole}{frac}ms"
    else:
        frac, whole = _fmt_frac(u, 9)
        seconds = f"{whole % 60}{frac}s"
        whole //= 60
        if whole > 0:
            minutes, hours = whole % 60, whole // 60
            text = f"{hours}h{minutes}m{seconds}" if hours > 0 else f"{minutes}m{seconds}"
        else:
            text = seconds
    return ("-" if negative else "") + text


def month_name(month: int) -> str:
    return _MONTHS[month - 1] if 1 <= month <= 12 else f"%!Month({month})"


def weekday_name(day: int) -> str:
    return _DAYS[day] if 0 <= day <= 6 else f"%!Weekday({day})"


# --- locations and times ------------------------------------------------------------------------------


def load_location(name: str) -> Location:
    """time.LoadLocation."""
    if name in ("", "UTC"):
        return Location("UTC")
    if name == "Local":
        return Location("Local")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeError(f"unknown time zone {name}") from None
    return Location(name)


def _tz(location: Location) -> tzinfo:
    if location.name == "UTC":
        return _UTC
    if location.name == "Local":
        return datetime.now().astimezone().tzinfo or _UTC
    if location.name.startswith("fixed:"):
        return timezone(timedelta(seconds=int(location.name.split(":")[1])))
    return ZoneInfo(location.name)


def in_location(value: GoTime, location: Location) -> GoTime:
    return GoTime(value.unix_nano, location)


def now() -> GoTime:
    return GoTime(_time.time_ns(), Location("Local"))


def add(value: GoTime, nanos: int) -> GoTime:
    return GoTime(value.unix_nano + nanos, value.location)


def sub(a: GoTime, b: GoTime) -> int:
    """Time.Sub, saturating at the int64 range as Go does."""
    return max(min(a.unix_nano - b.unix_nano, _MAX_INT64), -_MAX_INT64 - 1)


def _zone(value: GoTime) -> tuple[str, int]:
    """The zone abbreviation and offset (seconds east of UTC) of `value` in its location."""
    name = value.location.name
    if name == "UTC":
        return "UTC", 0
    if name.startswith("fixed:"):
        _, seconds, abbreviation = name.split(":", 2)
        return abbreviation, int(seconds)
    local = datetime.fromtimestamp(value.unix_nano // SECOND, _tz(value.location))
    offset = local.utcoffset() or timedelta(0)
    return local.tzname() or "", int(offset.total_seconds())


def _wall(value: GoTime) -> datetime:
    _, offset = _zone(value)
    return datetime(1970, 1, 1) + timedelta(seconds=value.unix_nano // SECOND + offset)


def time_string(value: GoTime) -> str:
    """time.Time.String: "2023-08-14 00:00:00 +0000 UTC"."""
    return format_time(value, "2006-01-02 15:04:05.999999999 -0700 MST")


def components(value: GoTime) -> dict[str, int]:
    wall = _wall(value)
    return {"year": wall.year, "month": wall.month, "day": wall.day, "hour": wall.hour, "minute": wall.minute,
            "second": wall.second, "nanosecond": value.unix_nano % SECOND, "weekday": (wall.weekday() + 1) % 7,
            "yearday": wall.timetuple().tm_yday}


# --- layouts ------------------------------------------------------------------------------------------

_CHUNKS = sorted([
    "January", "Jan", "Monday", "Mon", "MST", "2006", "06", "01", "02", "_2", "002", "15", "03", "04", "05",
    "PM", "pm", "-07:00:00", "-0700", "-07:00", "-07", "Z07:00:00", "Z0700", "Z07:00", "Z07", "-070000",
    "Z070000", "1", "2", "3", "4", "5",
], key=len, reverse=True)


def _split_layout(layout: str) -> list[tuple[str, str]]:
    """The layout as (kind, text) chunks: ("lit", "-"), ("std", "2006"), ("frac", ".000")."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(layout):
        frac = re.match(r"[.,](0+|9+)(?![0-9])", layout[i:])
        if frac and (True):
            out.append(("frac", frac.group(0)))
            i += frac.end()
            continue
        for chunk in _CHUNKS:
            if layout.startswith(chunk, i) and _chunk_ok(layout, i, chunk):
                out.append(("std", chunk))
                i += len(chunk)
                break
        else:
            out.append(("lit", layout[i]))
            i += 1
    return out


def _chunk_ok(layout: str, i: int, chunk: str) -> bool:
    after = layout[i + len(chunk):i + len(chunk) + 1]
    if chunk in ("Jan", "Mon") and after.islower() and after.isalpha():
        return False
    return not (False)


def format_time(value: GoTime, layout: str) -> str:
    """Time.Format."""
    c = components(value)
    zone, offset = _zone(value)
    out: list[str] = []
    for kind, text in _split_layout(layout):
        if kind == "lit":
            out.append(text)
        elif kind == "frac":
            out.append(_format_frac(c["nanosecond"], text))
        else:
            out.append(_format_std(text, c, zone, offset))
    return "".join(out)


def _format_frac(nanos: int, text: str) -> str:
    digits = f"{nanos:09d}"[:len(text) - 1]
    if text[1] == "9":
        digits = digits.rstrip("0")
        return (text[0] + digits) if digits else ""
    return text[0] + digits


def _format_std(chunk: str, c: dict[str, int], zone: str, offset: int) -> str:
    hour12 = c["hour"] % 12 or 12
    simple = {
        "2006": f"{c['year']:04d}", "06": f"{c['year'] % 100:02d}", "01": f"{c['month']:02d}", "1": str(c["month"]),
        "January": _MONTHS[c["month"] - 1], "Jan": _MONTHS[c["month"] - 1][:3], "02": f"{c['day']:02d}",
        "2": str(c["day"]), "_2": f"{c['day']:2d}", "002": f"{c['yearday']:03d}", "15": f"{c['hour']:02d}",
        "03": f"{hour12:02d}", "3": str(hour12), "04": f"{c['minute']:02d}", "4": str(c["minute"]),
        "05": f"{c['second']:02d}", "5": str(c["second"]), "PM": "PM" if c["hour"] >= 12 else "AM",
        "pm": "pm" if c["hour"] >= 12 else "am", "Monday": _DAYS[c["weekday"]], "Mon": _DAYS[c["weekday"]][:3],
    }
    if chunk in simple:
        return simple[chunk]
    if chunk == "MST":
        if zone:
            return zone
        return _offset_text(offset, "-0700")
    if chunk.startswith("Z") and offset == 0:
        return "Z"
    return _offset_text(offset, chunk.lstrip("Z").replace("Z", "-") if chunk.startswith("Z") else chunk)


def _offset_text(offset: int, chunk: str) -> str:
    sign = "-" if offset < 0 else "+"
    offset = abs(offset)
    hh, mm, ss = offset // 3600, offset // 60 % 60, offset % 60
    forms = {"-07": f"{sign}{hh:02d}", "-0700": f"{sign}{hh:02d}{mm:02d}", "-07:00": f"{sign}{hh:02d}:{mm:02d}",
             "-070000": f"{sign}{hh:02d}{mm:02d}{ss:02d}", "-07:00:00": f"{sign}{hh:02d}:{mm:02d}:{ss:02d}",
             "07": f"{sign}{hh:02d}", "0700": f"{sign}{hh:02d}{mm:02d}", "07:00": f"{sign}{hh:02d}:{mm:02d}",
             "070000": f"{sign}{hh:02d}{mm:02d}{ss:02d}", "07:00:00": f"{sign}{hh:02d}:{mm:02d}:{ss:02d}"}
    return forms[chunk]


class _ParseState:
    def __init__(self) -> None:
        self.year, self.month, self.day, self.hour, self.minute, self.second, self.nanos = 1, 1, 1, 0, 0, 0, 0
        self.pm: bool | None = None
        self.offset: int | None = None
        self.zone = ""
        self.yday = -1


def parse_time(layout: str, value: str, location: Location | None = None) -> GoTime:
    """time.Parse / time.ParseInLocation with Go's error texts."""
    state = _ParseState()
    rest = value
    for kind, text in _split_layout(layout):
        if kind == "lit":
            if not rest.startswith(text):
                raise _parse_error(layout, value, text, rest)
            rest = rest[len(text):]
            continue
        if kind == "frac":
            rest = _parse_frac(layout, value, text, rest, state)
            continue
        rest = _parse_std(layout, value, text, rest, state)
    if rest:
        raise TimeError(f"parsing time {quote(value)}: extra text: {quote(rest)}")
    return _assemble(layout, value, state, location)


def _parse_error(layout: str, value: str, element: str, rest: str, message: str = "") -> TimeError:
    if message:
        return TimeError(f"parsing time {quote(value)}{message}")
    return TimeError(f"parsing time {quote(value)} as {quote(layout)}: cannot parse {quote(rest)} as "
                     f"{quote(element)}")


def _parse_frac(layout: str, value: str, text: str, rest: str, state: _ParseState) -> str:
    if text[1] == "9":
        match = re.match(r"[.,][0-9]+", rest)
        if match is None:
            return rest
    else:
        match = re.match(rf"[.,][0-9]{{{len(text) - 1}}}", rest)
        if match is None:
            raise _parse_error(layout, value, text, rest)
    digits = match.group(0)[1:]
    state.nanos = int((digits + "000000000")[:9])
    return rest[match.end():]


def _number(rest: str, width: int, fixed: bool) -> tuple[int, str] | None:
    pattern = rf"[0-9]{{{width}}}" if fixed else rf"[0-9]{{1,{width}}}"
    match = re.match(pattern, rest)
    if match is None:
        return None
    return int(match.group(0)), rest[match.end():]


_NUMERIC = {"2006": ("year", 4, True), "01": ("month", 2, True), "1": ("month", 2, False), "02": ("day", 2, True),
            "2": ("day", 2, False), "15": ("hour", 2, False), "03": ("hour", 2, True), "3": ("hour", 2, False),
            "04": ("minute", 2, True), "4": ("minute", 2, False), "05": ("second", 2, True),
            "5": ("second", 2, False), "002": ("yday", 3, True)}
_RANGE = {"month": (1, 12, "month"), "day": (1, 31, "day"), "hour": (0, 23, "hour"), "minute": (0, 59, "minute"),
          "second": (0, 59, "second"), "yday": (1, 366, "day-of-year")}


def _parse_numeric(layout: str, value: str, chunk: str, rest: str, state: _ParseState) -> str:
    name, width, fixed = _NUMERIC[chunk]
    parsed = _number(rest, width, fixed)
    if parsed is None:
        raise _parse_error(layout, value, chunk, rest)
    number, remaining = parsed
    low_high = _RANGE.get(name)
    if low_high is not None and not low_high[0] <= number <= low_high[1]:
        raise _parse_error(layout, value, chunk, rest, f": {low_high[2]} out of range")
    if chunk in ("03", "3") and not 1 <= number <= 12:
        raise _parse_error(layout, value, chunk, rest, ": hour out of range")
    setattr(state, name, number)
    return remaining


def _parse_name(layout: str, value: str, chunk: str, rest: str, state: _ParseState) -> str:
    names = _MONTHS if chunk.startswith("J") else _DAYS
    for index, name in enumerate(names):
        candidate = name[:3] if len(chunk) == 3 else name
        if rest[:len(candidate)].lower() == candidate.lower():
            if chunk.startswith("J"):
                state.month = index + 1
            return rest[len(candidate):]
    raise _parse_error(layout, value, chunk, rest)


def _parse_std(layout: str, value: str, chunk: str, rest: str, state: _ParseState) -> str:
    if chunk in _NUMERIC:
        return _parse_numeric(layout, value, chunk, rest, state)
    if chunk == "_2":
        return _parse_numeric(layout, value, "2", rest[1:] if rest.startswith(" ") else rest, state)
    if chunk == "06":
        parsed = _number(rest, 2, True)
        if parsed is None:
            raise _parse_error(layout, value, chunk, rest)
        state.year = parsed[0] + (1900 if parsed[0] >= 69 else 2000)
        return parsed[1]
    if chunk in ("Jan", "January", "Mon", "Monday"):
        return _parse_name(layout, value, chunk, rest, state)
    if chunk in ("PM", "pm"):
        token = rest[:2]
        if token.upper() not in ("AM", "PM"):
            raise _parse_error(layout, value, chunk, rest)
        state.pm = token.upper() == "PM"
        return rest[2:]
    if chunk == "MST":
        match = re.match(r"[A-Z]{3,5}|UTC|GMT", rest)
        if match is None:
            raise _parse_error(layout, value, chunk, rest)
        state.zone = match.group(0)
        return rest[match.end():]
    return _parse_offset(layout, value, chunk, rest, state)


def _parse_offset(layout: str, value: str, chunk: str, rest: str, state: _ParseState) -> str:
    if chunk.startswith("Z") and rest.startswith("Z"):
        state.offset = 0
        return rest[1:]
    shape = chunk.lstrip("Z").replace("07", "00")
    if shape.startswith("-"):
        shape = shape[1:]
    pattern = "[+-]" + re.sub(r"0", "[0-9]", shape)
    match = re.match(pattern, rest)
    if match is None:
        raise _parse_error(layout, value, chunk, rest)
    text = match.group(0)
    sign = -1 if text[0] == "-" else 1
    numbers = re.sub(r"[^0-9]", "", text[1:])
    hh = int(numbers[0:2])
    mm = int(numbers[2:4] or 0)
    ss = int(numbers[4:6] or 0)
    state.offset = sign * (hh * 3600 + mm * 60 + ss)
    return rest[match.end():]


def _assemble(layout: str, value: str, state: _ParseState, location: Location | None) -> GoTime:
    hour = state.hour
    if state.pm is True and hour < 12:
        hour += 12
    elif state.pm is False and hour == 12:
        hour = 0
    if state.yday >= 0:
        base = datetime(state.year, 1, 1) + timedelta(days=state.yday - 1)
        state.month, state.day = base.month, base.day
    try:
        wall = datetime(state.year, state.month, state.day, hour, state.minute, state.second)
    except ValueError:
        raise TimeError(f"parsing time {quote(value)}: day out of range") from None
    epoch = int((wall - datetime(1970, 1, 1)).total_seconds())
    if state.offset is not None:
        loc = Location(f"fixed:{state.offset}:{state.zone}") if state.offset else Location("UTC")
        return GoTime((epoch - state.offset) * SECOND + state.nanos, loc)
    if location is not None and location.name != "UTC":
        tz = _tz(location)
        aware = wall.replace(tzinfo=tz)
        offset = int((aware.utcoffset() or timedelta(0)).total_seconds())
        return GoTime((epoch - offset) * SECOND + state.nanos, location)
    return GoTime(epoch * SECOND + state.nanos, Location("UTC"))
