"""Bookkeeping of a sync operation: retry backoff and the revision history, as Argo CD keeps them.

Why this module exists: both are small calculations that users see in status (``operationState.retryCount``,
``history[].id``) and that must survive a controller restart, so they are computed from status alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rollouts.api.application import (
    ApplicationSource,
    OperationInitiator,
    RetryStrategy,
    RevisionHistory,
    RevisionMetadata,
)
from rollouts.api.common import format_time, parse_duration


def can_retry(retry: RetryStrategy | None, retry_count: int) -> bool:
    """A failed sync is retried while ``retry_count < limit``; a negative limit retries forever."""
    if retry is None or retry.limit == 0:
        return False
    return retry.limit < 0 or retry_count < retry.limit


def retry_delay(retry: RetryStrategy | None, retry_count: int) -> float:
    """Seconds before retry number ``retry_count + 1``: duration * factor^retry_count, capped by maxDuration.

    Defaults 5s, factor 2, max 3m: 5s, 10s, 20s, 40s, 80s, 160s, 180s, 180s ...
    """
    backoff = retry.backoff if retry is not None else None
    duration = parse_duration(backoff.duration) if backoff else 5.0
    factor = backoff.factor if backoff else 2
    cap = parse_duration(backoff.max_duration) if backoff else 180.0
    return float(min(duration * (factor ** max(retry_count, 0)), cap))


def next_history(
    history: Sequence[RevisionHistory],
    *,
    revision: str,
    source: ApplicationSource,
    deployed_at: datetime,
    started_at: datetime | None,
    initiated_by: OperationInitiator | None,
    limit: int,
    metadata: RevisionMetadata | None = None,
    revisions: Sequence[str] = (),
    sources: Sequence[ApplicationSource] = (),
) -> list[dict[str, Any]]:
    """History after a successful sync: ids keep growing, only the last ``limit`` entries are kept. A
    multi-source sync (``revisions``) is recorded as Argo CD does: ``revisions`` and ``sources``, no
    ``revision``/``source``."""
    next_id = max((h.id for h in history), default=-1) + 1
    entries = [h.model_dump(by_alias=True, exclude_none=True, mode="json") for h in history]
    entry: dict[str, Any] = {"id": next_id, "deployedAt": format_time(deployed_at)}
    if revisions:
        entry.update({"revisions": list(revisions),
                      "sources": [s.model_dump(by_alias=True, exclude_none=True, mode="json") for s in sources]})
    else:
        entry.update({"revision": revision,
                      "source": source.model_dump(by_alias=True, exclude_none=True, mode="json")})
    if started_at is not None:
        entry["deployStartedAt"] = format_time(started_at)
    if initiated_by is not None:
        entry["initiatedBy"] = initiated_by.model_dump(by_alias=True, exclude_none=True, mode="json")
    if metadata is not None:
        entry["revisionMetadata"] = metadata.model_dump(by_alias=True, exclude_none=True, mode="json")
    entries.append(entry)
    keep = max(limit, 1)
    return entries[-keep:]
