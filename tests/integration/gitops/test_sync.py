"""The Application reconciler end to end: real API server, real Git repositories, the real reconciler loop."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CONFIGMAP, DEPLOYMENT, JOB
from tests.integration.gitops.conftest import app_probe, application, cm, deployment, status_of, synced_at
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


async def get_or_none(kube: KubeClient, kind: Any, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        return await kube.get(kind, name, namespace)
    except NotFound:
        return None


async def test_automated_sync_creates_resources_synced_and_healthy_and_follows_commits(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("settings"))
    repo.write("app/deploy.yaml", deployment("web"))
    first = repo.commit("first")
    await kube.create(APPLICATION, application("guestbook", repo, namespace, automated={}), namespace)
    probe = app_probe(kube, "guestbook", namespace)
    app = await eventually(probe, lambda a: synced_at(first)(a) and status_of(a).get("health", {}).get("status")
                           == "Healthy", timeout=60, expected=f"Synced and Healthy at {first}")
    st = status_of(app)
    assert {(r["kind"], r["name"], r["status"]) for r in st["resources"]} == {
        ("ConfigMap", "settings", "Synced"), ("Deployment", "web", "Synced")}
    assert [h["revision"] for h in st["history"]] == [first]
    assert st["operationState"]["phase"] == "Succeeded"
    live = await kube.get(CONFIGMAP, "settings", namespace)
    assert live["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] == (
        f"guestbook:/ConfigMap:{namespace}/settings")

    repo.write("app/cm.yaml", cm("settings", "changed"))
    second = repo.commit("second")
    app = await eventually(probe, synced_at(second), timeout=60, expected=f"Synced at the new commit {second}")
    assert [h["revision"] for h in status_of(app)["history"]] == [first, second]
    assert (await kube.get(CONFIGMAP, "settings", namespace))["data"] == {"key": "changed"}


async def test_removed_from_git_is_pruned_only_with_prune(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/a.yaml", cm("keep"))
    repo.write("app/b.yaml", cm("gone"))
    first = repo.commit()
    await kube.create(APPLICATION, application("prune", repo, namespace, automated={"prune": False}), namespace)
    probe = app_probe(kube, "prune", namespace)
    await eventually(probe, synced_at(first), timeout=60, expected="first sync")
    repo.remove("app/b.yaml")
    second = repo.commit("drop b")

    def needs_pruning(app: dict[str, Any]) -> bool:
        st = status_of(app)
        return (st.get("sync", {}).get("revision") == second and st["sync"]["status"] == "OutOfSync"
                and any(r["name"] == "gone" and r.get("requiresPruning") for r in st.get("resources", [])))

    await eventually(probe, needs_pruning, timeout=60, expected="OutOfSync with 'gone' requiring pruning")
    assert await get_or_none(kube, CONFIGMAP, "gone", namespace) is not None, "pruned although prune is off"

    # As in Argo CD, changing the policy does not re-sync a commit already synced; the next commit does.
    await kube.patch(APPLICATION, "prune", {"spec": {"syncPolicy": {"automated": {"prune": True}}}}, namespace)
    repo.write("app/c.yaml", cm("new"))
    third = repo.commit("add c")
    await eventually(lambda: get_or_none(kube, CONFIGMAP, "gone", namespace), lambda o: o is None, timeout=60,
                     expected="ConfigMap 'gone' pruned once prune is on")
    await eventually(probe, synced_at(third), timeout=60, expected="Synced after pruning")
    assert await get_or_none(kube, CONFIGMAP, "keep", namespace) is not None


async def test_live_edit_is_drift_and_self_heal_corrects_it(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("watched", "from-git"))
    sha = repo.commit()
    await kube.create(APPLICATION, application("heal", repo, namespace, automated={"selfHeal": True}), namespace)
    probe = app_probe(kube, "heal", namespace)
    await eventually(probe, synced_at(sha), timeout=60, expected="first sync")
    await kube.patch(CONFIGMAP, "watched", {"data": {"key": "edited-by-hand"}}, namespace)
    await eventually(lambda: kube.get(CONFIGMAP, "watched", namespace),
                     lambda o: o["data"]["key"] == "from-git", timeout=20, expected="self-heal restores the value")
    app = await eventually(probe, synced_at(sha), timeout=30, expected="Synced again after self-heal")
    assert len(status_of(app)["history"]) >= 2


async def test_live_edit_without_self_heal_stays_out_of_sync(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("watched", "from-git"))
    sha = repo.commit()
    await kube.create(APPLICATION, application("noheal", repo, namespace, automated={}), namespace)
    probe = app_probe(kube, "noheal", namespace)
    await eventually(probe, synced_at(sha), timeout=60, expected="first sync")
    await kube.patch(CONFIGMAP, "watched", {"data": {"key": "edited-by-hand"}}, namespace)
    await eventually(probe, lambda a: status_of(a)["sync"]["status"] == "OutOfSync", timeout=20,
                     expected="OutOfSync after a live edit")
    assert (await kube.get(CONFIGMAP, "watched", namespace))["data"]["key"] == "edited-by-hand"


async def test_defaulted_fields_are_not_drift(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/deploy.yaml", deployment("defaults"))
    repo.write("app/svc.yaml", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
                                "spec": {"selector": {"app": "defaults"}, "ports": [{"port": 80}]}})
    repo.write("app/secret.yaml", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                                   "stringData": {"password": "hunter2"}})
    sha = repo.commit()
    await kube.create(APPLICATION, application("defaults", repo, namespace), namespace)  # manual: no auto-sync
    probe = app_probe(kube, "defaults", namespace)
    await eventually(probe, lambda a: status_of(a).get("sync", {}).get("status") == "OutOfSync", timeout=60,
                     expected="OutOfSync before the first sync")
    await kube.patch(APPLICATION, "defaults", {"operation": {"sync": {"revision": sha},
                                                             "initiatedBy": {"username": "test"}}}, namespace)
    app = await eventually(probe, synced_at(sha), timeout=60, expected="Synced: defaults are not drift")
    assert all(r["status"] == "Synced" for r in status_of(app)["resources"])


async def test_hooks_run_in_phases_and_honour_delete_policies(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "annotations": {
        "argocd.argoproj.io/hook": "PreSync", "argocd.argoproj.io/hook-delete-policy": "HookSucceeded"}},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
                                       "containers": [{"name": "m", "image": "busybox"}]}}}}
    repo.write("app/job.yaml", job)
    repo.write("app/post.yaml", cm("post-sync-marker", **{"argocd.argoproj.io/hook": "PostSync"}))
    repo.write("app/cm.yaml", cm("main"))
    sha = repo.commit()
    await kube.create(APPLICATION, application("hooks", repo, namespace, automated={}), namespace)
    app = await eventually(app_probe(kube, "hooks", namespace), synced_at(sha), timeout=90,
                           expected="sync with hooks Succeeded")
    results = status_of(app)["operationState"]["syncResult"]["resources"]
    phases = [(r["kind"], r["name"], r.get("hookPhase"), r.get("syncPhase")) for r in results]
    assert ("Job", "migrate", "Succeeded", "PreSync") in phases
    assert ("ConfigMap", "post-sync-marker", "Succeeded", "PostSync") in phases
    assert [p[1] for p in phases].index("migrate") < [p[1] for p in phases].index("main")
    await eventually(lambda: get_or_none(kube, JOB, "migrate", namespace), lambda o: o is None, timeout=30,
                     expected="the HookSucceeded Job deleted after the sync")
    marker = await kube.get(CONFIGMAP, "post-sync-marker", namespace)  # default BeforeHookCreation: kept
    assert marker["data"] == {"key": "v"}
    assert all(r["name"] != "migrate" for r in status_of(app)["resources"]), "hooks are not app resources"


async def test_broken_commit_is_a_comparison_error_and_prunes_nothing(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/a.yaml", cm("a"))
    repo.write("app/b.yaml", cm("b"))
    first = repo.commit()
    await kube.create(APPLICATION, application("broken", repo, namespace, automated={"prune": True}), namespace)
    probe = app_probe(kube, "broken", namespace)
    await eventually(probe, synced_at(first), timeout=60, expected="first sync")
    repo.remove("app/b.yaml")
    repo.write("app/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [broken\n")
    repo.commit("broken")

    def comparison_error(app: dict[str, Any]) -> bool:
        return any(c["type"] == "ComparisonError" and "a.yaml" in c["message"]
                   for c in status_of(app).get("conditions", []))

    app = await eventually(probe, comparison_error, timeout=60, expected="ComparisonError naming a.yaml")
    assert status_of(app)["sync"]["status"] == "Unknown"
    for name in ("a", "b"):
        assert await get_or_none(kube, CONFIGMAP, name, namespace) is not None, f"{name} pruned after a bad render"


async def test_rollback_to_an_earlier_history_entry(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/cm.yaml", cm("versioned", "one"))
    first = repo.commit()
    await kube.create(APPLICATION, application("rollback", repo, namespace), namespace)
    probe = app_probe(kube, "rollback", namespace)
    await eventually(probe, lambda a: status_of(a).get("sync", {}).get("revision") == first, timeout=60,
                     expected="compared at the first commit")
    await kube.patch(APPLICATION, "rollback", {"operation": {"sync": {"revision": first}}}, namespace)
    await eventually(probe, synced_at(first), timeout=60, expected="manual sync of the first commit")
    repo.write("app/cm.yaml", cm("versioned", "two"))
    second = repo.commit()
    await kube.patch(APPLICATION, "rollback", {"operation": {"sync": {"revision": second}}}, namespace)
    app = await eventually(probe, synced_at(second), timeout=60, expected="manual sync of the second commit")
    entry = next(h for h in status_of(app)["history"] if h["revision"] == first)

    from rollouts.cli.app import main as app_cli

    code = await app_cli(["rollback", "rollback", str(entry["id"]), "-n", namespace], client=kube)
    assert code == 0
    await eventually(lambda: kube.get(CONFIGMAP, "versioned", namespace), lambda o: o["data"]["key"] == "one",
                     timeout=60, expected="rolled back to the first commit's value")
    app = await eventually(probe, lambda a: status_of(a).get("operationState", {}).get("phase") == "Succeeded"
                           and a.get("operation") is None, timeout=30, expected="rollback operation Succeeded")
    assert status_of(app)["history"][-1]["revision"] == first
    assert status_of(app)["sync"]["status"] == "OutOfSync", "after a rollback the app differs from Git's head"


async def test_kustomize_directory(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo,
        kubectl_bin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import shutil

    if not (shutil.which("kustomize") or shutil.which("kubectl")):
        # `kubectl kustomize` from the testbed's own kubectl when the machine has none on PATH
        monkeypatch.setenv("PATH", f"{os.path.dirname(kubectl_bin)}{os.pathsep}{os.environ.get('PATH', '')}")
    repo.write("base/cm.yaml", cm("kcfg"))
    repo.write("base/kustomization.yaml", {"resources": ["cm.yaml"]})
    repo.write("overlay/kustomization.yaml", {"resources": ["../base"], "namePrefix": "prod-",
                                              "commonLabels": {"env": "prod"}})
    sha = repo.commit()
    await kube.create(APPLICATION, application("kust", repo, namespace, path="overlay", automated={}), namespace)
    app = await eventually(app_probe(kube, "kust", namespace), synced_at(sha), timeout=60,
                           expected="kustomize app Synced")
    assert status_of(app)["sourceType"] == "Kustomize"
    live = await kube.get(CONFIGMAP, "prod-kcfg", namespace)
    assert live["metadata"]["labels"]["env"] == "prod"


def has_condition(kind: str, text: str) -> Any:
    def check(app: dict[str, Any]) -> bool:
        return any(c["type"] == kind and text in c["message"] for c in status_of(app).get("conditions", []))
    return check


async def test_bad_input_names_the_cause(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("unknown/w.yaml", {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"}})
    repo.write("nsless/cm.yaml", cm("x"))
    sha = repo.commit()
    apps = {
        "missing-path": (application("missing-path", repo, namespace, path="nope", automated={}),
                         "ComparisonError", "app path does not exist"),
        "unknown-kind": (application("unknown-kind", repo, namespace, path="unknown", automated={}),
                         "ComparisonError", "could not find example.com/Gizmo"),
        "bad-repo": ({**application("bad-repo", repo, namespace, automated={}), "spec": {
            **application("bad-repo", repo, namespace)["spec"],
            "source": {"repoURL": f"{repo.url}-missing", "path": "app"}}}, "ComparisonError", "not reachable"),
    }
    for body, _, _ in apps.values():
        await kube.create(APPLICATION, body, namespace)
    for name, (_, kind, text) in apps.items():
        await eventually(app_probe(kube, name, namespace), has_condition(kind, text), timeout=60,
                         expected=f"{name}: a {kind} condition containing {text!r}")
    missing_ns = application("missing-ns", repo, namespace, path="nsless", automated={})
    missing_ns["spec"]["destination"]["namespace"] = f"{namespace}-absent"
    await kube.create(APPLICATION, missing_ns, namespace)
    app = await eventually(app_probe(kube, "missing-ns", namespace),
                           lambda a: status_of(a).get("operationState", {}).get("phase") == "Failed", timeout=60,
                           expected="sync Failed for a missing namespace")
    assert "does not exist" in status_of(app)["operationState"]["message"]
    assert "CreateNamespace=true" in status_of(app)["operationState"]["message"]
    assert status_of(app)["operationState"]["syncResult"]["revision"] == sha


async def test_create_namespace_option(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    from rollouts.kube.resources import NAMESPACE

    repo.write("app/cm.yaml", cm("in-new-ns"))
    sha = repo.commit()
    target = f"{namespace}-made"
    body = application("mkns", repo, target, automated={}, sync_options=["CreateNamespace=true"])
    await kube.create(APPLICATION, body, namespace)
    try:
        await eventually(app_probe(kube, "mkns", namespace), synced_at(sha), timeout=60,
                         expected="Synced into a namespace created by the sync")
        assert (await kube.get(CONFIGMAP, "in-new-ns", target))["data"] == {"key": "v"}
    finally:
        try:
            await kube.delete(NAMESPACE, target)
        except NotFound:
            pass


async def test_deployment_in_a_later_wave_waits_for_it(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/first.yaml", deployment("first", annotations={"argocd.argoproj.io/sync-wave": "1"}))
    repo.write("app/second.yaml", cm("second", **{"argocd.argoproj.io/sync-wave": "2"}))
    sha = repo.commit()
    await kube.create(APPLICATION, application("waves-deploy", repo, namespace, automated={}), namespace)
    app = await eventually(app_probe(kube, "waves-deploy", namespace), synced_at(sha), timeout=90,
                           expected="sync through both waves")
    first = await kube.get(DEPLOYMENT, "first", namespace)
    second = await kube.get(CONFIGMAP, "second", namespace)
    assert first["status"].get("availableReplicas") == 1
    assert first["metadata"]["creationTimestamp"] <= second["metadata"]["creationTimestamp"]
    assert status_of(app)["health"]["status"] == "Healthy"


async def test_ignore_differences_for_fields_of_another_manager(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/deploy.yaml", deployment("scaled", replicas=1))
    repo.write("app/cm.yaml", cm("annotated"))
    sha = repo.commit()
    body = application("ignore", repo, namespace, automated={}, ignoreDifferences=[
        {"group": "apps", "kind": "Deployment", "managedFieldsManagers": ["autoscaler-sim"]},
        {"group": "", "kind": "ConfigMap", "jsonPointers": ["/data/key"]},
    ])
    await kube.create(APPLICATION, body, namespace)
    probe = app_probe(kube, "ignore", namespace)
    await eventually(probe, synced_at(sha), timeout=60, expected="first sync")
    await kube.patch(DEPLOYMENT, "scaled", {"spec": {"replicas": 3}}, namespace, field_manager="autoscaler-sim")
    await kube.patch(CONFIGMAP, "annotated", {"data": {"key": "changed-by-hand"}}, namespace)
    await kube.patch(CONFIGMAP, "annotated", {"metadata": {"labels": {"touched": "yes"}}}, namespace)
    from rollouts.api.application import Application

    app = await kube.get(APPLICATION, "ignore", namespace)
    with_rules = Application.model_validate(app)
    without_rules = Application.model_validate({**app, "spec": {**app["spec"], "ignoreDifferences": []}})
    ignored = await gitops.comparer.compare_app(with_rules, fetch=False, fresh=True)
    assert ignored.sync_status.value == "Synced", [r.diff.text for r in ignored.resources]
    plain = await gitops.comparer.compare_app(without_rules, fetch=False, fresh=True)
    assert {str(r.key).split("/")[-1] for r in plain.resources if r.diff.modified} == {"scaled", "annotated"}
    assert (await kube.get(DEPLOYMENT, "scaled", namespace))["spec"]["replicas"] == 3
    # A field only another manager sets is not ours to compare (server-side apply semantics) ...
    await kube.patch(DEPLOYMENT, "scaled", {"spec": {"template": {"metadata": {"labels": {"x": "y"}}}}},
                     namespace)
    # ... but a change to a field we set, that no rule covers, is drift.
    await kube.patch(DEPLOYMENT, "scaled", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:2"}]}}}}, namespace)
    await eventually(probe, lambda a: status_of(a)["sync"]["status"] == "OutOfSync", timeout=20,
                     expected="OutOfSync for a change no rule ignores")
    assert app["status"]["sync"]["revision"] == sha


async def test_prune_last_and_apply_out_of_sync_only(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    repo.write("app/a.yaml", cm("a", "one"))
    repo.write("app/b.yaml", cm("b"))
    repo.write("app/c.yaml", cm("c"))
    repo.write("app/hook.yaml", cm("after", **{"argocd.argoproj.io/hook": "PostSync",
                                               "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation"}))
    first = repo.commit()
    body = application("options", repo, namespace, automated={"prune": True},
                       sync_options=["PruneLast=true", "ApplyOutOfSyncOnly=true"])
    await kube.create(APPLICATION, body, namespace)
    probe = app_probe(kube, "options", namespace)
    await eventually(probe, synced_at(first), timeout=60, expected="first sync")
    repo.write("app/a.yaml", cm("a", "two"))
    repo.remove("app/b.yaml")
    second = repo.commit()
    app = await eventually(probe, synced_at(second), timeout=60, expected="second sync")
    records = status_of(app)["operationState"]["syncResult"]["resources"]
    by_name = {r["name"]: r for r in records}
    assert by_name["a"]["status"] == "Synced" and "message" not in by_name["a"]
    assert by_name["c"]["message"] == "unchanged (ApplyOutOfSyncOnly)"
    assert by_name["b"]["status"] == "Pruned"
    names = [r["name"] for r in records]
    assert names.index("after") < names.index("b"), f"PruneLast: pruning must follow the PostSync hook: {names}"
    assert await get_or_none(kube, CONFIGMAP, "b", namespace) is None
    assert (await kube.get(CONFIGMAP, "a", namespace))["data"] == {"key": "two"}
