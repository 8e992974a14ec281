"""Shared builders for the traffic router unit tests: a typed Rollout (as the controller parses it once), and
raw Ingress and HTTPRoute dicts (as the API server returns them)."""

from __future__ import annotations

from typing import Any

from rollouts.api.rollout import Rollout

NS = "prod"
UID = "0b6f3c1e-1111-2222-3333-444455556666"


def rollout(
    routing: dict[str, Any],
    *,
    name: str = "shop",
    steps: list[dict[str, Any]] | None = None,
    stable: str = "shop-stable",
    canary: str = "shop-canary",
) -> Rollout:
    return Rollout.model_validate({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": NS, "uid": UID},
        "spec": {
            "strategy": {
                "canary": {
                    "stableService": stable,
                    "canaryService": canary,
                    "trafficRouting": routing,
                    "steps": steps or [],
                }
            }
        },
    })


def owner(name: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": name,
        "uid": UID,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def path(service: str, p: str = "/", port: int = 80) -> dict[str, Any]:
    return {"path": p, "pathType": "Prefix", "backend": {"service": {"name": service, "port": {"number": port}}}}


def ingress(name: str, rules: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": NS, "resourceVersion": "7"},
        "spec": {"rules": rules},
    }
    if "annotations" in extra:
        obj["metadata"]["annotations"] = extra.pop("annotations")
    obj["spec"].update(extra)
    return obj
