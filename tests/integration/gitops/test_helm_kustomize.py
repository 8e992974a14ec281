"""Helm and kustomize sources end to end, with the real binaries the testbed builds (testbed/build-tools.sh):
render, sync, diff (drift from a Git change), prune, and every source setting Argo CD users rely on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CONFIGMAP, DEPLOYMENT
from tests.integration.gitops.conftest import app_probe, application, cm, deployment, status_of, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration

CHART = {"apiVersion": "v2", "name": "web", "version": "0.1.0"}
# One template that shows what Helm was given: values, release name, the target cluster's capabilities.
CONFIG_TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  color: {{ .Values.color | quote }}
  size: {{ .Values.size | quote }}
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  rollouts: {{ .Capabilities.APIVersions.Has "argoproj.io/v1alpha1/Rollout" | quote }}
"""
EXTRA_TEMPLATE = """{{- if .Values.extra }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-extra
data:
  enabled: "yes"
{{- end }}
"""
CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "widgets.health.example.com"},
       "spec": {"group": "health.example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "schema": {"openAPIV3Schema": {"type": "object",
                                                             "x-kubernetes-preserve-unknown-fields": True}}}]}}


def write_chart(repo: GitRepo, *, extra: bool = True) -> None:
    repo.write("chart/Chart.yaml", CHART)
    repo.write("chart/values.yaml", {"color": "blue", "size": "small", "extra": extra})
    repo.write("chart/values-prod.yaml", {"color": "red"})
    repo.write("chart/templates/config.yaml", CONFIG_TEMPLATE)
    repo.write("chart/templates/extra.yaml", EXTRA_TEMPLATE)


def helm_app(name: str, repo: GitRepo, namespace: str, **helm: Any) -> dict[str, Any]:
    body = application(name, repo, namespace, path="chart", automated={"prune": True})
    if helm:
        body["spec"]["source"]["helm"] = helm
    return body


