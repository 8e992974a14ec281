"""The read commands: `get rollout`, `list rollouts` and `status`, once or with `--watch`.

Watching never polls the API: informers (list, then a Kubernetes watch from the list's
resourceVersion, relisting on 410) keep local caches of the Rollouts, ReplicaSets, Pods and
AnalysisRuns, and the view is redrawn from those caches when an event arrives, and once a second
so ages stay current (a local redraw, no request). rich's Live view redraws in place without
flicker; when stdout is not a terminal, only the final frame is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rollouts.cli.errors import CliError
from rollouts.cli.fetch import get_rollout, is_served, list_kind, rollout_state, selector_of

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from rollouts.kube.client import KubeClient
    from rollouts.kube.informer import Informer
    from rollouts.kube.resources import ResourceKind

Obj = dict[str, Any]

EXIT_OK = 0
EXIT_DEGRADED = 1
EXIT_TIMEOUT = 2

_SYNC_TIMEOUT = 30.0
_TICK = 1.0


def now() -> datetime:
    return datetime.now(UTC)


def dump(obj: Any, output: str) -> str:
    """`-o json` (indented, like kubectl) or `-o yaml`."""
    if output == "json":
        return json.dumps(obj, indent=2, ensure_ascii=False)
    import yaml

    return str(yaml.safe_dump(obj, sort_keys=False, allow_unicode=True)).rstrip("\n")


def print_trimmed(console: Console, renderable: RenderableType) -> None:
    """Print without the spaces rich pads the last table column with, as kubectl prints tables."""
    with console.capture() as captured:
        console.print(renderable)
    text = "\n".join(line.rstrip(" ") for line in captured.get().split("\n"))
    console.file.write(text)
    console.file.flush()


def _strip_managed(obj: Obj) -> Obj:
    (obj.get("metadata") or {}).pop("managedFields", None)
    return obj


# ---------------------------------------------------------------------------------------------------
# watching


class Caches:
    """Informers over a few kinds in one namespace; `changed` is set on every event."""

    def __init__(self, client: KubeClient, namespace: str | None,
                 kinds: Iterable[tuple[str, ResourceKind, str | None]]) -> None:
        from rollouts.kube.informer import Informer

        self.changed = asyncio.Event()
        self.informers: dict[str, Informer] = {
            key: Informer(client, kind, namespace=namespace, label_selector=selector, handler=self._on_event)
            for key, kind, selector in kinds
        }
        self._tasks: list[asyncio.Task[None]] = []

    def _on_event(self, _etype: str, _obj: Obj) -> None:
        self.changed.set()

    def items(self, key: str) -> list[Obj]:
        informer = self.informers.get(key)
        return list(informer.items()) if informer is not None else []

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Caches]:
        self._tasks = [asyncio.create_task(i.run()) for i in self.informers.values()]
        try:
            pending = {key: asyncio.create_task(i.synced.wait()) for key, i in self.informers.items()}
            done, _ = await asyncio.wait(pending.values(), timeout=_SYNC_TIMEOUT)
            missing = [key for key, waiter in pending.items() if waiter not in done]
            for waiter in pending.values():
                waiter.cancel()
            if missing:
                raise CliError(f"could not list {', '.join(missing)} within {_SYNC_TIMEOUT:.0f}s "
                               "(API server unreachable or permission denied)")
            yield self
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def next_change(self, tick: float | None = _TICK) -> None:
        """Wait for an event (or the tick, for a local redraw); then let a burst of events settle."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout=tick)
        self.changed.clear()


