"""ownerReferences: the one builder and the one reader.

A Rollout controls its ReplicaSets, AnalysisRuns and canary Ingresses; an AnalysisRun controls its Jobs. The
controller reference (``controller: true``) is what lets the garbage collector delete children with their
owner (``blockOwnerDeletion`` keeps a foreground deletion waiting for them) and what the controller uses to
find its children again after a restart, so it is built and read the same way everywhere.

Example: ``controller_reference(api_version="argoproj.io/v1alpha1", kind="Rollout", name="shop", uid="u1")``
-> ``{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "shop", "uid": "u1", "controller": True,
"blockOwnerDeletion": True}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict


class OwnerReferenceBody(TypedDict):
    """A controller ownerReference as it is written into ``metadata.ownerReferences``."""

    apiVersion: str
    kind: str
    name: str
    uid: str
    controller: bool
    blockOwnerDeletion: bool


def controller_reference(*, api_version: str, kind: str, name: str, uid: str) -> OwnerReferenceBody:
    """The ownerReference that makes the named object the controller of a child (see the module example)."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_controlled_by(obj: Mapping[str, Any], uid: str) -> bool:
    """Whether ``obj`` carries a controller ownerReference to the object with ``uid``."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return any(isinstance(r, Mapping) and r.get("uid") == uid and r.get("controller") for r in refs)


def controller_uids(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """The uid of ``obj``'s controller (one at most on objects the API server accepted), as an index value:
    the informers of children are indexed by it, so a Rollout's ReplicaSets are found without a scan."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return tuple(str(r["uid"]) for r in refs if isinstance(r, Mapping) and r.get("controller") and r.get("uid"))


def controller_name(obj: Mapping[str, Any], kind: str) -> str | None:
    """The name of ``obj``'s controller when it is of ``kind`` (e.g. the Rollout that owns a ReplicaSet)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if isinstance(ref, Mapping) and ref.get("kind") == kind and ref.get("controller") and ref.get("name"):
            return str(ref["name"])
    return None
