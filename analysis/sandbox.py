"""CPU-bound work on user input, off the event loop, with a hard deadline: conditions, JSONPath, judges.

A successCondition, a JSONPath over a 4 MB body or a judge over long series is user-controlled CPU work.
Run on the event loop, one hostile condition (`all(result, {all(result, {all(result, {# > 0})})})` over
300 numbers: 27 million predicate calls) froze the whole controller for 85 s: no /healthz, no Lease
renewal, no other reconcile. So every such computation goes through a `Sandbox`:

- `ProcessSandbox` (the controller's): a small pool of worker processes (pebble). A computation that
  outlives its deadline has its worker killed and replaced (a thread could not be stopped, and under the
  GIL a busy thread still takes the event loop's time slices; the measurements are in benchmarks/README.md).
  Each worker caps its own address space, so a computation that tries to build a huge value fails with
  MemoryError in the worker instead of growing the controller. The price is pickling the inputs (a 4 MiB
  body: about 1 ms) and a worker start (about 0.1 s, once).
- `InlineSandbox`: the same interface in the calling thread, for the `rollouts judge` CLI and unit tests,
  where there is no loop to protect.

A sandboxed function must be a module-level function of picklable arguments; it should return plain data
(tuples, dataclasses, pydantic models) and report expected failures as values, not exceptions.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_DEADLINE = 10.0
"""Seconds one computation may run in a worker before the worker is killed."""
DEFAULT_WORKERS = 2
DEFAULT_MEMORY_LIMIT = 1024 * 1024 * 1024
"""Address-space limit of one worker (bytes): numpy and scipy need a few hundred MiB of it just to load."""


class SandboxError(Exception):
    """A sandboxed computation did not produce a result: deadline, memory, or a crashed worker."""


class Sandbox(Protocol):
    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` away from the event loop; SandboxError when it could not finish."""
        ...


class InlineSandbox:
    """Runs the function in the calling thread (no loop to protect): same results, no isolation."""

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except MemoryError:
            raise SandboxError("the computation ran out of memory") from None


def _limit_memory(limit: int) -> None:
    """Worker initializer: cap the address space, and keep numerical libraries to one thread each."""
    import resource

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    if limit > 0:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


class ProcessSandbox:
    """A pool of worker processes started on first use; `close()` stops them."""

    def __init__(self, *, workers: int = DEFAULT_WORKERS, deadline: float = DEFAULT_DEADLINE,
                 memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        self.workers = workers
        self.deadline = deadline
        self.memory_limit = memory_limit
        self._pool: Any = None
        self.killed = 0
        """How many computations were stopped at their deadline (their worker was replaced)."""

    def _ensure_pool(self) -> Any:
        if self._pool is None:
            from pebble import ProcessPool  # the controller's dependency; the CLI never imports it

            # forkserver: workers are forked from a clean server process, never from this multi-threaded one
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPool(max_workers=self.workers, initializer=_limit_memory,
                                     initargs=(self.memory_limit,), context=context)
        return self._pool

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        future = self._ensure_pool().schedule(fn, args=args, kwargs=kwargs, timeout=self.deadline)
        try:
            result: T = await asyncio.wrap_future(future)
        except (TimeoutError, FutureTimeout):
            self.killed += 1
            raise SandboxError(f"evaluation exceeded its deadline of {self.deadline:g}s and was stopped") from None
        except MemoryError:
            raise SandboxError(f"evaluation ran out of memory (limit {self.memory_limit // 2**20} MiB) and was "
                               "stopped") from None
        except asyncio.CancelledError:
            future.cancel()  # pebble stops the worker running a cancelled task
            raise
        except Exception as exc:
            from pebble import ProcessExpired

            if isinstance(exc, ProcessExpired):
                raise SandboxError(f"the evaluation worker died ({exc}); it was replaced") from None
            raise
        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=5)
            self._pool = None
