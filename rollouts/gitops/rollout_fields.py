"""Fields the Rollout controller owns on objects that Git also declares.

A Rollout's stableService / canaryService / activeService / previewService are declared in Git with a
selector such as `{app: web}`; the Rollout controller adds `rollouts-pod-template-hash: <hash>` to pin each
one to a revision, and marks the Service with `argo-rollouts.argoproj.io/managed-by-rollouts`. Under
server-side apply a Service's `spec.selector` is one atomic field, so applying the Git version as it is would
drop the hash at every sync (for a moment each Service selects every revision's pods) and the Service would
always look OutOfSync, fighting the controller under selfHeal. Argo CD's client-side apply happens to keep
the extra key; with server-side apply it is carried over explicitly: while the live Service is managed by a
Rollout, the live hash is part of the desired selector.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from rollouts.api.labels import MANAGED_BY_ANNOTATION, POD_TEMPLATE_HASH_LABEL


def with_rollout_fields(desired: Mapping[str, Any], live: Mapping[str, Any] | None) -> dict[str, Any]:
    """`desired` plus the selector hash a Rollout controller pinned on the live Service (else unchanged).

    Example: desired selector {app: web}, live {app: web, rollouts-pod-template-hash: 5f7c}, live annotated
    managed-by-rollouts -> desired selector {app: web, rollouts-pod-template-hash: 5f7c}.
    """
    if live is None or desired.get("kind") != "Service" or desired.get("apiVersion") != "v1":
        return dict(desired)
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    live_hash = ((live.get("spec") or {}).get("selector") or {}).get(POD_TEMPLATE_HASH_LABEL)
    selector = (desired.get("spec") or {}).get("selector")
    if MANAGED_BY_ANNOTATION not in annotations or not live_hash or not isinstance(selector, Mapping):
        return dict(desired)
    if POD_TEMPLATE_HASH_LABEL in selector:
        return dict(desired)
    out = copy.deepcopy(dict(desired))
    out["spec"]["selector"] = {**selector, POD_TEMPLATE_HASH_LABEL: live_hash}
    return out
