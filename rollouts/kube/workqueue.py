"""A per-object work queue: each key is worked on by at most one worker at a time.

It lives beside the informer (as client-go keeps its workqueue beside its informers) so that every
reconciler, the Rollout and AnalysisRun controllers and the gitops Application loop, shares one.

Semantics follow client-go's workqueue, which controller authors rely on:
* adding a key that is already waiting does nothing (events coalesce into one reconcile);
* adding a key that is being processed marks it dirty, and it is queued again when the worker finishes,
  so a change seen mid-reconcile is never lost and never handled concurrently;
* `add_after` schedules a timed requeue (pauses, scale-down delays); the earliest pending time wins;
* failures back off per key exponentially (`retry`), and `forget` resets a key after a success.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
import weakref
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass
class QueueStats:
    """What client-go's workqueue metrics report (workqueue_adds_total, _retries_total, the queue and work
    durations, the processors in flight); read by the controller's metrics collector at scrape time."""

    adds: int = 0
    retries: int = 0
    queue_seconds: list[float] = field(default_factory=list)
    work_seconds: list[float] = field(default_factory=list)
    started: dict[object, float] = field(default_factory=dict)

    def drain(self) -> tuple[list[float], list[float]]:
        """The durations observed since the last call (the collector folds them into its histograms)."""
        queued, worked = self.queue_seconds, self.work_seconds
        self.queue_seconds, self.work_seconds = [], []
        return queued, worked


NAMED_QUEUES: weakref.WeakSet[WorkQueue[Any]] = weakref.WeakSet()
"""The named queues of this process, for the workqueue_* metrics (client-go reports every named queue)."""


class WorkQueue(Generic[K]):
    def __init__(self, *, base_delay: float = 0.05, max_delay: float = 60.0, name: str = "") -> None:
        self.name = name
        self.stats = QueueStats()
        if name:
            NAMED_QUEUES.add(self)
        self._ready: asyncio.Queue[K] = asyncio.Queue()
        self._queued: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()
        self._timers: list[tuple[float, int, K]] = []
        self._timer_due: dict[K, float] = {}
        self._seq = itertools.count()
        self._failures: dict[K, int] = {}
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._wakeup = asyncio.Event()
        self.added_at: dict[K, float] = {}

    def __len__(self) -> int:
        return len(self._queued)

    @property
    def in_flight(self) -> dict[object, float]:
        """When each key being processed was picked (monotonic seconds)."""
        return self.stats.started

    def add(self, key: K) -> None:
        if key in self._processing:
            self._dirty.add(key)
            return
        if key in self._queued:
            return
        self._queued.add(key)
        self.added_at.setdefault(key, time.monotonic())
        self.stats.adds += 1
        self._ready.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        if delay <= 0:
            self.add(key)
            return
        due = time.monotonic() + delay
        current = self._timer_due.get(key)
        if current is not None and current <= due:
            return
        self._timer_due[key] = due
        heapq.heappush(self._timers, (due, next(self._seq), key))
        self._wakeup.set()

    def retry(self, key: K) -> float:
        """Requeue after a failure with per-key exponential backoff; returns the delay."""
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        self.stats.retries += 1
        delay = min(math.ldexp(self._base_delay, n), self._max_delay)
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    def failures(self, key: K) -> int:
        return self._failures.get(key, 0)

    async def get(self) -> K:
        key = await self._ready.get()
        self._queued.discard(key)
        self._processing.add(key)
        now = time.monotonic()
        if len(self.stats.queue_seconds) < 100_000:
            self.stats.queue_seconds.append(now - self.added_at.get(key, now))
        self.stats.started[key] = now
        return key

    def done(self, key: K) -> float | None:
        """Mark a key finished; returns how long it waited in the queue before being picked, if known."""
        self._processing.discard(key)
        started = self.stats.started.pop(key, None)
        if started is not None and len(self.stats.work_seconds) < 100_000:
            self.stats.work_seconds.append(time.monotonic() - started)
        waited = self.added_at.pop(key, None)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)
        return None if waited is None else time.monotonic() - waited

    async def run_timers(self) -> None:
        """Move due timed keys into the ready queue; runs until cancelled."""
        while True:
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                due, _, key = heapq.heappop(self._timers)
                if self._timer_due.get(key) == due:
                    del self._timer_due[key]
                    self.add(key)
            timeout = self._timers[0][0] - now if self._timers else None
            self._wakeup.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives
            # as the event is set (an add_after from a worker), and this loop then never ends on shutdown.
            try:
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()
            except TimeoutError:
                pass
