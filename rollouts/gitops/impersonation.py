"""Sync impersonation (Argo CD 2.13+): whom a sync writes as, decided from the project. Pure.

Why this module exists: without it every Application writes with the reconciler's own rights, which must be
broad enough for every team. With ``application.sync.impersonation.enabled: "true"`` in argocd-cm, a sync
writes as the ServiceAccount its project names for the destination (``destinationServiceAccounts``: server
and namespace globs, the first match wins), so the API server refuses whatever that account may not do and
a project can never write beyond it. The rules and messages are Argo CD v3.6's
(``util/settings/impersonation.go`` ``DeriveServiceAccountToImpersonate``, ``controller/sync.go``):

- ``defaultServiceAccount: deployer`` means ``system:serviceaccount:<destination namespace>:deployer`` (the
  Application's own namespace when the destination has none); ``team-a:deployer`` names the namespace;
- an account containing any of ``!*[]{}\\/`` or only blanks is refused ("default service account contains
  invalid chars ..."), as is an invalid glob;
- no entry matching: with ``application.sync.impersonation.enforced`` (default ``"true"`` when impersonation
  is on) the sync ends in Error "no matching service account found for destination server S and namespace
  N"; with ``enforced: "false"`` it writes with the reconciler's own identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rollouts.api.application import Application
from rollouts.api.appproject import AppProjectSpec
from rollouts.gitops.project import glob_match, is_valid_glob

ENABLED_KEY = "application.sync.impersonation.enabled"
ENFORCED_KEY = "application.sync.impersonation.enforced"
_DISALLOWED = "!*[]{}\\/"


@dataclass(frozen=True, slots=True)
class ImpersonationSettings:
    enabled: bool = False
    enforced: bool = True


def impersonation_settings(data: Mapping[str, str]) -> ImpersonationSettings:
    """From argocd-cm's data: enabled only by ``"true"``; enforced unless ``"false"`` (Argo CD's defaults)."""
    return ImpersonationSettings(enabled=data.get(ENABLED_KEY) == "true", enforced=data.get(ENFORCED_KEY) != "false")


@dataclass(frozen=True, slots=True)
class SyncIdentity:
    """Whom a sync writes as: ``user`` (an Impersonate-User), or the reconciler itself (None); ``refusal``
    when the sync may not run at all."""

    user: str | None = None
    refusal: str | None = None


def _service_account(project: AppProjectSpec, app: Application, server: str) -> str | None:
    """The first matching entry's account, fully qualified; raises ValueError with Argo CD's message."""
    namespace = app.spec.destination.namespace or ""
    account_namespace = namespace or (app.metadata.namespace or "")
    for item in project.destination_service_accounts or ():
        if not is_valid_glob(item.server):
            raise ValueError(f"invalid glob pattern for destination server: {item.server!r}")
        if not is_valid_glob(item.namespace or ""):
            raise ValueError(f"invalid glob pattern for destination namespace: {item.namespace!r}")
        if not (glob_match(item.server, server) and glob_match(item.namespace or "", namespace)):
            continue
        account = item.default_service_account
        if not account.strip() or any(c in _DISALLOWED for c in account):
            raise ValueError(f"default service account contains invalid chars '{account}'")
        if ":" in account:
            return f"system:serviceaccount:{account}"
        return f"system:serviceaccount:{account_namespace}:{account}"
    return None


def sync_identity(settings: ImpersonationSettings, project: AppProjectSpec | None, app: Application,
                  server: str) -> SyncIdentity:
    """Whom ``app``'s sync into ``server`` writes as.

    enabled, [{server: "*", namespace: "shop", defaultServiceAccount: "deployer"}], destination shop ->
    user "system:serviceaccount:shop:deployer"; destination other, enforced -> refusal "no matching service
    account found for destination server https://kubernetes.default.svc and namespace other"."""
    if not settings.enabled or project is None:
        return SyncIdentity()
    try:
        user = _service_account(project, app, server)
    except ValueError as exc:
        return SyncIdentity(refusal=f"failed to derive service account to impersonate: {exc}")
    if user is not None:
        return SyncIdentity(user=user)
    if settings.enforced:
        return SyncIdentity(refusal=f"no matching service account found for destination server {server} and "
                                    f"namespace {app.spec.destination.namespace or ''}")
    return SyncIdentity()


__all__ = ["ENABLED_KEY", "ENFORCED_KEY", "ImpersonationSettings", "SyncIdentity", "impersonation_settings",
           "sync_identity"]
