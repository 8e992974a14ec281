"""Int-or-percent scaling with Kubernetes' rounding (GetScaledValueFromIntOrPercent)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.api.common import is_percent, resolve_int_or_percent

CASES = [
    ("int-passes-through", 3, 10, True, 3),
    ("int-ignores-rounding", 3, 10, False, 3),
    ("25pct-of-10-up", "25%", 10, True, 3),
    ("25pct-of-10-down", "25%", 10, False, 2),
    ("25pct-of-4-exact", "25%", 4, True, 1),
    ("25pct-of-1-up", "25%", 1, True, 1),
    ("25pct-of-1-down", "25%", 1, False, 0),
    ("0pct", "0%", 10, True, 0),
    ("100pct", "100%", 7, False, 7),
    ("over-100pct", "150%", 10, True, 15),
    ("pct-of-zero", "50%", 0, True, 0),
    ("whitespace-tolerated", " 10% ", 10, True, 1),
]


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"), [pytest.param(v, t, r, e, id=i) for i, v, t, r, e in CASES]
)
def test_resolve_int_or_percent(value: int | str, total: int, round_up: bool, expected: int) -> None:
    assert resolve_int_or_percent(value, total, round_up=round_up) == expected


@pytest.mark.parametrize("value", ["25", "abc", "25.5%", "%", "", True])
def test_non_percentage_strings_are_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="percentage"):
        resolve_int_or_percent(value, 10, round_up=True)  # type: ignore[arg-type]


def test_is_percent() -> None:
    assert is_percent("25%")
    assert not is_percent("25")
    assert not is_percent(25)


@given(st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=10_000))
def test_round_up_and_down_bracket_the_exact_value(percent: int, total: int) -> None:
    up = resolve_int_or_percent(f"{percent}%", total, round_up=True)
    down = resolve_int_or_percent(f"{percent}%", total, round_up=False)
    exact = percent * total / 100
    assert down <= exact <= up
    assert up - down <= 1
