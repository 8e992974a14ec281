"""The informer's indexes always agree with a scan of its cache, whatever sequence of watch events, own writes,
forgets and relists reached it (hypothesis), and ``by_index`` answers in cache order."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.api.owners import controller_uids
from rollouts.kube.informer import Informer
from rollouts.kube.resources import REPLICASET

OWNERS = ("u1", "u2", "u3")
NAMES = ("a", "b", "c", "d")


def replica_set(name: str, owner: str | None, rv: int, *, namespace: str = "ns") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "resourceVersion": str(rv)}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "r",
                                    "uid": owner, "controller": True}]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta}


class ListingClient:
    """Answers the informer's list with whatever the test put in ``items`` (no watch is started)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.rv = 0

    async def list(self, kind: Any, namespace: Any, **_: Any) -> tuple[list[dict[str, Any]], str]:
        return [dict(o, metadata=dict(o["metadata"])) for o in self.items], str(self.rv)


def scanned(informer: Informer, owner: str) -> set[tuple[str, str]]:
    return {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in informer.items() if owner in controller_uids(o)}


def indexed(informer: Informer, owner: str) -> set[tuple[str, str]]:
    return {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in informer.by_index("controller", owner)}


step = st.one_of(
    st.tuples(st.sampled_from(["ADDED", "MODIFIED", "upsert"]), st.sampled_from(NAMES),
              st.one_of(st.none(), st.sampled_from(OWNERS))),
    st.tuples(st.sampled_from(["DELETED", "forget"]), st.sampled_from(NAMES), st.none()),
    st.tuples(st.just("relist"), st.just(""), st.none()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=40), st.booleans())
def test_index_agrees_with_a_scan_after_any_history(steps: list[tuple[str, str, str | None]], early: bool) -> None:
    client = ListingClient()
    informer = Informer(client, REPLICASET)  # type: ignore[arg-type]
    if early:  # an index added before the cache fills, or (below) over a filled cache
        informer.add_index("controller", controller_uids)
    listed: dict[str, dict[str, Any]] = {}
    for rv, (action, name, owner) in enumerate(steps, start=1):
        if action in ("ADDED", "MODIFIED", "upsert"):
            obj = replica_set(name, owner, rv)
            listed[name] = obj
            if action == "upsert":
                informer.upsert(obj)
            else:
                informer._apply(action, obj)
        elif action in ("DELETED", "forget"):
            listed.pop(name, None)
            if action == "forget":
                informer.forget("ns", name)
            else:
                informer._apply("DELETED", replica_set(name, None, rv))
        else:
            client.items, client.rv = list(listed.values()), rv
            asyncio.run(informer._relist())
    if not early:
        informer.add_index("controller", controller_uids)
    for owner in OWNERS:
        assert indexed(informer, owner) == scanned(informer, owner), owner


def test_by_index_keeps_cache_order_and_follows_a_change_of_owner() -> None:
    informer = Informer(ListingClient(), REPLICASET)  # type: ignore[arg-type]
    informer.add_index("controller", controller_uids)
    for rv, name in enumerate(("c", "a", "b"), start=1):
        informer._apply("ADDED", replica_set(name, "u1", rv))
    assert [o["metadata"]["name"] for o in informer.by_index("controller", "u1")] == ["c", "a", "b"]
    informer._apply("MODIFIED", replica_set("a", "u2", 9))  # adopted by another Rollout
    assert [o["metadata"]["name"] for o in informer.by_index("controller", "u1")] == ["c", "b"]
    assert [o["metadata"]["name"] for o in informer.by_index("controller", "u2")] == ["a"]
    assert informer.by_index("controller", "nobody") == []
