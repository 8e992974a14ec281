"""Draws `RolloutInfo` summaries as rich renderables: the `get rollout` header and tree, the
`list rollouts` table, and the one-line `status` text.

Pure: every function takes data and returns a renderable or a string; the command layer decides
where it is printed (a plain console, a rich Live view, a golden file). The tree is a borderless
table whose first column carries the tree guides (├──, └──, │), so kinds, statuses, ages and
details line up in columns the way `kubectl argo rollouts get` prints them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import StringIO

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from rollouts.cli.children import AnalysisRunInfo, Health, PodInfo, ReplicaSetInfo
from rollouts.cli.info import RolloutInfo

HEALTH_ICON: dict[str, str] = {
    Health.HEALTHY: "✔",
    Health.PROGRESSING: "◌",
    Health.PAUSED: "॥",
    Health.DEGRADED: "✖",
    Health.SCALED_DOWN: "•",
    Health.WARNING: "⚠",
    Health.UNKNOWN: "?",
}

HEALTH_STYLE: dict[str, str] = {
    Health.HEALTHY: "green",
    Health.PROGRESSING: "yellow",
    Health.PAUSED: "cyan",
    Health.DEGRADED: "red",
    Health.SCALED_DOWN: "dim",
    Health.WARNING: "yellow",
    Health.UNKNOWN: "dim",
}

KIND_ICON = {"Rollout": "⟳", "Revision": "#", "ReplicaSet": "⧉", "Pod": "□", "AnalysisRun": "α"}  # noqa: RUF001 (Argo's icon)

_LABEL_WIDTH = 17


def status_text(health: str, label: str | None = None) -> Text:
    """"✔ Healthy" in the health's colour."""
    return Text(f"{HEALTH_ICON.get(health, '?')} {label or health}", style=HEALTH_STYLE.get(health, ""))


def header(info: RolloutInfo) -> Table:
    """The key/value block above the tree; long values wrap under their value column."""
    grid = Table.grid(padding=(0, 0))
    grid.add_column(no_wrap=True, min_width=_LABEL_WIDTH)
    grid.add_column(overflow="fold")

    def field(label: str, value: str | Text, indent: int = 0) -> None:
        grid.add_row(f"{' ' * indent}{label}:" if label else "", value)

    field("Name", info.name)
    field("Namespace", info.namespace)
    field("Status", status_text(info.phase.value))
    if info.message:
        field("Message", info.message)
    field("Strategy", info.strategy)
    if info.step is not None:
        field("Step", info.step, indent=2)
    if info.set_weight is not None:
        field("SetWeight", info.set_weight, indent=2)
    if info.actual_weight is not None:
        field("ActualWeight", info.actual_weight, indent=2)
    if not info.images:
        field("Images", "<none>")
    for i, image in enumerate(info.images):
        roles = f" ({', '.join(image.roles)})" if image.roles else ""
        grid.add_row("Images:" if i == 0 else "", f"{image.image}{roles}")
    r = info.replicas
    grid.add_row("Replicas:", "")
    for label, value in (
        ("Desired", r.desired),
        ("Current", r.current),
        ("Updated", r.updated),
        ("Ready", r.ready),
        ("Available", r.available),
    ):
        field(label, str(value), indent=2)
    return grid


@dataclass(frozen=True)
class _Row:
    guide: str
    icon: str
    name: str
    kind: str
    status: Text
    age: str
    info: str


def _children_guides(prefix: str, last: bool) -> tuple[str, str]:
    """(guide for this node, prefix for its children)."""
    return prefix + ("└──" if last else "├──"), prefix + ("   " if last else "│  ")


def _pod_rows(pods: Sequence[PodInfo], prefix: str) -> Iterable[_Row]:
    for i, pod in enumerate(pods):
        guide, _ = _children_guides(prefix, i == len(pods) - 1)
        details = [f"ready:{pod.ready}"]
        if pod.restarts:
            details.append(f"restarts:{pod.restarts}")
        yield _Row(guide, KIND_ICON["Pod"], pod.name, "Pod", status_text(pod.health, pod.status), pod.age,
                   ",".join(details))


