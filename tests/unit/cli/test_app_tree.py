"""The resource tree of `app get -o tree`: children by controller ownerReference uid, Argo CD's branches."""

from __future__ import annotations

from typing import Any

from rollouts.cli.app_tree import build_tree, render


def obj(kind: str, name: str, uid: str, owner: str | None = None, **status: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "uid": uid}
    if owner:
        meta["ownerReferences"] = [{"uid": owner, "controller": True}]
    return {"apiVersion": "v1", "kind": kind, "metadata": meta, "status": status}


def test_rollout_replica_sets_and_pods() -> None:
    resources = [{"kind": "Rollout", "name": "kuard", "namespace": "ns", "status": "Synced",
                  "health": {"status": "Suspended"}},
                 {"kind": "Service", "name": "kuard-stable", "namespace": "ns", "status": "Synced",
                  "health": {"status": "Healthy"}}]
    rollout = obj("Rollout", "kuard", "r1")
    owned = [obj("ReplicaSet", "kuard-blue", "rs1", "r1"), obj("ReplicaSet", "kuard-green", "rs2", "r1"),
             obj("Pod", "kuard-blue-a", "p1", "rs1", phase="Running"), obj("Pod", "kuard-green-a", "p2", "rs2"),
             obj("Pod", "unrelated", "p3", "someone-else"),
             {**obj("Pod", "not-controlled", "p4"), "metadata": {"name": "not-controlled", "uid": "p4",
                                                                  "ownerReferences": [{"uid": "rs1"}]}}]
    rows = render(build_tree(resources, {("Rollout", "ns", "kuard"): rollout}, owned))
    assert [r[0] for r in rows] == [
        "Rollout/kuard", "├─ReplicaSet/kuard-blue", "│ └─Pod/kuard-blue-a", "└─ReplicaSet/kuard-green",
        "  └─Pod/kuard-green-a", "Service/kuard-stable"]
    assert rows[0][1:3] == ["Synced", "Suspended"]
