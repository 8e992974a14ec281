"""The Service selector change: pin a Service to one revision's pods by their pod-template hash.

Every canary and blue-green Rollout routes at least this way: ``stableService``/``canaryService`` (canary)
and ``activeService``/``previewService`` (blue-green) get ``spec.selector["rollouts-pod-template-hash"] =
<hash>`` next to the user's own selector, and the annotation
``argo-rollouts.argoproj.io/managed-by-rollouts: <rollout>`` that claims the Service for one Rollout. The
planner decides when (``SetServiceSelector``); the executor builds the change here and performs it like any
router's change.

Kubernetes quirk: ``spec.selector`` of a Service is an *atomic* map for server-side apply, so applying a
Service with only our key would replace the user's whole selector (``app: shop`` would vanish and the
Service would select every revision's pods at once). A JSON merge patch adds or removes just our key, so
this returns a :class:`~rollouts.traffic.router.MergePatch`. Like a router's ``desired_changes``, it returns
None when the live Service already says what we want.

Example: Service ``shop-stable`` with selector ``{app: shop}``, rollout ``shop``, hash ``6d8f9b7c4d`` ->
merge patch ``{"metadata": {"annotations": {"argo-rollouts.argoproj.io/managed-by-rollouts": "shop"}},
"spec": {"selector": {"rollouts-pod-template-hash": "6d8f9b7c4d"}}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.api.labels import MANAGED_BY_ANNOTATION, POD_TEMPLATE_HASH_LABEL
from rollouts.traffic.router import MergePatch, ObjectRef, RouteKind, TrafficConfigError


def managed_by(service: Mapping[str, Any]) -> str | None:
    """The Rollout that claims ``service`` (the managed-by annotation), if any."""
    value = (service.get("metadata", {}).get("annotations") or {}).get(MANAGED_BY_ANNOTATION)
    return str(value) if value else None


def selector_hash_in_effect(service: Mapping[str, Any]) -> str | None:
    """The pod-template hash the Service selects now (None when not pinned)."""
    value = (service.get("spec", {}).get("selector") or {}).get(POD_TEMPLATE_HASH_LABEL)
    return str(value) if value else None


def pin_service_selector(service: Mapping[str, Any], *, rollout: str, pod_template_hash: str) -> MergePatch | None:
    """The merge patch that makes ``service`` select the pods of ``pod_template_hash``; None if it already does."""
    if not pod_template_hash:
        raise ValueError("pod_template_hash must not be empty")
    ref = _ref_of(service)
    owner = managed_by(service)
    if owner is not None and owner != rollout:
        raise TrafficConfigError(f"Service '{ref.name}' is managed by Rollout '{owner}', not '{rollout}'")
    if owner == rollout and selector_hash_in_effect(service) == pod_template_hash:
        return None
    body = {
        "metadata": {"annotations": {MANAGED_BY_ANNOTATION: rollout}},
        "spec": {"selector": {POD_TEMPLATE_HASH_LABEL: pod_template_hash}},
    }
    return MergePatch(ref, body, summary=f"point Service '{ref.name}' at pods of revision {pod_template_hash}")


def release_service_selector(service: Mapping[str, Any], *, rollout: str) -> MergePatch | None:
    """The merge patch that takes our hash selector and managed-by annotation off ``service`` (a Service the
    Rollout no longer names); None when it carries neither or another Rollout claims it.

    Example: ``{app: shop, rollouts-pod-template-hash: 6d8f9b7c4d}`` managed by ``shop`` -> ``{app: shop}``."""
    owner = managed_by(service)
    if owner is not None and owner != rollout:
        return None
    if owner is None and selector_hash_in_effect(service) is None:
        return None
    ref = _ref_of(service)
    body = {
        "metadata": {"annotations": {MANAGED_BY_ANNOTATION: None}},
        "spec": {"selector": {POD_TEMPLATE_HASH_LABEL: None}},
    }
    return MergePatch(ref, body, summary=f"release Service '{ref.name}' from Rollout '{rollout}'")


def _ref_of(service: Mapping[str, Any]) -> ObjectRef:
    meta = service.get("metadata", {})
    if not meta.get("name") or not meta.get("namespace"):
        raise ValueError("a live Service with metadata.name and metadata.namespace is required")
    return ObjectRef(RouteKind.SERVICE, str(meta["namespace"]), str(meta["name"]))
