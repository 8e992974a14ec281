"""manifests/install.yaml and rollouts-only.yaml are generated: they must match their sources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
