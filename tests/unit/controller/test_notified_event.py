"""The notifier's Event cache keeps what the notifier reads (which Rollout, why, whose, when) and nothing else."""

from __future__ import annotations

import copy
from typing import Any

from rollouts.controller.events import event_manifest
from rollouts.controller.notifications import _event_time, notified_event


def full_event() -> dict[str, Any]:
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
               "metadata": {"name": "shop", "namespace": "prod", "uid": "u1", "resourceVersion": "41"}}
    event = event_manifest(rollout, type="Normal", reason="RolloutPaused", message="Rollout is paused " * 20,
                           component="rollouts-controller", instance="replica-a")
    event["metadata"].update(resourceVersion="99", creationTimestamp="2026-12-03T10:00:00Z", uid="e1",
                             managedFields=[{"manager": "rollouts-controller"}])
    return event


def test_keeps_what_the_notifier_reads() -> None:
    event = full_event()
    slim = notified_event(copy.deepcopy(event))
    for field in ("reason", "type", "source", "reportingComponent", "firstTimestamp", "lastTimestamp"):
        assert slim[field] == event[field], field
    assert slim["metadata"] == {"name": event["metadata"]["name"], "namespace": "prod", "resourceVersion": "99",
                                "creationTimestamp": "2026-12-03T10:00:00Z"}
    assert slim["involvedObject"] == {"kind": "Rollout", "name": "shop", "namespace": "prod", "uid": "u1"}
    assert _event_time(slim) == _event_time(event)


def test_drops_the_rest() -> None:
    slim = notified_event(full_event())
    assert "message" not in slim and "count" not in slim and "reportingInstance" not in slim
    assert "managedFields" not in slim["metadata"]
