"""Sync windows: when a project lets its applications sync, decided as Argo CD decides it. Pure.

Why this module exists: teams freeze deployments (``deny`` windows: "no syncs on Friday afternoon") or
allow them only at set times (``allow`` windows), per application, namespace or cluster. Argo CD's rules
(``SyncWindows.Matches``, ``Active``, ``CanSync`` in pkg/apis/application/v1alpha1): a window is active when
a start of its cron ``schedule`` (five fields: minute hour day-of-month month day-of-week, robfig/cron's
syntax with names and the day-of-month/day-of-week OR rule) lies within ``duration`` before now, in its
``timeZone``; an active deny blocks (a manual sync passes when every active deny has ``manualSync``); else an
active allow permits; else an inactive allow blocks (manual syncs pass when every one allows them); else
syncing is free. ``now`` is a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rollouts.api.application import Application
from rollouts.api.appproject import SyncWindow
from rollouts.api.common import duration_nanoseconds
from rollouts.gitops.project import glob_match

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 6))
_NAMES = {3: {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                              "oct", "nov", "dec"))},
          4: {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}}
_MAX_MINUTES = 366 * 24 * 60


@dataclass(frozen=True, slots=True)
class Schedule:
    fields: tuple[frozenset[int], ...]
    dom_star: bool
    dow_star: bool

    def matches(self, when: datetime) -> bool:
        minute, hour, dom, month, dow = self.fields
        if when.minute not in minute or when.hour not in hour or when.month not in month:
            return False
        dom_ok, dow_ok = when.day in dom, (when.isoweekday() % 7) in dow
        return dom_ok and dow_ok if self.dom_star or self.dow_star else dom_ok or dow_ok


def _value(text: str, index: int) -> int:
    names = _NAMES.get(index, {})
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ValueError(f"failed to parse int from {text}")
    return int(text)


def _field(text: str, index: int) -> frozenset[int]:
    name, low, high = _FIELDS[index]
    out: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else (1 if not step_text else 0)
        if step <= 0:
            raise ValueError(f"bad step in {name}: {part!r}")
        if base in ("*", "?"):
            start, end = low, high
        else:
            first, dash, last = base.partition("-")
            start = _value(first, index)
            end = _value(last, index) if dash else (high if step_text else start)
        if not low <= start <= end <= high:
            raise ValueError(f"{name} {part!r} is outside {low}-{high}")
        out.update(range(start, end + 1, step))
    return frozenset(out)


@lru_cache(maxsize=256)
def parse_schedule(text: str) -> Schedule:
    """A five-field cron schedule ("0 22 * * 5": Fridays at 22:00); ValueError naming the problem."""
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(parts)}: {text}")
    fields = tuple(_field(part, index) for index, part in enumerate(parts))
    return Schedule(fields, parts[2] in ("*", "?"), parts[4] in ("*", "?"))


def _offset(time_zone: str | None) -> timedelta:
    """Argo CD shifts by the zone's offset *now* (an unknown zone is UTC, as there)."""
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).utcoffset() or timedelta(0)


def is_active(window: SyncWindow, now: datetime) -> bool:
    """A start of the schedule within ``duration`` before now: the first start after now - duration is before now."""
    schedule = parse_schedule(window.schedule)
    duration = timedelta(microseconds=duration_nanoseconds(window.duration) // 1000)
    local = now.astimezone(UTC).replace(tzinfo=None) + _offset(window.time_zone)
    start = (local - duration).replace(second=0, microsecond=0) + timedelta(minutes=1)
    minutes = min(int((local - start).total_seconds() // 60) + 1, _MAX_MINUTES)
    return any(schedule.matches(start + timedelta(minutes=i)) for i in range(max(minutes, 0))
               if start + timedelta(minutes=i) < local)


def _any(patterns: Sequence[str], values: Sequence[str]) -> bool:
    """Argo CD's ``globMatch`` without negation: ``*`` matches anything, else a gobwas glob."""
    return any(p == "*" or glob_match(p, v) for p in patterns for v in values)


def matching_windows(windows: Sequence[SyncWindow], app: Application) -> list[SyncWindow]:
    """The windows that apply to ``app``: by applications, clusters, then namespaces (all of the set ones with
    ``andOperator``, any of them without)."""
    dest = app.spec.destination
    out = []
    for window in windows:
        checks = [(window.applications, [app.metadata.name or ""]),
                  (window.clusters, [v for v in (dest.name, dest.server) if v]),
                  (window.namespaces, [dest.namespace or ""])]
        results = [_any(patterns, values) for patterns, values in checks if patterns]
        if results and (all(results) if window.use_and_operator else any(results)):
            out.append(window)
    return out


@dataclass(frozen=True, slots=True)
class WindowVerdict:
    allowed: bool
    reason: str


def can_sync(windows: Sequence[SyncWindow], app: Application, *, manual: bool, now: datetime,
             started_at: datetime | None = None) -> WindowVerdict:
    """Argo CD's ``CanSync`` over the windows that match ``app``; an unparsable window blocks, naming it.

    ``started_at`` (a running operation's start) applies ``syncOverrun``: a deny whose active windows all have
    it lets through an operation that was allowed when it started; so do inactive allow windows that all have
    it. Deny 22:00-23:00 with syncOverrun, a sync started 21:58, now 22:05 -> allowed; started 22:01 -> denied."""
    matching = matching_windows(windows, app)
    if not matching:
        return WindowVerdict(True, "no sync window applies")
    try:
        verdict = _verdict(matching, manual=manual, now=now)
        if verdict.allowed or started_at is None or not _may_overrun(matching, now):
            return verdict
        if _verdict(matching, manual=manual, now=started_at).allowed:
            return WindowVerdict(True, "allowed when it started; the windows allow an overrun (syncOverrun)")
        return verdict
    except ValueError as exc:
        return WindowVerdict(False, f"invalid sync windows: {exc}")


def _may_overrun(matching: Sequence[SyncWindow], now: datetime) -> bool:
    """Every active deny has syncOverrun (when one is active), else every inactive allow has it."""
    active = [w for w in matching if is_active(w, now)]
    denies = [w for w in active if w.kind == "deny"]
    if denies:
        return all(w.sync_overrun for w in denies)
    allows = [w for w in matching if w.kind == "allow" and w not in active]
    return bool(allows) and all(w.sync_overrun for w in allows)


def _verdict(matching: Sequence[SyncWindow], *, manual: bool, now: datetime) -> WindowVerdict:
    active = [w for w in matching if is_active(w, now)]
    denies = [w for w in active if w.kind == "deny"]
    if denies:
        if manual and all(w.manual_sync for w in denies):
            return WindowVerdict(True, "manual sync allowed by the active deny windows")
        return WindowVerdict(False, f"denied by the sync window '{denies[0].schedule}' ({denies[0].duration})")
    if any(w.kind == "allow" for w in active):
        return WindowVerdict(True, "inside an allow window")
    inactive = [w for w in matching if w.kind == "allow"]
    if inactive:
        if manual and all(w.manual_sync for w in inactive):
            return WindowVerdict(True, "manual sync allowed outside the allow windows")
        return WindowVerdict(False, "outside every allow sync window")
    return WindowVerdict(True, "no window is active")
