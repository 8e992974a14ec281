"""The methods a condition may call on Go values: time.Time, time.Duration, time.Month/Weekday, *Location.

Only the methods declared on the GoType exist (`now().Year()`, `duration("1h").Seconds()`); a name that is
not in that table is a compile error, so no Python attribute is ever looked up by name.
"""

from __future__ import annotations

from collections.abc import Callable

from analysis.expr import gotime
from analysis.expr import gotypes as t
from analysis.expr.gotypes import GoType
from analysis.expr.values import Func, GoInt, GoTime, Location, Value


def _time_methods(value: GoTime) -> dict[str, Callable[..., Value]]:
    c = gotime.components

    def year() -> Value:
        return c(value)["year"]

    return {
        "Year": year, "Month": lambda: GoInt(c(value)["month"], t.MONTH), "Day": lambda: c(value)["day"],
        "Hour": lambda: c(value)["hour"], "Minute": lambda: c(value)["minute"],
        "Second": lambda: c(value)["second"], "Nanosecond": lambda: c(value)["nanosecond"],
        "Weekday": lambda: GoInt(c(value)["weekday"], t.WEEKDAY), "YearDay": lambda: c(value)["yearday"],
        "Unix": lambda: GoInt(value.unix_nano // gotime.SECOND, t.INT64),
        "UnixMilli": lambda: GoInt(value.unix_nano // gotime.MILLISECOND, t.INT64),
        "UnixMicro": lambda: GoInt(value.unix_nano // gotime.MICROSECOND, t.INT64),
        "UnixNano": lambda: GoInt(value.unix_nano, t.INT64),
        "Before": lambda other: value.unix_nano < other.unix_nano,
        "After": lambda other: value.unix_nano > other.unix_nano,
        "Equal": lambda other: value.unix_nano == other.unix_nano,
        "Compare": lambda other: (value.unix_nano > other.unix_nano) - (value.unix_nano < other.unix_nano),
        "Sub": lambda other: GoInt(gotime.sub(value, other), t.DURATION),
        "Add": lambda d: gotime.add(value, d.value),
        "AddDate": lambda y, m, d: _add_date(value, y, m, d),
        "In": lambda loc: gotime.in_location(value, loc), "UTC": lambda: gotime.in_location(value, gotime_utc()),
        "Local": lambda: gotime.in_location(value, Location("Local")), "Location": lambda: value.location,
        "IsZero": lambda: value.unix_nano == gotime.ZERO_TIME.unix_nano,
        "Format": lambda layout: gotime.format_time(value, layout), "String": lambda: gotime.time_string(value),
        "Truncate": lambda d: _truncate(value, d.value), "Round": lambda d: _round(value, d.value),
    }


def gotime_utc() -> Location:
    return Location("UTC")


def _add_date(value: GoTime, years: int, months: int, days: int) -> GoTime:
    from datetime import datetime, timedelta

    c = gotime.components(value)
    month = c["month"] - 1 + months
    year = c["year"] + years + month // 12
    month = month % 12 + 1
    base = datetime(year, month, 1) + timedelta(days=c["day"] - 1 + days)
    delta = base - datetime(c["year"], c["month"], c["day"])
    return gotime.add(value, int(delta.total_seconds()) * gotime.SECOND)


def _truncate(value: GoTime, d: int) -> GoTime:
    if d <= 0:
        return value
    since_zero = value.unix_nano - gotime.ZERO_TIME.unix_nano
    return GoTime(value.unix_nano - since_zero % d, value.location)


def _round(value: GoTime, d: int) -> GoTime:
    if d <= 0:
        return value
    since_zero = value.unix_nano - gotime.ZERO_TIME.unix_nano
    remainder = since_zero % d
    delta = -remainder if remainder + remainder < d else d - remainder
    return GoTime(value.unix_nano + delta, value.location)


def _duration_methods(d: int) -> dict[str, Callable[..., Value]]:
    def whole_and_fraction(unit: int) -> float:
        return d // unit + (d % unit) / unit if d >= 0 else -((-d) // unit + ((-d) % unit) / unit)

    return {
        "Hours": lambda: whole_and_fraction(gotime.HOUR), "Minutes": lambda: whole_and_fraction(gotime.MINUTE),
        "Seconds": lambda: whole_and_fraction(gotime.SECOND),
        "Milliseconds": lambda: GoInt(int(d / gotime.MILLISECOND), t.INT64),
        "Microseconds": lambda: GoInt(int(d / gotime.MICROSECOND), t.INT64),
        "Nanoseconds": lambda: GoInt(d, t.INT64), "String": lambda: gotime.duration_string(d),
        "Abs": lambda: GoInt(abs(d) if d != -(1 << 63) else (1 << 63) - 1, t.DURATION),
        "Truncate": lambda m: GoInt(d if m.value <= 0 else d - _go_rem(d, m.value), t.DURATION),
        "Round": lambda m: GoInt(_round_duration(d, m.value), t.DURATION),
    }


def _go_rem(d: int, m: int) -> int:
    r = abs(d) % abs(m)
    return -r if d < 0 else r


def _round_duration(d: int, m: int) -> int:
    """Duration.Round (saturating at the int64 range, as Go does)."""
    if m <= 0:
        return d
    r = _go_rem(d, m)
    if d < 0:
        r = -r
        if r + r < m:
            return d + r
        rounded = d - m + r
        return rounded if rounded >= -(1 << 63) else -(1 << 63)
    if r + r < m:
        return d - r
    rounded = d + m - r
    return rounded if rounded < (1 << 63) else (1 << 63) - 1


def methods_of(value: Value) -> dict[str, Callable[..., Value]]:
    if isinstance(value, GoTime):
        return _time_methods(value)
    if isinstance(value, GoInt) and value.type == t.DURATION:
        return _duration_methods(value.value)
    if isinstance(value, GoInt) and value.type == t.MONTH:
        return {"String": lambda: gotime.month_name(value.value)}
    if isinstance(value, GoInt) and value.type == t.WEEKDAY:
        return {"String": lambda: gotime.weekday_name(value.value)}
    if isinstance(value, Location):
        return {"String": lambda: value.name}
    return {}


def bound_method(value: Value, name: str) -> Func:
    """A method value `v.Name` (a func without the receiver)."""
    from analysis.expr.values import type_of

    typ = type_of(value)
    assert typ is not None
    signature = typ.methods[name]
    impl = methods_of(value)[name]
    unbound = GoType(t.Kind.FUNC, params=signature.params[1:], results=signature.results)
    return Func(name, unbound, impl)
