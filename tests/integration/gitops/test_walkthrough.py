"""Issue 14's walkthrough of Argo CD + Argo Rollouts, with the plugin's verbs in place of ``argocd ...``.

A private, password-protected Git repository on 127.0.0.1 holds ``manifests/namespace.yaml``, a Rollout
(``setWeight: 50`` then ``pause: {}``) and two Services. Then, as written in the walkthrough:

    argocd repo add URL --username u --password p
    argocd proj create kuard --dest https://kubernetes.default.svc,kuard --src URL --allow-cluster-resource '*/*'
    argocd app create kuard --repo URL --path manifests --dest-namespace kuard \\
        --dest-server https://kubernetes.default.svc --auto-prune --project kuard --self-heal --sync-policy auto

commit image tag green, watch, promote. Every command here is ``kubectl rollouts ...`` through the real
kubectl binary, against the real control plane, with the Rollout controller and the Application reconciler
running; ``-n`` names the applications' namespace (Argo CD's ``argocd``). The password is searched for in
every output, status, event and log line of the test.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CONFIGMAP, EVENT, NAMESPACE, POD, ROLLOUT, SERVICE
from tests.integration.gitops.conftest import app_probe, status_of
from tests.support.controller import controller_in_process
from tests.support.plugin import Kubectl, Result
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo, http_remote

pytestmark = pytest.mark.integration
USER, PASSWORD = "kuard-ci", "walk-through-s3cret-9f1c"
SERVER = "https://kubernetes.default.svc"
BLUE, GREEN = "gcr.io/kuar-demo/kuard-amd64:blue", "gcr.io/kuar-demo/kuard-amd64:green"


def manifests(repo: GitRepo, ns: str, image: str) -> None:
    repo.write("manifests/namespace.yaml", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    repo.write("manifests/rollout.yaml", {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "kuard"},
        "spec": {"replicas": 4, "revisionHistoryLimit": 2, "selector": {"matchLabels": {"app": "kuard"}},
                 "template": {"metadata": {"labels": {"app": "kuard"}},
                              "spec": {"containers": [{"name": "kuard", "image": image,
                                                       "ports": [{"containerPort": 8080}]}]}},
                 "strategy": {"canary": {"canaryService": "kuard-canary", "stableService": "kuard-stable",
                                         "steps": [{"setWeight": 50}, {"pause": {}}]}}}})
    repo.write("manifests/services.yaml", [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
         "spec": {"selector": {"app": "kuard"}, "ports": [{"port": 80, "targetPort": 8080}]}}
        for name in ("kuard-stable", "kuard-canary")])


def ok(result: Result) -> str:
    assert result.code == 0, f"exit {result.code}: {result.out}{result.err}"
    return result.out


def app_state(app: dict[str, Any]) -> tuple[str, str, str]:
    st = status_of(app)
    return (str((st.get("sync") or {}).get("status")), str((st.get("health") or {}).get("status")),
            str((st.get("sync") or {}).get("revision")))


async def pods_by_image(kube: KubeClient, ns: str) -> Counter[str]:
    pods, _ = await kube.list(POD, ns, label_selector="app=kuard")
    return Counter(p["spec"]["containers"][0]["image"] for p in pods
                   if not p["metadata"].get("deletionTimestamp") and (p.get("status") or {}).get("phase") == "Running")


async def test_the_argo_cd_and_argo_rollouts_walkthrough(
        kube: KubeClient, kubeconfig: Path, kubectl_bin: str, namespace: str, gitops: ApplicationReconciler,
        repo: GitRepo, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    kuard = f"kuard-{uuid.uuid4().hex[:5]}"
    kubectl = Kubectl(kubectl_bin, kubeconfig)
    manifests(repo, kuard, BLUE)
    repo.write("manifests/config.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kuard-extra"},
                                         "data": {"mode": "walkthrough"}})
    blue = repo.commit("deploy kuard blue")
    repo._git("update-server-info", cwd=repo.bare)
    other = GitRepo(tmp_path / "elsewhere")
    other.write("manifests/cm.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    other.commit()
    try:
        async with http_remote(repo, user=USER, password=PASSWORD) as url, \
                controller_in_process(kubeconfig, namespace=kuard, extra_components=[]):
            def push(message: str) -> str:
                sha = repo.commit(message)
                repo._git("update-server-info", cwd=repo.bare)
                return sha

            outputs = [ok(await kubectl("rollouts", "repo", "add", url, "--username", USER, "--password", PASSWORD,
                                        "-n", namespace))]
            outputs.append(ok(await kubectl("rollouts", "proj", "create", "kuard", "--dest", f"{SERVER},{kuard}",
                                            "--src", url, "--allow-cluster-resource", "*/*", "-n", namespace)))
            outputs.append(ok(await kubectl(
                "rollouts", "app", "create", "kuard", "--repo", url, "--path", "manifests", "--dest-namespace", kuard,
                "--dest-server", SERVER, "--auto-prune", "--project", "kuard", "--self-heal", "--sync-policy", "auto",
                "-n", namespace)))
            probe = app_probe(kube, "kuard", namespace)

            # Synced and Healthy on blue, the Namespace coming from Git (no CreateNamespace option).
            await eventually(probe, lambda a: app_state(a) == ("Synced", "Healthy", blue) and a.get("operation") is None,
                             timeout=120, expected=f"Synced/Healthy at {blue}")
            ns_obj = await kube.get(NAMESPACE, kuard)
            assert ns_obj["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] == f"kuard:/Namespace:/{kuard}"
            assert await pods_by_image(kube, kuard) == Counter({BLUE: 4})
            shown = ok(await kubectl("rollouts", "app", "get", "kuard", "-n", namespace))
            assert "Author:        t <t@example.com>" in shown and "Message:       deploy kuard blue" in shown
            outputs.append(shown)

            # Commit image tag green: Suspended at 50 % with 2 + 2 pods.
            manifests(repo, kuard, GREEN)
            green = push("kuard green")
            await eventually(probe, lambda a: app_state(a) == ("Synced", "Suspended", green), timeout=90,
                             expected=f"Synced/Suspended at {green}")
            rollout = await eventually(lambda: kube.get(ROLLOUT, "kuard", kuard),
                                       lambda r: (r.get("status") or {}).get("currentStepIndex") == 1, timeout=60,
                                       expected="the Rollout paused on its second step")
            assert rollout["status"]["phase"] == "Paused"
            assert await eventually(lambda: pods_by_image(kube, kuard), lambda c: c == Counter({BLUE: 2, GREEN: 2}),
                                    timeout=60, expected="2 blue and 2 green pods")
            outputs.append(ok(await kubectl("rollouts", "app", "list", "-n", namespace)))
            assert "kuard green" in outputs[-1]

            # Promote: Healthy on green.
            outputs.append(ok(await kubectl("rollouts", "promote", "kuard", "-n", kuard)))
            await eventually(probe, lambda a: app_state(a) == ("Synced", "Healthy", green), timeout=120,
                             expected="Healthy on green after promote")
            await eventually(lambda: pods_by_image(kube, kuard), lambda c: c == Counter({GREEN: 4}), timeout=90,
                             expected="4 green pods")
            tree = ok(await kubectl("rollouts", "app", "get", "kuard", "-o", "tree", "-n", namespace))
            lines = [line.strip() for line in tree.splitlines()]
            assert any(line.startswith("Rollout/kuard") for line in lines), tree
            assert any(line.startswith(("├─ReplicaSet/kuard-", "└─ReplicaSet/kuard-")) for line in lines), tree
            assert sum(1 for line in lines if "└─Pod/kuard-" in line or "├─Pod/kuard-" in line) == 4, tree
            outputs.append(tree)
            history = ok(await kubectl("rollouts", "app", "history", "kuard", "-n", namespace))
            assert "deploy kuard blue" in history and "kuard green" in history
            outputs.append(history)

            # selfHeal: a live edit of a field Git declares is put back.
            await kube.patch(ROLLOUT, "kuard", {"spec": {"replicas": 2}}, kuard, patch_type="merge")
            await eventually(lambda: kube.get(ROLLOUT, "kuard", kuard), lambda r: r["spec"]["replicas"] == 4,
                             timeout=60, expected="self-heal puts spec.replicas back to 4")
            await kube.delete(SERVICE, "kuard-canary", kuard)
            await eventually(lambda: kube.get(SERVICE, "kuard-canary", kuard), lambda s: True, timeout=60,
                             expected="self-heal recreates the deleted kuard-canary Service")
            # prune: what leaves Git is deleted.
            repo.remove("manifests/config.yaml")
            pruned = push("drop the extra ConfigMap")

            async def extra_gone() -> bool:
                try:
                    await kube.get(CONFIGMAP, "kuard-extra", kuard)
                except NotFound:
                    return True
                return False

            await eventually(extra_gone, lambda gone: gone, timeout=60, expected="kuard-extra pruned")
            await eventually(probe, lambda a: app_state(a) == ("Synced", "Healthy", pruned), timeout=60,
                             expected=f"Synced/Healthy at {pruned}")

            # The project restricts: a destination, a source and a cluster-scoped kind it does not permit.
            ok(await kubectl("rollouts", "app", "create", "kuard-payments", "--repo", url, "--path", "manifests",
                             "--dest-namespace", "payments", "--dest-server", SERVER, "--project", "kuard",
                             "--sync-policy", "auto", "-n", namespace))
            ok(await kubectl("rollouts", "app", "create", "kuard-elsewhere", "--repo", other.url, "--path",
                             "manifests", "--dest-namespace", kuard, "--dest-server", SERVER, "--project", "kuard",
                             "--sync-policy", "auto", "-n", namespace))
            repo.write("cluster/role.yaml", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                             "metadata": {"name": f"{kuard}-reader"}, "rules": []})
            push("a cluster role")
            ok(await kubectl("rollouts", "proj", "create", "kuard-strict", "--dest", f"{SERVER},{kuard}", "--src",
                             url, "--allow-cluster-resource", "/Namespace", "-n", namespace))
            ok(await kubectl("rollouts", "app", "create", "kuard-cluster", "--repo", url, "--path", "cluster",
                             "--dest-namespace", kuard, "--dest-server", SERVER, "--project", "kuard-strict",
                             "--sync-policy", "auto", "-n", namespace))

            def condition(text: str) -> Any:
                return lambda a: any(c["type"] == "InvalidSpecError" and c["message"] == text
                                     for c in status_of(a).get("conditions", []))

            await eventually(app_probe(kube, "kuard-payments", namespace), condition(
                f"application destination server '{SERVER}' and namespace 'payments' do not match any of the "
                "allowed destinations in project 'kuard'"), timeout=60, expected="the destination refused")
            await eventually(app_probe(kube, "kuard-elsewhere", namespace), condition(
                f"application repo {other.url} is not permitted in project 'kuard'"), timeout=60,
                expected="the source refused")
            refused = await eventually(
                app_probe(kube, "kuard-cluster", namespace),
                lambda a: (status_of(a).get("operationState") or {}).get("phase") == "Failed", timeout=60,
                expected="the ClusterRole sync refused")
            assert ("resource rbac.authorization.k8s.io:ClusterRole is not permitted in project kuard-strict"
                    in status_of(refused)["operationState"]["message"])

            # Credentials never in output, status, events or logs.
            apps, _ = await kube.list(APPLICATION, namespace)
            events = [e for ns in (namespace, kuard) for e in (await kube.list(EVENT, ns))[0]]
            captured = capfd.readouterr()
            for where, text in (("command output", "\n".join(outputs)), ("Application status", json.dumps(apps)),
                                ("events", json.dumps(events)), ("logs", captured.out + captured.err)):
                assert PASSWORD not in text, f"the repository password appears in {where}"
    finally:
        try:
            await kube.delete(NAMESPACE, kuard)
        except NotFound:
            pass
