"""Pod-template and step hashes: stable across processes, blind to our own label, sensitive to content."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.planning.hashing import (
    SAFE_ALPHABET,
    pod_template_hash,
    replica_set_name,
    stable_hash,
    templates_equal,
)

TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "web:1"}]},
}


def test_hash_is_the_same_in_a_fresh_interpreter() -> None:
    """Python's hash() is salted per process; ours must not be."""
    code = (
        "from rollouts.planning.hashing import pod_template_hash;"
        "print(pod_template_hash({'metadata': {'labels': {'app': 'web'}},"
        " 'spec': {'containers': [{'name': 'web', 'image': 'web:1'}]}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == pod_template_hash(TEMPLATE)


@pytest.mark.parametrize(
    ("other", "same"),
    [
        pytest.param({"spec": TEMPLATE["spec"], "metadata": TEMPLATE["metadata"]}, True, id="key-order-ignored"),
        pytest.param(
            {"metadata": {"labels": {"app": "web", "rollouts-pod-template-hash": "abc"}}, "spec": TEMPLATE["spec"]},
            True,
            id="our-hash-label-ignored",
        ),
        pytest.param(
            {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:2"}]}},
            False,
            id="image-change",
        ),
        pytest.param(
            {"metadata": {"labels": {"app": "web", "tier": "x"}}, "spec": TEMPLATE["spec"]}, False, id="label-change"
        ),
    ],
)
def test_what_changes_the_hash(other: dict[str, Any], same: bool) -> None:
    assert (pod_template_hash(other) == pod_template_hash(TEMPLATE)) is same
    assert templates_equal(other, TEMPLATE) is same


@given(
    st.recursive(
        st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
    )
)
def test_hash_is_ten_kubernetes_safe_characters(value: object) -> None:
    digest = stable_hash(value)
    assert len(digest) == 10
    assert set(digest) <= set(SAFE_ALPHABET)


def test_replica_set_name_fits_kubernetes_limits() -> None:
    assert replica_set_name("web", "abc") == "web-abc"
    long = replica_set_name("x" * 300, "5b7c9d8f4x")
    assert len(long) == 253 and long.endswith("-5b7c9d8f4x")
