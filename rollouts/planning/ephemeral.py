"""Ephemeral pod metadata: labels and annotations that follow a revision's role, not its template.

Argo's canaryMetadata / stableMetadata (and blue-green's previewMetadata / activeMetadata) let users label
pods by role, e.g. `role: canary` for a dashboard or a ServiceMonitor. The role of a revision changes without
its template changing: at promotion the canary becomes the stable, so its pods must lose the canary metadata
and gain the stable metadata in place (no new pods). What a ReplicaSet currently carries is recorded in its
`rollout.argoproj.io/ephemeral-metadata` annotation, so the change is computed from observed state alone.

Example: canaryMetadata {labels: {role: canary}}, stableMetadata {labels: {role: stable}}; after promotion
the new stable ReplicaSet records {"labels":{"role":"canary"}} -> SetEphemeralMetadata(labels={"role":
"stable"}, record='{"labels":{"role":"stable"}}').
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rollouts.api.labels import EPHEMERAL_METADATA_ANNOTATION
from rollouts.api.rollout import PodTemplateMetadata
from rollouts.planning.context import PlanContext
from rollouts.planning.observed import ObservedReplicaSet
from rollouts.planning.plan import SetEphemeralMetadata


def _as_dict(metadata: PodTemplateMetadata | None) -> dict[str, dict[str, str]]:
    if metadata is None:
        return {}
    out: dict[str, dict[str, str]] = {}
    if metadata.labels:
        out["labels"] = dict(metadata.labels)
    if metadata.annotations:
        out["annotations"] = dict(metadata.annotations)
    return out


def _recorded(rs: ObservedReplicaSet) -> dict[str, dict[str, str]]:
    text = rs.annotations.get(EPHEMERAL_METADATA_ANNOTATION)
    if not text:
        return {}
    try:
        data: Any = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, Mapping):
        return {}
    return {k: {str(a): str(b) for a, b in v.items()} for k, v in data.items()
            if k in ("labels", "annotations") and isinstance(v, Mapping)}


def _delta(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str | None]:
    delta: dict[str, str | None] = {k: None for k in old if k not in new}
    delta.update({k: v for k, v in new.items() if old.get(k) != v})
    return delta


def sync_ephemeral_metadata(ctx: PlanContext, rs: ObservedReplicaSet | None,
                            desired: PodTemplateMetadata | None) -> None:
    """Plan the re-labelling of `rs`'s pods when the metadata of its role differs from what it carries."""
    if rs is None:
        return
    current, wanted = _recorded(rs), _as_dict(desired)
    if current == wanted:
        return
    ctx.act(SetEphemeralMetadata(
        name=rs.name,
        pod_template_hash=rs.pod_template_hash,
        labels=_delta(current.get("labels", {}), wanted.get("labels", {})),
        annotations=_delta(current.get("annotations", {}), wanted.get("annotations", {})),
        record=json.dumps(wanted, sort_keys=True, separators=(",", ":")) if wanted else None,
    ))
