"""`lint -f FILE` (Argo's syntax) and `lint FILE...`: check Rollout and AnalysisTemplate manifests without a cluster.

A Rollout goes through the same parse-and-validate the controller runs before acting
(`rollouts.api.validation.check_rollout`), so lint reports exactly what would become an
InvalidSpec condition. (Cluster)AnalysisTemplates are parsed with the API models and their
metrics checked as the AnalysisRun reconciler will check them (`analysis.run.validate_metrics`);
`{{args.x}}` placeholders must name a declared argument and are filled with a neutral value for
the check, since the real arguments are only known when a run starts.

Each problem is printed as `FILE: document N (Kind 'name'): field.path: message`; documents are
numbered from 1 in file order, empty ones included, so N matches what an editor shows between
`---` lines. Services in the same file are checked against the Rollouts that name them (their selector must
match the pod template's labels, as Argo's lint checks); other kinds are skipped. `lint -f` prints as Argo's
does: nothing when the file is fine, else `field: message` lines and the first one as the error.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL

ARGO_API_VERSION = "argoproj.io/v1alpha1"
LINTED_KINDS = ("Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate")
_ARG_REFERENCE = re.compile(r"\{\{\s*args\.([A-Za-z0-9_.-]+?)\s*\}\}")


@dataclass(frozen=True)
class Problem:
    file: str
    document: int | None
    obj: str
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.document is not None:
            where += f": document {self.document}"
            if self.obj:
                where += f" ({self.obj})"
        field = f"{self.field}: " if self.field else ""
        return f"{where}: {field}{self.message}"


@dataclass(frozen=True)
class FileReport:
    file: str
    checked: int
    problems: tuple[Problem, ...]


def _describe(doc: Mapping[str, Any]) -> str:
    name = (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"), Mapping) else None
    return f"{doc.get('kind')} '{name}'" if name else str(doc.get("kind"))


def rollout_problems(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    from rollouts.api.validation import check_rollout

    _, problems = check_rollout(doc)
    return [(p.field, p.message) for p in problems]


_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}")


def _with_placeholders_filled(value: Any) -> Any:
    """A copy with every `{{...}}` replaced by "1": a value that is a valid number, duration ("1" is
    one second), operand and URL part, so the rest of the metric can be checked before the run
    substitutes the real arguments."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub("1", value)
    if isinstance(value, Mapping):
        return {k: _with_placeholders_filled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_placeholders_filled(v) for v in value]
    return value


