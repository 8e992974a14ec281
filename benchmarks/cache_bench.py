"""Per-reconcile and per-event costs of the controller's caches, without a cluster (issue 22).

* finding one Rollout's ReplicaSets among 3,000 cached ones: a scan of the cache (what every reconcile did
  before the controller index) against the informer's index by controller uid;
* decoding one watch event of a ReplicaSet (the bench workload's shape): the stdlib's json against orjson.

    .venv/bin/python benchmarks/cache_bench.py
"""

from __future__ import annotations

import json
import sys
import timeit
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rollouts.api.owners import controller_uids, is_controlled_by
from rollouts.controller.observe import CONTROLLER_INDEX, controlled_by
from rollouts.kube.informer import Informer
from rollouts.kube.resources import REPLICASET


def replica_set(i: int) -> dict[str, Any]:
    owner = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": f"r{i // 3}", "uid": f"u{i // 3}",
             "controller": True, "blockOwnerDeletion": True}
    labels = {"app": f"r{i // 3}", "rollouts-pod-template-hash": f"{i:010x}"}
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"r{i // 3}-{i:010x}", "namespace": "bench", "uid": f"rs-{i}", "resourceVersion": str(i + 1),
                     "generation": 2, "creationTimestamp": "2026-12-03T12:00:00Z", "labels": labels,
                     "annotations": {"rollout.argoproj.io/desired-replicas": "2", "rollout.argoproj.io/revision": "2"},
                     "ownerReferences": [owner]},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "app", "image": "app:2", "resources": {}, "imagePullPolicy": "IfNotPresent",
                                     "terminationMessagePath": "/dev/termination-log",
                                     "terminationMessagePolicy": "File"}],
                     "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                     "securityContext": {}, "schedulerName": "default-scheduler"}}},
        "status": {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                   "observedGeneration": 2},
    }


def main() -> None:
    informer = Informer(None, REPLICASET)  # type: ignore[arg-type]  # never runs: the cache is filled by hand
    informer.add_index(CONTROLLER_INDEX, controller_uids)
    for i in range(3000):
        informer._apply("ADDED", replica_set(i))
    n = 300
    scan = timeit.timeit(lambda: [o for o in informer.items("bench") if is_controlled_by(o, "u5")], number=n) / n
    index = timeit.timeit(lambda: controlled_by(informer, "bench", "u5"), number=n * 100) / (n * 100)
    print(f"one Rollout's ReplicaSets among 3,000: scan {scan * 1e3:.2f} ms, index {index * 1e6:.1f} us")
    event = json.dumps({"type": "MODIFIED", "object": replica_set(7)}).encode()
    m = 5000
    stdlib = timeit.timeit(lambda: json.loads(event), number=m) / m
    fast = timeit.timeit(lambda: orjson.loads(event), number=m) / m
    print(f"decode one {len(event)}-byte ReplicaSet watch event: json {stdlib * 1e6:.1f} us, orjson {fast * 1e6:.1f} us")


if __name__ == "__main__":
    main()
