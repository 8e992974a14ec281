"""What a controller leaves behind after each plugin action, in a form two controllers can be compared in.

The comparison test (tests/integration/conformance/test_controller_parity.py) drives Argo's controller and ours
with Argo's own plugin through the same actions, each in its own namespace, and compares after every action the
Rollout's status, its ReplicaSets and its Services. What differs between two runs of the *same* controller is
masked here, nothing else: times (condition times, pause start, restartedAt/abortedAt, the scale-down deadline),
uids, resourceVersions, managedFields, creation timestamps and the namespace's name. Names that carry the pod
template hash stay: both controllers hash templates the same way, so a different ReplicaSet name is a difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

TIME = "<time>"
NAMESPACE = "<namespace>"

TIME_FIELDS = frozenset({"lastTransitionTime", "lastUpdateTime", "startTime", "restartedAt", "abortedAt",
                         "restartAt", "pauseStartTime"})
"""Keys whose values are times wherever they appear (status, spec.restartAt, pause conditions)."""
TIME_ANNOTATIONS = frozenset({"scale-down-deadline"})
"""Annotation keys (after the `<prefix>/`) whose values are times."""
VOLATILE_METADATA = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "selfLink", "generateName",
                     "finalizers")


def mask(value: Any, namespace: str) -> Any:
    """``value`` with times and the namespace's name masked, recursively."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in TIME_FIELDS and item:
                out[key] = TIME
            else:
                out[key] = mask(item, namespace)
        return out
    if isinstance(value, list):
        return [mask(item, namespace) for item in value]
    if isinstance(value, str) and namespace:
        return value.replace(namespace, NAMESPACE)
    return value


def metadata(obj: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """Name, labels, annotations and ownerReferences (without uids), masked."""
    meta = obj.get("metadata") or {}
    annotations = {k: (TIME if k.rsplit("/", 1)[-1] in TIME_ANNOTATIONS else v)
                   for k, v in (meta.get("annotations") or {}).items()
                   if k != "kubectl.kubernetes.io/last-applied-configuration"}
    owners = [{k: v for k, v in ref.items() if k != "uid"} for ref in meta.get("ownerReferences") or ()]
    out: dict[str, Any] = {"name": meta.get("name"), "labels": dict(meta.get("labels") or {}),
                           "annotations": annotations}
    if owners:
        out["ownerReferences"] = owners
    return dict(mask(out, namespace))


def rollout_view(rollout: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """The Rollout as the comparison sees it: metadata, spec (the controller may write it) and status, with
    conditions in type order (their order in the list is not part of the contract)."""
    status = dict(rollout.get("status") or {})
    if "conditions" in status:
        status["conditions"] = sorted(status["conditions"] or (), key=lambda c: str(c.get("type")))
    return {"metadata": metadata(rollout, namespace), "generation": (rollout.get("metadata") or {}).get("generation"),
            "spec": mask(rollout.get("spec") or {}, namespace), "status": mask(status, namespace)}


def replica_set_view(rs: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """A ReplicaSet: metadata, desired replicas, the pod template's metadata and image, observed counts."""
    spec = rs.get("spec") or {}
    template = spec.get("template") or {}
    status = rs.get("status") or {}
    containers = (template.get("spec") or {}).get("containers") or ()
    return {
        "metadata": metadata(rs, namespace),
        "replicas": spec.get("replicas"),
        "selector": spec.get("selector"),
        "template": {"labels": (template.get("metadata") or {}).get("labels") or {},
                     "annotations": (template.get("metadata") or {}).get("annotations") or {},
                     "images": [c.get("image") for c in containers]},
        "status": {k: status.get(k) for k in ("replicas", "readyReplicas", "availableReplicas")},
    }


def service_view(svc: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """A Service: metadata and selector (the controller moves the selector between revisions)."""
    return {"metadata": metadata(svc, namespace), "selector": (svc.get("spec") or {}).get("selector")}


def snapshot(rollout: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]],
             services: Sequence[Mapping[str, Any]], namespace: str) -> dict[str, Any]:
    """One comparable picture of a Rollout and its children (ReplicaSets and Services by name)."""
    return {
        "rollout": rollout_view(rollout, namespace),
        "replicaSets": {str(rs["metadata"]["name"]): replica_set_view(rs, namespace) for rs in replica_sets},
        "services": {str(s["metadata"]["name"]): service_view(s, namespace) for s in services},
    }


_MISSING = "<absent>"


def differences(ours: Any, theirs: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf where two snapshots differ, as (path, ours, Argo's); an absent key shows as ``<absent>``.

    >>> differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "d": 3}})
    [('a.c', 2, '<absent>'), ('a.d', '<absent>', 3)]
    """
    if isinstance(ours, Mapping) and isinstance(theirs, Mapping):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(ours) | set(theirs), key=str):
            sub = f"{path}.{key}" if path else str(key)
            found += differences(ours.get(key, _MISSING), theirs.get(key, _MISSING), sub)
        return found
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        found = []
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            found += differences(a, b, f"{path}[{i}]")
        return found
    return [] if ours == theirs else [(path, ours, theirs)]


def conditions_by_type(status: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """{type: (status, reason)}: the short form failures print."""
    return {str(c.get("type")): (str(c.get("status")), str(c.get("reason")))
            for c in status.get("conditions") or ()}
