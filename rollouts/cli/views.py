"""The read commands: `get rollout`, `list rollouts` and `status`, once or watching, as Argo's plugin runs them.

Watching never polls the API: informers (list, then a Kubernetes watch from the list's resourceVersion,
relisting on 410) keep local caches, and the view is recomputed when an event arrives and once a second.

- `get rollout --watch` on a terminal clears the screen and redraws the whole view at most every 200 ms and
  at least every second (ages move), as Argo's does. When stdout is not a terminal (a pipe, `tee`, a CI
  log) it writes a new frame, flushed, each time something shown other than an age changes, so a log reads
  as a history and never stays empty.
- `list rollouts --watch` prints the table, then one line per Rollout whose line changed (Argo's behaviour
  on a terminal too), flushed at least every 500 ms with columns aligned within each batch.
- `status` watches by default: one line per change of "phase - message", exit 0 on Healthy; on Degraded
  or when `--timeout` passes, the line `Error: ...` and exit 1. `--watch=false` prints the status once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rollouts.cli.errors import CliError
from rollouts.cli.fetch import get_rollout as fetch_rollout
from rollouts.cli.fetch import is_served, list_kind, rollout_state

if TYPE_CHECKING:
    from rollouts.cli.info import RolloutInfo
    from rollouts.cli.invocation import Invocation
    from rollouts.kube.client import KubeClient
    from rollouts.kube.informer import Informer
    from rollouts.kube.resources import ResourceKind

Obj = dict[str, Any]

_SYNC_TIMEOUT = 30.0
_TICK = 1.0
_FLICKER = 0.2
_LIST_FLUSH = 0.5


def now() -> datetime:
    return datetime.now(UTC)


def dump(obj: Any, output: str) -> str:
    """`-o json` (indented, like kubectl) or `-o yaml`."""
    if output == "json":
        return json.dumps(obj, indent=2, ensure_ascii=False)
    import yaml

    return str(yaml.safe_dump(obj, sort_keys=False, allow_unicode=True)).rstrip("\n")


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

    async def next_change(self, timeout: float | None) -> None:
        """Wait for an event, or `timeout` seconds (None: forever)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout=timeout)
        self.changed.clear()


