"""Go-style durations: the exact grammar of time.ParseDuration, seconds as ints, clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.api.common import (
    duration_nanoseconds,
    format_duration,
    format_duration_nanoseconds,
    parse_duration,
)

VALID = [
    ("hours-minutes", "1h30m", 5400.0),
    ("fractional-hours", "1.5h", 5400.0),
    ("minutes-seconds", "2m30s", 150.0),
    ("milliseconds", "300ms", 0.3),
    ("microseconds", "1500us", 0.0015),
    ("micro-sign", "2\u00b5s", 0.000002),
    ("greek-mu", "2\u03bcs", 0.000002),
    ("nanoseconds", "7ns", 7e-9),
    ("leading-dot", ".5s", 0.5),
    ("trailing-dot", "5.s", 5.0),
    ("plus-sign", "+10s", 10.0),
    ("lone-zero", "0", 0.0),
    ("zero-seconds", "0s", 0.0),
    ("bare-digits-are-seconds", "30", 30.0),
    ("int-seconds", 45, 45.0),
    ("int-zero", 0, 0.0),
    ("all-units", "1h1m1s1ms1us1ns", 3661.001001001),
    ("repeated-unit", "1s1s", 2.0),
]


@pytest.mark.parametrize(("text", "seconds"), [pytest.param(t, s, id=i) for i, t, s in VALID])
def test_parse_duration_accepts_go_durations(text: int | str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds, abs=1e-12)


INVALID = [
    ("empty", "", "empty string"),
    ("unknown-unit", "1x", 'unknown unit "x"'),
    ("sign-only", "-", "a sign must be followed"),
    ("dot-only", ".s", '"." must be next to digits'),
    ("missing-unit", "1h5", "missing unit"),
    ("unit-without-number", "h", "expected a number"),
    ("negative", "-5s", "must not be negative"),
    ("negative-int", -3, "must not be negative"),
    ("space", "1 h", 'unknown unit " h"'),
    ("days-are-not-go", "1d", 'unknown unit "d"'),
    ("iso8601", "PT5M", "expected a number"),
    ("bool", True, "expected a number of seconds"),
    ("overflow", "9999999999h", "out of range"),
]


@pytest.mark.parametrize(("text", "fragment"), [pytest.param(t, f, id=i) for i, t, f in INVALID])
def test_parse_duration_rejects_with_a_message_that_names_the_problem(text: object, fragment: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_duration(text)  # type: ignore[arg-type]
    assert fragment in str(excinfo.value)


def test_nanoseconds_keep_full_precision() -> None:
    assert duration_nanoseconds("1.000000001s") == 1_000_000_001
    assert duration_nanoseconds("-1m") == -60_000_000_000
    # Go truncates digits below a nanosecond
    assert duration_nanoseconds("1.0000000019s") == 1_000_000_001


FORMATS = [
    ("zero", 0, "0s"),
    ("hours", 5400 * 10**9, "1h30m0s"),
    ("minutes", 150 * 10**9, "2m30s"),
    ("sub-second", 300 * 10**6, "300ms"),
    ("fractional-ms", 1_500_000, "1.5ms"),
    ("micro", 2_000, "2\u00b5s"),
    ("nanos", 7, "7ns"),
    ("fractional-seconds", 1_500_000_000, "1.5s"),
    ("negative", -90 * 10**9, "-1m30s"),
]


@pytest.mark.parametrize(("nanos", "text"), [pytest.param(n, t, id=i) for i, n, t in FORMATS])
def test_format_matches_go_duration_string(nanos: int, text: str) -> None:
    assert format_duration_nanoseconds(nanos) == text


@given(st.integers(min_value=-(2**62), max_value=2**62))
def test_format_then_parse_is_identity_on_nanoseconds(nanos: int) -> None:
    assert duration_nanoseconds(format_duration_nanoseconds(nanos)) == nanos


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.sampled_from(["h", "m", "s", "ms", "us", "ns"])),
        min_size=1,
        max_size=6,
    )
)
def test_parse_is_the_sum_of_its_parts(parts: list[tuple[int, str]]) -> None:
    scale = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
    text = "".join(f"{amount}{unit}" for amount, unit in parts)
    assert duration_nanoseconds(text) == sum(amount * scale[unit] for amount, unit in parts)


@given(st.integers(min_value=0, max_value=10**6))
def test_format_duration_round_trips_whole_seconds(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds
