"""ReplicaSets as revisions: find the new/stable/old ones, build a new one, scale, annotate, prune.

Kubernetes quirks handled here:

* The current revision is found as Argo's ``FindNewReplicaSet`` finds it: first by the
  ``rollouts-pod-template-hash`` label (Argo's hash of the Rollout's template), then by the hash this project
  wrote before it hashed like Argo, then by comparing templates (``PodTemplateEqualIgnoreHash``): the API
  server defaults fields inside a ReplicaSet's template, so the Rollout's template is compared in its
  defaulted form (observed by a dry-run create), without our ephemeral metadata and the anti-affinity rule
  injected for ``antiAffinity``. Taking a ReplicaSet over this way (from Argo, or across a change of hashing)
  keeps its pods: the Rollout's current hash becomes that ReplicaSet's label.
* Revision order comes from the ``rollout.argoproj.io/revision`` annotation (creation timestamps have
  one-second resolution). Reusing an old ReplicaSet (undo) bumps its revision to the newest, as Argo does.
* The old stable of a traffic-routed canary (or blue-green) is kept up until the ``scale-down-deadline``
  annotation written on it, so routers and clients can drain; the deadline is on the object, so a restarted
  controller honours it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.labels import (
    EPHEMERAL_METADATA_ANNOTATION,
    POD_TEMPLATE_HASH_LABEL,
    REVISION_ANNOTATION,
    SCALE_DOWN_DEADLINE_ANNOTATION,
)
from rollouts.api.owners import controller_reference
from rollouts.api.podtemplate.equality import pod_templates_equal_ignoring_hash
from rollouts.api.rollout import API_VERSION, KIND, PodTemplateMetadata, Rollout
from rollouts.planning.context import PlanContext, RevisionSets
from rollouts.planning.hashing import legacy_pod_template_hash, replica_set_name
from rollouts.planning.observed import (
    ObservedReplicaSet,
    format_timestamp,
    parse_timestamp,
)
from rollouts.planning.plan import CreateReplicaSet, DeleteReplicaSet, ScaleReplicaSet
from rollouts.planning.vocabulary import Event

DESIRED_REPLICAS_ANNOTATION = "rollout.argoproj.io/desired-replicas"


def _without_ephemeral_metadata(rs: ObservedReplicaSet) -> dict[str, Any]:
    """The ReplicaSet's template without the labels/annotations its ``ephemeral-metadata`` annotation says
    were injected (Argo's ``SyncReplicaSetEphemeralPodMetadata(rs, nil)``)."""
    template = dict(rs.template)
    try:
        injected = json.loads(rs.annotations.get(EPHEMERAL_METADATA_ANNOTATION, "") or "null")
    except ValueError:
        injected = None
    if not isinstance(injected, Mapping):
        return template
    metadata = dict(template.get("metadata") or {})
    for key in ("labels", "annotations"):
        drop = injected.get(key)
        if isinstance(drop, Mapping) and isinstance(metadata.get(key), Mapping):
            metadata[key] = {k: v for k, v in metadata[key].items() if k not in drop}
    template["metadata"] = metadata
    return template


def _has_hash_expression(term: object) -> bool:
    selector = term.get("labelSelector") if isinstance(term, Mapping) else None
    expressions = selector.get("matchExpressions") if isinstance(selector, Mapping) else None
    return any(isinstance(e, Mapping) and e.get("key") == POD_TEMPLATE_HASH_LABEL for e in expressions or ())


_PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"


def _injected_term_kind(anti_affinity: Mapping[str, Any] | None) -> str | None:
    """Which list of podAntiAffinity the Rollout's ``antiAffinity`` injects into (preferred wins), or None."""
    if not anti_affinity:
        return None
    if anti_affinity.get(_PREFERRED) is not None:
        return _PREFERRED
    return _REQUIRED if anti_affinity.get(_REQUIRED) is not None else None


def _injected_term_index(terms: Sequence[Any], kind: str) -> int | None:
    """The first term selecting on the hash label (a preferred term wraps it in ``podAffinityTerm``)."""
    preferred = kind == _PREFERRED
    return next((i for i, t in enumerate(terms)
                 if _has_hash_expression(t.get("podAffinityTerm") if preferred and isinstance(t, Mapping) else t)),
                None)


def without_injected_anti_affinity(template: Mapping[str, Any], anti_affinity: Mapping[str, Any] | None
                                   ) -> dict[str, Any]:
    """The template without the pod anti-affinity term a Rollout's ``antiAffinity`` injects (Argo's
    ``RemoveInjectedAntiAffinityRule``): the first term selecting on the hash label, of the kind configured."""
    result = dict(template)
    kind = _injected_term_kind(anti_affinity)
    if kind is None:
        return result
    spec = dict(result.get("spec") or {})
    affinity = dict(spec.get("affinity") or {})
    anti = dict(affinity.get("podAntiAffinity") or {})
    terms = list(anti.get(kind) or ())
    index = _injected_term_index(terms, kind)
    if index is None:
        return result
    del terms[index]
    anti[kind] = terms or None
    anti = {k: v for k, v in anti.items() if v}
    affinity["podAntiAffinity"] = anti or None
    affinity = {k: v for k, v in affinity.items() if v}
    spec["affinity"] = affinity or None
    result["spec"] = spec
    return result


def find_new_replica_set(
    replica_sets: Sequence[ObservedReplicaSet],
    *,
    current_hash: str,
    template: Mapping[str, Any],
    defaulted_template: Mapping[str, Any] | None = None,
    anti_affinity: Mapping[str, Any] | None = None,
) -> ObservedReplicaSet | None:
    """The ReplicaSet that runs ``template`` now, as Argo's ``FindNewReplicaSet`` decides (oldest first):

    1. one labelled with ``current_hash`` (Argo's hash: what Argo and we write on new ReplicaSets);
    2. one labelled with the hash this project used before (sha256), so upgrading restarts nothing;
    3. one whose template equals ``defaulted_template`` (the Rollout's template as the API server defaults
       it) ignoring the hash label, our ephemeral metadata and the injected anti-affinity term.
       Without a defaulted template (not observed) the Rollout's template is compared as it is.
    """
    ordered = sorted(replica_sets, key=lambda rs: (rs.created_at, rs.name))
    for rs in ordered:
        if rs.pod_template_hash == current_hash:
            return rs
    legacy = legacy_pod_template_hash(template)
    for rs in ordered:
        if rs.pod_template_hash == legacy:
            return rs
    desired = defaulted_template if defaulted_template is not None else template
    for rs in ordered:
        live = without_injected_anti_affinity(_without_ephemeral_metadata(rs), anti_affinity)
        if pod_templates_equal_ignoring_hash(live, desired):
            return rs
    return None


def needs_defaulted_template(replica_sets: Sequence[ObservedReplicaSet], template: Mapping[str, Any],
                             current_hash: str) -> bool:
    """Whether finding the current ReplicaSet will come to comparing templates (so the observer should ask
    the API server for the defaulted template): there are ReplicaSets, none carrying either hash."""
    if not replica_sets:
        return False
    hashes = {current_hash, legacy_pod_template_hash(template)}
    return not any(rs.pod_template_hash in hashes for rs in replica_sets)


def classify(
    replica_sets: Sequence[ObservedReplicaSet],
    *,
    current_hash: str,
    stable_hash: str | None,
    template: Mapping[str, Any],
    defaulted_template: Mapping[str, Any] | None = None,
    anti_affinity: Mapping[str, Any] | None = None,
) -> RevisionSets:
    """Sort the ReplicaSets into new (current template), stable (``status.stableRS``) and others.

    ``current_hash`` is the hash of ``template``; when the new ReplicaSet was found under another hash
    (``find_new_replica_set``), that ReplicaSet's label is the current hash from then on, as in Argo
    (``status.currentPodHash`` is the new ReplicaSet's label).
    """
    new = find_new_replica_set(replica_sets, current_hash=current_hash, template=template,
                               defaulted_template=defaulted_template, anti_affinity=anti_affinity)
    if new is not None and new.pod_template_hash:
        current_hash = new.pod_template_hash
    stable: ObservedReplicaSet | None = None
    max_revision = 0
    for rs in replica_sets:
        if stable_hash and rs.pod_template_hash == stable_hash:
            stable = rs
        if rs.revision > max_revision:
            max_revision = rs.revision
    others = tuple(
        sorted(
            (rs for rs in replica_sets if rs is not new and rs is not stable),
            key=lambda rs: rs.revision,
            reverse=True,
        )
    )
    revision = max_revision + 1
    if new is not None and new.revision >= max_revision:
        revision = new.revision
    # else an older template came back (undo): it becomes the newest revision again.
    return RevisionSets(current_hash=current_hash, new=new, stable=stable, others=others, revision=revision)


def classify_revisions(ctx: PlanContext, template: Mapping[str, Any], current_hash: str) -> RevisionSets:
    """``classify`` with what the plan context knows: stableRS, the defaulted template, antiAffinity."""
    strategy = ctx.spec.strategy
    anti_affinity = (strategy.canary.anti_affinity if strategy.canary is not None
                     else strategy.blue_green.anti_affinity if strategy.blue_green is not None else None)
    return classify(ctx.observed.replica_sets, current_hash=current_hash, stable_hash=ctx.old.stable_rs,
                    template=template, defaulted_template=ctx.observed.defaulted_template,
                    anti_affinity=anti_affinity)


def _with_hash_label(labels: Mapping[str, str] | None, template_hash: str) -> dict[str, str]:
    result = dict(labels or {})
    result[POD_TEMPLATE_HASH_LABEL] = template_hash
    return result


def replica_set_manifest(
    rollout: Rollout,
    template: Mapping[str, Any],
    *,
    template_hash: str,
    revision: int,
    replicas: int,
    pod_metadata: PodTemplateMetadata | None = None,
) -> dict[str, Any]:
    """The ReplicaSet for one revision: ``<rollout>-<hash>``, selected by the hash label, owned by the Rollout.

    ``pod_metadata`` (canaryMetadata/previewMetadata) is added to the pod template and remembered in the
    ``rollout.argoproj.io/ephemeral-metadata`` annotation, as Argo does.
    """
    pod_meta = dict(template.get("metadata") or {})
    pod_meta["labels"] = _with_hash_label(pod_meta.get("labels"), template_hash)
    rs_labels = dict(pod_meta["labels"])  # the ReplicaSet carries the template's labels, not ephemeral ones
    annotations = {
        REVISION_ANNOTATION: str(revision),
        DESIRED_REPLICAS_ANNOTATION: str(rollout.spec.replicas),
    }
    if pod_metadata is not None and (pod_metadata.labels or pod_metadata.annotations):
        if pod_metadata.labels:
            pod_meta["labels"] = {**pod_meta["labels"], **pod_metadata.labels}
        if pod_metadata.annotations:
            pod_meta["annotations"] = {**(pod_meta.get("annotations") or {}), **pod_metadata.annotations}
        annotations[EPHEMERAL_METADATA_ANNOTATION] = json.dumps(
            pod_metadata.model_dump(by_alias=True, exclude_none=True), sort_keys=True, separators=(",", ":")
        )
    selector = rollout.spec.selector
    match_labels = _with_hash_label(selector.match_labels if selector else None, template_hash)
    selector_dict: dict[str, Any] = {"matchLabels": match_labels}
    if selector is not None and selector.match_expressions:
        selector_dict["matchExpressions"] = [
            e.model_dump(by_alias=True, exclude_none=True, mode="json") for e in selector.match_expressions
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": replica_set_name(rollout.name, template_hash),
            "namespace": rollout.namespace,
            "labels": rs_labels,
            "annotations": annotations,
            "ownerReferences": [
                controller_reference(api_version=API_VERSION, kind=KIND, name=rollout.name,
                                     uid=rollout.metadata.uid or "")
            ],
        },
        "spec": {
            "replicas": replicas,
            "minReadySeconds": rollout.spec.min_ready_seconds,
            "selector": selector_dict,
            "template": {**template, "metadata": pod_meta},
        },
    }