def template_problems(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems of an AnalysisTemplate or ClusterAnalysisTemplate, with field paths."""
    from pydantic import ValidationError

    from analysis.providers import PROVIDERS
    from analysis.run import validate_metrics
    from rollouts.api.analysis import AnalysisTemplate, ClusterAnalysisTemplate, Metric
    from rollouts.api.validation import problems_from_validation_error

    model = AnalysisTemplate if doc.get("kind") == "AnalysisTemplate" else ClusterAnalysisTemplate
    try:
        template = model.model_validate(dict(doc))
    except ValidationError as exc:
        return [(p.field, p.message) for p in problems_from_validation_error(exc, doc)]
    found: list[tuple[str, str]] = []
    if not template.spec.metrics:
        found.append(("spec.metrics", "at least one metric is required"))
    declared = {arg.name for arg in template.spec.args}
    seen: set[str] = set()
    raw_metrics = (doc.get("spec") or {}).get("metrics") or []
    for i, metric in enumerate(template.spec.metrics):
        path = f"spec.metrics[{i}]"
        if metric.name in seen:
            found.append((f"{path}.name", f"metric name {metric.name!r} is used twice"))
        seen.add(metric.name)
        raw = raw_metrics[i] if i < len(raw_metrics) else {}
        for arg in sorted(set(_ARG_REFERENCE.findall(repr(raw)))):
            if arg not in declared:
                found.append((path, f"refers to argument {arg!r}, which spec.args does not declare"))
        try:
            probe = Metric.model_validate(_with_placeholders_filled(raw)) if "{{" in repr(raw) else metric
        except ValidationError:
            continue  # the filled-in value does not fit the field; only the real argument can tell
        problem = validate_metrics([probe], PROVIDERS)
        if problem:
            found.append((path, problem))
    return found


def check_document(doc: Any) -> tuple[str, list[tuple[str, str]]] | None:
    """(object description, problems) for a linted kind; None for documents lint does not check."""
    if doc is None:
        return None
    if not isinstance(doc, Mapping):
        return "", [("", f"expected a Kubernetes object, got a {type(doc).__name__}")]
    kind = doc.get("kind")
    if kind not in LINTED_KINDS:
        if kind is None and "spec" in doc:
            return "", [("kind", "Required value (expected Rollout, AnalysisTemplate or ClusterAnalysisTemplate)")]
        return None
    found: list[tuple[str, str]] = []
    if doc.get("apiVersion") != ARGO_API_VERSION:
        found.append(("apiVersion", f"must be {ARGO_API_VERSION!r}, got {doc.get('apiVersion')!r}"))
    found += rollout_problems(doc) if kind == "Rollout" else template_problems(doc)
    return _describe(doc), found


def _documents(text: str) -> Iterator[Any]:
    import yaml

    yield from yaml.safe_load_all(text)


_SERVICE_FIELDS = (
    (("canary", "canaryService"), "spec.strategy.canary.canaryService"),
    (("canary", "stableService"), "spec.strategy.canary.stableService"),
    (("canary", "pingPong", "pingService"), "spec.strategy.canary.pingPong.pingService"),
    (("canary", "pingPong", "pongService"), "spec.strategy.canary.pingPong.pongService"),
    (("blueGreen", "activeService"), "spec.strategy.blueGreen.activeService"),
    (("blueGreen", "previewService"), "spec.strategy.blueGreen.previewService"),
)


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, Mapping) else None
    return obj


def reference_problems(rollout: Mapping[str, Any], services: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Problems between a Rollout and the Services of the same file it names (Argo's lint checks the
    referenced objects it is given): a Service selecting on a label the pod template does not carry, or
    carries with another value, would route to no pod of the Rollout."""
    found: list[tuple[str, str]] = []
    strategy = _get(rollout, "spec", "strategy")
    labels = _get(rollout, "spec", "template", "metadata", "labels") or {}
    for path, field in _SERVICE_FIELDS:
        name = _get(strategy, *path)
        service = services.get(name) if isinstance(name, str) else None
        if service is None:
            continue
        selector = _get(service, "spec", "selector") or {}
        for key, value in selector.items() if isinstance(selector, Mapping) else ():
            if key == POD_TEMPLATE_HASH_LABEL:
                continue
            if not isinstance(labels, Mapping) or labels.get(key) != value:
                found.append((field, f'Invalid value: "{name}": Service "{name}" has unmatch label "{key}" in rollout'))
    return found


def lint_text(file: str, text: str) -> FileReport:
    import yaml

    problems: list[Problem] = []
    checked = 0
    index = 0
    documents: list[tuple[int, Any]] = []
    try:
        for index, doc in enumerate(_documents(text), start=1):
            documents.append((index, doc))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(file, index + 1, "", "", f"not valid YAML{where}: {problem}"))
    services = {str(_get(doc, "metadata", "name")): doc for _, doc in documents
                if isinstance(doc, Mapping) and doc.get("kind") == "Service" and doc.get("apiVersion") == "v1"}
    for index, doc in documents:
        result = check_document(doc)
        if result is None:
            continue
        checked += 1
        obj, found = result
        if isinstance(doc, Mapping) and doc.get("kind") == "Rollout":
            found += reference_problems(doc, services)
        problems.extend(Problem(file, index, obj, field, message) for field, message in found)
    # in file order (sorted is stable: a YAML error comes after the problems of the documents read before it)
    return FileReport(file, checked, tuple(sorted(problems, key=lambda p: p.document or 0)))


def lint_file(path: str, stdin: TextIO | None = None) -> FileReport:
    if path == "-":
        return lint_text("<stdin>", (stdin or sys.stdin).read())
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        return FileReport(path, 0, (Problem(path, None, "", "", f"cannot read: {exc.strerror or exc}"),))
    except UnicodeDecodeError:
        return FileReport(path, 0, (Problem(path, None, "", "", "cannot read: not UTF-8 text"),))
    return lint_text(path, text)


def lint_files(paths: Sequence[str], *, out: TextIO) -> int:
    """Print every problem (or `FILE: ok`) and return 1 when any file has a problem."""
    failed = False
    for path in paths:
        report = lint_file(path)
        for problem in report.problems:
            print(problem, file=out)
        if report.problems:
            failed = True
        elif report.checked:
            print(f"{report.file}: ok ({report.checked} object{'s' if report.checked != 1 else ''} checked)",
                  file=out)
        else:
            print(f"{report.file}: ok (no Rollout or AnalysisTemplate found)", file=out)
    return 1 if failed else 0


def lint_argo_style(path: str, *, out: TextIO) -> int:
    """`lint -f FILE`, as Argo's plugin answers it: nothing on success; otherwise every problem as
    `field: message` on stdout and the first one as the command's error (exit 1)."""
    from rollouts.cli.errors import CliError

    report = lint_file(path)
    if not report.problems:
        return 0
    lines = [f"{p.field}: {p.message}" if p.field else p.message for p in report.problems]
    for line in lines:
        print(line, file=out)
    out.flush()
    raise CliError(lines[0])


def lint_cmd(inv: Any) -> int:
    """Argo's syntax `lint -f FILE`, or this plugin's `lint FILE...` (every file, with a summary line each)."""
    from rollouts.cli.errors import CliError

    args = inv.args
    if args.filename and not args.files:
        return lint_argo_style(args.filename, out=inv.out)
    files = ([args.filename] if args.filename else []) + list(args.files)
    if not files:
        raise CliError(f"a file to lint is required: {inv.prog} lint -f FILE\nSee '{inv.prog} lint --help' for usage.")
    return lint_files(files, out=inv.out)
