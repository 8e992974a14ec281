"""Builders and probes for Rollout integration tests."""

from __future__ import annotations

import copy
from typing import Any

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import EVENT, POD, REPLICASET, ROLLOUT, SERVICE
from tests.support.wait import eventually

HASH = "rollouts-pod-template-hash"


def pod_template(app: str, image: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


def canary_rollout(name: str, *, image: str = "example/app:blue", replicas: int = 5,
                   steps: list[dict[str, Any]] | None = None, **canary: Any) -> dict[str, Any]:
    strategy = {"steps": steps if steps is not None else [{"setWeight": 20}, {"pause": {}}], **canary}
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": name},
        "spec": {
            "replicas": replicas, "revisionHistoryLimit": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(name, image),
            "strategy": {"canary": strategy},
        },
    }


def bluegreen_rollout(name: str, *, image: str = "example/app:blue", replicas: int = 3, **bg: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": name},
        "spec": {
            "replicas": replicas, "revisionHistoryLimit": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(name, image),
            "strategy": {"blueGreen": {"activeService": f"{name}-active", **bg}},
        },
    }


def service(name: str, app: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


async def create_services(kube: KubeClient, ns: str, app: str, *names: str) -> None:
    for n in names:
        await kube.create(SERVICE, service(n, app), ns)


async def get_rollout(kube: KubeClient, ns: str, name: str) -> dict[str, Any]:
    return await kube.get(ROLLOUT, name, ns)


def phase(ro: dict[str, Any]) -> str:
    return str((ro.get("status") or {}).get("phase") or "")


async def wait_phase(kube: KubeClient, ns: str, name: str, want: str, *, timeout: float = 60,
                     step: int | None = None) -> dict[str, Any]:
    def ok(ro: dict[str, Any]) -> bool:
        st = ro.get("status") or {}
        if st.get("observedGeneration") != str(ro["metadata"].get("generation")):
            return False
        if step is not None and st.get("currentStepIndex") != step:
            return False
        return phase(ro) == want

    what = f"rollout {name} phase {want}" + (f" at step {step}" if step is not None else "")
    return await eventually(lambda: get_rollout(kube, ns, name), ok, timeout=timeout, expected=what)


async def replica_sets(kube: KubeClient, ns: str, name: str) -> dict[str, dict[str, Any]]:
    """The Rollout's ReplicaSets by pod-template hash."""
    items, _ = await kube.list(REPLICASET, ns, label_selector=HASH)
    out = {}
    for rs in items:
        owners = rs["metadata"].get("ownerReferences") or []
        if any(o.get("kind") == "Rollout" and o.get("name") == name for o in owners):
            out[rs["metadata"]["labels"][HASH]] = rs
    return out


async def ready_pods_by_hash(kube: KubeClient, ns: str, app: str) -> dict[str, int]:
    pods, _ = await kube.list(POD, ns, label_selector=f"app={app}")
    counts: dict[str, int] = {}
    for p in pods:
        if p["metadata"].get("deletionTimestamp"):
            continue
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
        if ready:
            h = p["metadata"]["labels"].get(HASH, "")
            counts[h] = counts.get(h, 0) + 1
    return counts


async def wait_pods(kube: KubeClient, ns: str, app: str, want: dict[str, int], timeout: float = 60) -> None:
    await eventually(lambda: ready_pods_by_hash(kube, ns, app), lambda got: got == want, timeout=timeout,
                     expected=f"ready pods per pod-template hash {want}")


async def set_image(kube: KubeClient, ns: str, name: str, image: str) -> None:
    ro = await get_rollout(kube, ns, name)
    template = copy.deepcopy(ro["spec"]["template"])
    template["spec"]["containers"][0]["image"] = image
    await kube.patch(ROLLOUT, name, {"spec": {"template": template}}, ns)


async def patch_status(kube: KubeClient, ns: str, name: str, status: dict[str, Any]) -> None:
    await kube.patch(ROLLOUT, name, {"status": status}, ns, subresource="status")


async def event_reasons(kube: KubeClient, ns: str, name: str) -> list[str]:
    events, _ = await kube.list(EVENT, ns)
    mine = [e for e in events if e.get("involvedObject", {}).get("name") == name
            and e.get("involvedObject", {}).get("kind") == "Rollout"]
    mine.sort(key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))
    return [e["reason"] for e in mine]


def condition(ro: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    for c in (ro.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return dict(c)
    return None