def create_replica_set(
    ctx: PlanContext,
    template: Mapping[str, Any],
    sets: RevisionSets,
    *,
    replicas: int = 0,
    pod_metadata: PodTemplateMetadata | None = None,
) -> None:
    """Create the ReplicaSet for the current template (with 0 replicas: scaling is a separate, bounded step)."""
    manifest = replica_set_manifest(
        ctx.rollout,
        template,
        template_hash=sets.current_hash,
        revision=sets.revision,
        replicas=replicas,
        pod_metadata=pod_metadata,
    )
    ctx.act(CreateReplicaSet(manifest))
    ctx.event(
        Event.NEW_REPLICA_SET_CREATED,
        f"Created ReplicaSet {manifest['metadata']['name']} (revision {sets.revision})",
    )


def scale_down_deadline(rs: ObservedReplicaSet) -> datetime | None:
    """The ``scale-down-deadline`` annotation of an old ReplicaSet, if it carries one."""
    text = rs.annotations.get(SCALE_DOWN_DEADLINE_ANNOTATION)
    if not text:
        return None
    return parse_timestamp(text)


def scale(
    ctx: PlanContext,
    rs: ObservedReplicaSet,
    replicas: int,
    *,
    annotations: Mapping[str, str | None] | None = None,
) -> bool:
    """Scale ``rs`` to ``replicas`` (and/or change annotations); emit ScalingReplicaSet. False if no change."""
    changes = {k: v for k, v in (annotations or {}).items() if rs.annotations.get(k) != v}
    if replicas == rs.spec_replicas and not changes:
        return False
    ctx.act(ScaleReplicaSet(rs.name, replicas, changes))
    if replicas != rs.spec_replicas:
        direction = "up" if replicas > rs.spec_replicas else "down"
        ctx.event(
            Event.SCALING_REPLICA_SET,
            f"Scaled {direction} ReplicaSet {rs.name} (revision {rs.revision}) from {rs.spec_replicas} to {replicas}",
        )
    return True


