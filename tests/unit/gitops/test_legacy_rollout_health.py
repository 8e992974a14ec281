"""Health of Rollouts older than v1.0 (no status.phase), as Argo CD's rollout health script decides from
conditions, replicas and pod hashes: one case per branch, checked before and after a reshaping."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.api.application import HealthStatusCode as H
from rollouts.gitops.health.argo import rollout_health


def rollout(strategy: str = "canary", *, status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    base = {"currentPodHash": "new", "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2,
            "stableRS": "new", "blueGreen": {"activeSelector": "new"}, "observedGeneration": "1"}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"generation": 1},
            "spec": {"replicas": 2, "strategy": {strategy: {}}, **spec}, "status": {**base, **(status or {})}}


@pytest.mark.parametrize(
    ("obj", "code", "message"),
    [
        pytest.param(rollout(status={"conditions": [{"type": "InvalidSpec", "message": "bad"}]}), H.DEGRADED, "bad",
                     id="invalid-spec"),
        pytest.param(rollout(status={"conditions": [{"type": "Progressing", "reason": "RolloutAborted",
                                                     "message": "aborted"}]}), H.DEGRADED, "aborted", id="aborted"),
        pytest.param(rollout(paused=True), H.SUSPENDED, "Rollout is paused", id="spec-paused"),
        pytest.param(rollout(status={"pauseConditions": [{"reason": "CanaryPauseStep"}]}), H.SUSPENDED,
                     "Rollout is paused", id="pause-condition"),
        pytest.param(rollout(status={"currentPodHash": None}), H.PROGRESSING,
                     "Waiting for rollout to finish: status has not been reconciled.", id="not-reconciled"),
        pytest.param(rollout(status={"updatedReplicas": 1}), H.PROGRESSING,
                     "Waiting for roll out to finish: More replicas need to be updated", id="updating"),
        pytest.param(rollout(status={"availableReplicas": 1}), H.PROGRESSING,
                     "Waiting for roll out to finish: updated replicas are still becoming available", id="available"),
        pytest.param(rollout(status={"replicas": 3}), H.PROGRESSING,
                     "Waiting for roll out to finish: old replicas are pending termination", id="canary-old-pods"),
        pytest.param(rollout(status={"stableRS": "old"}), H.PROGRESSING, "Waiting for rollout to finish steps",
                     id="canary-steps"),
        pytest.param(rollout(status={"stableRS": None, "canary": {"stableRS": "new"}}), H.HEALTHY, "",
                     id="canary-stable-from-old-status-field"),
        pytest.param(rollout("blueGreen", status={"blueGreen": {"activeSelector": "old"}}), H.PROGRESSING,
                     "active service cutover pending", id="bluegreen-cutover"),
        pytest.param(rollout("blueGreen", status={"stableRS": "old"}), H.PROGRESSING,
                     "waiting for analysis to complete", id="bluegreen-analysis"),
        pytest.param(rollout("blueGreen"), H.HEALTHY, "", id="bluegreen-healthy"),
        pytest.param(rollout(), H.HEALTHY, "", id="canary-healthy"),
    ],
)
def test_legacy_rollout_health(obj: dict[str, Any], code: H, message: str) -> None:
    health = rollout_health(obj)
    assert (health.status, health.message) == (code, message)
