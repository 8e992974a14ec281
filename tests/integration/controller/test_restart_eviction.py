"""`spec.restartAt` evicts pods (policy/v1 Eviction), so a PodDisruptionBudget can hold a restart, as in Argo.

Argo's restarter (rollout/restart.go) evicts and, on 429, leaves the pod for a later requeue. The budget here
first allows no disruption at all: the controller tries, is refused, and every pod stays; once the budget
allows one, the restart replaces every pod.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import POD, ROLLOUT
from tests.support.controller import controller_process
from tests.support.rollouts import canary_rollout, get_rollout, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


async def _ready_pods(kube: KubeClient, namespace: str) -> set[str]:
    items, _ = await kube.list(POD, namespace, label_selector="app=evict")
    return {p["metadata"]["name"] for p in items if not p["metadata"].get("deletionTimestamp")
            and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))}


def _logged(path: Path, line: str) -> bool:
    return path.exists() and line in path.read_text()


async def test_a_pod_disruption_budget_holds_a_restart_until_it_allows_one(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path
) -> None:
    pdb_kind = await kube.resolve("policy/v1", "PodDisruptionBudget")
    pdb: dict[str, Any] = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                           "metadata": {"name": "evict", "namespace": namespace},
                           "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "evict"}}}}
    await kube.create(pdb_kind, pdb, namespace)
    await kube.create(ROLLOUT, canary_rollout("evict", replicas=3, steps=[]), namespace)
    log = tmp_path / "controller.log"
    with controller_process(kubeconfig, f"--namespace={namespace}", log_path=log):
        await wait_phase(kube, namespace, "evict", "Healthy")
        before = await eventually(lambda: _ready_pods(kube, namespace), lambda names: len(names) == 3,
                                  expected="3 ready pods")
        await eventually(lambda: kube.get(pdb_kind, "evict", namespace),
                         lambda p: (p.get("status") or {}).get("currentHealthy") == 3, timeout=60,
                         expected="the disruption controller to count 3 healthy pods")
        items, _ = await kube.list(POD, namespace, label_selector="app=evict")
        newest = max(datetime.fromisoformat(p["metadata"]["creationTimestamp"].replace("Z", "+00:00")) for p in items)
        restart_at = (max(newest, datetime.now(UTC).replace(microsecond=0)) + timedelta(seconds=1))
        # a restartAt a second ahead is honoured when it arrives (the controller wakes for it)
        await kube.patch(ROLLOUT, "evict", {"spec": {"restartAt": restart_at.strftime("%Y-%m-%dT%H:%M:%SZ")}},
                         namespace)
        await eventually(lambda: asyncio.to_thread(_logged, log, "eviction refused by a PodDisruptionBudget"),
                         lambda seen: seen, timeout=60,
                         expected="the controller to try an eviction and be refused by the budget")
        assert await _ready_pods(kube, namespace) == before, "a budget allowing no disruption must hold the restart"
        ro = await get_rollout(kube, namespace, "evict")
        assert not ro["status"].get("restartedAt")
        await kube.patch(pdb_kind, "evict", {"spec": {"minAvailable": 2}}, namespace)
        await eventually(lambda: _ready_pods(kube, namespace), lambda names: len(names) == 3 and not names & before,
                         timeout=120, expected="3 ready pods, none from before the restart, once the budget allows one")
        await eventually(lambda: get_rollout(kube, namespace, "evict"),
                         lambda r: bool(r["status"].get("restartedAt")), expected="status.restartedAt set")
