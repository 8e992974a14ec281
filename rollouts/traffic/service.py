"""The Service selector router: pin a Service to one revision's pods by their pod-template hash.

Every canary and blue-green Rollout routes at least this way: ``stableService``/``canaryService`` (canary)
and ``activeService``/``previewService`` (blue-green) get ``spec.selector["rollouts-pod-template-hash"] =
<hash>`` next to the user's own selector, and the annotation
``argo-rollouts.argoproj.io/managed-by-rollouts: <rollout>`` that claims the Service for one Rollout.

Kubernetes quirk: ``spec.selector`` of a Service is an *atomic* map for server-side apply, so applying a
Service with only our key would replace the user's whole selector (``app: shop`` would vanish and the
Service would select every revision's pods at once). A JSON merge patch adds or removes just our key, so
these builders return :class:`~rollouts.traffic.router.MergePatch` changes. Like a router's
``desired_changes``, they return None when the live Service already says what we want.

Example: Service ``shop-stable`` with selector ``{app: shop}``, rollout ``shop``, hash ``6d8f9b7c4d`` ->
merge patch ``{"metadata": {"annotations": {"argo-rollouts.argoproj.io/managed-by-rollouts": "shop"}},
"spec": {"selector": {"rollouts-pod-template-hash": "6d8f9b7c4d"}}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.api.labels import MANAGED_BY_ANNOTATION, POD_TEMPLATE_HASH_LABEL
from rollouts.traffic.router import MergePatch, ObjectRef, RouteKind, TrafficConfigError

SERVICE_ROLES = {
    "canary": ("canaryService", "stableService"),
    "blueGreen": ("activeService", "previewService"),
}


def service_ref(namespace: str, name: str) -> ObjectRef:
    return ObjectRef(RouteKind.SERVICE, namespace, name)


def rollout_services(rollout: Mapping[str, Any]) -> dict[str, ObjectRef]:
    """The Services a Rollout's strategy names, by spec field: ``{"stableService": ObjectRef(...), ...}``."""
    namespace = str(rollout.get("metadata", {}).get("namespace", ""))
    strategy = rollout.get("spec", {}).get("strategy") or {}
    refs: dict[str, ObjectRef] = {}
    for strategy_key, fields in SERVICE_ROLES.items():
        block = strategy.get(strategy_key) or {}
        for field_name in fields:
            if block.get(field_name):
                refs[field_name] = service_ref(namespace, str(block[field_name]))
    return refs


def managed_by(service: Mapping[str, Any]) -> str | None:
    """The Rollout that claims ``service`` (the managed-by annotation), if any."""
    value = (service.get("metadata", {}).get("annotations") or {}).get(MANAGED_BY_ANNOTATION)
    return str(value) if value else None


def selector_hash_in_effect(service: Mapping[str, Any]) -> str | None:
    """The pod-template hash the Service selects now (None when not pinned)."""
    value = (service.get("spec", {}).get("selector") or {}).get(POD_TEMPLATE_HASH_LABEL)
    return str(value) if value else None


def validate_service(service: Mapping[str, Any] | None, ref: ObjectRef, *, rollout: str) -> list[str]:
    """Problems that stop ``rollout`` from using the Service: missing, or claimed by another Rollout."""
    if service is None:
        return [f"Service '{ref.name}' not found in namespace '{ref.namespace}'"]
    owner = managed_by(service)
    if owner is not None and owner != rollout:
        return [f"Service '{ref.name}' is managed by Rollout '{owner}', not '{rollout}'"]
    return []


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
    """The merge patch that removes our selector key and claim (Rollout deleted); None if there is nothing."""
    ref = _ref_of(service)
    if managed_by(service) != rollout:
        return None
    body: dict[str, Any] = {"metadata": {"annotations": {MANAGED_BY_ANNOTATION: None}}}
    if selector_hash_in_effect(service) is not None:
        body["spec"] = {"selector": {POD_TEMPLATE_HASH_LABEL: None}}
    return MergePatch(ref, body, summary=f"release Service '{ref.name}' from Rollout '{rollout}'")


def _ref_of(service: Mapping[str, Any]) -> ObjectRef:
    meta = service.get("metadata", {})
    if not meta.get("name") or not meta.get("namespace"):
        raise ValueError("a live Service with metadata.name and metadata.namespace is required")
    return service_ref(str(meta["namespace"]), str(meta["name"]))
