"""When to start a sync by ourselves: Argo CD's automated sync policy, self-heal and its backoff.

Why this module exists: an automated sync that retries a broken commit forever hammers the cluster, and one
that re-applies after every live edit fights the people debugging it. Argo CD's rules, kept here as a pure
decision: sync only when OutOfSync and nothing is running; never start again for a commit whose last sync
attempt failed (a new commit, or a manual sync, is needed); after a successful sync to a commit, a drift is
only corrected when ``selfHeal`` is on, and repeated corrections back off exponentially; and never prune
everything unless ``allowEmpty``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rollouts.api.application import (
    Application,
    OperationPhase,
    OperationState,
    SyncOperation,
    SyncPolicy,
    SyncPolicyAutomated,
    SyncStatusCode,
)
from rollouts.gitops.comparison import joint_revision
from rollouts.gitops.prune import wipes_everything

SELF_HEAL_ATTEMPTS_FIELD = "selfHealAttemptsCount"  # kept in operation.sync, as Argo CD does
SELF_HEAL_COOLDOWN = 10.0
"""Seconds after a self-heal finished beyond which a new drift is not "consecutive": its backoff starts over."""


@dataclass(frozen=True, slots=True)
class AutoSyncDecision:
    operation: dict[str, Any] | None
    """The ``operation`` to write, or None."""
    reason: str
    retry_after: float | None = None
    """Seconds until a self-heal backoff expires (requeue then)."""
    error: bool = False
    """The reason is a problem the user must see (a SyncError condition), not a normal skip."""


def self_heal_delay(attempts: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Backoff before self-heal attempt ``attempts + 1``: 0 for the first, then 1s, 2s, 4s ... up to 5 min."""
    if attempts <= 0:
        return 0.0
    return float(min(base * (2 ** (attempts - 1)), cap))


def _last_sync(state: OperationState | None) -> tuple[SyncOperation | None, str | None]:
    """The last operation's sync and the commit it really synced (a manual sync may name a branch or nothing)."""
    last_sync = state.operation.sync if state is not None else None
    if state is not None and state.sync_result is not None:
        result = state.sync_result
        return last_sync, joint_revision(result.revisions) if result.revisions else result.revision
    if last_sync is not None and last_sync.revisions:
        return last_sync, joint_revision(last_sync.revisions)
    return last_sync, last_sync.revision if last_sync is not None else None


def _refusal(app: Application, automated: SyncPolicyAutomated, *, sync_status: SyncStatusCode, revision: str,
             desired_count: int, owned_count: int) -> AutoSyncDecision | None:
    """Why no automated sync may start whatever the history says, or None."""
    state = app.status.operation_state if app.status else None
    if app.operation is not None or (state is not None and state.phase is OperationPhase.RUNNING):
        return AutoSyncDecision(None, "an operation is in progress")
    if sync_status is not SyncStatusCode.OUT_OF_SYNC:
        return AutoSyncDecision(None, f"sync status is {sync_status}")
    if not automated.allow_empty and wipes_everything(desired_count, owned_count):
        return AutoSyncDecision(
            None, f"Skipping sync attempt to {revision}: auto-sync will wipe out all resources", error=True)
    return None


def _self_heal(state: OperationState, last_sync: SyncOperation, automated: SyncPolicyAutomated, *, revision: str,
               now: datetime) -> AutoSyncDecision | int:
    """A drift after a sync to this very commit: a refusal, a backoff, or the number of this self-heal."""
    if state.phase in (OperationPhase.FAILED, OperationPhase.ERROR):
        return AutoSyncDecision(
            None, f"Skipping auto-sync: failed previous sync attempt to {revision}: {state.message or ''}",
            error=True)
    if not automated.self_heal:
        return AutoSyncDecision(None, f"already synced to {revision} and self-heal is disabled")
    attempts = last_sync.self_heal_attempts_count
    finished = state.finished_at
    if finished is not None and (now - finished).total_seconds() > SELF_HEAL_COOLDOWN + self_heal_delay(attempts):
        attempts = 0  # the last correction held for a while: this is a new drift, not a fight
    delay = self_heal_delay(attempts)
    if finished is not None and (now - finished).total_seconds() < delay:
        wait = delay - (now - finished).total_seconds()
        return AutoSyncDecision(None, f"self-heal backing off for {wait:.1f}s", retry_after=wait)
    return attempts + 1


def _operation(policy: SyncPolicy, automated: SyncPolicyAutomated, revision: str, attempts: int,
               revisions: Sequence[str]) -> dict[str, Any]:
    sync: dict[str, Any] = {"revisions": list(revisions)} if revisions else {"revision": revision}
    sync["prune"] = automated.prune
    if policy.sync_options:
        sync["syncOptions"] = list(policy.sync_options)
    if attempts:
        sync[SELF_HEAL_ATTEMPTS_FIELD] = attempts
    operation: dict[str, Any] = {"sync": sync, "initiatedBy": {"automated": True}}
    if policy.retry is not None:
        operation["retry"] = policy.retry.model_dump(by_alias=True, exclude_none=True, mode="json")
    return operation


def decide_auto_sync(
    app: Application,
    *,
    sync_status: SyncStatusCode,
    revision: str,
    desired_count: int,
    owned_count: int,
    now: datetime,
    revisions: Sequence[str] = (),
) -> AutoSyncDecision:
    """Whether to start an automated sync of ``revision`` now, and with which operation (a multi-source
    application passes its ``revisions``, and ``revision`` is their joint key).

    OutOfSync at abc123, last sync to abc123 Failed -> no ("failed previous sync attempt"); last sync Succeeded,
    selfHeal on, 2 self-heals already, finished 0.5s ago -> no, retry after 1.5s (backoff 2s); the same but
    finished a minute ago -> yes at once (the count starts over after the cool-down).
    """
    policy = app.spec.sync_policy
    automated = policy.automated if policy else None
    if policy is None or automated is None:
        return AutoSyncDecision(None, "automated sync is disabled")
    refused = _refusal(app, automated, sync_status=sync_status, revision=revision, desired_count=desired_count,
                       owned_count=owned_count)
    if refused is not None:
        return refused
    state = app.status.operation_state if app.status else None
    last_sync, last_revision = _last_sync(state)
    attempts = 0
    if state is not None and last_sync is not None and last_revision == revision:
        healed = _self_heal(state, last_sync, automated, revision=revision, now=now)
        if isinstance(healed, AutoSyncDecision):
            return healed
        attempts = healed
    return AutoSyncDecision(_operation(policy, automated, revision, attempts, revisions),
                            f"auto-sync to {revision}" + (" (self-heal)" if attempts else ""))
