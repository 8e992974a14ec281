"""Pod-template and step hashes: Argo's values, stable across processes, sensitive to content as Go sees it.

The differential test against Argo's own code is tests/unit/api/test_argo_hash_oracle.py; these are the
properties a reader can check by eye.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.planning.hashing import (
    SAFE_ALPHABET,
    argo_hash,
    fnv32a,
    legacy_pod_template_hash,
    pod_template_hash,
    replica_set_name,
    stable_hash,
    step_hash,
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


def test_fnv32a_reference_values() -> None:
    """The FNV-1a test vectors (offset basis for "", and "a", "foobar")."""
    assert [fnv32a(b""), fnv32a(b"a"), fnv32a(b"foobar")] == [0x811C9DC5, 0xE40C292C, 0xBF9CF968]


def test_steps_hash_argo_writes() -> None:
    """Values computed by Argo's conditions.ComputeStepHash (the oracle test checks many more)."""
    assert step_hash([{"setWeight": 20}, {"pause": {}}]) == "54649b9f5c"
    assert step_hash(None) != step_hash([])  # Go marshals a nil slice as null, an empty one as []


@pytest.mark.parametrize(
    ("other", "same"),
    [
        pytest.param({"spec": TEMPLATE["spec"], "metadata": TEMPLATE["metadata"]}, True, id="key-order-ignored"),
        pytest.param({**TEMPLATE, "unknownField": 1}, True, id="unknown-field-dropped-as-by-go"),
        pytest.param({**TEMPLATE, "spec": {**TEMPLATE["spec"], "volumes": []}}, True, id="empty-omitempty-list"),
        pytest.param(
            {"metadata": {"labels": {"app": "web", "rollouts-pod-template-hash": "abc"}}, "spec": TEMPLATE["spec"]},
            False,
            id="a-hash-label-in-the-rollout-template-is-content-as-in-argo",
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


def test_quantities_hash_in_canonical_form() -> None:
    def with_cpu(cpu: object) -> dict[str, Any]:
        container = {"name": "web", "image": "web:1", "resources": {"requests": {"cpu": cpu}}}
        return {**TEMPLATE, "spec": {"containers": [container]}}

    assert pod_template_hash(with_cpu("1000m")) == pod_template_hash(with_cpu("1")) == pod_template_hash(with_cpu(1))
    assert pod_template_hash(with_cpu("1500m")) == pod_template_hash(with_cpu("1.5"))
    # The parser keeps a text it considers canonical as given, so these hash differently in Go too:
    assert pod_template_hash(with_cpu("1e3")) != pod_template_hash(with_cpu("1k"))


def test_collision_count_changes_the_hash() -> None:
    assert len({pod_template_hash(TEMPLATE), pod_template_hash(TEMPLATE, 0), pod_template_hash(TEMPLATE, 1)}) == 3


def test_legacy_hash_is_kept_for_replica_sets_labelled_by_earlier_versions() -> None:
    labelled = {"metadata": {"labels": {"app": "web", "rollouts-pod-template-hash": "x"}}, "spec": TEMPLATE["spec"]}
    assert legacy_pod_template_hash(labelled) == legacy_pod_template_hash(TEMPLATE) == stable_hash(TEMPLATE)


@given(st.binary(max_size=64), st.none() | st.integers(0, 2**31 - 1))
def test_hash_is_at_most_ten_kubernetes_safe_characters(data: bytes, collision_count: int | None) -> None:
    digest = argo_hash(data, collision_count)
    assert 1 <= len(digest) <= 10  # the decimal digits of a 32-bit sum, one letter each
    assert set(digest) <= set(SAFE_ALPHABET)


def test_replica_set_name_fits_kubernetes_limits() -> None:
    assert replica_set_name("web", "abc") == "web-abc"
    long = replica_set_name("x" * 300, "5b7c9d8f4x")
    assert len(long) == 253 and long.endswith("-5b7c9d8f4x")