async def get_or_none(kube: KubeClient, kind: Any, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        return await kube.get(kind, name, namespace)
    except NotFound:
        return None


def has_condition(text: str) -> Any:
    def check(app: dict[str, Any]) -> bool:
        return any(text in c.get("message", "") for c in status_of(app).get("conditions") or [])
    return check


async def test_helm_values_parameters_release_name_and_cluster_capabilities(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    write_chart(repo)
    first = repo.commit()
    await kube.create(APPLICATION, helm_app(
        "web", repo, namespace, releaseName="shop", valueFiles=["values-prod.yaml"],
        parameters=[{"name": "size", "value": "large"}], valuesObject={"extra": True}), namespace)
    probe = app_probe(kube, "web", namespace)
    app = await eventually(probe, synced_at(first), timeout=90, expected="the Helm app Synced")
    assert status_of(app)["sourceType"] == "Helm"
    config = await kube.get(CONFIGMAP, "shop-config", namespace)
    version, _ = await kube.capabilities()
    # values.yaml < valueFiles < valuesObject < parameters; --kube-version/--api-versions from this cluster.
    assert config["data"] == {"color": "red", "size": "large", "kube": version, "rollouts": "true"}
    assert (await kube.get(CONFIGMAP, "shop-extra", namespace))["data"] == {"enabled": "yes"}

    # A change in Git is drift, synced; an object whose template left the chart is pruned.
    repo.write("chart/values-prod.yaml", {"color": "green"})
    repo.remove("chart/templates/extra.yaml")
    second = repo.commit()
    await eventually(probe, synced_at(second), timeout=90, expected="the new commit Synced")
    assert (await kube.get(CONFIGMAP, "shop-config", namespace))["data"]["color"] == "green"
    await eventually(lambda: get_or_none(kube, CONFIGMAP, "shop-extra", namespace), lambda o: o is None,
                     timeout=60, expected="shop-extra pruned once its template left the chart")


async def test_helm_source_overrides_kube_version_and_api_versions(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    write_chart(repo, extra=False)
    sha = repo.commit()
    await kube.create(APPLICATION, helm_app("pinned", repo, namespace, kubeVersion="1.29.0",
                                            apiVersions=["v1", "example.com/v1/Thing"]), namespace)
    await eventually(app_probe(kube, "pinned", namespace), synced_at(sha), timeout=90, expected="Synced")
    data = (await kube.get(CONFIGMAP, "pinned-config", namespace))["data"]
    assert (data["kube"], data["rollouts"]) == ("v1.29.0", "false")


async def test_missing_value_files_fail_the_comparison_unless_ignored(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    write_chart(repo, extra=False)
    sha = repo.commit()
    await kube.create(APPLICATION, helm_app("strict", repo, namespace, valueFiles=["values-missing.yaml"]),
                      namespace)
    app = await eventually(app_probe(kube, "strict", namespace), has_condition("values-missing.yaml"), timeout=60,
                           expected="a ComparisonError naming the missing values file")
    assert status_of(app)["conditions"][0]["type"] == "ComparisonError"
    assert await get_or_none(kube, CONFIGMAP, "strict-config", namespace) is None
    await kube.create(APPLICATION, helm_app("lenient", repo, namespace, valueFiles=["values-missing.yaml"],
                                            ignoreMissingValueFiles=True), namespace)
    await eventually(app_probe(kube, "lenient", namespace), synced_at(sha), timeout=90,
                     expected="ignoreMissingValueFiles renders without the missing file")
    assert (await kube.get(CONFIGMAP, "lenient-config", namespace))["data"]["color"] == "blue"


async def test_skip_crds(kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("chart/Chart.yaml", CHART)
    repo.write("chart/values.yaml", {})
    repo.write("chart/crds/widget.yaml", CRD)
    repo.write("chart/templates/cm.yaml", cm("{{ .Release.Name }}-plain"))
    sha = repo.commit()
    await kube.create(APPLICATION, helm_app("nocrds", repo, namespace, skipCrds=True), namespace)
    app = await eventually(app_probe(kube, "nocrds", namespace), synced_at(sha), timeout=90, expected="Synced")
    assert {r["kind"] for r in status_of(app)["resources"]} == {"ConfigMap"}, "the chart's CRD was skipped"


KUSTOMIZE_COMPONENT = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
                       "patches": [{"patch": json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                                         "metadata": {"name": "settings"},
                                                         "data": {"from-component": "yes"}})}]}


async def test_kustomize_images_prefix_labels_components_patches_replicas(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("settings"))
    repo.write("app/deploy.yaml", deployment("web", image="nginx:1"))
    repo.write("app/kustomization.yaml", {"resources": ["cm.yaml", "deploy.yaml"]})
    repo.write("app/components/flag/kustomization.yaml", KUSTOMIZE_COMPONENT)
    repo.write("app/patches/deploy.yaml", {"apiVersion": "apps/v1", "kind": "Deployment",
                                           "metadata": {"name": "web", "annotations": {"patched": "from-file"}}})
    first = repo.commit()
    body = application("kust", repo, namespace, path="app", automated={"prune": True})
    body["spec"]["source"]["kustomize"] = {
        "namePrefix": "dev-", "commonLabels": {"env": "dev"}, "images": ["nginx=nginx:1.27"],
        "components": ["components/flag"], "replicas": [{"name": "web", "count": 2}],
        "patches": [{"path": "patches/deploy.yaml"},
                    {"target": {"kind": "ConfigMap"},
                     "patch": '[{"op": "add", "path": "/data/inline", "value": "json6902"}]'}]}
    await kube.create(APPLICATION, body, namespace)
    probe = app_probe(kube, "kust", namespace)
    app = await eventually(probe, synced_at(first), timeout=90, expected="the kustomize app Synced")
    assert status_of(app)["sourceType"] == "Kustomize"
    settings = await kube.get(CONFIGMAP, "dev-settings", namespace)
    assert settings["metadata"]["labels"]["env"] == "dev"
    assert settings["data"] == {"key": "v", "from-component": "yes", "inline": "json6902"}
    web = await kube.get(DEPLOYMENT, "dev-web", namespace)
    assert web["spec"]["replicas"] == 2
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert web["metadata"]["annotations"]["patched"] == "from-file"

    # Drift from Git and prune: drop the ConfigMap from the base, change the image.
    repo.write("app/kustomization.yaml", {"resources": ["deploy.yaml"]})
    repo.remove("app/components/flag/kustomization.yaml")
    body_patch = {"spec": {"source": {"kustomize": {"images": ["nginx=nginx:1.28"], "components": []}}}}
    second = repo.commit()
    await kube.patch(APPLICATION, "kust", body_patch, namespace)
    await eventually(probe, synced_at(second), timeout=90, expected="the new commit Synced")
    await eventually(lambda: get_or_none(kube, CONFIGMAP, "dev-settings", namespace), lambda o: o is None,
                     timeout=60, expected="dev-settings pruned once it left the kustomization")
    web = await kube.get(DEPLOYMENT, "dev-web", namespace)
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"


async def test_missing_kustomize_component_is_named(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("settings"))
    repo.write("app/kustomization.yaml", {"resources": ["cm.yaml"]})
    repo.commit()
    body = application("nocomp", repo, namespace, path="app", automated={})
    body["spec"]["source"]["kustomize"] = {"components": ["components/absent"]}
    await kube.create(APPLICATION, body, namespace)
    await eventually(app_probe(kube, "nocomp", namespace), has_condition("components/absent"), timeout=60,
                     expected="a ComparisonError naming the missing component")
