"""The one worker loop every reconciler runs: take a key, reconcile it, requeue it, back off on failure.

Rollouts, AnalysisRuns and Applications all follow client-go's contract, so they share this loop and its
backoff policy instead of keeping three copies that drift apart (they had: one retried Applications after a
fixed 2 s or 5 s and never reset, the others backed off per key):

* success: the key's failure count is reset (``WorkQueue.forget``) and it is queued again after the
  ``requeue`` seconds the reconcile returned (None: only on the next watch event);
* a conflict (409, or a guarded patch whose ``test`` failed): someone else wrote first; it is retried with the
  same per-key backoff and logged at info, as it is routine and the next pass re-reads;
* any other failure (an :class:`ApiError` or a crash): retried with per-key exponential backoff
  (``WorkQueue.retry``: 50 ms doubling up to 60 s), logged, and counted through ``on_error``. One broken
  object never stops the worker or the others.

``WorkQueue.done`` is always called, so a key seen again while it was being worked on runs once more.

Sharded (``kube.shards``): a key whose shard this replica does not hold is dropped when picked (its new owner
enqueues it when it acquires the shard), and every write of a reconcile is fenced by the key's shard Lease.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, TypeVar

from rollouts.kube.errors import ApiError, Conflict
from rollouts.kube.shards import ShardSet
from rollouts.kube.workqueue import WorkQueue

K = TypeVar("K", bound=Hashable)


async def run_worker(
    queue: WorkQueue[K],
    reconcile: Callable[[K], Awaitable[float | None]],
    *,
    kind: str,
    log: Any,
    fields: Callable[[K], Mapping[str, str]],
    conflicts: tuple[type[BaseException], ...] = (Conflict,),
    on_error: Callable[[K], None] | None = None,
    on_finished: Callable[[K, float], None] | None = None,
    shards: ShardSet | None = None,
    shard_key: Callable[[K], str] | None = None,
) -> None:
    """Work keys from ``queue`` until cancelled.

    ``kind`` names the object in log lines ("rollout reconcile failed"), ``fields(key)`` gives their
    key/value context (``{"namespace": "shop", "rollout": "web"}``), ``conflicts`` are the exceptions that
    mean "re-read and re-plan", ``on_error`` counts failures and ``on_finished(key, seconds)`` observes every
    pass, successful or not. With ``shards``, ``shard_key(key)`` is the object's ``namespace/name``.
    """
    if shards is not None and shard_key is None:
        raise ValueError("a sharded worker needs shard_key")
    while True:
        key = await queue.get()
        if shards is not None and shard_key is not None and not shards.owns(shard_key(key)):
            queue.forget(key)
            queue.done(key)
            continue
        started = time.monotonic()
        try:
            if shards is not None and shard_key is not None:
                with shards.acting_for(shard_key(key)):
                    requeue = await reconcile(key)
            else:
                requeue = await reconcile(key)
        except conflicts as exc:
            log.info(f"{kind} conflict, re-planning", **fields(key), error=str(exc))
            queue.retry(key)
        except ApiError as exc:
            delay = queue.retry(key)
            if on_error is not None:
                on_error(key)
            log.warning(f"{kind} reconcile failed", **fields(key), error=str(exc), retry_in=delay)
        except Exception:
            delay = queue.retry(key)
            if on_error is not None:
                on_error(key)
            log.exception(f"{kind} reconcile crashed", **fields(key), retry_in=delay)
        else:
            queue.forget(key)
            if requeue is not None:
                queue.add_after(key, requeue)
        finally:
            if on_finished is not None:
                on_finished(key, time.monotonic() - started)
            queue.done(key)
