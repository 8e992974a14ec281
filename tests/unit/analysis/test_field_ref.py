"""fieldRef arguments of an AnalysisRun read from the owning Rollout, as Kubernetes fieldPaths do."""

from __future__ import annotations

import pytest

from rollouts.controller.analysis_runs import ArgumentError, field_value

ROLLOUT = {"metadata": {"name": "shop", "labels": {"app.kubernetes.io/name": "shop"},
                        "annotations": {"team": "payments"}},
           "spec": {"replicas": 5, "paused": False}}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("metadata.name", "shop", id="name"),
        pytest.param("metadata.labels['app.kubernetes.io/name']", "shop", id="label-with-dots"),
        pytest.param('metadata.annotations["team"]', "payments", id="annotation-double-quotes"),
        pytest.param("spec.replicas", "5", id="number"),
        pytest.param("spec.paused", "false", id="bool-like-kubernetes"),
    ],
)
def test_field_value(path: str, value: str) -> None:
    assert field_value(ROLLOUT, path) == value


@pytest.mark.parametrize(
    ("path", "error"),
    [
        pytest.param("metadata.labels['missing']", "has no value", id="missing"),
        pytest.param("metadata..name", "unsupported fieldPath", id="double-dot"),
        pytest.param("", "unsupported fieldPath", id="empty"),
    ],
)
def test_field_value_errors(path: str, error: str) -> None:
    with pytest.raises(ArgumentError, match=error):
        field_value(ROLLOUT, path)
