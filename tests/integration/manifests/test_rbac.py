"""What each ServiceAccount of every install variant may do, asked of the real API server (`kubectl auth can-i
--list`): install.yaml, rollouts-only.yaml and namespace-install.yaml, each as the bundle, the kustomize overlay
and the Helm chart render it.

The Rollout controller's rights must be exactly what its features need: the table below is the contract,
each entry with the feature that needs it, and the test fails on any right beyond it (or missing from it).
What every authenticated ServiceAccount may do anyway (self reviews, discovery URLs) is measured on an
unbound ServiceAccount and subtracted. The Application reconciler has its own ServiceAccount with Argo CD's
cluster-wide rights, and the Rollout controller holds none of them.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import AlreadyExists
from tests.support.bundles import bundle, generate, helm_template, kustomize_build

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
RBAC_KINDS = {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
CONTROLLER = "system:serviceaccount:rollouts:rollouts-controller"
APPLICATIONS = "system:serviceaccount:rollouts:rollouts-applications"

# (resource.group, verb) -> the feature that needs it. Cluster-wide (every namespace) unless marked.
CONTROLLER_RIGHTS: dict[tuple[str, str], str] = {
    **{("rollouts.argoproj.io", v): "Rollout informer; fieldRef args read the owning Rollout"
       for v in ("get", "list", "watch")},
    ("rollouts.argoproj.io", "patch"): "notifications record what was sent in the notified annotation",
    ("rollouts.argoproj.io/status", "update"): "status written through the status subresource",
    ("rollouts.argoproj.io/finalizers", "update"): "blockOwnerDeletion on ReplicaSets/AnalysisRuns",
    ("analysisruns.argoproj.io/finalizers", "update"): "blockOwnerDeletion on analysis Jobs",
    **{("analysisruns.argoproj.io", v): "analysis steps: create, watch, terminate, delete past the history"
       for v in ("list", "watch", "create", "patch", "delete")},
    ("analysisruns.argoproj.io/status", "update"): "measurements written through the status subresource",
    **{("experiments.argoproj.io", v): "Experiment informer" for v in ("list", "watch")},
    ("experiments.argoproj.io", "update"): "Experiment status written on the object (no status subresource)",
    ("experiments.argoproj.io/finalizers", "update"): "blockOwnerDeletion on an Experiment's children",
    **{("services", v): "Experiment template Services" for v in ("create", "delete")},
    **{(r, v): "analysis templates informers" for r in ("analysistemplates.argoproj.io",
                                                         "clusteranalysistemplates.argoproj.io")
       for v in ("list", "watch")},
    **{("replicasets.apps", v): "one ReplicaSet per revision, scaled, old ones deleted"
       for v in ("list", "watch", "create", "patch", "delete")},
    **{("deployments.apps", v): "workloadRef template and scaleDown" for v in ("list", "watch", "patch")},
    ("pods", "list"): "pod availability and restart progress",
    ("pods", "patch"): "canary/stable and preview/active metadata on running pods",
    ("pods/eviction", "create"): "restartAt evicts pods (PodDisruptionBudgets honoured)",
    **{("services", v): "stable/canary/active/preview Service selectors" for v in ("get", "list", "watch", "patch")},
    ("events", "create"): "events with Argo's reasons",
    **{("events", v): "notifications: the events recorded on Rollouts are the outbox" for v in ("list", "watch")},
    ("secrets", "get"): "secretKeyRef analysis arguments",
    **{("ingresses.networking.k8s.io", v): "NGINX traffic routing (canary Ingress)"
       for v in ("get", "list", "watch", "create", "patch", "delete")},
    **{("httproutes.gateway.networking.k8s.io", v): "Gateway API traffic routing"
       for v in ("get", "list", "watch", "patch")},
    **{("jobs.batch", v): "job metric provider" for v in ("get", "create", "delete")},
    **{(r, v): "Istio traffic routing (VirtualService routes, DestinationRule subsets)"
       for r in ("virtualservices.networking.istio.io", "destinationrules.networking.istio.io")
       for v in ("get", "list", "watch", "patch")},
    **{("traefikservices.traefik.io", v): "Traefik traffic routing (weighted TraefikService)"
       for v in ("get", "list", "watch", "patch")},
    **{("apisixroutes.apisix.apache.org", v): "APISIX traffic routing (weights; header-route ApisixRoutes we own)"
       for v in ("get", "list", "watch", "create", "patch", "delete")},
    **{("mappings.getambassador.io", v): "Ambassador traffic routing (weighted canary Mappings we own)"
       for v in ("get", "list", "watch", "create", "patch", "delete")},
    **{("trafficsplits.split.smi-spec.io", v): "SMI traffic routing (the TrafficSplit the Rollout owns)"
       for v in ("get", "list", "watch", "create", "patch")},
}
# only in the controller's own namespace
LEADER_ELECTION_RIGHTS = {("leases.coordination.k8s.io", v): "leader election, watched while standing by"
                          for v in ("get", "list", "watch", "create", "update")}
NOTIFICATION_RIGHTS = {(r, v): "notification ConfigMap and Secret" for r in ("configmaps", "secrets")
                       for v in ("get", "list", "watch")}
NEVER = [("create", "pods/exec"), ("delete", "pods"), ("delete", "namespaces"), ("impersonate", "serviceaccounts"),
         ("escalate", "clusterroles"), ("bind", "clusterroles"), ("create", "deployments"), ("list", "secrets"),
         ("update", "rollouts"), ("create", "clusterrolebindings"), ("get", "configmaps")]


async def _apply_rbac(kube: KubeClient, docs: list[dict[str, Any]] | None = None, *,
                      namespace: str = "rollouts") -> None:
    """The RBAC objects (and ServiceAccounts) of a variant; namespace-less ones (a namespace install) go to
    `namespace`. An unbound ServiceAccount there measures what anyone may do anyway."""
    if docs is None:
        docs = [d for d in yaml.safe_load_all((REPO / "manifests" / "install.yaml").read_text()) if d]
    for doc in docs:
        if doc["kind"] not in RBAC_KINDS:
            continue
        if doc["kind"] not in generate.CLUSTER_KINDS and not doc["metadata"].get("namespace"):
            doc = generate.in_namespace(doc, namespace)
        kind = await kube.resolve(doc["apiVersion"], doc["kind"])
        await kube.apply(kind, doc, field_manager="rbac-test")
    service_account = await kube.resolve("v1", "ServiceAccount")
    try:
        await kube.create(service_account, {"apiVersion": "v1", "kind": "ServiceAccount",
                                           "metadata": {"name": "rbac-test-nobody", "namespace": namespace}},
                          namespace)
    except AlreadyExists:
        pass


def _can_i_list(kubectl: str, kubeconfig: Path, user: str, namespace: str) -> set[tuple[str, str]]:
    out = subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", "auth", "can-i", "--list", f"--as={user}",
                          "-n", namespace], check=True, capture_output=True, text=True).stdout
    rights: set[tuple[str, str]] = set()
    for line in out.splitlines()[1:]:
        columns = re.split(r"\s{2,}", line.strip())
        if line.startswith(" "):  # a non-resource URL row: its first column is empty
            url, _names, verbs = columns
            rights |= {(f"url:{url}", verb) for verb in verbs.strip("[]").split()}
            continue
        resource, _urls, names, verbs = columns
        assert names == "[]", f"{user}: a rule limited to resource names is not expected here: {line}"
        rights |= {(resource, verb) for verb in verbs.strip("[]").split()}
    return rights


def _can_i(kubectl: str, kubeconfig: Path, user: str, verb: str, resource: str) -> bool:
    res = subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", "auth", "can-i", verb, resource, f"--as={user}",
                          "--all-namespaces"], capture_output=True, text=True, check=False)
    return res.stdout.strip() == "yes"


@pytest.fixture(scope="module")
async def rbac(kube: KubeClient, crds: None) -> None:
    await _apply_rbac(kube)


def _unexpected(seen: set[tuple[str, str]], allowed: dict[tuple[str, str], str]) -> list[str]:
    return sorted(f"{verb} {resource}" for resource, verb in seen - allowed.keys())


def _missing(seen: set[tuple[str, str]], allowed: dict[tuple[str, str], str]) -> list[str]:
    return sorted(f"{verb} {resource} ({why})" for (resource, verb), why in allowed.items() if (resource, verb) not in seen)


async def test_the_rollout_controller_may_do_exactly_what_its_features_need(
    rbac: None, kubectl_bin: str, kubeconfig: Path, namespace: str
) -> None:
    for ns, allowed in ((namespace, CONTROLLER_RIGHTS), ("rollouts", {**CONTROLLER_RIGHTS, **LEADER_ELECTION_RIGHTS,
                                                                    **NOTIFICATION_RIGHTS})):
        baseline = _can_i_list(kubectl_bin, kubeconfig, "system:serviceaccount:rollouts:rbac-test-nobody", ns)
        seen = _can_i_list(kubectl_bin, kubeconfig, CONTROLLER, ns) - baseline
        assert not _unexpected(seen, allowed), (
            f"in namespace {ns} the Rollout controller may do what no feature needs: {_unexpected(seen, allowed)}")
        assert not _missing(seen, allowed), f"in namespace {ns} the Rollout controller lacks: {_missing(seen, allowed)}"
    for verb, resource in NEVER:
        assert not _can_i(kubectl_bin, kubeconfig, CONTROLLER, verb, resource), \
            f"the Rollout controller may {verb} {resource}"


async def test_the_application_reconciler_has_its_own_identity_with_argo_cds_rights(
    rbac: None, kubectl_bin: str, kubeconfig: Path, namespace: str
) -> None:
    seen = _can_i_list(kubectl_bin, kubeconfig, APPLICATIONS, namespace)
    assert ("*.*", "*") in seen, seen
    assert _can_i(kubectl_bin, kubeconfig, APPLICATIONS, "create", "deployments")
    docs: list[dict[str, Any]] = [d for d in yaml.safe_load_all((REPO / "manifests" / "install.yaml").read_text()) if d]
    deployments = {d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in docs if d["kind"] == "Deployment"}
    assert deployments["rollouts-controller"]["serviceAccountName"] == "rollouts-controller"
    assert deployments["rollouts-applications"]["serviceAccountName"] == "rollouts-applications"
    bindings = [d for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")]
    for binding in bindings:
        subjects = {s["name"] for s in binding["subjects"]}
        assert len(subjects) == 1, f"{binding['metadata']['name']} binds several ServiceAccounts: {subjects}"
        if binding["roleRef"]["name"] == "rollouts-applications":
            assert subjects == {"rollouts-applications"}


# A namespace install has Roles only: ClusterAnalysisTemplates (cluster-scoped) are not readable, and nothing
# at all outside its namespace.
CLUSTER_SCOPED_RIGHTS = {k for k in CONTROLLER_RIGHTS if k[0] == "clusteranalysistemplates.argoproj.io"}
SOURCES = ("bundle", "kustomize", "helm")


def _variant_docs(variant: Any, source: str, namespace: str) -> list[dict[str, Any]]:
    if source == "bundle":
        return bundle(variant.bundle)
    if source == "kustomize":
        return kustomize_build(variant.overlay)
    return helm_template(*variant.chart_values, namespace=namespace if variant.namespaced else "rollouts")


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("overlay", [v.overlay for v in generate.VARIANTS])
async def test_every_variant_grants_the_rollout_controller_exactly_what_its_features_need(
    overlay: str, source: str, kube: KubeClient, crds: None, kubectl_bin: str, kubeconfig: Path, namespace: str
) -> None:
    variant = next(v for v in generate.VARIANTS if v.overlay == overlay)
    if not variant.namespaced:
        await _apply_rbac(kube, _variant_docs(variant, source, "rollouts"))
        checks = [(namespace, CONTROLLER_RIGHTS),
                  ("rollouts", {**CONTROLLER_RIGHTS, **LEADER_ELECTION_RIGHTS, **NOTIFICATION_RIGHTS})]
        user = CONTROLLER
        nobody = "system:serviceaccount:rollouts:rbac-test-nobody"
    else:
        # installed into this test's namespace; `elsewhere` is any other namespace
        await _apply_rbac(kube, _variant_docs(variant, source, namespace), namespace=namespace)
        own = {k: v for k, v in CONTROLLER_RIGHTS.items() if k not in CLUSTER_SCOPED_RIGHTS}
        checks = [(namespace, {**own, **LEADER_ELECTION_RIGHTS, **NOTIFICATION_RIGHTS}), ("default", {})]
        user = f"system:serviceaccount:{namespace}:rollouts-controller"
        nobody = f"system:serviceaccount:{namespace}:rbac-test-nobody"
    for ns, allowed in checks:
        baseline = _can_i_list(kubectl_bin, kubeconfig, nobody, ns)
        seen = _can_i_list(kubectl_bin, kubeconfig, user, ns) - baseline
        assert not _unexpected(seen, allowed), \
            f"{source} {overlay}: in namespace {ns} the Rollout controller may do what no feature needs: " \
            f"{_unexpected(seen, allowed)}"
        assert not _missing(seen, allowed), \
            f"{source} {overlay}: in namespace {ns} the Rollout controller lacks: {_missing(seen, allowed)}"
    for verb, resource in NEVER:
        assert not _can_i(kubectl_bin, kubeconfig, user, verb, resource), \
            f"{source} {overlay}: the Rollout controller may {verb} {resource}"
    if variant.namespaced:
        for verb, resource in (("list", "rollouts"), ("list", "clusteranalysistemplates"), ("watch", "pods")):
            assert not _can_i(kubectl_bin, kubeconfig, user, verb, resource), \
                f"{source} {overlay}: a namespace install may {verb} {resource} in every namespace"
