"""Redaction: every piece of a secret goes, in every spelling, before any cut."""

from __future__ import annotations

import json
import string
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.measurement import MAX_VALUE_LENGTH, condition_phase, format_value
from analysis.redaction import FRAGMENT, REDACTED, redact, redact_then_cut
from analysis.run import validate_metrics
from rollouts.api.analysis import AnalysisPhase, Metric

SECRET = "S3cr3t-Fragm3nt-9xQ"


def pieces(secret: str, size: int = 6) -> set[str]:
    return {secret[i:i + size] for i in range(len(secret) - size + 1)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"Bearer {SECRET}", f"Bearer {REDACTED}", id="whole"),
        pytest.param("unknown name 'S3cr3t'", f"unknown name '{REDACTED}'", id="a-token-of-it"),
        pytest.param(f"value {SECRET[:9]}", f"value {REDACTED}", id="prefix-left-by-a-cut"),
        pytest.param(f"url /x?t={quote(SECRET, safe='')}", f"url /x?t={REDACTED}", id="url-encoded"),
        pytest.param("nothing to see", "nothing to see", id="unrelated"),
        pytest.param(f"{SECRET}{SECRET}", REDACTED, id="adjacent-occurrences-merge"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text, [SECRET]) == expected


def test_json_and_repr_escapes_of_a_secret_are_redacted() -> None:
    secret = 'p"a\\ss\nw0rd!'
    assert redact(json.dumps({"h": secret}), [secret]) == '{"h": "*****"}'
    assert secret not in redact(repr(secret), [secret]) and REDACTED in redact(repr(secret), [secret])


def test_a_value_is_redacted_before_it_is_cut() -> None:
    value = "x" * (MAX_VALUE_LENGTH - 8) + SECRET  # the cut at 2,045 falls inside the secret
    shown = format_value(value, secrets=[SECRET])
    assert len(shown) <= MAX_VALUE_LENGTH
    assert not any(p in shown for p in pieces(SECRET, FRAGMENT)), shown[-40:]


@settings(max_examples=300, deadline=None)
@given(secret=st.text(alphabet=string.ascii_letters + string.digits + "-_.:/+=", min_size=6, max_size=40),
       before=st.text(max_size=60), after=st.text(max_size=60), limit=st.integers(min_value=8, max_value=200))
def test_no_six_character_piece_of_a_secret_survives_redact_then_cut(secret: str, before: str, after: str,
                                                                      limit: int) -> None:
    shown = redact_then_cut(before + secret + after + secret, [secret], limit)
    assert len(shown) <= limit
    assert not [p for p in pieces(secret) if p in shown], (secret, shown)


def test_a_condition_built_from_a_secret_is_reported_by_position_only() -> None:
    condition = f"result == {SECRET}"
    metric = Metric.model_validate({"name": "m", "successCondition": condition, "provider": {"web": {"url": "u"}}})
    problem = validate_metrics([metric], ["web"], secrets=[SECRET])
    assert problem is not None and "column" in problem and "secret argument" in problem
    assert not [p for p in pieces(SECRET, FRAGMENT) if p in problem], problem
    phase, message = condition_phase(condition, None, 1, secrets=[SECRET])
    assert phase is AnalysisPhase.ERROR and message is not None and "secret argument" in message
    assert not [p for p in pieces(SECRET, FRAGMENT) if p in message], message
    # without a secret in it the parser's message quotes the text as usual (users need to see their typo)
    assert '"9x"' in (validate_metrics([metric], ["web"]) or "")
