"""Which operationState a sync step works on: new, continued, finished, or waiting for a retry backoff."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from rollouts.api.application import Application
from rollouts.gitops.queue import KeyQueue
from rollouts.gitops.sync import SyncRunner

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
OP = {"sync": {"revision": "abc"}, "retry": {"limit": 2}}


def app(state: dict[str, Any] | None, operation: dict[str, Any] | None = OP) -> Application:
    return Application.model_validate({
        "metadata": {"name": "a"}, "operation": operation,
        "spec": {"source": {"repoURL": "file:///r"}, "destination": {"namespace": "ns"}},
        "status": {"operationState": state} if state else None})


def state(phase: str, *, retry_count: int = 0, finished: datetime | None = None,
          operation: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"operation": operation or OP, "phase": phase, "startedAt": "2024-05-01T11:00:00Z",
                           "message": "boom"}
    if retry_count:
        out["retryCount"] = retry_count
    if finished:
        out["finishedAt"] = finished.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


RUNNER = SyncRunner(cast(Any, None), cast(Any, None))


def test_new_operation_starts_a_new_state() -> None:
    operation = app(None).operation
    assert operation is not None
    work, done = RUNNER.begin(app(state("Succeeded", operation={"sync": {"revision": "old"}})), operation, NOW)
    assert done is None and work is not None
    assert work["phase"] == "Running" and work["startedAt"] == "2024-05-01T12:00:00Z"


def test_running_state_is_continued() -> None:
    a = app(state("Running"))
    work, done = RUNNER.begin(a, a.operation, NOW)  # type: ignore[arg-type]
    assert done is None and work is not None and work["startedAt"] == "2024-05-01T11:00:00Z"


def test_succeeded_state_finishes_the_operation() -> None:
    a = app(state("Succeeded", finished=NOW))
    work, done = RUNNER.begin(a, a.operation, NOW)  # type: ignore[arg-type]
    assert work is None and done is not None and done.done


@pytest.mark.parametrize(
    ("retry_count", "seconds_ago", "outcome"),
    [
        pytest.param(0, 1, "wait", id="first-retry-backoff-5s"),
        pytest.param(0, 6, "retry", id="first-retry-due"),
        pytest.param(1, 6, "wait", id="second-retry-backoff-10s"),
        pytest.param(2, 600, "give-up", id="limit-reached"),
    ],
)
def test_failed_state_retries_with_backoff(retry_count: int, seconds_ago: int, outcome: str) -> None:
    a = app(state("Failed", retry_count=retry_count, finished=NOW - timedelta(seconds=seconds_ago)))
    work, done = RUNNER.begin(a, a.operation, NOW)  # type: ignore[arg-type]
    if outcome == "wait":
        assert work is None and done is not None and not done.done and done.requeue and done.requeue > 0
    elif outcome == "retry":
        assert done is None and work is not None
        assert work["retryCount"] == retry_count + 1 and work["message"].startswith("Retrying attempt #1")
    else:
        assert work is None and done is not None and done.done


async def test_queue_coalesces_and_requeues_keys_added_while_processing() -> None:
    queue = KeyQueue()
    queue.add("a")
    queue.add("a")
    assert len(queue) == 1
    key = await queue.get()
    queue.add("a")  # a change seen while "a" is being reconciled
    assert len(queue) == 0
    queue.done(key)
    assert len(queue) == 1
    timers = asyncio.create_task(queue.run_timers())
    try:
        await queue.get()
        queue.done("a")
        queue.add_after("b", 0.05)
        queue.add_after("b", 10)  # the earliest pending time wins
        assert await asyncio.wait_for(queue.get(), 2) == "b"
    finally:
        timers.cancel()
