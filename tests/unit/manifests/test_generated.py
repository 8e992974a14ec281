"""The bundles, the kustomize tree and the chart's generated parts (manifests/generate.py) match their sources,
and the bundles have what issue 18 found missing (PodDisruptionBudget, anti-affinity, NetworkPolicy,
ephemeral-storage, a real image) and a namespace install that needs namespace rights only."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]


def test_install_manifests_have_not_drifted() -> None:
    res = subprocess.run([sys.executable, str(REPO / "manifests" / "generate.py"), "--check"], capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0, res.stderr


def kinds(path: Path) -> list[tuple[str, str]]:
    return [(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(path.read_text()) if d]


def test_rollouts_only_leaves_out_the_application_reconciler() -> None:
    full = kinds(REPO / "manifests" / "install.yaml")
    only = kinds(REPO / "manifests" / "rollouts-only.yaml")
    assert ("CustomResourceDefinition", "applications.argoproj.io") in full
    assert ("CustomResourceDefinition", "applications.argoproj.io") not in only
    assert ("ClusterRole", "rollouts-applications") not in only
    deployment = next(d for d in yaml.safe_load_all((REPO / "manifests" / "rollouts-only.yaml").read_text())
                      if d and d["kind"] == "Deployment")
    assert "--disable-applications" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]


def test_controller_deployment_is_hardened() -> None:
    deployment = next(d for d in yaml.safe_load_all((REPO / "manifests" / "install.yaml").read_text())
                      if d and d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert deployment["spec"]["replicas"] == 2 and "--leader-elect" in container["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["limits"] and container["resources"]["requests"]


def test_every_rbac_rule_says_which_feature_needs_it() -> None:
    for path in (REPO / "manifests" / "base").glob("rbac-*.yaml"):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip().startswith(("- apiGroups:", "- nonResourceURLs:")):
                assert lines[i - 1].strip().startswith("#"), \
                    f"{path.name}:{i + 1}: rule without a comment saying which feature needs it"


def test_the_two_reconcilers_run_apart_under_their_own_service_accounts() -> None:
    docs = [d for d in yaml.safe_load_all((REPO / "manifests" / "install.yaml").read_text()) if d]
    deployments = {d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {"rollouts-controller", "rollouts-applications"}
    controller, applications = deployments["rollouts-controller"], deployments["rollouts-applications"]
    assert controller["serviceAccountName"] == "rollouts-controller"
    assert applications["serviceAccountName"] == "rollouts-applications"
    assert "--disable-applications" in controller["containers"][0]["args"]
    assert {"--disable-rollouts", "--disable-analysis"} <= set(applications["containers"][0]["args"])
    webhook = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "rollouts-gitops-webhook")
    assert webhook["spec"]["selector"] == {"app.kubernetes.io/name": "rollouts-applications"}
    only = [d for d in yaml.safe_load_all((REPO / "manifests" / "rollouts-only.yaml").read_text()) if d]
    assert not [d["metadata"]["name"] for d in only if d["metadata"]["name"].startswith("rollouts-applications")]
    assert not any(s.get("name") == "rollouts-applications" for d in only for s in d.get("subjects") or [])


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((REPO / "manifests" / name).read_text()) if d]


BUNDLES = ["install.yaml", "rollouts-only.yaml", "namespace-install.yaml"]


@pytest.mark.parametrize("name", BUNDLES)
def test_every_bundle_names_the_one_published_image(name: str) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    expected = f"{project['tool']['rollouts']['image-repository']}:v{project['project']['version']}"
    images = {c["image"] for d in _docs(name) if d["kind"] == "Deployment"
              for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {expected}
    assert "example" not in expected and "<" not in expected


@pytest.mark.parametrize("name", BUNDLES)
def test_disruption_budget_anti_affinity_network_policy_and_ephemeral_storage(name: str) -> None:
    docs = _docs(name)
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    for deployment in deployments.values():
        pod = deployment["spec"]["template"]
        labels = pod["metadata"]["labels"]
        container = pod["spec"]["containers"][0]
        for side in ("requests", "limits"):
            assert "ephemeral-storage" in container["resources"][side], (deployment["metadata"]["name"], side)
        assert pod["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {
            "sizeLimit": container["resources"]["limits"]["ephemeral-storage"]}}]
        selecting = [p for p in policies if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()]
        assert len(selecting) == 1, f"{deployment['metadata']['name']}: {len(selecting)} NetworkPolicies select it"
        ports = {p["name"] for p in container["ports"]}
        allowed = {p["port"] for rule in selecting[0]["spec"]["ingress"] for p in rule["ports"]}
        assert allowed == ports, "ingress is allowed exactly on the ports the controller listens on"
        if deployment["spec"]["replicas"] > 1:
            assert [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
                    and b["spec"]["maxUnavailable"] == 1]
            term = pod["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
            assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
            assert term["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= labels.items()


def test_the_namespace_install_needs_namespace_rights_only() -> None:
    docs = _docs("namespace-install.yaml")
    assert not [d["kind"] for d in docs if d["kind"] in ("Namespace", "CustomResourceDefinition", "ClusterRole",
                                                         "ClusterRoleBinding")]
    assert not [d["metadata"]["name"] for d in docs if "namespace" in d["metadata"]], "applied with -n NAMESPACE"
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"} == {"rollouts-controller"}
    container = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["ROLLOUTS_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    role = next(d for d in docs if d["kind"] == "Role" and d["metadata"]["name"] == "rollouts-controller")
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert "clusteranalysistemplates" not in resources and "analysistemplates" in resources
    binding = next(d for d in docs if d["kind"] == "RoleBinding" and d["metadata"]["name"] == "rollouts-controller")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "rollouts-controller"}


def test_a_stray_file_in_a_generated_directory_is_reported(tmp_path: Path) -> None:
    stray = REPO / "manifests" / "kustomize" / "crds" / "stray.yaml"
    stray.write_text("kind: Nothing\n")
    try:
        res = subprocess.run([sys.executable, str(REPO / "manifests" / "generate.py"), "--check"],
                             capture_output=True, text=True, check=False)
    finally:
        stray.unlink()
    assert res.returncode == 1 and "manifests/kustomize/crds/stray.yaml is no longer generated" in res.stderr