def _rs_rows(rs: ReplicaSetInfo, guide: str, child_prefix: str) -> Iterable[_Row]:
    details = list(rs.roles)
    if rs.scale_down_delay:
        details.append(rs.scale_down_delay)
    yield _Row(guide, KIND_ICON["ReplicaSet"], rs.name, "ReplicaSet", status_text(rs.health, rs.status), rs.age,
               ",".join(details))
    yield from _pod_rows(rs.pods, child_prefix)


def _run_details(run: AnalysisRunInfo) -> str:
    parts = []
    if run.successes:
        parts.append(f"✔ {run.successes}")
    if run.failures:
        parts.append(f"✖ {run.failures}")
    if run.inconclusive:
        parts.append(f"? {run.inconclusive}")
    if run.errors:
        parts.append(f"⚠ {run.errors}")
    return ",".join(parts)


def _tree_rows(info: RolloutInfo) -> list[_Row]:
    rows = [_Row("", KIND_ICON["Rollout"], info.name, "Rollout", status_text(info.phase.value), info.age, "")]
    for ri, revision in enumerate(info.revisions):
        rev_guide, rev_prefix = _children_guides("", ri == len(info.revisions) - 1)
        label = f"revision:{revision.revision}" if revision.revision else "revision:<none>"
        rows.append(_Row(rev_guide, KIND_ICON["Revision"], label, "", Text(""), "", ""))
        children: list[ReplicaSetInfo | AnalysisRunInfo] = [*revision.replicasets, *revision.analysisruns]
        for ci, child in enumerate(children):
            guide, prefix = _children_guides(rev_prefix, ci == len(children) - 1)
            if isinstance(child, ReplicaSetInfo):
                rows.extend(_rs_rows(child, guide, prefix))
            else:
                rows.append(_Row(guide, KIND_ICON["AnalysisRun"], child.name, "AnalysisRun",
                                 status_text(child.health, child.phase), child.age, _run_details(child)))
    return rows


def tree(info: RolloutInfo) -> Table:
    """Revisions -> ReplicaSets -> Pods, and each revision's AnalysisRuns."""
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 2, 0, 0), header_style="bold")
    for column in ("NAME", "KIND", "STATUS", "AGE", "INFO"):
        table.add_column(column, no_wrap=True, overflow="ellipsis")
    for row in _tree_rows(info):
        table.add_row(f"{row.guide}{row.icon} {row.name}", row.kind, row.status, row.age, row.info)
    return table


def rollout_view(info: RolloutInfo) -> Group:
    """The whole `get rollout` output."""
    return Group(header(info), Text(""), tree(info))


def rollouts_table(infos: Sequence[RolloutInfo], *, all_namespaces: bool) -> Table:
    """`list rollouts`: name, strategy, status, step, set weight, actual weight, ready/desired.

    Names are never shortened; when the terminal is narrow the other columns give way first.
    """
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 2, 0, 0), header_style="bold")
    if all_namespaces:
        table.add_column("NAMESPACE", no_wrap=True, min_width=max([9, *(len(i.namespace) for i in infos)]))
    table.add_column("NAME", no_wrap=True, min_width=max([4, *(len(i.name) for i in infos)]))
    for column in ("STRATEGY", "STATUS", "STEP", "SET-WEIGHT", "ACTUAL-WEIGHT", "READY"):
        table.add_column(column, no_wrap=True)
    for info in infos:
        cells: list[str | Text] = [
            info.name,
            info.strategy,
            status_text(info.phase.value),
            info.step or "-",
            info.set_weight or "-",
            info.actual_weight or "-",
            f"{info.replicas.ready}/{info.replicas.desired}",
        ]
        if all_namespaces:
            cells.insert(0, info.namespace)
        table.add_row(*cells)
    return table


def status_line(phase: str, message: str) -> str:
    """`Paused - CanaryPauseStep`, or just `Healthy` when there is nothing to add."""
    return f"{phase} - {message}" if message else phase


def render_text(renderable: RenderableType, *, width: int = 100) -> str:
    """Plain text of a renderable at a fixed width without colour (golden tests, piped output).

    Trailing spaces that table padding leaves at line ends are dropped.
    """
    console = Console(file=StringIO(), width=width, color_system=None, no_color=True, force_terminal=False,
                      legacy_windows=False, emoji=False, highlight=False, soft_wrap=False)
    console.print(renderable)
    out = console.file.getvalue() if isinstance(console.file, StringIO) else ""
    return "\n".join(line.rstrip() for line in out.splitlines()) + "\n"
