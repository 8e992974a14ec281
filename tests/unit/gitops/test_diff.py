from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.api.application import ResourceIgnoreDifferences
from rollouts.gitops.diff import compare, keep_ignored_fields, managed_paths, normalize, remove_jq_path

DEPLOY: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "ns", "labels": {"app": "web"}},
    "spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]},
        {"name": "side", "image": "busybox"}]}}},
}


def live_of(desired: dict[str, Any], **changes: Any) -> dict[str, Any]:
    live = copy.deepcopy(desired)
    live["metadata"].update({"uid": "u1", "resourceVersion": "7", "generation": 3,
                             "creationTimestamp": "2024-01-01T00:00:00Z",
                             "managedFields": [{"manager": "kube-controller-manager", "fieldsV1": {}}]})
    live["status"] = {"replicas": 2}
    live.update(changes)
    return live


def test_server_written_fields_are_not_drift() -> None:
    assert not compare(DEPLOY, live_of(DEPLOY)).modified


def test_a_changed_field_is_drift_with_a_unified_diff() -> None:
    live = live_of(DEPLOY)
    live["spec"]["replicas"] = 5
    diff = compare(DEPLOY, live)
    assert diff.modified
    assert "-  replicas: 5" in diff.text and "+  replicas: 2" in diff.text
    assert "live/apps/Deployment/ns/web" in diff.text


def test_missing_live_object_is_drift() -> None:
    assert compare(DEPLOY, None).modified


def test_secret_string_data_equals_data() -> None:
    desired = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"pw": "hunter2"}}
    live: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "uid": "x"},
            "data": {"pw": base64.b64encode(b"hunter2").decode()}}
    assert not compare(desired, live).modified
    live["data"]["pw"] = base64.b64encode(b"other").decode()
    assert compare(desired, live).modified


@pytest.mark.parametrize(
    ("rule", "mutate"),
    [
        pytest.param(ResourceIgnoreDifferences(group="apps", kind="Deployment", json_pointers=["/spec/replicas"]),
                     lambda o: o["spec"].__setitem__("replicas", 9), id="json-pointer"),
        pytest.param(ResourceIgnoreDifferences(group="apps", kind="*", name="web",
                                               jq_path_expressions=['.spec.template.spec.containers[] | '
                                                                    'select(.name == "app") | .image']),
                     lambda o: o["spec"]["template"]["spec"]["containers"][0].__setitem__("image", "nginx:2"),
                     id="jq-select"),
        pytest.param(ResourceIgnoreDifferences(group="apps", kind="Deployment",
                                               managed_fields_managers=["hpa-controller"]),
                     lambda o: o["spec"].__setitem__("replicas", 7), id="managed-fields-manager"),
    ],
)
def test_ignore_differences(rule: ResourceIgnoreDifferences, mutate: Any) -> None:
    live = live_of(DEPLOY)
    live["metadata"]["managedFields"].append(
        {"manager": "hpa-controller", "fieldsV1": {"f:spec": {"f:replicas": {}}}})
    mutate(live)
    assert compare(DEPLOY, live).modified
    assert not compare(DEPLOY, live, [rule]).modified


def test_ignore_rule_for_another_kind_does_not_apply() -> None:
    live = live_of(DEPLOY)
    live["spec"]["replicas"] = 9
    rule = ResourceIgnoreDifferences(group="apps", kind="StatefulSet", json_pointers=["/spec/replicas"])
    assert compare(DEPLOY, live, [rule]).modified


def test_jq_each_removes_every_item_field() -> None:
    obj = copy.deepcopy(DEPLOY)
    remove_jq_path(obj, ".spec.template.spec.containers[].image")
    assert all("image" not in c for c in obj["spec"]["template"]["spec"]["containers"])


def test_jq_outside_subset_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unsupported jq path expression"):
        remove_jq_path(copy.deepcopy(DEPLOY), ".spec | map(.x)")


def test_managed_paths_follow_keyed_list_items() -> None:
    live = {"metadata": {"managedFields": [{"manager": "m", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {
        "f:containers": {'k:{"name":"app"}': {"f:image": {}}}}}}}}]}}
    assert managed_paths(live, ["m"]) == [("spec", "template", "spec", "containers", {"name": "app"}, "image")]


@given(st.dictionaries(st.sampled_from(["uid", "resourceVersion", "generation", "creationTimestamp"]),
                       st.text(max_size=5)))
def test_normalize_ignores_server_metadata(extra: dict[str, str]) -> None:
    live = copy.deepcopy(DEPLOY)
    live["metadata"].update(extra)
    assert normalize(live) == normalize(DEPLOY)


def _deploy(replicas: int | None, image: str, **annotations: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"template": {"spec": {"containers": [{"name": "app", "image": image},
                                                                 {"name": "side", "image": "side:1"}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "annotations": annotations}, "spec": spec}


@pytest.mark.parametrize(("rule", "desired", "live", "expected"), [
    pytest.param({"jsonPointers": ["/spec/replicas"]}, _deploy(2, "app:2"), _deploy(5, "app:1"), _deploy(5, "app:2"),
                 id="pointer-takes-live-value"),
    pytest.param({"jsonPointers": ["/spec/replicas"]}, _deploy(2, "app:2"), _deploy(None, "app:1"),
                 _deploy(None, "app:2"), id="pointer-absent-live-removes"),
    pytest.param({"jqPathExpressions": ['.spec.template.spec.containers[] | select(.name == "side") | .image']},
                 _deploy(2, "app:2"), {**_deploy(2, "app:1"), "spec": {**_deploy(2, "app:1")["spec"], "template": {
                     "spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "side", "image": "side:9"}]}}}},
                 {**_deploy(2, "app:2"), "spec": {**_deploy(2, "app:2")["spec"], "template": {
                     "spec": {"containers": [{"name": "app", "image": "app:2"}, {"name": "side", "image": "side:9"}]}}}},
                 id="jq-select-keeps-live-sidecar"),
    pytest.param({"jsonPointers": ["/metadata/annotations/owner"]}, _deploy(2, "app:2"),
                 _deploy(2, "app:1", owner="ops"), _deploy(2, "app:2", owner="ops"), id="pointer-added-live-kept"),
    pytest.param({"jsonPointers": ["/spec/paused"]}, _deploy(2, "app:2"), _deploy(5, "app:1"), _deploy(2, "app:2"),
                 id="nothing-matches"),
])
def test_respect_ignore_differences_keeps_live_values(rule: dict[str, Any], desired: dict[str, Any],
                                                      live: dict[str, Any], expected: dict[str, Any]) -> None:
    rules = [ResourceIgnoreDifferences.model_validate({"group": "apps", "kind": "Deployment", **rule})]
    before = copy.deepcopy(desired)
    assert keep_ignored_fields(desired, live, rules) == expected
    assert desired == before, "the comparison's desired object is not changed"
