"""The process sandbox: results as inline, a computation past its deadline stopped and its worker replaced,
a runaway allocation stopped by the worker's memory cap. Real worker processes, no cluster."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from analysis.measurement import verdict
from analysis.sandbox import InlineSandbox, ProcessSandbox, SandboxError
from rollouts.api.analysis import AnalysisPhase

HOSTILE = "all(result,{all(result,{all(result,{# > 0})})})"


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def spin(seconds: float) -> int:
    """CPU-bound work that outlives the deadline (a condition no longer can: its step budget stops it)."""
    stop, turns = time.monotonic() + seconds, 0
    while time.monotonic() < stop:
        turns += 1
    return turns


@pytest.fixture
async def sandbox() -> AsyncIterator[ProcessSandbox]:
    box = ProcessSandbox(workers=1, deadline=2.0, memory_limit=512 * 1024 * 1024)
    try:
        yield box
    finally:
        await asyncio.to_thread(box.close)


async def test_results_are_those_of_the_inline_evaluation(sandbox: ProcessSandbox) -> None:
    cases = [("result[0] >= 0.95", None, [0.99]), ("result > 1", "result > 0", 2), (None, None, {"a": [1, 2]}),
             ("result >", None, 6)]
    for success, failure, result in cases:
        assert await sandbox.run(verdict, success, failure, result) == \
            await InlineSandbox().run(verdict, success, failure, result)


async def test_a_hostile_condition_is_stopped_at_its_deadline_and_the_worker_replaced(sandbox: ProcessSandbox) -> None:
    started = time.monotonic()
    with pytest.raises(SandboxError, match="exceeded its deadline of 2s"):
        await sandbox.run(spin, 60.0)
    assert time.monotonic() - started < 30
    assert sandbox.killed == 1
    phase, _, _ = await sandbox.run(verdict, "len(result) == 3", None, [1, 2, 3])
    assert phase is AnalysisPhase.SUCCESSFUL, "the replacement worker must serve the next computation"


async def test_the_event_loop_keeps_running_while_a_hostile_condition_is_evaluated(sandbox: ProcessSandbox) -> None:
    hostile = asyncio.create_task(sandbox.run(spin, 60.0))
    ticks = 0
    while not hostile.done():
        await asyncio.sleep(0.05)
        ticks += 1
    with pytest.raises(SandboxError):
        hostile.result()
    assert ticks >= 10, f"the loop should have ticked many times during a 2 s evaluation, ticked {ticks}"


async def test_a_runaway_allocation_hits_the_worker_memory_cap(sandbox: ProcessSandbox) -> None:
    with pytest.raises(SandboxError, match="ran out of memory"):
        await sandbox.run(allocate, 2048)
    assert await sandbox.run(allocate, 16) == 16 * 1024 * 1024


async def test_the_hostile_condition_itself_ends_at_its_step_budget_not_at_the_deadline() -> None:
    box = ProcessSandbox(workers=1, deadline=60.0, memory_limit=512 * 1024 * 1024)
    try:
        phase, message, _ = await box.run(verdict, HOSTILE, None, list(range(1, 301)))
    finally:
        await asyncio.to_thread(box.close)
    assert phase is AnalysisPhase.ERROR
    assert message is not None and "exceeded its evaluation budget of 100000 steps" in message
    assert box.killed == 0, "the step budget, not the deadline, must have stopped it"
