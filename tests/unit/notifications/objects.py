"""A Rollout and an Application as a cluster would return them: the data notification templates render."""

from __future__ import annotations

import copy
from typing import Any

ROLLOUT: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Rollout",
    "metadata": {
        "name": "checkout", "namespace": "shop", "uid": "5f1c", "generation": 4, "resourceVersion": "1234",
        "creationTimestamp": "2026-03-01T10:00:00Z",
        "labels": {"app": "checkout", "team": "payments"},
        "annotations": {"notifications.argoproj.io/subscribe.on-rollout-aborted.slack": "deploys",
                        "rollout.argoproj.io/revision": "3"},
    },
    "spec": {
        "replicas": 5,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": {"app": "checkout"}},
        "strategy": {"canary": {"canaryService": "checkout-canary", "stableService": "checkout-stable",
                                "steps": [{"setWeight": 20}, {"pause": {"duration": "1m"}}, {"setWeight": 50.5},
                                          {"pause": {}}]}},
        "template": {"metadata": {"labels": {"app": "checkout"}},
                     "spec": {"containers": [{"name": "checkout", "image": "shop/checkout:2.1",
                                              "ports": [{"containerPort": 8080}]},
                                             {"name": "sidecar", "image": "envoy:1.30", "args": None}]}},
    },
    "status": {
        "phase": "Degraded", "message": "RolloutAborted: Rollout aborted update to revision 3",
        "abort": True, "currentPodHash": "6d5f8c7b9", "stableRS": "7c9d8f6b5", "currentStepIndex": 1,
        "replicas": 5, "readyReplicas": 5, "availableReplicas": 5, "updatedReplicas": 1,
        "observedGeneration": "4", "pauseConditions": None,
        "conditions": [
            {"type": "Progressing", "status": "False", "reason": "RolloutAborted",
             "message": "Rollout aborted update to revision 3", "lastTransitionTime": "2026-03-01T10:05:00Z"},
            {"type": "Available", "status": "True", "reason": "AvailableReason",
             "message": "Rollout has minimum availability", "lastTransitionTime": "2026-03-01T10:01:00Z"},
        ],
        "canary": {"weights": {"canary": {"weight": 0, "podTemplateHash": "6d5f8c7b9"},
                               "stable": {"weight": 100, "podTemplateHash": "7c9d8f6b5"}}},
    },
}


def blue_green_rollout() -> dict[str, Any]:
    ro = copy.deepcopy(ROLLOUT)
    ro["spec"]["strategy"] = {"blueGreen": {"activeService": "checkout-active", "previewService": "checkout-preview",
                                            "autoPromotionEnabled": False}}
    ro["spec"]["template"]["spec"]["containers"] = ro["spec"]["template"]["spec"]["containers"][:1]
    ro["status"] = {"phase": "Healthy", "replicas": 5, "availableReplicas": 5, "conditions": []}
    return ro


APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "guestbook", "namespace": "argocd", "labels": {"env": "prod"},
                 "annotations": {"notifications.argoproj.io/subscribe.on-sync-succeeded.slack": "deploys"},
                 "creationTimestamp": "2026-03-01T09:00:00Z", "generation": 12},
    "spec": {
        "project": "default",
        "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps.git", "path": "guestbook",
                   "targetRevision": "HEAD"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
    },
    "status": {
        "sync": {"status": "Synced", "revision": "53e28ff20cc530b9ada2173fbbd64d48338583ba"},
        "health": {"status": "Degraded", "lastTransitionTime": "2026-03-01T10:02:00Z"},
        "operationState": {
            "phase": "Succeeded", "message": "successfully synced (all tasks run)",
            "startedAt": "2026-03-01T10:00:00Z", "finishedAt": "2026-03-01T10:01:30Z",
            "syncResult": {"revision": "53e28ff20cc530b9ada2173fbbd64d48338583ba",
                           "resources": [{"kind": "Deployment", "name": "guestbook-ui", "status": "Synced",
                                          "message": "deployment.apps/guestbook-ui configured"}]},
        },
        "conditions": [{"type": "SyncError", "message": "one or more objects failed to apply <x> & \"y\""}],
        "resources": [{"kind": "Service", "name": "guestbook-ui", "status": "Synced",
                       "health": {"status": "Healthy"}}],
    },
}


def multi_source_application() -> dict[str, Any]:
    app = copy.deepcopy(APPLICATION)
    source = app["spec"].pop("source")
    app["spec"]["sources"] = [source, {"repoURL": "https://charts.example.com", "chart": "redis",
                                       "targetRevision": "18.1.0"}]
    app["status"]["conditions"] = []
    app["status"]["health"] = {"status": "Healthy"}
    return app