def quiet_logs() -> None:
    """The informers log retries through structlog; a terminal view shows state, not logs."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))


@contextlib.contextmanager
def interrupted() -> Any:
    """An event set by the first Ctrl-C or SIGTERM (the command then ends as Argo's does: get and list
    leave with 0, status reports a timeout); a second one ends the process at once with exit code 1."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            raise SystemExit(1)
        stop.set()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
    try:
        yield stop
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _wait_any(caches: Caches, stop: asyncio.Event, timeout: float | None) -> None:
    """Until a cache changes, `stop` is set, or `timeout` passes."""
    waiters = [asyncio.ensure_future(caches.changed.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
    caches.changed.clear()


def _rollout_kinds(selector: str | None = None) -> list[tuple[str, ResourceKind, str | None]]:
    from rollouts.kube import resources

    return [("rollouts", resources.ROLLOUT, None), ("replicasets", resources.REPLICASET, selector),
            ("pods", resources.POD, selector)]


# ---------------------------------------------------------------------------------------------------
# get rollout


def info_of(rollout: Obj, caches_or_state: Any) -> RolloutInfo:
    from rollouts.cli.info import rollout_info

    items = caches_or_state.items if isinstance(caches_or_state, Caches) else None
    if items is not None:
        return rollout_info(rollout, items("replicasets"), items("pods"), items("analysisruns"), items("experiments"))
    s = caches_or_state
    return rollout_info(rollout, s.replicasets, s.pods, s.analysisruns, s.experiments)


async def get_rollout(inv: Invocation) -> int:
    from rollouts.cli.render import Style, rollout_text

    args = inv.args
    async with inv.client() as client:
        if args.watch:
            await _watch_rollout(inv, client)
        elif args.output:
            inv.print(dump(_strip_managed(await _get(client, args.name, inv.namespace)), args.output))
        else:
            state = await rollout_state(client, args.name, inv.namespace)
            inv.out.write(rollout_text(info_of(state.rollout, state), now(), Style(inv.color)))
            inv.out.flush()
    return 0


class _Frames:
    """What `get rollout --watch` writes for each look at the cache: on a terminal the whole view, redrawn at
    most every 200 ms; elsewhere a new frame only when something shown other than an age changed; with `-o`
    the object each time its resourceVersion moves; a warning (once) while the Rollout is missing."""

    def __init__(self, inv: Invocation) -> None:
        from rollouts.cli.render import Style

        self.inv = inv
        self.style = Style(inv.color)
        self.last_shown: Any = None  # the RolloutInfo (or resourceVersion, with -o) written last
        self.last_time = 0.0
        self.missing_warned = False

    def show(self, rollout: Obj | None, caches: Caches) -> None:
        inv, args = self.inv, self.inv.args
        if rollout is None:
            if not self.missing_warned:
                inv.warn(f"warning: rollout '{args.name}' not found in namespace '{inv.namespace}' (deleted?); "
                         "still watching")
                self.missing_warned = True
        elif args.output:
            rv = (rollout.get("metadata") or {}).get("resourceVersion")
            if rv != self.last_shown:
                self.last_shown = rv
                inv.print(dump(rollout, args.output))
        else:
            self.missing_warned = False
            self._draw(info_of(rollout, caches))

    def _draw(self, info: RolloutInfo) -> None:
        from rollouts.cli.render import CLEAR_SCREEN, rollout_text

        moment = time.monotonic()
        if moment - self.last_time < _FLICKER:
            return
        if self.inv.terminal:
            self.inv.out.write(CLEAR_SCREEN + rollout_text(info, now(), self.style))
        elif info != self.last_shown:
            separator = "\n" if self.last_shown is not None else ""
            self.inv.out.write(separator + rollout_text(info, now(), self.style))
            self.last_shown = info
        else:
            return
        self.inv.out.flush()
        self.last_time = moment


async def _watch_rollout(inv: Invocation, client: KubeClient) -> None:
    """`get rollout --watch`: informers over the Rollout's kinds, a look at each change and every second, until
    Ctrl-C or `--timeout-seconds`."""
    from rollouts.kube import resources

    args, namespace = inv.args, inv.namespace
    await _get(client, args.name, namespace)  # a clear error before any watch starts
    kinds = _rollout_kinds()
    if await is_served(client, "analysisruns", namespace):
        kinds.append(("analysisruns", resources.ANALYSISRUN, None))
    if await is_served(client, "experiments", namespace):
        kinds.append(("experiments", resources.EXPERIMENT, None))
    quiet_logs()
    caches = Caches(client, namespace, kinds)
    frames = _Frames(inv)
    deadline = time.monotonic() + args.timeout_seconds if args.timeout_seconds > 0 else None
    with interrupted() as stop:
        async with caches.running():
            while not stop.is_set():
                frames.show(caches.informers["rollouts"].get(namespace, args.name), caches)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                await _wait_any(caches, stop, _TICK if remaining is None else min(_TICK, remaining))


async def _get(client: KubeClient, name: str, namespace: str) -> Obj:
    return await fetch_rollout(client, name, namespace)


# ---------------------------------------------------------------------------------------------------
# list rollouts


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def list_rollouts(inv: Invocation) -> int:
    from rollouts.cli.info import list_row
    from rollouts.cli.render import list_table

    args = inv.args
    namespace = None if args.all_namespaces else inv.namespace
    field_selector = f"metadata.name={args.name}" if args.name else None
    async with inv.client() as client:
        rollouts = await list_kind(client, "rollouts", namespace, field_selector=field_selector)
        if args.output:
            items = [_strip_managed(r) for r in rollouts]
            inv.print(dump({"apiVersion": "v1", "kind": "List", "items": items}, args.output))
            return 0
        if not rollouts and not args.watch:
            inv.warn("No resources found.")
            return 0
        rows = [list_row(r) for r in rollouts]
        timestamp = _stamp() if args.timestamps else None
        inv.out.write(list_table(rows, all_namespaces=args.all_namespaces, timestamp=timestamp))
        inv.out.flush()
        if args.watch:
            await _watch_list(inv, client, namespace, field_selector, {(r.namespace, r.name): r for r in rows})
    return 0


class _RowUpdates:
    """Argo's PrintRolloutUpdates: the row last shown per Rollout, and a line for each Rollout whose row changed
    since, written aligned per flushed batch."""

    def __init__(self, inv: Invocation, previous: dict[tuple[str, str], Any]) -> None:
        self.inv = inv
        self.previous = previous
        self.pending: list[str] = []

    def consider(self, _etype: str, obj: Obj) -> None:
        from rollouts.cli.info import list_row
        from rollouts.cli.render import list_line

        row = list_row(obj)
        key = (row.namespace, row.name)
        if self.previous.get(key) != row:
            self.previous[key] = row
            args = self.inv.args
            self.pending.append(list_line(row, all_namespaces=args.all_namespaces,
                                          timestamp=_stamp() if args.timestamps else None))

    def flush(self) -> None:
        from rollouts.cli.tabwriter import align

        if self.pending:
            self.inv.out.write(align("".join(self.pending), padding=2))
            self.inv.out.flush()
            self.pending.clear()


async def _watch_list(inv: Invocation, client: KubeClient, namespace: str | None, field_selector: str | None,
                      previous: dict[tuple[str, str], Any]) -> None:
    """`list rollouts --watch` after the table: the kube informer (list, watch, list again on 410, retry with
    backoff) feeds the rows; the lines are flushed every 500 ms until Ctrl-C. A failing watch is said once per
    failure, as the informer keeps retrying (as `get rollout --watch` does)."""
    from rollouts.kube.informer import Informer
    from rollouts.kube.resources import ROLLOUT

    updates = _RowUpdates(inv, previous)
    informer = Informer(client, ROLLOUT, namespace=namespace, field_selector=field_selector,
                        handler=updates.consider)
    quiet_logs()
    said: object = None
    with interrupted() as stop:
        task = asyncio.ensure_future(informer.run())
        try:
            while not stop.is_set() and not task.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stop.wait()), timeout=_LIST_FLUSH)
                if informer.error is not None and informer.error is not said:
                    said = informer.error
                    inv.warn(f"warning: watch of rollouts failed, retrying: {informer.error}")
                updates.flush()
            if task.done():
                task.result()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            updates.flush()


