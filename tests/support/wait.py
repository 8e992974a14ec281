"""Polling with a deadline: tests never sleep a fixed time, and a failure says what was expected and seen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    check: Callable[[T], bool],
    *,
    timeout: float = 30.0,
    interval: float = 0.2,
    expected: str,
) -> T:
    """Call `probe` until `check(value)` holds; on timeout fail naming `expected` and the last value seen."""
    deadline = time.monotonic() + timeout
    last: object = "<never observed>"
    last_error: BaseException | None = None
    while True:
        try:
            value = await probe()
            last = value
            last_error = None
            if check(value):
                return value
        except AssertionError:
            raise
        except Exception as exc:  # a probe that fails (NotFound, ...) is retried until the deadline
            last_error = exc
        if time.monotonic() >= deadline:
            seen = f"error {last_error!r}" if last_error else repr(last)
            if len(seen) > 4000:
                seen = seen[:4000] + "..."
            raise AssertionError(f"after {timeout:.0f}s: expected {expected}; last seen: {seen}")
        await asyncio.sleep(interval)
