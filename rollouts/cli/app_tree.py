"""`kubectl rollouts app get NAME -o tree`: an application's resources with what they own, as Argo CD shows it.

Why this module exists: an Application lists what Git declares (a Rollout, a Deployment), but what runs are
the objects those create: Rollout -> ReplicaSet -> Pod, Deployment -> ReplicaSet -> Pod, CronJob -> Job ->
Pod. Like Argo CD's resource tree, children are found by ownerReference (uid), not by name, and each node
shows its health by Argo CD's rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
OWNER_KINDS = frozenset({"Rollout", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "CronJob", "Job"})
"""Kinds whose children are looked for (what a tree node can own)."""


@dataclass
class Node:
    kind: str
    name: str
    status: str = ""
    health: str = ""
    message: str = ""
    children: list[Node] = field(default_factory=list)


def _health(obj: Obj) -> tuple[str, str]:
    from rollouts.gitops.health import resource_health

    found = resource_health(obj)
    return (found.status.value, found.message or "") if found is not None else ("", "")


def build_tree(resources: Sequence[Mapping[str, Any]], live: Mapping[tuple[str, str, str], Obj],
               owned: Iterable[Obj]) -> list[Node]:
    """Roots are the application's resources (status.resources); below each, the objects whose controller
    ownerReference is its uid, recursively."""
    children: dict[str, list[Obj]] = defaultdict(list)
    for obj in owned:
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
            if ref.get("controller"):
                children[str(ref.get("uid"))].append(obj)

    def grow(obj: Obj) -> list[Node]:
        uid = str((obj.get("metadata") or {}).get("uid") or "")
        out = []
        for child in sorted(children.get(uid, ()), key=lambda o: (str(o.get("kind")), str(o["metadata"]["name"]))):
            health, message = _health(child)
            out.append(Node(str(child.get("kind")), str(child["metadata"]["name"]), "", health, message, grow(child)))
        return out

    roots = []
    for res in resources:
        kind, name = str(res.get("kind", "")), str(res.get("name", ""))
        node = Node(kind, name, str(res.get("status", "")), str((res.get("health") or {}).get("status", "")),
                    str((res.get("health") or {}).get("message", "")))
        owner = live.get((kind, str(res.get("namespace") or ""), name))
        if owner is not None:
            node.children = grow(owner)
        roots.append(node)
    return roots


def render(nodes: Sequence[Node]) -> list[list[str]]:
    """Rows of KIND/NAME (indented with Argo CD's ├─ └─), STATUS, HEALTH, MESSAGE."""
    rows: list[list[str]] = []

    def walk(node: Node, prefix: str, branch: str) -> None:
        rows.append([f"{prefix}{branch}{node.kind}/{node.name}", node.status, node.health, node.message[:80]])
        deeper = "" if not branch else prefix + ("  " if branch == "└─" else "│ ")
        for index, child in enumerate(node.children):
            walk(child, deeper, "└─" if index == len(node.children) - 1 else "├─")

    for root in nodes:
        walk(root, "", "")
    return rows


async def load(client: Any, resources: Sequence[Mapping[str, Any]]) -> list[Node]:
    """Read the owners named by status.resources and the ReplicaSets, Pods and Jobs of their namespaces."""
    from rollouts.kube.errors import ApiError
    from rollouts.kube.resources import JOB, POD, REPLICASET

    live: dict[tuple[str, str, str], Obj] = {}
    namespaces: set[str] = set()
    for res in resources:
        if res.get("kind") not in OWNER_KINDS or not res.get("namespace"):
            continue
        group, version = str(res.get("group") or ""), str(res.get("version") or "v1")
        try:
            kind = await client.resolve(f"{group}/{version}" if group else version, str(res["kind"]))
            live[(str(res["kind"]), str(res["namespace"]), str(res["name"]))] = await client.get(
                kind, str(res["name"]), str(res["namespace"]))
        except ApiError:
            continue
        namespaces.add(str(res["namespace"]))
    owned: list[Obj] = []
    for namespace in sorted(namespaces):
        for kind in (REPLICASET, POD, JOB):
            try:
                items, _ = await client.list(kind, namespace)
            except ApiError:
                continue
            owned += [{**item, "kind": kind.kind} for item in items]
    return build_tree(resources, live, owned)
