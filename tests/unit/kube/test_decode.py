"""The client's JSON decoder (orjson, the stdlib for what orjson refuses) reads API server bodies as the stdlib does."""

from __future__ import annotations

import json

import pytest

from rollouts.kube.client import _decode


@pytest.mark.parametrize("raw", [
    pytest.param(b'{"metadata": {"name": "web", "resourceVersion": "12"}, "spec": {"replicas": 3}}', id="object"),
    pytest.param(b'{"type": "MODIFIED", "object": {"status": {"phase": "Paused"}}}\n', id="watch-line"),
    pytest.param(b'{"n": 9223372036854775807, "m": -9223372036854775808}', id="int64-bounds"),
    pytest.param(b'{"f": 1.8446744073709552e+19, "g": 0.5}', id="floats"),
    pytest.param('{"s": "caf\u00e9 \\u00e9 \\ud83d\\ude00"}'.encode(), id="unicode-and-pairs"),
    pytest.param(b'{"s": "\\ud800"}', id="lone-surrogate-stdlib-fallback"),
    pytest.param(b"[]", id="list"),
])
def test_decodes_as_the_stdlib(raw: bytes) -> None:
    assert _decode(raw) == json.loads(raw)


@pytest.mark.parametrize("raw", [b"<html>bad gateway</html>", b'{"a": ', b"{'a': 1}"])
def test_text_that_is_not_json_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        _decode(raw)