def scale_with_revision(ctx: PlanContext, rs: ObservedReplicaSet, replicas: int, sets: RevisionSets) -> bool:
    """Scale the new ReplicaSet, also bumping its revision annotation when it was an older one (undo) and
    clearing any scale-down deadline left from when it was old."""
    annotations: dict[str, str | None] = {}
    if rs.revision != sets.revision:
        annotations[REVISION_ANNOTATION] = str(sets.revision)
    if SCALE_DOWN_DEADLINE_ANNOTATION in rs.annotations:
        annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = None
    return scale(ctx, rs, replicas, annotations=annotations)


def clear_deadline(ctx: PlanContext, rs: ObservedReplicaSet | None) -> bool:
    """A ReplicaSet that is new or stable again must not be scaled down by an old deadline."""
    if rs is None or SCALE_DOWN_DEADLINE_ANNOTATION not in rs.annotations:
        return False
    return scale(ctx, rs, rs.spec_replicas, annotations={SCALE_DOWN_DEADLINE_ANNOTATION: None})


def scale_down_after_delay(
    ctx: PlanContext, rs: ObservedReplicaSet, delay_seconds: int, *, keep_up: bool = True
) -> bool:
    """Scale an old ReplicaSet to 0 once its deadline passes, annotating the deadline first.

    * no annotation yet -> write ``now + delay`` and keep the pods (requeue at the deadline)
    * deadline in the future -> wait (requeue at the deadline)
    * deadline passed, delay 0, or ``keep_up`` False (over scaleDownDelayRevisionLimit) -> scale to 0 and
      drop the annotation
    """
    if rs.spec_replicas == 0:
        return False
    deadline = scale_down_deadline(rs)
    if not keep_up:
        return scale(ctx, rs, 0, annotations={SCALE_DOWN_DEADLINE_ANNOTATION: None} if deadline else None)
    if deadline is None:
        if delay_seconds <= 0:
            return scale(ctx, rs, 0)
        deadline = ctx.now + timedelta(seconds=delay_seconds)
        ctx.wake(deadline)
        return scale(
            ctx, rs, rs.spec_replicas, annotations={SCALE_DOWN_DEADLINE_ANNOTATION: format_timestamp(deadline)}
        )
    if deadline > ctx.now:
        ctx.wake(deadline)
        return False
    return scale(ctx, rs, 0, annotations={SCALE_DOWN_DEADLINE_ANNOTATION: None})


