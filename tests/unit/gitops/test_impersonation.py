"""Whom a sync writes as, from the project's destinationServiceAccounts.

Cases are Argo CD v3.6.1's util/settings/impersonation_test.go (TestDeriveServiceAccountToImpersonate, one row
per t.Run), the enforcement messages of controller/sync.go, and the defaults of util/settings/settings.go
(impersonation off, enforcement on)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.api.application import Application, ApplicationSource, HealthStatusCode
from rollouts.api.appproject import AppProjectSpec
from rollouts.gitops.comparison import Comparison, ResourceState
from rollouts.gitops.diff import ResourceDiff
from rollouts.gitops.health import Health
from rollouts.gitops.impersonation import (
    ImpersonationSettings,
    SyncIdentity,
    impersonation_settings,
    sync_identity,
)
from rollouts.gitops.sync import DryRun, Failed, SyncObservation, plan_sync_step
from rollouts.gitops.tracking import ResourceKey

SERVER = "https://cluster-api.example.com"
ON = ImpersonationSettings(enabled=True)


def app(namespace: str = "dest-ns", *, app_namespace: str = "argocd", server: str = SERVER) -> Application:
    return Application.model_validate({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "a", "namespace": app_namespace},
        "spec": {"project": "p", "source": {"repoURL": "https://git.example.com/r", "path": "."},
                 "destination": {"server": server, "namespace": namespace}}})


def project(*entries: tuple[str, str, str]) -> AppProjectSpec:
    return AppProjectSpec.model_validate({"destinationServiceAccounts": [
        {"server": s, "namespace": n, "defaultServiceAccount": a} for s, n, a in entries]})


@pytest.mark.parametrize(("entries", "namespace", "expected"), [
    ([(SERVER, "dest-ns", "test-sa")], "dest-ns", SyncIdentity(user="system:serviceaccount:dest-ns:test-sa")),
    ([("*", "*", "test-sa")], "any-ns", SyncIdentity(user="system:serviceaccount:any-ns:test-sa")),
    ([(SERVER, "dest-ns", "other-ns:deploy-sa")], "dest-ns",
     SyncIdentity(user="system:serviceaccount:other-ns:deploy-sa")),
    ([("*", "", "test-sa")], "", SyncIdentity(user="system:serviceaccount:app-ns:test-sa")),
    ([("https://other-server.com", "other-ns", "test-sa")], "dest-ns", SyncIdentity(
        refusal=f"no matching service account found for destination server {SERVER} and namespace dest-ns")),
    ([], "dest-ns",
     SyncIdentity(refusal=f"no matching service account found for destination server {SERVER} and namespace dest-ns")),
    ([("*", "*", "bad*sa")], "dest-ns", SyncIdentity(
        refusal="failed to derive service account to impersonate: default service account contains invalid chars "
                "'bad*sa'")),
    ([("*", "*", "  ")], "dest-ns", SyncIdentity(
        refusal="failed to derive service account to impersonate: default service account contains invalid chars "
                "'  '")),
    ([("[", "dest-ns", "test-sa")], "dest-ns", SyncIdentity(
        refusal="failed to derive service account to impersonate: invalid glob pattern for destination server: '['")),
    ([("*", "[", "test-sa")], "dest-ns", SyncIdentity(
        refusal="failed to derive service account to impersonate: invalid glob pattern for destination namespace: "
                "'['")),
    ([("*", "dest-ns", "first-sa"), ("*", "*", "second-sa")], "dest-ns",
     SyncIdentity(user="system:serviceaccount:dest-ns:first-sa")),
], ids=["MatchingServerAndNamespace", "MatchingWithGlobPatterns", "MatchingWithNamespacedServiceAccount",
        "FallbackToAppNamespaceWhenDestEmpty", "NoMatchingEntry", "EmptyDestinationServiceAccounts",
        "InvalidServiceAccountChars", "BlankServiceAccount", "InvalidServerGlobPattern",
        "InvalidNamespaceGlobPattern", "FirstMatchWins"])
def test_the_account_is_derived_as_argo_cd_derives_it(entries: list[tuple[str, str, str]], namespace: str,
                                                      expected: SyncIdentity) -> None:
    assert sync_identity(ON, project(*entries), app(namespace, app_namespace="app-ns"), SERVER) == expected


def test_settings_defaults_and_the_unenforced_fallback() -> None:
    assert impersonation_settings({}) == ImpersonationSettings(enabled=False, enforced=True)
    assert impersonation_settings({"application.sync.impersonation.enabled": "true"}) == ON
    assert impersonation_settings({"application.sync.impersonation.enabled": "true",
                                   "application.sync.impersonation.enforced": "false"}).enforced is False
    # off: the reconciler writes as itself whatever the project says
    assert sync_identity(ImpersonationSettings(), project(("*", "*", "sa")), app(), SERVER) == SyncIdentity()
    # on, not enforced, nothing matches: the reconciler's own identity (Argo CD logs and falls back)
    loose = ImpersonationSettings(enabled=True, enforced=False)
    assert sync_identity(loose, project(("https://other", "*", "sa")), app(), SERVER) == SyncIdentity()


def _comparison(*names: str) -> Comparison[Any]:
    resources = [ResourceState(ResourceKey("", "ConfigMap", "dest-ns", n), "cm",
                               {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n,
                                                                                     "namespace": "dest-ns"}},
                               None, ResourceDiff(ResourceKey("", "ConfigMap", "dest-ns", n), True),
                               Health(HealthStatusCode.HEALTHY), 0) for n in names]
    return Comparison("abc", ApplicationSource(repo_url="https://git.example.com/r"), "Directory", resources, [])


def _with_operation(application: Application) -> Application:
    return application.model_copy(update={"operation": Application.model_validate(
        {**application.model_dump(by_alias=True, exclude_none=True),
         "operation": {"sync": {"revision": "abc"}}}).operation})


NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_an_impersonated_sync_dry_runs_every_write_before_the_first() -> None:
    a = _with_operation(app())
    state: dict[str, Any] = {"phase": "Running", "operation": {"sync": {"revision": "abc"}}}
    plan = plan_sync_step(a, _comparison("x", "y"), state, SyncObservation(), now=NOW,
                          identity=SyncIdentity(user="system:serviceaccount:dest-ns:sa"))
    assert isinstance(plan.actions[0], DryRun)
    assert [t.key.name for t in plan.actions[0].tasks] == ["x", "y"]
    plain = plan_sync_step(a, _comparison("x", "y"), state, SyncObservation(), now=NOW)
    assert not any(isinstance(action, DryRun) for action in plain.actions)


def test_a_refused_identity_ends_the_operation_in_error_with_argo_cds_message() -> None:
    a = _with_operation(app())
    state: dict[str, Any] = {"phase": "Running", "operation": {"sync": {"revision": "abc"}}}
    refusal = f"no matching service account found for destination server {SERVER} and namespace dest-ns"
    plan = plan_sync_step(a, _comparison("x"), state, SyncObservation(), now=NOW,
                          identity=SyncIdentity(refusal=refusal))
    assert plan.actions == ()
    assert plan.outcome == Failed(refusal, run_sync_fail_hooks=False, phase=plan.outcome.phase)
    assert str(plan.outcome.phase) == "Error"  # type: ignore[union-attr]