# ---------------------------------------------------------------------------------------------------
# status


def _duration(text: str, flag: str) -> float:
    from rollouts.api.common import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise CliError(f'invalid argument "{text}" for "{flag}" flag: {exc}') from exc


def _report(rollout: Obj) -> tuple[str, str]:
    from rollouts.cli.info import reported_phase

    report = reported_phase(rollout)
    return str(report.phase), report.message


def _done(phase: str) -> bool:
    return phase in ("Healthy", "Degraded")


async def status_cmd(inv: Invocation) -> int:
    """Argo's `status`: watch (by default) until Healthy (exit 0), Degraded or `--timeout` (exit 1)."""
    args = inv.args
    name, namespace = args.name, inv.namespace
    timeout = _duration(args.timeout, "-t, --timeout")
    output = args.output

    def emit_final(phase: str, message: str) -> None:
        inv.print(dump({"name": name, "namespace": namespace, "phase": phase, "message": message}, output))

    async with inv.client() as client:
        rollout = await _get(client, name, namespace)
        phase, message = _report(rollout)
        if not args.watch:
            if output:
                emit_final(phase, message)
            elif _done(phase):
                inv.print(phase)
            else:
                inv.print(f"{phase} - {message}")
            return _verdict(phase, message, watched=False)

        from rollouts.cli.render import status_line

        quiet_logs()
        caches = Caches(client, namespace, [_rollout_kinds()[0]])
        deadline = time.monotonic() + timeout if timeout > 0 else None
        last = ""
        with interrupted() as stop:
            async with caches.running():
                while True:
                    current = caches.informers["rollouts"].get(namespace, name)
                    if current is not None:
                        phase, message = _report(current)
                        line = status_line(phase, message)
                        if line != last and not output:
                            inv.print(line)
                            last = line
                        if _done(phase):
                            break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if stop.is_set() or (remaining is not None and remaining <= 0):
                        break
                    await _wait_any(caches, stop, remaining)
        if output:
            emit_final(phase, message)
        return _verdict(phase, message, watched=True)


def _verdict(phase: str, message: str, *, watched: bool) -> int:
    if phase == "Degraded":
        raise CliError(f"The rollout is in a degraded state with message: {message}")
    if watched and phase != "Healthy":
        raise CliError("Rollout status watch exceeded timeout")
    return 0