def scale_down_old_after_delay(
    ctx: PlanContext, old: Sequence[ObservedReplicaSet], delay_seconds: int, revision_limit: int | None
) -> bool:
    """``scale_down_after_delay`` for old ReplicaSets, newest first; with ``scaleDownDelayRevisionLimit`` only
    that many keep their pods until the deadline, older ones are scaled down now.

    Old revisions 4, 3, 2 still up, limit 1 -> 4 waits for its deadline, 3 and 2 go to 0 now.
    """
    changed = False
    delayed = 0
    for rs in old:
        if rs.spec_replicas == 0:
            continue
        keep_up = revision_limit is None or delayed < revision_limit
        delayed += 1
        changed = scale_down_after_delay(ctx, rs, delay_seconds, keep_up=keep_up) or changed
    return changed


def prune_history(ctx: PlanContext, others: Sequence[ObservedReplicaSet], limit: int) -> None:
    """Delete fully scaled-down old ReplicaSets beyond ``revisionHistoryLimit``, oldest first."""
    idle = [rs for rs in others if rs.spec_replicas == 0 and rs.status_replicas == 0]
    excess = len(idle) - max(0, limit)
    if excess <= 0:
        return
    for rs in sorted(idle, key=lambda rs: (rs.revision, rs.created_at))[:excess]:
        ctx.act(DeleteReplicaSet(rs.name))


def rollback_within_window(ctx: PlanContext, sets: RevisionSets) -> bool:
    """``spec.rollbackWindow``: going back to a ReplicaSet older than the stable one, with fewer than
    ``revisions`` ReplicaSets created in between, skips the steps (and analysis and pauses), as Argo does.

    Revisions 1, 2, 3, 4, 5 (stable), window 3: back to 4 or 3 is fast-tracked, back to 2 is not. Age is the
    creation time (the revision annotation of a reused ReplicaSet is bumped, its creation time is not).
    """
    window = ctx.spec.rollback_window
    new, stable = sets.new, sets.stable
    if window is None or not window.revisions or new is None or stable is None or sets.stable_is_new:
        return False
    if not new.created_at < stable.created_at:
        return False
    between = sum(1 for rs in sets.others if new.created_at < rs.created_at < stable.created_at)
    return between < window.revisions


def revision_label(sets: RevisionSets) -> str:
    """``"2 (5c7b9d8f4x)"``-style text used in completion events."""
    return f"{sets.revision} ({sets.current_hash})"
