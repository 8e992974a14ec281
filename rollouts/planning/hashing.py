"""Stable names for revisions: Argo's pod-template hash and steps hash, and ReplicaSet names.

A restarted controller, or one taking over from Argo Rollouts, must recognise the ReplicaSets already there,
so the hash is Argo's own (``utils/hash.ComputePodTemplateHash`` in v1.10.2): FNV-32a over the template as
Go's ``json.Marshal`` writes the decoded ``corev1.PodTemplateSpec`` (``rollouts.api.podtemplate``), then the
collision count (4 little-endian bytes and 4 zero bytes) when the status has one, and the decimal digits of
the sum spelled in Kubernetes' safe alphabet (``rand.SafeEncodeString``). A sum below 10^9 has fewer digits,
so the hash is sometimes shorter than 10 characters, exactly as Argo's (``f674d55d4``).

``status.currentStepHash`` is Argo's ``ComputeStepHash``: the same over ``json.Marshal`` of the steps. Other
hashes of ours (analysis run names) stay sha256 over canonical JSON: never Python's per-process ``hash()``.

Before the project hashed like Argo it labelled revisions with ``legacy_pod_template_hash`` (sha256); that
value is still recognised when a ReplicaSet is looked up, so upgrading does not restart pods.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.api.podtemplate import MalformedTemplate, canary_steps_go_json, pod_template_go_json

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


def fnv32a(data: bytes) -> int:
    """FNV-1a, 32 bits (Go's ``hash/fnv.New32a``)."""
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode_string(text: str) -> str:
    """``rand.SafeEncodeString``: each byte of ``text`` as one letter of the safe alphabet."""
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in text.encode())


def argo_hash(data: bytes, collision_count: int | None = None) -> str:
    """FNV-32a of ``data`` (+ the collision count), its decimal digits safe-encoded: ``"674d8cf959"``."""
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4)
    return safe_encode_string(str(fnv32a(data)))


@lru_cache(maxsize=4096)
def _template_hash(template_json: str, collision_count: int | None) -> str:
    return argo_hash(pod_template_go_json(json.loads(template_json)), collision_count)


def pod_template_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """Argo's revision identity of a pod template, e.g. ``"674d8cf959"`` for the template of Argo's
    ``canary-scaledownonabort.yaml`` (``canary_test.go`` TestCanaryScaleDownOnAbort).

    Raises ``rollouts.api.podtemplate.MalformedTemplate`` when the template does not decode as a
    ``corev1.PodTemplateSpec`` (Argo could not read such a Rollout at all).
    """
    return _template_hash(canonical_json(template), collision_count)


def revision_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """``pod_template_hash``, or for a template Go could not decode (Argo would not even see that Rollout) the
    legacy hash, so the revision still has a stable name while the API server reports what is wrong."""
    try:
        return pod_template_hash(template, collision_count)
    except MalformedTemplate:
        return legacy_pod_template_hash(template)


def legacy_pod_template_hash(template: Mapping[str, Any]) -> str:
    """The hash this project used before it hashed like Argo (sha256 of canonical JSON, without the hash
    label); only used to recognise the ReplicaSets it labelled that way."""
    return stable_hash(strip_hash_label(template))


def legacy_step_hash(steps: Sequence[Any]) -> str:
    """The steps hash this project wrote before it hashed like Argo (a Rollout updated under it keeps its
    step when the controller is upgraded)."""
    return stable_hash(list(steps))


def step_hash(steps: Sequence[Any] | None) -> str:
    """``status.currentStepHash`` (Argo's ``ComputeStepHash``): changes whenever the canary steps change,
    which restarts the steps. ``[{"setWeight": 20}, {"pause": {}}]`` -> ``"54649b9f5c"``; no ``steps`` key
    (None) and ``steps: []`` differ, as in Go (``null`` vs ``[]``)."""
    return argo_hash(canary_steps_go_json(None if steps is None else list(steps)))


def replica_set_name(rollout_name: str, template_hash: str) -> str:
    """``<rollout>-<hash>``, with the rollout name cut so the whole stays a valid object name."""
    prefix = rollout_name[: MAX_NAME_LENGTH - len(template_hash) - 1]
    return f"{prefix}-{template_hash}"
