"""Every install variant from every source is accepted by the real API server.

The sources are the plain bundles (manifests/*.yaml), the kustomize overlays (manifests/kustomize/overlays) and
the Helm chart (charts/rollouts, with each variant's values); the variants are cluster-wide, rollouts-only and
namespace-scoped (manifests/generate.py VARIANTS). The commands are the ones a platform team runs:
`kubectl apply --server-side --dry-run=server -f`, `kustomize build | kubectl apply --server-side
--dry-run=server -f -`, `helm install --dry-run=server`, and a real `helm install` / `helm uninstall` of the
namespace-scoped chart (it creates nothing outside its namespace, so it can be installed for real here).
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import AlreadyExists
from rollouts.kube.resources import NAMESPACE
from tests.support.bundles import REPO, generate, helm_template, kustomize_build, tool
from tests.support.oracles import module_dir

pytestmark = pytest.mark.integration
VARIANTS = {v.overlay: v for v in generate.VARIANTS}
PROMETHEUS_OPERATOR = ("github.com/prometheus-operator/prometheus-operator", "v0.85.0")
"""Its ServiceMonitor CRD (example/prometheus-operator-crd), so the chart's ServiceMonitor is checked against
the real schema."""


def _kubectl(kubectl_bin: str, kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    res = subprocess.run([kubectl_bin, f"--kubeconfig={kubeconfig}", *args], input=stdin, capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0, f"kubectl {' '.join(args)}: {res.stderr}"
    return res.stdout


def _helm(kubeconfig: Path, *args: str) -> str:
    res = subprocess.run([tool("helm"), f"--kubeconfig={kubeconfig}", *args], capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0, f"helm {' '.join(args)}: {res.stderr}"
    return res.stdout


@pytest.fixture(scope="module")
async def rollouts_namespace(kube: KubeClient, crds: None) -> str:
    # the cluster-wide variants' namespaced objects go to `rollouts`; a dry run needs it to exist
    try:
        await kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rollouts"}})
    except AlreadyExists:
        pass
    return "rollouts"


@pytest.fixture(scope="module")
def service_monitor_crd(kubectl_bin: str, kubeconfig: Path) -> None:
    path = module_dir(*PROMETHEUS_OPERATOR) / "example" / "prometheus-operator-crd" / \
        "monitoring.coreos.com_servicemonitors.yaml"
    _kubectl(kubectl_bin, kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", str(path))
    _kubectl(kubectl_bin, kubeconfig, "wait", "--for=condition=Established", "--timeout=60s",
             "crd/servicemonitors.monitoring.coreos.com")


def _dry_run(kubectl_bin: str, kubeconfig: Path, text: str, *namespace: str) -> list[str]:
    out = _kubectl(kubectl_bin, kubeconfig, "apply", "--server-side", "--dry-run=server", "--force-conflicts",
                   "--field-manager=install-test", *namespace, "-f", "-", stdin=text)
    return [line for line in out.splitlines() if line.strip()]


def _count(text: str) -> int:
    return sum(1 for d in yaml.safe_load_all(text) if d)


@pytest.mark.parametrize("overlay", list(VARIANTS))
def test_each_bundle_passes_kubectls_server_side_dry_run(
    overlay: str, rollouts_namespace: str, kubectl_bin: str, kubeconfig: Path, namespace: str
) -> None:
    variant = VARIANTS[overlay]
    text = (REPO / "manifests" / variant.bundle).read_text()
    where = ("-n", namespace) if variant.namespaced else ()
    lines = _dry_run(kubectl_bin, kubeconfig, text, *where)
    assert len(lines) == _count(text) >= 10, lines
    assert all("(server dry run)" in line for line in lines), lines


@pytest.mark.parametrize("overlay", list(VARIANTS))
def test_each_kustomize_overlay_passes_kubectls_server_side_dry_run(
    overlay: str, rollouts_namespace: str, kubectl_bin: str, kubeconfig: Path, namespace: str
) -> None:
    built = kustomize_build(overlay)
    text = yaml.safe_dump_all(built)
    where = ("-n", namespace) if VARIANTS[overlay].namespaced else ()
    lines = _dry_run(kubectl_bin, kubeconfig, text, *where)
    assert len(lines) == len(built) >= 10, lines


@pytest.mark.parametrize("values", [(), ("applications.enabled=false",),
                                    ("controller.metrics.serviceMonitor.enabled=true",
                                     "applications.metrics.serviceMonitor.enabled=true",
                                     "controller.replicas=3", "controller.podAntiAffinity=hard",
                                     "applications.pdb.enabled=true")],
                         ids=lambda v: ",".join(v) or "defaults")
def test_helm_install_of_a_cluster_wide_release_passes_the_servers_dry_run(
    values: tuple[str, ...], service_monitor_crd: None, rollouts_namespace: str, kubectl_bin: str,
    kubeconfig: Path, namespace: str
) -> None:
    # A release name of its own: the cluster-scoped objects of another install (the tests' own CRDs and RBAC)
    # would otherwise be refused by helm as owned by someone else. The CRDs are on the cluster already, so they
    # are dry-run apart (as `helm template | kubectl apply`).
    release = f"h{uuid.uuid4().hex[:6]}"
    sets = [arg for value in values for arg in ("--set", value)]
    out = _helm(kubeconfig, "install", release, str(REPO / "charts" / "rollouts"), "-n", namespace,
                "--dry-run=server", "--set", "crds.install=false", *sets)
    manifest = out.split("MANIFEST:", 1)[1].split("NOTES:", 1)[0]
    kinds = [d["kind"] for d in yaml.safe_load_all(manifest) if d]
    assert "Deployment" in kinds and "CustomResourceDefinition" not in kinds
    if "controller.metrics.serviceMonitor.enabled=true" in values:
        assert kinds.count("ServiceMonitor") == 2
    crds = [d for d in helm_template(*values) if d["kind"] == "CustomResourceDefinition"]
    assert len(_dry_run(kubectl_bin, kubeconfig, yaml.safe_dump_all(crds))) == len(crds) == \
        (5 if "applications.enabled=false" in values else 7)  # 5 Rollout-side kinds (with Experiment), 2 of Argo CD


def test_helm_installs_and_uninstalls_the_namespace_scoped_chart_for_real(
    crds: None, kubectl_bin: str, kubeconfig: Path, namespace: str
) -> None:
    release = "rollouts"
    _helm(kubeconfig, "install", release, str(REPO / "charts" / "rollouts"), "-n", namespace, "--wait=false",
          "--set", "clusterInstall=false", "--set", "applications.enabled=false")
    status = _helm(kubeconfig, "status", release, "-n", namespace)
    assert "STATUS: deployed" in status, status
    role = yaml.safe_load(_kubectl(kubectl_bin, kubeconfig, "get", "role", "rollouts-controller", "-n", namespace,
                                   "-o", "yaml"))
    assert "clusteranalysistemplates" not in {r for rule in role["rules"] for r in rule["resources"]}
    deployment = yaml.safe_load(_kubectl(kubectl_bin, kubeconfig, "get", "deployment", "rollouts-controller", "-n",
                                         namespace, "-o", "yaml"))
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ROLLOUTS_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    _helm(kubeconfig, "uninstall", release, "-n", namespace, "--wait")
    assert "not found" in subprocess.run([tool("helm"), f"--kubeconfig={kubeconfig}", "status", release, "-n",
                                          namespace], capture_output=True, text=True, check=False).stderr
    left = _kubectl(kubectl_bin, kubeconfig, "get", "deployment,role,rolebinding,serviceaccount,service", "-n",
                    namespace, "-l", "app.kubernetes.io/part-of=rollouts", "-o", "name")
    assert not left.strip(), f"helm uninstall left {left}"
