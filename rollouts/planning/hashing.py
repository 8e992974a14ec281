"""Stable names for revisions: the pod-template hash, the steps hash and ReplicaSet names.

A restarted controller must recognise the ReplicaSet it created before the restart, so the hash is a pure
function of the pod template's content: sha256 over canonical JSON (sorted keys, no whitespace), never
Python's per-process ``hash()``. The digest is spelled in the alphabet Kubernetes uses for generated names
(``SafeEncodeString``: no vowels, no ``0 1 3``), so a hash can never spell a word and is a valid label value.

The ``rollouts-pod-template-hash`` label that we add to the ReplicaSet's pod template is removed before
hashing, so hashing a ReplicaSet's template and the Rollout's template give the same answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
HASH_LENGTH = 10
MAX_NAME_LENGTH = 253


def canonical_json(value: object) -> str:
    """JSON with sorted keys and no whitespace: the same text for equal content, on every run."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def safe_encode(digest: bytes, length: int = HASH_LENGTH) -> str:
    """Spell the first ``length`` bytes of a digest in the Kubernetes-safe alphabet."""
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in digest[:length])


def stable_hash(value: object, length: int = HASH_LENGTH) -> str:
    """sha256 of the canonical JSON of ``value``, safe-encoded: ``stable_hash({"a": 1})`` is always the same."""
    return safe_encode(hashlib.sha256(canonical_json(value).encode()).digest(), length)


def strip_hash_label(template: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a pod template without our ``rollouts-pod-template-hash`` label (and empty label maps)."""
    result = dict(template)
    metadata = dict(result.get("metadata") or {})
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if k != POD_TEMPLATE_HASH_LABEL}
    if labels:
        metadata["labels"] = labels
    else:
        metadata.pop("labels", None)
    if metadata:
        result["metadata"] = metadata
    else:
        result.pop("metadata", None)
    return result


def pod_template_hash(template: Mapping[str, Any]) -> str:
    """The revision identity of a pod template (10 safe characters), e.g. ``"7b5c9f6d8x"``.

    Unchanged template -> same hash, across controller restarts and Python versions.
    """
    return stable_hash(strip_hash_label(template))


def step_hash(steps: Sequence[Mapping[str, Any]]) -> str:
    """``status.currentStepHash``: changes whenever the canary steps change, which restarts the steps."""
    return stable_hash(list(steps))


def replica_set_name(rollout_name: str, template_hash: str) -> str:
    """``<rollout>-<hash>``, with the rollout name cut so the whole stays a valid object name."""
    prefix = rollout_name[: MAX_NAME_LENGTH - len(template_hash) - 1]
    return f"{prefix}-{template_hash}"


def templates_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two pod templates are the same revision (ignoring our hash label)."""
    return canonical_json(strip_hash_label(a)) == canonical_json(strip_hash_label(b))
