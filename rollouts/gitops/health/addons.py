"""Health of the add-on kinds users meet most, as Argo CD's built-in Lua scripts assess them.

Why this module exists: Argo CD ships a Lua health script per kind under ``resource_customizations/<group>/<kind>``
(cert-manager, external-secrets, KEDA, Crossplane, Knative, Flux, PodDisruptionBudget, CronJob...). We do not
run or ship Argo CD's scripts: these are our own rules with the same outcomes, checked on each script's own
test data (``health_test.yaml``) and differentially by the Go oracle, which runs the scripts themselves. Where
a script would fail (it concatenates a field that is absent), ``ScriptFailure`` makes the health Unknown with a
message naming the field, as Argo CD's error does. Crossplane's and Upbound's scripts apply to every kind of
every ``*.crossplane.io`` / ``*.upbound.io`` group (Argo CD's wildcard directories).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from rollouts.api.application import HealthStatusCode as H
from rollouts.gitops.health.model import Health, HealthCheck, Obj, conditions_of, spec_of, status_of, text


class ScriptFailure(Exception):
    """Argo CD's script raises a Lua error on this object; its health is Unknown with this message."""


def _concat(value: Any, field: str) -> str:
    """Lua's ``..`` on a field: strings and numbers concatenate, anything else is an error."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, float) else str(value)
    raise ScriptFailure(f"attempt to concatenate {field} (a {'nil' if value is None else 'non-string'} value)")


def _ready_condition(obj: Obj, *, waiting: str) -> Health:
    """The first ``Ready`` condition that is True (Healthy) or False (Degraded), with its message."""
    for cond in conditions_of(obj):
        if cond.get("type") == "Ready" and cond.get("status") in ("True", "False"):
            return Health(H.HEALTHY if cond.get("status") == "True" else H.DEGRADED, text(cond.get("message")))
    return Health(H.PROGRESSING, waiting)


# -- cert-manager.io --------------------------------------------------------------------------------------------


def certificate_health(obj: Obj) -> Health:
    """Issuing True comes first (Progressing, a renewal in flight), then the first decisive Ready condition."""
    for cond in conditions_of(obj):
        if cond.get("type") == "Issuing" and cond.get("status") == "True":
            return Health(H.PROGRESSING, text(cond.get("message")))
    return _ready_condition(obj, waiting="Waiting for certificate")


def certificate_request_health(obj: Obj) -> Health:
    """Denied/InvalidRequest True -> Degraded; the first Ready: True -> Healthy, reason Pending -> Progressing,
    anything else -> Degraded."""
    conditions = conditions_of(obj)
    for cond in conditions:
        if cond.get("type") in ("Denied", "InvalidRequest") and cond.get("status") == "True":
            return Health(H.DEGRADED, text(cond.get("message")))
    for cond in conditions:
        if cond.get("type") == "Ready":
            if cond.get("status") == "True":
                return Health(H.HEALTHY, text(cond.get("message")))
            code = H.PROGRESSING if cond.get("reason") == "Pending" else H.DEGRADED
            return Health(code, text(cond.get("message")))
    return Health(H.PROGRESSING, "Waiting for certificate request")


def _waiting_on_ready(waiting: str) -> HealthCheck:
    def check(obj: Obj) -> Health:
        return _ready_condition(obj, waiting=waiting)

    check.__doc__ = f"The first decisive Ready condition; none yet -> Progressing {waiting!r}."
    return check


# -- external-secrets.io -------------------------------------------------------------------------------------------


def cluster_external_secret_health(obj: Obj) -> Health:
    """Only the last condition counts (new ones are appended): Ready True -> Healthy, PartiallyReady or NotReady
    True -> Degraded."""
    conditions = status_of(obj).get("conditions")
    if isinstance(conditions, list):
        last = conditions[-1] if conditions else None
        if not isinstance(last, Mapping):
            raise ScriptFailure("attempt to index the last condition (not an object)")
        if last.get("status") == "True" and last.get("type") in ("Ready", "PartiallyReady", "NotReady"):
            return Health(H.HEALTHY if last.get("type") == "Ready" else H.DEGRADED, text(last.get("message")))
    return Health(H.PROGRESSING, "Waiting for ClusterExternalSecret")


# -- keda.sh -----------------------------------------------------------------------------------------------------


def _keda_health(obj: Obj, *, degraded_when: tuple[str, str], waiting: str) -> Health:
    """Degraded if Ready is False (or the kind's second failure condition holds); Healthy if Ready is True,
    Suspended if also Paused; the message is the last matching condition's."""
    healthy = degraded = suspended = False
    message: str | None = None
    for cond in conditions_of(obj):
        kind, status = cond.get("type"), cond.get("status")
        if (kind, status) == ("Ready", "False"):
            message, degraded = text(cond.get("message")), True
        if (kind, status) == ("Ready", "True"):
            message, healthy = text(cond.get("message")), True
        if (kind, status) == ("Paused", "True"):
            message, suspended = text(cond.get("message")), True
        if (kind, status) == degraded_when:
            message, degraded = text(cond.get("message")), True
    if degraded:
        return Health(H.DEGRADED, message or "")
    if healthy:
        return Health(H.SUSPENDED if suspended else H.HEALTHY, message or "")
    return Health(H.PROGRESSING, waiting)


def scaled_object_health(obj: Obj) -> Health:
    return _keda_health(obj, degraded_when=("Fallback", "True"), waiting="Creating HorizontalPodAutoscaler Object")


def scaled_job_health(obj: Obj) -> Health:
    return _keda_health(obj, degraded_when=("Ready", "Unknown"), waiting="Waiting for ScaledJob")


# -- Crossplane and Upbound (every kind of *.crossplane.io, *.upbound.io) ------------------------------------------

_CROSSPLANE_NO_CONDITIONS = frozenset({
    "Composition", "CompositionRevision", "DeploymentRuntimeConfig", "EnvironmentConfig", "ImageConfig",
    "ProviderConfig", "ProviderConfigUsage", "ControllerConfig", "StoreConfig", "ClusterProviderConfig",
    "ClusterProviderConfigUsage",
})
_UPBOUND_NO_CONDITIONS = frozenset({
    "ProviderConfig", "ProviderConfigUsage", "StoreConfig", "ClusterProviderConfig", "ClusterProviderConfigUsage",
})
_CROSSPLANE_READY = ("Ready", "Healthy", "Offered", "Established", "ValidPipeline", "RevisionHealthy")


def _managed_resource_health(obj: Obj, *, no_conditions: frozenset[str], ready_types: tuple[str, ...],
                             inactive_established: bool) -> Health:
    """No conditions: Healthy for the kinds that never have any ("Resource is in use." when it has users),
    else Progressing "Provisioning ..."; LastAsyncOperation/Synced False -> Degraded at once; a ready-type
    condition True makes it Healthy "Resource is up-to-date." (the loop goes on to look for failures)."""
    result = Health(H.PROGRESSING, "Provisioning ...")
    status = status_of(obj)
    conditions = status.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        if obj.get("kind") in no_conditions:
            in_use = isinstance(obj.get("status"), Mapping) and status.get("users") is not None
            return Health(H.HEALTHY, "Resource is in use." if in_use else "Resource is up-to-date.")
        return result
    inactive = spec_of(obj).get("state") != "Active"
    for cond in conditions_of(obj):
        if cond.get("type") in ("LastAsyncOperation", "Synced") and cond.get("status") == "False":
            return Health(H.DEGRADED, text(cond.get("message")))
        if cond.get("type") in ready_types and cond.get("status") == "True":
            result = Health(H.HEALTHY, "Resource is up-to-date.")
        if (inactive_established and cond.get("type") == "Established"
                and cond.get("reason") == "InactiveManagedResource" and inactive):
            result = Health(H.HEALTHY, "Resource is up-to-date.")
    return result


def crossplane_health(obj: Obj) -> Health:
    return _managed_resource_health(obj, no_conditions=_CROSSPLANE_NO_CONDITIONS, ready_types=_CROSSPLANE_READY,
                                    inactive_established=True)


def upbound_health(obj: Obj) -> Health:
    return _managed_resource_health(obj, no_conditions=_UPBOUND_NO_CONDITIONS, ready_types=("Ready",),
                                    inactive_established=False)


def crossplane_provider_health(obj: Obj) -> Health:
    """pkg.crossplane.io Provider: Installed and Healthy both True -> Healthy, else Degraded; the message is
    their reasons ("ActivePackageRevision HealthyPackageRevision")."""
    installed = healthy = False
    installed_reason: Any = None
    healthy_reason: Any = None
    if isinstance(status_of(obj).get("conditions"), list):
        for cond in conditions_of(obj):
            if cond.get("type") == "Installed":
                installed, installed_reason = cond.get("status") == "True", cond.get("reason")
            elif cond.get("type") == "Healthy":
                healthy, healthy_reason = cond.get("status") == "True", cond.get("reason")
        if installed_reason is not None or healthy_reason is not None:
            code = H.HEALTHY if installed and healthy else H.DEGRADED
            if installed_reason is not None and healthy_reason is not None:
                message = f"{_concat(installed_reason, 'reason')} {_concat(healthy_reason, 'reason')}"
            else:
                message = text(installed_reason if installed_reason is not None else healthy_reason)
            return Health(code, message)
    return Health(H.PROGRESSING, "Waiting for provider to be installed")


# -- serving.knative.dev, Flux --------------------------------------------------------------------------------------


def knative_service_health(obj: Obj) -> Health:
    """ConfigurationsReady, RoutesReady and Ready all True -> Healthy "Knative Service is healthy."; any False
    -> Degraded; each False/Unknown condition adds a line "<type> is <status>, since <reason>. <message>"."""
    status = status_of(obj)
    if not isinstance(status.get("conditions"), list | dict):
        return Health(H.PROGRESSING, "Waiting for status update.")
    true = false = unknown = 0
    lines = []
    for cond in conditions_of(obj):
        state = cond.get("status")
        if state == "True" and cond.get("type") in ("ConfigurationsReady", "RoutesReady", "Ready"):
            true += 1
        elif state in ("False", "Unknown"):
            line = f"{_concat(cond.get('type'), 'type')} is {state}"
            if cond.get("reason") not in (None, ""):
                line += f", since {_concat(cond.get('reason'), 'reason')}."
            if cond.get("message") not in (None, ""):
                line += f" {_concat(cond.get('message'), 'message')}"
            lines.append(line + "\n")
            false, unknown = (false + 1, unknown) if state == "False" else (false, unknown + 1)
    if true == 3 and false == 0 and unknown == 0:
        return Health(H.HEALTHY, "Knative Service is healthy.")
    return Health(H.DEGRADED if false > 0 else H.PROGRESSING, "".join(lines))


def _flux_health(obj: Obj, *, succeeded_types: tuple[str, ...], healthy_count: int,
                 outdated_artifact: bool = False) -> Health:
    """Flux objects: ``spec.suspend`` -> Suspended "<Kind> is suspended"; Ready True and the kind's other success
    conditions -> Healthy; Ready Unknown while Reconciling -> Progressing; otherwise Degraded; the message is
    the Ready condition's reason."""
    if spec_of(obj).get("suspend") is True:
        return Health(H.SUSPENDED, f"{_concat(obj.get('kind'), 'kind')} is suspended")
    if not isinstance(status_of(obj).get("conditions"), list | dict):
        return Health(H.PROGRESSING, "Status unknown")
    progressing = succeeded = 0
    message: Any = ""
    for cond in conditions_of(obj):
        kind, state = cond.get("type"), cond.get("status")
        if kind == "Ready":
            if state == "True":
                succeeded += 1
            elif state == "Unknown":
                progressing += 1
            message = cond.get("reason")
        elif kind == "Reconciling" and state == "True":
            progressing += 1
        elif outdated_artifact and kind == "ArtifactOutdated" and state == "True":
            message = f"{_concat(message, 'message')} {_concat(cond.get('reason'), 'reason')}"
        elif kind in succeeded_types and state == "True":
            succeeded += 1
    message = text(message)
    if progressing == 2:
        return Health(H.PROGRESSING, message)
    return Health(H.HEALTHY if succeeded == healthy_count else H.DEGRADED, message)


def helm_release_health(obj: Obj) -> Health:
    return _flux_health(obj, succeeded_types=("Released", "TestSuccess"), healthy_count=2)


def flux_kustomization_health(obj: Obj) -> Health:
    return _flux_health(obj, succeeded_types=(), healthy_count=1)


def flux_source_health(obj: Obj) -> Health:
    """GitRepository, OCIRepository, Bucket, HelmChart: Ready and ArtifactInStorage both True -> Healthy."""
    return _flux_health(obj, succeeded_types=("ArtifactInStorage",), healthy_count=2, outdated_artifact=True)


def flux_helm_repository_health(obj: Obj) -> Health:
    if spec_of(obj).get("suspend") is not True and spec_of(obj).get("type") == "oci":
        return Health(H.HEALTHY, "Helm repositories of type 'oci' do not contain any information in the status.")
    return flux_source_health(obj)


# -- policy/v1, batch/v1 CronJob --------------------------------------------------------------------------------------


def pdb_health(obj: Obj) -> Health:
    """A False condition (other than reason InsufficientPods) -> Degraded "PodDisruptionBudget has <reason>";
    otherwise the last condition makes it Healthy with its reason; no conditions -> Progressing."""
    result = Health(H.PROGRESSING, "Waiting for status")
    for cond in conditions_of(obj):
        reason = _concat(cond.get("reason"), "reason")
        if cond.get("status") == "False" and cond.get("reason") != "InsufficientPods":
            return Health(H.DEGRADED, f"PodDisruptionBudget has {reason}")
        result = Health(H.HEALTHY, f"PodDisruptionBudget has {reason}")
    return result


def cronjob_health(obj: Obj) -> Health:
    """Suspended, never scheduled, never succeeded or running are all Healthy (with a message saying which);
    Degraded only when the last success is older than the last schedule."""
    if spec_of(obj).get("suspend") is True:
        return Health(H.HEALTHY, "CronJob is Suspended")
    if not isinstance(obj.get("status"), Mapping):
        return Health(H.PROGRESSING, "Waiting for CronJob")
    status = status_of(obj)
    scheduled, succeeded = status.get("lastScheduleTime"), status.get("lastSuccessfulTime")
    if scheduled is None:
        return Health(H.HEALTHY, "CronJob has not been scheduled yet")
    if succeeded is None:
        return Health(H.HEALTHY, "The CronJob never completed successfully. It may not be healthy")
    active = status.get("active")
    if isinstance(active, list) and active:
        return Health(H.HEALTHY, "The job is running. Its last execution may not have been successful")
    if isinstance(succeeded, str) and isinstance(scheduled, str) and succeeded < scheduled:
        return Health(H.DEGRADED, "CronJob has not completed its last execution successfully")
    return Health(H.HEALTHY, "CronJob has completed its last execution successfully")


ADDON_CHECKS: dict[tuple[str, str], HealthCheck] = {
    ("cert-manager.io", "Certificate"): certificate_health,
    ("cert-manager.io", "CertificateRequest"): certificate_request_health,
    ("cert-manager.io", "Issuer"): _waiting_on_ready("Initializing issuer"),
    ("cert-manager.io", "ClusterIssuer"): _waiting_on_ready("Initializing ClusterIssuer"),
    ("external-secrets.io", "ExternalSecret"): _waiting_on_ready("Waiting for ExternalSecret"),
    ("external-secrets.io", "SecretStore"): _waiting_on_ready("Waiting for SecretStore"),
    ("external-secrets.io", "ClusterSecretStore"): _waiting_on_ready("Waiting for ClusterSecretStore"),
    ("external-secrets.io", "PushSecret"): _waiting_on_ready("Waiting for PushSecret"),
    ("external-secrets.io", "ClusterExternalSecret"): cluster_external_secret_health,
    ("keda.sh", "ScaledObject"): scaled_object_health,
    ("keda.sh", "ScaledJob"): scaled_job_health,
    ("pkg.crossplane.io", "Provider"): crossplane_provider_health,
    ("serving.knative.dev", "Service"): knative_service_health,
    ("helm.toolkit.fluxcd.io", "HelmRelease"): helm_release_health,
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): flux_kustomization_health,
    ("source.toolkit.fluxcd.io", "GitRepository"): flux_source_health,
    ("source.toolkit.fluxcd.io", "OCIRepository"): flux_source_health,
    ("source.toolkit.fluxcd.io", "Bucket"): flux_source_health,
    ("source.toolkit.fluxcd.io", "HelmChart"): flux_source_health,
    ("source.toolkit.fluxcd.io", "HelmRepository"): flux_helm_repository_health,
    ("policy", "PodDisruptionBudget"): pdb_health,
    ("batch", "CronJob"): cronjob_health,
}

