"""The selector hash a Rollout pinned on a Git-declared Service survives the Application's apply."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.gitops.rollout_fields import with_rollout_fields


def service(selector: dict[str, str], *, managed: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web-stable", "namespace": "shop"}
    if managed:
        meta["annotations"] = {"argo-rollouts.argoproj.io/managed-by-rollouts": "web"}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {"selector": selector}}


DESIRED = service({"app": "web"})
PINNED = {"app": "web", "rollouts-pod-template-hash": "5f7c"}


@pytest.mark.parametrize(
    ("desired", "live", "selector"),
    [
        pytest.param(DESIRED, service(PINNED, managed=True), PINNED, id="managed-service-keeps-the-hash"),
        pytest.param(DESIRED, service(PINNED), {"app": "web"}, id="not-managed-by-a-rollout"),
        pytest.param(DESIRED, None, {"app": "web"}, id="not-created-yet"),
        pytest.param(service({"app": "web", "rollouts-pod-template-hash": "git"}), service(PINNED, managed=True),
                     {"app": "web", "rollouts-pod-template-hash": "git"}, id="git-states-a-hash-itself"),
        pytest.param({**DESIRED, "kind": "ConfigMap"}, service(PINNED, managed=True), {"app": "web"},
                     id="other-kinds-untouched"),
    ],
)
def test_selector_after_carrying_rollout_fields(desired: dict[str, Any], live: dict[str, Any] | None,
                                                selector: dict[str, str]) -> None:
    out = with_rollout_fields(desired, live)
    assert out["spec"]["selector"] == selector
    assert desired["spec"]["selector"] in ({"app": "web"}, {"app": "web", "rollouts-pod-template-hash": "git"}), \
        "the input is not modified"
