"""The text of `get rollout`, `list rollouts` and `status`, character for character as Argo's plugin prints them.

Pure: every function takes summaries (`RolloutInfo`) and a `now`, and returns text; the command layer decides
where it goes (a terminal redrawn in place, a pipe frame by frame, a golden test). The layout is Argo's:
a key/value header padded to 17 columns, then a tree (Revisions -> ReplicaSets -> Pods, Experiments,
AnalysisRuns -> Jobs) aligned by Go's tabwriter rules (rollouts.cli.tabwriter), with Argo's icons and, on a
terminal, Argo's ANSI colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rollouts.cli.children import (
    ICON_BAD,
    ICON_OK,
    ICON_PROGRESSING,
    ICON_UNKNOWN,
    ICON_WAITING,
    ICON_WARNING,
    AnalysisRunInfo,
    ExperimentInfo,
    JobInfo,
    ReplicaSetInfo,
    scale_down_delay,
)
from rollouts.cli.info import ImageInfo, ListRow, RolloutInfo, images, revisions
from rollouts.cli.objects import age
from rollouts.cli.tabwriter import align

ICON_ROLLOUT = "⟳"
ICON_REVISION = "#"
ICON_REPLICASET = "⧉"
ICON_POD = "□"
ICON_JOB = "⊞"
ICON_EXPERIMENT = "Σ"
ICON_ANALYSIS = "α"  # noqa: RUF001 (Argo's icon)

_YELLOW, _RED, _GREEN, _HI_BLUE = 33, 31, 32, 94
COLORS: dict[str, int] = {
    ICON_WAITING: _YELLOW, ICON_PROGRESSING: _HI_BLUE, ICON_WARNING: _RED, ICON_UNKNOWN: _YELLOW,
    ICON_OK: _GREEN, ICON_BAD: _RED,
    "canary": _YELLOW, "stable": _GREEN, "active": _GREEN, "preview": _HI_BLUE, "ping": _HI_BLUE, "pong": _HI_BLUE,
    "Pending": _HI_BLUE, "Running": _HI_BLUE,
}

CLEAR_SCREEN = "\x1b[H\x1b[2J\x1b[0;0H"


@dataclass(frozen=True)
class Style:
    """Colours on or off. Argo wraps every coloured word, even one without a colour (code 0), so columns
    measured by the tabwriter stay comparable."""

    color: bool = False

    def word(self, text: str, key: str | None = None) -> str:
        if not self.color:
            return text
        return f"\x1b[{COLORS.get(text if key is None else key, 0)}m{text}\x1b[0m"


PLAIN = Style(False)


def _field(label: str, value: object) -> str:
    return f"{label:<17}{value}\n"


def _image(image: ImageInfo, style: Style) -> str:
    if not image.tags:
        return image.image
    return f"{image.image} ({', '.join(style.word(tag) for tag in image.tags)})"


def rollout_header(info: RolloutInfo, style: Style = PLAIN) -> str:
    out = [
        _field("Name:", info.name),
        _field("Namespace:", info.namespace),
        _field("Status:", f"{style.word(info.icon)} {info.status}"),
    ]
    if info.message:
        out.append(_field("Message:", info.message))
    out.append(_field("Strategy:", info.strategy))
    if info.strategy == "Canary":
        out += [_field("  Step:", info.step), _field("  SetWeight:", info.set_weight),
                _field("  ActualWeight:", info.actual_weight)]
    shown = images(info)
    for i, image in enumerate(shown):
        out.append(_field("Images:" if i == 0 else "", _image(image, style)))
    out.append("Replicas:\n")
    for label, value in (("  Desired:", info.desired), ("  Current:", info.current), ("  Updated:", info.updated),
                         ("  Ready:", info.ready), ("  Available:", info.available)):
        out.append(_field(label, value))
    return "".join(out)


def _prefixes(last: bool, sub: str) -> tuple[str, str]:
    """(this node's guide, its children's guide prefix)."""
    return (sub + "└──", sub + "   ") if last else (sub + "├──", sub + "│  ")


def _row(prefix: str, icon: str, name: str, kind: str, status_icon: str, status: str, when: str, info: str) -> str:
    return f"{prefix}{icon} {name}\t{kind}\t{status_icon} {status}\t{when}\t{info}\n"


class _Tree:
    def __init__(self, now: datetime, style: Style) -> None:
        self.now = now
        self.style = style
        self.lines: list[str] = ["NAME\tKIND\tSTATUS\tAGE\tINFO\n"]

    def replicaset(self, rs: ReplicaSetInfo, prefix: str, sub: str) -> None:
        s = self.style
        cols: list[str] = []
        name = rs.name
        if rs.stable:
            cols.append(s.word("stable"))
            name = s.word(name, "stable")
        if rs.canary:
            cols.append(s.word("canary"))
            name = s.word(name, "canary")
        elif rs.active:
            cols.append(s.word("active"))
            name = s.word(name, "active")
        elif rs.preview:
            cols.append(s.word("preview"))
            name = s.word(name, "preview")
        if rs.ping:
            cols.append(s.word("ping"))
            name = s.word(name, "ping")
        if rs.pong:
            cols.append(s.word("pong"))
            name = s.word(name, "pong")
        if rs.scale_down_deadline:
            cols.append(f"delay:{scale_down_delay(rs, self.now)}")
        self.lines.append(_row(prefix, ICON_REPLICASET, name, "ReplicaSet", s.word(rs.icon), rs.status,
                               age(rs.created, self.now), ",".join(cols)))
        for i, pod in enumerate(rs.pods):
            pod_prefix, _ = _prefixes(i == len(rs.pods) - 1, sub)
            details = [f"ready:{pod.ready}"] + ([f"restarts:{pod.restarts}"] if pod.restarts > 0 else [])
            self.lines.append(_row(pod_prefix, ICON_POD, pod.name, "Pod", s.word(pod.icon), pod.status,
                                   age(pod.created, self.now), ",".join(details)))

    def analysisrun(self, run: AnalysisRunInfo, prefix: str, sub: str) -> None:
        s = self.style
        cols = []
        for count, icon in ((run.successful, ICON_OK), (run.failed, ICON_BAD), (run.inconclusive, ICON_UNKNOWN),
                            (run.error, ICON_WARNING)):
            if count > 0:
                cols.append(f"{s.word(icon)} {count}")
        self.lines.append(_row(prefix, ICON_ANALYSIS, s.word(run.name, run.status), "AnalysisRun", s.word(run.icon),
                               run.status, age(run.created, self.now), ",".join(cols)))
        for i, job in enumerate(run.jobs):
            job_prefix, _ = _prefixes(i == len(run.jobs) - 1, sub)
            self.job(job, job_prefix)

    def job(self, job: JobInfo, prefix: str) -> None:
        s = self.style
        self.lines.append(_row(prefix, ICON_JOB, s.word(job.name, job.status), "Job", s.word(job.icon), job.status,
                               age(job.created, self.now), ""))

    def experiment(self, exp: ExperimentInfo, prefix: str, sub: str) -> None:
        s = self.style
        self.lines.append(_row(prefix, ICON_EXPERIMENT, s.word(exp.name, exp.status), "Experiment", s.word(exp.icon),
                               exp.status, age(exp.created, self.now), ""))
        children: list[ReplicaSetInfo | AnalysisRunInfo] = [*exp.replicasets, *exp.analysisruns]
        for i, child in enumerate(children):
            child_prefix, child_sub = _prefixes(i == len(children) - 1, sub)
            if isinstance(child, ReplicaSetInfo):
                self.replicaset(child, child_prefix, child_sub)
            else:
                self.analysisrun(child, child_prefix, child_sub)

    def text(self) -> str:
        return align("".join(self.lines), padding=2)


def rollout_tree(info: RolloutInfo, now: datetime, style: Style = PLAIN) -> str:
    tree = _Tree(now, style)
    tree.lines.append(_row("", ICON_ROLLOUT, info.name, "Rollout", style.word(info.icon), info.status,
                           age(info.created, now), ""))
    revs = revisions(info)
    for i, rev in enumerate(revs):
        prefix, sub = _prefixes(i == len(revs) - 1, "")
        tree.lines.append(f"{prefix}{ICON_REVISION} revision:{rev}\t\t \t\t\n")
        children: list[ReplicaSetInfo | ExperimentInfo | AnalysisRunInfo] = [
            *(rs for rs in info.replicasets if rs.revision == rev),
            *(e for e in info.experiments if e.revision == rev),
            *(r for r in info.analysisruns if r.revision == rev),
        ]
        for j, child in enumerate(children):
            child_prefix, child_sub = _prefixes(j == len(children) - 1, sub)
            if isinstance(child, ReplicaSetInfo):
                tree.replicaset(child, child_prefix, child_sub)
            elif isinstance(child, ExperimentInfo):
                tree.experiment(child, child_prefix, child_sub)
            else:
                tree.analysisrun(child, child_prefix, child_sub)
    return tree.text()


def rollout_text(info: RolloutInfo, now: datetime, style: Style = PLAIN) -> str:
    """The whole `get rollout` output."""
    return rollout_header(info, style) + "\n" + rollout_tree(info, now, style)


def experiment_text(exp: ExperimentInfo, now: datetime, style: Style = PLAIN) -> str:
    """The whole `get experiment` output (for the Experiment commands)."""
    from rollouts.cli.info import experiment_images

    out = [_field("Name:", exp.name), _field("Namespace:", exp.namespace),
           _field("Status:", f"{style.word(exp.icon)} {exp.status}")]
    if exp.message:
        out.append(_field("Message:", exp.message))
    shown = experiment_images(exp)
    for i, image in enumerate(sorted(shown)):
        out.append(_field("Images:" if i == 0 else "", _image(ImageInfo(image, shown[image]), style)))
    tree = _Tree(now, style)
    tree.experiment(exp, "", "")
    return "".join(out) + "\n" + tree.text()


# ---------------------------------------------------------------------------------------------------
# list rollouts


def list_header(*, all_namespaces: bool, timestamps: bool) -> str:
    header = "NAME\tSTRATEGY\tSTATUS\tSTEP\tSET-WEIGHT\tREADY\tDESIRED\tUP-TO-DATE\tAVAILABLE\n"
    if all_namespaces:
        header = "NAMESPACE\t" + header
    if timestamps:
        header = "TIMESTAMP\t" + header
    return header


def list_line(row: ListRow, *, all_namespaces: bool, timestamp: str | None) -> str:
    """One row, padded within its cells as Argo's format string pads them (`%-10s\\t%-9s\\t...`)."""
    cells = (f"{row.name:<10}\t{row.strategy:<9}\t{row.status:<12}\t{row.step:<4}\t{row.set_weight:<10}\t"
             f"{row.ready_current:<5}\t{row.desired:<7}\t{row.up_to_date:<10}\t{row.available:<9}")
    if all_namespaces:
        cells = f"{row.namespace:<9}\t" + cells
    if timestamp is not None:
        cells = f"{timestamp:<20}\t" + cells
    return cells + "\n"


def list_table(rows: Sequence[ListRow], *, all_namespaces: bool, timestamp: str | None) -> str:
    text = list_header(all_namespaces=all_namespaces, timestamps=timestamp is not None)
    text += "".join(list_line(r, all_namespaces=all_namespaces, timestamp=timestamp) for r in rows)
    return align(text, padding=2)


# ---------------------------------------------------------------------------------------------------
# status


def status_line(phase: str, message: str) -> str:
    """`Paused - CanaryPauseStep`, or just `Healthy` when there is no message (the watch's lines)."""
    return f"{phase} - {message}" if message else phase