# Argo CD's wildcard script directories, in its (sorted) order: "<group pattern>/<kind pattern>".
WILDCARD_CHECKS: tuple[tuple[str, HealthCheck], ...] = (
    ("*.crossplane.io/*", crossplane_health),
    ("*.upbound.io/*", upbound_health),
)


# Kinds under the wildcards for which Argo CD ships a script of their own (the legacy provider-aws and
# stacks kinds); we have no rule for them, and the wildcard's answer would not be Argo CD's: no health.
SHADOWED_BY_OWN_SCRIPT = frozenset({
    ("cloudfront.aws.crossplane.io", "Distribution"), ("iam.aws.crossplane.io", "Policy"),
    ("iam.aws.crossplane.io", "Role"), ("iam.aws.crossplane.io", "RolePolicyAttachment"),
    ("rds.aws.crossplane.io", "DBCluster"), ("rds.aws.crossplane.io", "DBInstance"),
    ("route53.aws.crossplane.io", "ResourceRecordSet"), ("s3.aws.crossplane.io", "Bucket"),
    ("stacks.crossplane.io", "ClusterStackInstall"),
})


def wildcard_check(group: str, kind: str) -> HealthCheck | None:
    """The wildcard script for a group/kind without its own one (neither part ever contains ``/``)."""
    if (group, kind) in SHADOWED_BY_OWN_SCRIPT:
        return None
    for pattern, check in WILDCARD_CHECKS:
        group_pattern, _, kind_pattern = pattern.partition("/")
        if fnmatch.fnmatchcase(group, group_pattern) and fnmatch.fnmatchcase(kind, kind_pattern):
            return check
    return None
