"""`lint`: offline checks of Rollout and AnalysisTemplate manifests, one line per problem."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rollouts.cli.lint import lint_file, lint_files, lint_text

REPO = Path(__file__).resolve().parents[3]

VALID_ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
  strategy: {canary: {steps: [{setWeight: 20}, {pause: {}}]}}
"""

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n"

TEMPLATE = """\
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: rate}
spec:
  args: [{name: service}]
  metrics:
  - name: rate
    interval: 1m
    count: 3
    successCondition: result[0] >= 0.95
    provider: {prometheus: {address: "http://prom:9090", query: "sum(rate(x{svc='{{args.service}}'}[1m]))"}}
"""


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(VALID_ROLLOUT.replace("setWeight: 20", "setWeight: 150"),
                 ["document 1 (Rollout 'web'): spec.strategy.canary.steps[0].setWeight: Invalid value: 150: "
                  "SetWeight needs to be between 0 and 100"], id="weight-out-of-range"),
    pytest.param(VALID_ROLLOUT.replace("{canary: {steps: [{setWeight: 20}, {pause: {}}]}}", "{}"),
                 ["document 1 (Rollout 'web'): spec.strategy: "], id="no-strategy"),
    pytest.param(VALID_ROLLOUT.replace("replicas: 2", "replicas: two"),
                 ["document 1 (Rollout 'web'): spec.replicas: "], id="wrong-type"),
    pytest.param(SERVICE + "---\n" + VALID_ROLLOUT.replace("{app: web}}\n  template", "{app: api}}\n  template"),
                 ["document 2 (Rollout 'web'): spec.template.metadata.labels: "],
                 id="second-document-selector-mismatch"),
    pytest.param(VALID_ROLLOUT.replace("argoproj.io/v1alpha1", "argoproj.io/v1"),
                 ["document 1 (Rollout 'web'): apiVersion: must be 'argoproj.io/v1alpha1'"], id="api-version"),
    pytest.param(TEMPLATE.replace("result[0] >= 0.95", "result[0] >="),
                 ["document 1 (AnalysisTemplate 'rate'): spec.metrics[0]: metric 'rate': successCondition: "
                  "unexpected token EOF (line 1, column 12)"],
                 id="template-bad-condition"),
    pytest.param(TEMPLATE.replace("args.service", "args.svc"),
                 ["document 1 (AnalysisTemplate 'rate'): spec.metrics[0]: refers to argument 'svc'"],
                 id="template-undeclared-argument"),
    pytest.param(TEMPLATE.replace("    interval: 1m\n", ""),
                 ["document 1 (AnalysisTemplate 'rate'): spec.metrics[0]: metric 'rate': interval must be set"],
                 id="template-count-without-interval"),
    pytest.param("kind: Rollout\napiVersion: argoproj.io/v1alpha1\nspec: [\n",
                 ["document 1: not valid YAML at line 4"], id="broken-yaml"),
])
def test_problems_name_file_document_and_field(text: str, expected: list[str]) -> None:
    """Each line starts with file, document, object and field path; the wording after the path is the
    validator's own (rollouts.api.validation) and is only spot-checked where it is ours."""
    report = lint_text("m.yaml", text)
    lines = [str(p) for p in report.problems]
    assert len(lines) == len(expected), lines
    for line, want in zip(lines, expected, strict=True):
        assert line.startswith(f"m.yaml: {want}"), line


@pytest.mark.parametrize("text", [VALID_ROLLOUT, TEMPLATE, SERVICE + "---\n" + VALID_ROLLOUT + "---\n" + TEMPLATE],
                         ids=["rollout", "template", "multi-document"])
def test_valid_manifests_have_no_problems(text: str) -> None:
    report = lint_text("m.yaml", text)
    assert report.problems == ()
    assert report.checked == text.count("argoproj.io/v1alpha1")


def test_examples_in_the_repository_lint_clean() -> None:
    files = sorted(str(p) for p in (REPO / "examples").glob("*.yaml"))
    assert files, "expected example manifests under examples/"
    out = io.StringIO()
    assert lint_files(files, out=out) == 0, out.getvalue()


def test_exit_code_and_output(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(VALID_ROLLOUT)
    bad = tmp_path / "bad.yaml"
    bad.write_text(VALID_ROLLOUT.replace("setWeight: 20", "setWeight: -1"))
    out = io.StringIO()
    assert lint_files([str(good)], out=out) == 0
    assert out.getvalue() == f"{good}: ok (1 object checked)\n"
    out = io.StringIO()
    assert lint_files([str(good), str(bad), str(tmp_path / "missing.yaml")], out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{good}: ok (1 object checked)"
    assert lines[1].startswith(f"{bad}: document 1 (Rollout 'web'): spec.strategy.canary.steps[0].setWeight")
    assert lines[2] == f"{tmp_path / 'missing.yaml'}: cannot read: No such file or directory"


def test_stdin() -> None:
    report = lint_file("-", io.StringIO(VALID_ROLLOUT.replace("setWeight: 20", "setWeight: 101")))
    assert [p.file for p in report.problems] == ["<stdin>"]
