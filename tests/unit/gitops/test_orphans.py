"""Orphaned resources as Argo CD's application controller finds them (controller/appcontroller.go:
getResourceTree and isKnownOrphanedResourceExclusion, Argo CD v3.6.1; docs/user-guide/orphaned-resources.md)."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.api.appproject import AppProjectSpec
from rollouts.gitops.orphans import orphaned_resources, orphans_message, warns_of_orphans
from rollouts.gitops.tracking import ResourceKey, tracking_id


def obj(kind: str, name: str, *, api: str = "v1", namespace: str = "shop", owned: bool = False,
        app: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if owned:
        meta["ownerReferences"] = [{"kind": "Deployment", "name": "web", "uid": "u"}]
    group = api.rpartition("/")[0]
    if app is not None:
        meta["annotations"] = {"argocd.argoproj.io/tracking-id": tracking_id(
            app, ResourceKey(group, kind, namespace, name))}
    return {"apiVersion": api, "kind": kind, "metadata": meta}


def project(**orphaned: Any) -> AppProjectSpec:
    return AppProjectSpec.model_validate({"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}],
                                          "orphanedResources": orphaned})


LIVE = [
    obj("Deployment", "web", api="apps/v1", app="shop"),          # managed by this application
    obj("ReplicaSet", "web-5d8", api="apps/v1", owned=True),      # not top-level
    obj("ConfigMap", "kube-root-ca.crt"),                         # never orphaned
    obj("ServiceAccount", "default"),                             # never orphaned
    obj("Event", "web.17"), obj("Lease", "l", api="coordination.k8s.io/v1"),  # never watched by Argo CD
    obj("Endpoints", "web"),                                      # excluded by Argo CD's default install
    obj("ConfigMap", "hand-made"),                                # orphan
    obj("Secret", "left-over", app="gone"),                       # tracked by an application that is gone
    obj("Secret", "billing-db", app="billing"),                   # another existing application's
]
MANAGED = [ResourceKey("apps", "Deployment", "shop", "web")]


@pytest.mark.parametrize(("settings", "blacklist", "expected"), [
    pytest.param({"warn": True}, None, ["ConfigMap/hand-made", "Secret/left-over"], id="warn"),
    pytest.param({"warn": True, "ignore": [{"kind": "Secret", "name": "left-*"}]}, None, ["ConfigMap/hand-made"],
                 id="ignore-glob"),
    pytest.param({"warn": True, "ignore": [{"group": "", "kind": "ConfigMap"}]}, None, ["Secret/left-over"],
                 id="ignore-kind-any-name"),
    pytest.param({"warn": True, "ignore": [{"group": "apps", "kind": "ConfigMap"}]}, None,
                 ["ConfigMap/hand-made", "Secret/left-over"], id="ignore-other-group"),
    pytest.param({"warn": True}, [{"group": "", "kind": "Secret"}], ["ConfigMap/hand-made"], id="denied-kind"),
])
def test_orphans_as_argo_cd(settings: dict[str, Any], blacklist: list[dict[str, str]] | None,
                            expected: list[str]) -> None:
    spec = project(**settings)
    if blacklist is not None:
        spec = spec.model_copy(update={"namespace_resource_blacklist": AppProjectSpec.model_validate(
            {"namespaceResourceBlacklist": blacklist}).namespace_resource_blacklist})
    found = orphaned_resources(LIVE, managed=MANAGED, project=spec, applications=["shop", "billing"])
    assert [f"{k.kind}/{k.name}" for k in found] == expected


@pytest.mark.parametrize(("settings", "warns"), [({"warn": True}, True), ({"warn": False}, False), ({}, False)],
                         ids=["warn-true", "warn-false", "unset-is-false"])
def test_warning_only_with_warn_true(settings: dict[str, Any], warns: bool) -> None:
    assert warns_of_orphans(project(**settings)) is warns
    assert not warns_of_orphans(None)
    assert orphans_message(2) == "Application has 2 orphaned resources"
