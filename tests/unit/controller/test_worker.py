"""The one worker loop: success requeues and resets the backoff, failures back off per key, nothing stops it.

The reconcile functions here are the loop's input, not fakes of the API server: the loop's contract is what
it does with a key given each kind of outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rollouts.kube.errors import ApiError, Conflict
from rollouts.kube.worker import run_worker
from rollouts.kube.workqueue import WorkQueue


class Log:
    """Collects (level, message) pairs like a structlog logger would emit them."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Callable[..., None]:
        return lambda message, **kw: self.lines.append((level, message, kw))


async def _work(queue: WorkQueue[str], reconcile: Callable[[str], Awaitable[float | None]], passes: int,
                **kw: Any) -> Log:
    """Run one worker until ``passes`` reconciles have finished (polled with a deadline), then stop it."""
    log = Log()
    finished: list[tuple[str, float]] = []
    enough = asyncio.Event()

    def on_finished(key: str, seconds: float) -> None:
        finished.append((key, seconds))
        if len(finished) >= passes:
            enough.set()

    task = asyncio.create_task(run_worker(queue, reconcile, kind="thing", log=log,
                                          fields=lambda key: {"thing": key}, on_finished=on_finished, **kw))
    try:
        await asyncio.wait_for(enough.wait(), 5)
    except TimeoutError:
        pytest.fail(f"expected {passes} finished passes, saw {len(finished)}: {finished}")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return log


async def test_success_resets_the_backoff_and_requeues_after_the_returned_delay() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.retry("a")
    queue.retry("a")
    queue.add("a")

    async def reconcile(key: str) -> float | None:
        return 30.0

    await _work(queue, reconcile, 1)
    assert queue.failures("a") == 0, "a success must reset the key's failure count"
    assert queue.retry("a") == 0.05, "the next failure starts the backoff from the base delay again"


@pytest.mark.parametrize(
    ("error", "level", "counted"),
    [
        (ApiError(500, "InternalError", "etcd is down"), "warning", True),
        (RuntimeError("bug"), "exception", True),
        (Conflict(409, "Conflict", "the object has been modified"), "info", False),
    ],
    ids=["api-error", "crash", "conflict"],
)
async def test_failures_back_off_per_key_and_the_worker_keeps_going(
    error: Exception, level: str, counted: bool
) -> None:
    queue: WorkQueue[str] = WorkQueue()
    errors: list[str] = []
    seen: list[str] = []

    async def reconcile(key: str) -> float | None:
        seen.append(key)
        if key == "bad":
            raise error
        return None

    queue.add("bad")
    queue.add("good")
    log = await _work(queue, reconcile, 2, on_error=errors.append)
    assert seen == ["bad", "good"], "a failing key must not stop the worker from serving the next one"
    assert queue.failures("bad") == 1 and queue.failures("good") == 0
    assert errors == (["bad"] if counted else [])
    assert [(lvl, msg.split(" ")[0]) for lvl, msg, _ in log.lines] == [(level, "thing")]
    assert log.lines[0][2]["thing"] == "bad"


async def test_consecutive_failures_double_the_delay() -> None:
    queue: WorkQueue[str] = WorkQueue(base_delay=0.01, max_delay=0.04)
    timers = asyncio.create_task(queue.run_timers())

    async def reconcile(key: str) -> float | None:
        raise ApiError(0, "", "cannot reach the API server")

    queue.add("a")
    try:
        log = await _work(queue, reconcile, 4)
    finally:
        timers.cancel()
    assert [kw["retry_in"] for _, _, kw in log.lines[:4]] == [0.01, 0.02, 0.04, 0.04]


async def test_every_reconciler_uses_the_shared_loop_and_its_backoff(tmp_path: Any) -> None:
    """Rollouts, AnalysisRuns and Applications back off the same way (Applications used a fixed 2 s / 5 s)."""
    from rollouts.controller.analysis_runs import AnalysisRunReconciler
    from rollouts.controller.events import EventRecorder
    from rollouts.controller.metrics import ControllerMetrics
    from rollouts.controller.observe import Caches
    from rollouts.controller.rollouts import RolloutReconciler
    from rollouts.gitops.reconciler import ApplicationReconciler, GitopsConfig

    client: Any = object()
    app = ApplicationReconciler(client, GitopsConfig(cache_dir=tmp_path))
    runs = AnalysisRunReconciler(client, _NullInformer(), providers={})  # type: ignore[arg-type]
    caches = Caches(*(_NullInformer() for _ in range(9)))  # type: ignore[arg-type]
    rollouts = RolloutReconciler(client, caches, metrics=ControllerMetrics(), recorder=EventRecorder(client))

    for reconciler, key in ((app, "guestbook"), (runs, ("ns", "run")), (rollouts, ("ns", "web"))):
        called = asyncio.Event()

        async def failing(key: Any, called: asyncio.Event = called) -> float | None:
            called.set()
            raise ApiError(503, "ServiceUnavailable", "try later")

        reconciler.reconcile = failing  # type: ignore[method-assign]
        reconciler.queue.add(key)
        task = asyncio.create_task(reconciler.worker())
        try:
            await asyncio.wait_for(called.wait(), 5)
            await asyncio.sleep(0)  # the worker finishes handling the failure before it awaits the next key
            assert reconciler.queue.failures(key) == 1, f"{type(reconciler).__name__}: the failure is counted"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert reconciler.queue.retry(key) == 0.1, f"{type(reconciler).__name__}: second failure waits 2 x 50 ms"


class _NullInformer:
    def add_handler(self, handler: Any) -> None:
        pass

    def add_index(self, name: str, func: Any) -> None:
        pass

    def set_transform(self, transform: Any) -> None:
        pass
