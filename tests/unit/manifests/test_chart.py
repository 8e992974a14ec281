"""The Helm chart (charts/rollouts) renders the bundles, and each of its values does what values.yaml says.

The chart is written by hand; what keeps it from drifting is this test: `helm template` with the values of each
variant (manifests/generate.py VARIANTS) must give exactly the objects of its bundle, helm's own labels aside.
The server-side dry run of the rendered objects is tests/integration/manifests/test_install.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.bundles import Doc, bundle, differences, generate, helm_template, tool

CHART = Path(__file__).resolve().parents[3] / "charts" / "rollouts"
VARIANTS = {v.bundle: v for v in generate.VARIANTS}


def _one(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: rendered {len(found)} times; rendered {[(d['kind'], d['metadata']['name']) for d in docs]}"
    return found[0]


def _container(docs: list[Doc], name: str) -> dict[str, Any]:
    container: dict[str, Any] = _one(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
    return container


def _fails(*values: str) -> str:
    args = [tool("helm"), "template", "rollouts", str(CHART), "-n", "rollouts"]
    for value in values:
        args += ["--set", value]
    res = subprocess.run(args, capture_output=True, text=True, check=False)
    assert res.returncode != 0, f"helm template {values} rendered instead of refusing"
    return res.stderr


@pytest.mark.parametrize("values", [(), *(v.chart_values for v in generate.VARIANTS if v.chart_values),
                                    ("controller.metrics.serviceMonitor.enabled=true", "controller.replicas=3")],
                         ids=lambda v: ",".join(v) or "defaults")
def test_helm_lint_strict_passes(values: tuple[str, ...]) -> None:
    args = [tool("helm"), "lint", "--strict", str(CHART)]
    for value in values:
        args += ["--set", value]
    res = subprocess.run(args, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("name", list(VARIANTS))
def test_helm_template_renders_exactly_the_bundle(name: str) -> None:
    variant = VARIANTS[name]
    lines = differences(helm_template(*variant.chart_values), bundle(name), namespaceless=variant.namespaced,
                        namespaces=False)
    assert not lines, f"the chart with {variant.chart_values or 'its defaults'} is not manifests/{name}:\n" + \
        "\n".join(lines)


def test_the_chart_and_its_image_carry_the_one_version() -> None:
    repository, tag = generate.image().rsplit(":", 1)
    docs = helm_template()
    images = {c["image"] for d in docs if d["kind"] == "Deployment" for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {f"{repository}:{tag}"}
    pinned = helm_template("image.tag=v9.9.9", "image.repository=registry.example/acme/rollouts")
    assert _container(pinned, "rollouts-controller")["image"] == "registry.example/acme/rollouts:v9.9.9"
    digest = "sha256:" + "a" * 64
    assert _container(helm_template(f"image.digest={digest}"), "rollouts-applications")["image"] == \
        f"{repository}@{digest}"


def test_another_release_name_prefixes_every_name_and_keeps_selectors_consistent() -> None:
    docs = helm_template(release="team", namespace="platform")
    names = {d["metadata"]["name"] for d in docs if d["kind"] != "CustomResourceDefinition"}
    assert names and all(n.startswith("team-rollouts-") for n in names), sorted(names)
    for component in ("team-rollouts-controller", "team-rollouts-applications"):
        deployment = _one(docs, "Deployment", component)
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector == {"app.kubernetes.io/name": component}
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == component
        args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        assert f"--lease-name={component}-lock" in args
        for kind in ("NetworkPolicy",):
            assert _one(docs, kind, component)["spec"]["podSelector"]["matchLabels"] == selector
        binding = _one(docs, "ClusterRoleBinding", component)
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": component, "namespace": "platform"}]
        assert binding["roleRef"]["name"] == component
    assert _one(docs, "PodDisruptionBudget", "team-rollouts-controller")["spec"]["selector"]["matchLabels"] == \
        {"app.kubernetes.io/name": "team-rollouts-controller"}
    assert _one(docs, "Service", "team-rollouts-metrics")["spec"]["selector"] == \
        {"app.kubernetes.io/name": "team-rollouts-controller"}
    env = {e["name"]: e for e in _container(docs, "team-rollouts-applications")["env"]}
    assert env["ROLLOUTS_WEBHOOK_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "team-rollouts-webhook"
    assert all(d["metadata"].get("namespace") in (None, "platform") for d in docs)


def test_which_reconcilers_run() -> None:
    only_apps = helm_template("controller.enabled=false")
    assert {d["metadata"]["name"] for d in only_apps if d["kind"] == "Deployment"} == {"rollouts-applications"}
    assert not [d for d in only_apps if d["metadata"]["name"].startswith("rollouts-controller")]
    args = _container(helm_template("controller.analysis=false", "controller.notifications=false"),
                      "rollouts-controller")["args"]
    assert "--disable-analysis" in args and "--disable-notifications" in args and "--disable-applications" in args
    assert "--disable-analysis" not in _container(helm_template(), "rollouts-controller")["args"]


def test_leader_election_replicas_logs_extra_args_and_env() -> None:
    docs = helm_template("controller.replicas=3", "controller.leaderElection.leaseDuration=15s",
                         "controller.leaderElection.renewDeadline=10s", "controller.leaderElection.retryPeriod=2s",
                         "controller.logLevel=debug", "controller.workers=32",
                         "controller.extraArgs[0]=--evaluation-deadline=20s",
                         "controller.extraEnv[0].name=ROLLOUTS_NOTIFICATIONS_NAMESPACE",
                         "controller.extraEnv[0].value=team-notifications")
    deployment = _one(docs, "Deployment", "rollouts-controller")
    assert deployment["spec"]["replicas"] == 3
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    for flag in ("--leader-elect", "--leader-election-lease-duration=15s", "--leader-election-renew-deadline=10s",
                 "--leader-election-retry-period=2s", "--log-level=debug", "--workers=32"):
        assert flag in args, args
    assert args[-1] == "--evaluation-deadline=20s"
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[-1] == {"name": "ROLLOUTS_NOTIFICATIONS_NAMESPACE", "value": "team-notifications"}
    single = _container(helm_template("applications.leaderElection.enabled=false"), "rollouts-applications")["args"]
    assert not [a for a in single if a.startswith("--lease") or a.startswith("--leader")], single


def test_shards_replace_leader_election_with_shard_leases() -> None:
    deployment = _one(helm_template("controller.replicas=3", "controller.shards=3",
                                    "controller.leaderElection.leaseDuration=15s"), "Deployment", "rollouts-controller")
    assert deployment["spec"]["replicas"] == 3
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    for flag in ("--shards=3", "--lease-name=rollouts-controller-lock", "--leader-election-lease-duration=15s"):
        assert flag in args, args
    assert "--leader-elect" not in args, "shard Leases replace the leader Lease (the flags are exclusive)"
    # Without leader election, several replicas are fine when sharded: each acts only for the shards it holds.
    apps = _container(helm_template("applications.replicas=2", "applications.shards=2",
                                    "applications.leaderElection.enabled=false"), "rollouts-applications")["args"]
    assert "--shards=2" in apps and "--leader-elect" not in apps, apps


def test_resources_and_the_tmp_volume_follow_the_values() -> None:
    docs = helm_template("controller.resources.limits.ephemeral-storage=2Gi", "controller.resources.limits.memory=1Gi")
    deployment = _one(docs, "Deployment", "rollouts-controller")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi"
    assert deployment["spec"]["template"]["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}}]
    no_limits = helm_template("controller.resources.limits=null")
    assert _one(no_limits, "Deployment", "rollouts-controller")["spec"]["template"]["spec"]["volumes"] == \
        [{"name": "tmp", "emptyDir": {}}]


def test_scheduling_values() -> None:
    hard = _one(helm_template("controller.podAntiAffinity=hard"), "Deployment", "rollouts-controller")
    terms = hard["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms == [{"topologyKey": "kubernetes.io/hostname",
                      "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "rollouts-controller"}}}]
    none = _one(helm_template("controller.podAntiAffinity=none"), "Deployment", "rollouts-controller")
    assert "affinity" not in none["spec"]["template"]["spec"]
    pod = _one(helm_template("controller.nodeSelector.pool=system", "controller.tolerations[0].key=system",
                             "controller.tolerations[0].operator=Exists", "controller.priorityClassName=critical",
                             "controller.podAnnotations.a=b", "controller.podLabels.team=platform"),
               "Deployment", "rollouts-controller")["spec"]["template"]
    assert pod["spec"]["nodeSelector"] == {"pool": "system"}
    assert pod["spec"]["tolerations"] == [{"key": "system", "operator": "Exists"}]
    assert pod["spec"]["priorityClassName"] == "critical"
    assert pod["metadata"]["annotations"] == {"a": "b"}
    assert pod["metadata"]["labels"] == {"app.kubernetes.io/name": "rollouts-controller", "team": "platform"}


def test_disruption_budget_network_policy_and_service_monitor() -> None:
    pdb = _one(helm_template("controller.pdb.minAvailable=1"), "PodDisruptionBudget", "rollouts-controller")
    assert pdb["spec"]["minAvailable"] == 1 and "maxUnavailable" not in pdb["spec"]
    apps_pdb = helm_template("applications.pdb.enabled=true")
    assert _one(apps_pdb, "PodDisruptionBudget", "rollouts-applications")["spec"]["maxUnavailable"] == 1
    assert not [d for d in helm_template("networkPolicy.enabled=false", "controller.pdb.enabled=false")
                if d["kind"] in ("NetworkPolicy", "PodDisruptionBudget")]
    egress = helm_template("networkPolicy.egress[0].to[0].ipBlock.cidr=10.0.0.0/8")
    assert _one(egress, "NetworkPolicy", "rollouts-controller")["spec"]["egress"] == \
        [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]
    docs = helm_template("controller.metrics.serviceMonitor.enabled=true",
                         "controller.metrics.serviceMonitor.additionalLabels.release=prometheus",
                         "applications.metrics.serviceMonitor.enabled=true")
    for component, service in (("rollouts-controller", "rollouts-metrics"),
                               ("rollouts-applications", "rollouts-applications-metrics")):
        monitor = _one(docs, "ServiceMonitor", component)
        labels = _one(docs, "Service", service)["metadata"]["labels"]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["rollouts"]}
    assert _one(docs, "ServiceMonitor", "rollouts-controller")["metadata"]["labels"]["release"] == "prometheus"
    assert not [d for d in helm_template() if d["kind"] == "ServiceMonitor"]


def test_crds_and_cluster_objects() -> None:
    kept = [d for d in helm_template() if d["kind"] == "CustomResourceDefinition"]
    shipped = {p.stem for p in (CHART.parents[1] / "crds").glob("*.yaml")}
    assert {d["spec"]["names"]["plural"] for d in kept} == shipped and "experiments" in shipped
    assert all(d["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"} for d in kept)
    assert not [d for d in helm_template("crds.install=false") if d["kind"] == "CustomResourceDefinition"]
    assert all("annotations" not in d["metadata"] for d in helm_template("crds.keep=false")
               if d["kind"] == "CustomResourceDefinition")
    assert not [d for d in helm_template("rbac.aggregateRoles=false") if "aggregate" in d["metadata"]["name"]]
    namespaced = helm_template("clusterInstall=false", "applications.enabled=false", namespace="team-a")
    assert not [d["kind"] for d in namespaced if d["kind"] in generate.CLUSTER_KINDS]
    env = {e["name"]: e for e in _container(namespaced, "rollouts-controller")["env"]}
    assert env["ROLLOUTS_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    sa = _one(helm_template("controller.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:x"),
              "ServiceAccount", "rollouts-controller")
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:x"}


@pytest.mark.parametrize(("values", "message"), [
    (("controller.replicas=3", "controller.leaderElection.enabled=false"),
     "controller.replicas=3 needs controller.leaderElection.enabled=true (or controller.shards > 1)"),
    (("controller.shards=0",), "/controller/shards"),
    (("clusterInstall=false",), "applications.enabled=true needs clusterInstall=true"),
    (("dashboard.enabled=true",), "additional properties 'dashboard' not allowed"),
    (("controller.leaderElection.leaseDuration=soon",), "/controller/leaderElection/leaseDuration"),
    (("controller.podAntiAffinity=sometimes",), "/controller/podAntiAffinity"),
])
def test_combinations_that_cannot_work_are_refused_with_a_reason(values: tuple[str, ...], message: str) -> None:
    assert message in _fails(*values)