def quiet_logs() -> None:
    """The informers log retries through structlog; a terminal view shows state, not logs."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))


async def _live(console: Console, frames: AsyncIterator[RenderableType]) -> None:
    from rich.live import Live

    first = await anext(frames)
    with Live(first, console=console, auto_refresh=False, redirect_stdout=False,
              vertical_overflow="ellipsis") as live:
        async for frame in frames:
            live.update(frame, refresh=True)


# ---------------------------------------------------------------------------------------------------
# get rollout


def _rollout_frame(rollout: Obj, rss: list[Obj], pods: list[Obj], runs: list[Obj]) -> RenderableType:
    from rollouts.cli.info import rollout_info
    from rollouts.cli.render import rollout_view

    return rollout_view(rollout_info(rollout, rss, pods, runs, now=now()))


async def get_rollout_cmd(client: KubeClient, name: str, namespace: str, *, watch: bool, output: str | None,
                          console: Console) -> int:
    if not watch:
        if output:
            console.print(dump(_strip_managed(await get_rollout(client, name, namespace)), output),
                          markup=False, highlight=False, soft_wrap=True)
            return EXIT_OK
        state = await rollout_state(client, name, namespace)
        print_trimmed(console, _rollout_frame(state.rollout, state.replicasets, state.pods, state.analysisruns))
        return EXIT_OK

    from rollouts.kube import resources

    first = await get_rollout(client, name, namespace)  # a clear error before any watch starts
    selector = selector_of(first)
    quiet_logs()
    kinds = [
        ("rollouts", resources.ROLLOUT, None),
        ("replicasets", resources.REPLICASET, selector),
        ("pods", resources.POD, selector),
    ]
    if await is_served(client, "analysisruns", namespace):
        kinds.append(("analysisruns", resources.ANALYSISRUN, None))
    caches = Caches(client, namespace, kinds)
    gone: list[str] = []

    async def frames() -> AsyncIterator[RenderableType]:
        last_rv = None
        while True:
            rollout = caches.informers["rollouts"].get(namespace, name)
            if rollout is None:
                gone.append(name)
                return
            if output:
                rv = (rollout.get("metadata") or {}).get("resourceVersion")
                if rv != last_rv:
                    last_rv = rv
                    yield dump(rollout, output)
            else:
                yield _rollout_frame(rollout, caches.items("replicasets"), caches.items("pods"),
                                     caches.items("analysisruns"))
            await caches.next_change(None if output else _TICK)

    async with caches.running():
        if output:
            async for text in frames():
                console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            await _live(console, frames())
    if gone:
        raise CliError(f"rollout '{name}' in namespace '{namespace}' was deleted")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# list rollouts


def _table(rollouts: list[Obj], replicasets: list[Obj], *, all_namespaces: bool) -> RenderableType:
    from rollouts.cli.info import rollout_info
    from rollouts.cli.render import rollouts_table

    at = now()
    ordered = sorted(rollouts, key=lambda r: ((r.get("metadata") or {}).get("namespace", ""),
                                              (r.get("metadata") or {}).get("name", "")))
    infos = [rollout_info(r, replicasets, [], [], now=at) for r in ordered]
    return rollouts_table(infos, all_namespaces=all_namespaces)


async def list_rollouts_cmd(client: KubeClient, namespace: str | None, *, watch: bool, output: str | None,
                            console: Console) -> int:
    if not watch or output:
        rollouts = await list_kind(client, "rollouts", namespace)
        if output:
            items = [_strip_managed(r) for r in rollouts]
            console.print(dump({"apiVersion": "v1", "kind": "List", "items": items}, output),
                          markup=False, highlight=False, soft_wrap=True)
            return EXIT_OK
        if not rollouts:
            where = "any namespace" if namespace is None else f"namespace '{namespace}'"
            console.print(f"No rollouts found in {where}.", markup=False, highlight=False)
            return EXIT_OK
        replicasets = await list_kind(client, "replicasets", namespace)
        print_trimmed(console, _table(rollouts, replicasets, all_namespaces=namespace is None))
        return EXIT_OK

    from rollouts.kube import resources

    await list_kind(client, "rollouts", namespace)  # a clear error before any watch starts
    quiet_logs()
    caches = Caches(client, namespace, [("rollouts", resources.ROLLOUT, None),
                                        ("replicasets", resources.REPLICASET, None)])

    async def frames() -> AsyncIterator[RenderableType]:
        while True:
            yield _table(caches.items("rollouts"), caches.items("replicasets"), all_namespaces=namespace is None)
            await caches.next_change()

    async with caches.running():
        await _live(console, frames())
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# status


def _report(rollout: Obj) -> tuple[str, str]:
    from rollouts.cli.info import reported_phase

    report = reported_phase(rollout)
    return report.phase.value, report.message


def _exit_code(phase: str) -> int:
    return EXIT_DEGRADED if phase == "Degraded" else EXIT_OK


async def status_cmd(client: KubeClient, name: str, namespace: str, *, watch: bool, timeout: float,
                     output: str | None, console: Console, emit_error: Callable[[str], None]) -> int:
    """Print the phase; with `watch`, follow it until Healthy (0), Degraded (1) or `timeout` (2).

    Paused and Progressing are printed as they happen and waited through. `timeout` 0 waits forever.
    """
    from rollouts.cli.render import status_line

    def emit(phase: str, message: str) -> None:
        if output:
            doc = {"name": name, "namespace": namespace, "phase": phase, "message": message}
            console.print(dump(doc, output), markup=False, highlight=False, soft_wrap=True)
        else:
            console.print(status_line(phase, message), markup=False, highlight=False, soft_wrap=True)

    deadline = time.monotonic() + timeout if timeout > 0 else None
    rollout = await get_rollout(client, name, namespace)
    phase, message = _report(rollout)
    if not watch or phase in ("Healthy", "Degraded"):
        emit(phase, message)
        return _exit_code(phase)

    from rollouts.kube import resources

    quiet_logs()
    caches = Caches(client, namespace, [("rollouts", resources.ROLLOUT, None)])
    last: tuple[str, str] | None = None
    if not output:
        emit(phase, message)
        last = (phase, message)
    async with caches.running():
        while True:
            current = caches.informers["rollouts"].get(namespace, name)
            if current is None:
                raise CliError(f"rollout '{name}' in namespace '{namespace}' was deleted")
            phase, message = _report(current)
            if (phase, message) != last and (not output or phase in ("Healthy", "Degraded")):
                emit(phase, message)
                last = (phase, message)
            if phase in ("Healthy", "Degraded"):
                return _exit_code(phase)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                if output:
                    emit(phase, message)
                emit_error(f"timed out after {timeout:g}s waiting for rollout '{name}' in namespace "
                           f"'{namespace}' to become Healthy (last status: {status_line(phase, message)})")
                return EXIT_TIMEOUT
            await caches.next_change(remaining)
