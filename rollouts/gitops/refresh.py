"""When an application reads Git again: the poll schedule (with jitter) and explicit refresh requests.

Why this module exists: Git is fetched when the polling interval (default 3 minutes, plus jitter so thousands
of applications do not fetch together) has expired, when the ``argocd.argoproj.io/refresh`` annotation asks
for it (``hard`` also drops cached renders), or when a webhook push names the repository. Fetches are shared
per repository: a refresh needs one that *started* after it was asked for; a poll accepts one from the last
quarter interval, so N applications on one repository do not fetch N times. The schedule lives in memory on
purpose (after a restart every application is simply due); the clock and the jitter are injected so the
arithmetic is testable without waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

Monotonic = Callable[[], float]
Jitter = Callable[[], float]
"""A number in [0, 1): the share of the maximum jitter added to one poll interval."""
MIN_REQUEUE = 0.5
"""Seconds: a pass that did not fetch looks again no sooner than this, even when its poll is overdue."""


@dataclass(frozen=True, slots=True)
class Refresh:
    """What this pass reads from Git."""

    fetch: bool
    """Fetch the repository (a poll is due, or a refresh was asked for)."""
    newer_than: float
    """Monotonic time: a fetch of the repository that started after it is fresh enough."""
    hard: bool = False
    """``argocd.argoproj.io/refresh: hard``: drop cached renders first."""
    annotated: bool = False
    """The refresh annotation asked for this pass: remove it afterwards."""


class PollSchedule:
    """Next poll per application, forced refreshes (webhook, CLI) waiting for their pass."""

    def __init__(self, interval: float, jitter: float, *, monotonic: Monotonic | None = None,
                 rand: Jitter | None = None) -> None:
        self.interval = interval
        self.jitter = jitter
        self.monotonic = monotonic or time.monotonic
        self.rand = rand or random.random
        self._next: dict[str, float] = {}
        self._forced: dict[str, float] = {}

    def forget(self, name: str) -> None:
        self._next.pop(name, None)

    def request(self, name: str) -> None:
        """A refresh asked from outside: the next pass fetches a commit at least as new as this moment."""
        self._forced.setdefault(name, self.monotonic())

    def decide(self, name: str, annotation: str | None) -> Refresh:
        """This pass: annotated -> fetch newer than now; forced -> newer than the request; poll due -> fetch
        newer than a quarter interval ago; otherwise no fetch."""
        forced_at = self._forced.pop(name, None)
        now = self.monotonic()
        due = self._next.get(name)
        if annotation:
            return Refresh(True, now, hard=annotation == "hard", annotated=True)
        if forced_at is not None:
            return Refresh(True, forced_at)
        return Refresh(due is None or now >= due, now - self.interval / 4)

    def next_poll_in(self, name: str, *, fetched: bool) -> float:
        """Seconds until this application's next poll; a pass that fetched starts a new interval.

        interval 180 s, jitter 0.1, rand 0.5 -> 189 s after a fetch; 40 s left and no fetch -> 40 s.
        """
        due = self._next.get(name)
        if fetched or due is None:
            interval = self.interval * (1 + self.rand() * self.jitter)
            self._next[name] = self.monotonic() + interval
            return interval
        return max(due - self.monotonic(), MIN_REQUEUE)
