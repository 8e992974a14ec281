"""Removing the anti-affinity term a Rollout's `antiAffinity` injects before comparing templates (Argo's
RemoveInjectedAntiAffinityRule, rollout/replicaset.go in v1.10.2): the first hash-label term of the
configured kind goes, empty containers collapse, anything else stays."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.planning.replicasets import without_injected_anti_affinity

PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
HASH_TERM = {"labelSelector": {"matchExpressions": [{"key": POD_TEMPLATE_HASH_LABEL, "operator": "In",
                                                     "values": ["abc"]}]}, "topologyKey": "kubernetes.io/hostname"}
ZONE_TERM = {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
             "topologyKey": "topology.kubernetes.io/zone"}


def template(anti: dict[str, Any] | None, **affinity: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "i"}]}
    if anti is not None or affinity:
        spec["affinity"] = {**affinity, **({"podAntiAffinity": anti} if anti is not None else {})}
    return {"metadata": {"labels": {"app": "web"}}, "spec": spec}


@pytest.mark.parametrize(
    ("before", "configured", "after"),
    [
        pytest.param(template({REQUIRED: [HASH_TERM]}), None, template({REQUIRED: [HASH_TERM]}),
                     id="nothing-configured-keeps-everything"),
        pytest.param(template({REQUIRED: [HASH_TERM]}), {}, template({REQUIRED: [HASH_TERM]}),
                     id="empty-configuration-keeps-everything"),
        pytest.param(template({REQUIRED: [HASH_TERM]}), {REQUIRED: {}},
                     {**template(None), "spec": {**template(None)["spec"], "affinity": None}},
                     id="required-only-term-removed-containers-collapse"),
        pytest.param(template({PREFERRED: [{"weight": 1, "podAffinityTerm": HASH_TERM}]}), {PREFERRED: {"weight": 1}},
                     {**template(None), "spec": {**template(None)["spec"], "affinity": None}},
                     id="preferred-term-wraps-the-selector"),
        pytest.param(template({REQUIRED: [ZONE_TERM, HASH_TERM, HASH_TERM]}), {REQUIRED: {}},
                     template({REQUIRED: [ZONE_TERM, HASH_TERM]}), id="only-the-first-hash-term"),
        pytest.param(template({REQUIRED: [HASH_TERM]}), {PREFERRED: {"weight": 1}},
                     template({REQUIRED: [HASH_TERM]}), id="other-kind-is-left-alone"),
        pytest.param(template({REQUIRED: [ZONE_TERM]}), {REQUIRED: {}}, template({REQUIRED: [ZONE_TERM]}),
                     id="no-hash-term-unchanged"),
        pytest.param(template({REQUIRED: [HASH_TERM]}, nodeAffinity={"x": 1}), {REQUIRED: {}},
                     template(None, nodeAffinity={"x": 1}), id="other-affinity-kept"),
        pytest.param(template({PREFERRED: [{"weight": 1, "podAffinityTerm": HASH_TERM}]}),
                     {PREFERRED: {"weight": 1}, REQUIRED: {}},
                     {**template(None), "spec": {**template(None)["spec"], "affinity": None}},
                     id="preferred-wins-when-both-configured"),
    ],
)
def test_without_injected_anti_affinity(before: dict[str, Any], configured: dict[str, Any] | None,
                                        after: dict[str, Any]) -> None:
    assert without_injected_anti_affinity(before, configured) == after
