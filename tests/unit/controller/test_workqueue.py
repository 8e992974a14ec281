"""The work queue's promises: coalescing, never two workers on one key, dirty requeue, timers, backoff."""

from __future__ import annotations

import asyncio

from rollouts.kube.workqueue import WorkQueue


async def test_adds_of_a_waiting_key_coalesce() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    q.add("a")
    q.add("b")
    assert len(q) == 2
    assert await q.get() == "a"
    assert await q.get() == "b"


async def test_a_key_added_while_processing_is_requeued_after_done_not_handed_out_twice() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")
    assert len(q) == 0, "a key being processed must not be handed to a second worker"
    q.done(key)
    assert len(q) == 1
    assert await asyncio.wait_for(q.get(), 1) == "a"


async def test_timed_requeue_fires_and_earliest_wins() -> None:
    q: WorkQueue[str] = WorkQueue()
    timers = asyncio.create_task(q.run_timers())
    try:
        q.add_after("a", 5.0)
        q.add_after("a", 0.05)
        assert await asyncio.wait_for(q.get(), 2) == "a"
    finally:
        timers.cancel()


async def test_retry_backs_off_exponentially_and_forget_resets() -> None:
    q: WorkQueue[str] = WorkQueue(base_delay=0.1, max_delay=1.0)
    assert [q.retry("a") for _ in range(5)] == [0.1, 0.2, 0.4, 0.8, 1.0]
    q.forget("a")
    assert q.retry("a") == 0.1
