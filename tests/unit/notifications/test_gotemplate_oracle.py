"""Differential tests: our text/template + sprig against Go's own (tests/oracles/gotemplate), over every
template in the anchors' notification catalogs and docs (see anchors.py) and over generated templates.

Each template is rendered with the data the engine gives it: a Rollout whose numbers are float64 (Argo
Rollouts marshals the Rollout to a map) or an Application whose integers are int64 (unstructured), plus
``secrets`` (map[string][]byte), ``context``, ``serviceType`` and ``recipient``. Outputs must be equal; when
Go fails, we must fail at the same phase with the same message. Templates that use what we reject as
unsupported must be rejected with a message naming the construct.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rollouts.notifications.gotemplate import ExecError, ParseError, Unsupported, parse
from rollouts.notifications.gotemplate.values import BytesMap, from_json
from tests.support.oracles import run_oracle
from tests.unit.notifications.anchors import catalog_templates
from tests.unit.notifications.generated import generated_templates
from tests.unit.notifications.objects import APPLICATION, ROLLOUT, blue_green_rollout, multi_source_application

SECRETS = {"token": "s3cr3t", "slack-token": "xoxb-1"}
CONTEXT = {"argocdUrl": "https://argocd.example.com", "environmentName": "prod"}


def _datasets(kind: str) -> list[tuple[str, dict[str, Any], str]]:
    if kind == "rollout":
        objs = [("canary", ROLLOUT), ("bluegreen", blue_green_rollout())]
        return [(n, {"rollout": o, "context": CONTEXT}, "float64") for n, o in objs]
    objs = [("app", APPLICATION), ("multisource", multi_source_application())]
    return [(n, {"app": o, "context": CONTEXT}, "int64") for n, o in objs]


def _ours(name: str, text: str, data: dict[str, Any], numbers: str) -> dict[str, Any]:
    try:
        tmpl = parse(name, text)
    except Unsupported as exc:
        return {"ok": False, "phase": "unsupported", "err": str(exc)}
    except ParseError as exc:
        return {"ok": False, "phase": "parse", "err": str(exc)}
    values = from_json(data, numbers=numbers)
    values["secrets"] = BytesMap({k: v.encode() for k, v in SECRETS.items()})
    try:
        return {"ok": True, "out": tmpl.execute(values)}
    except ExecError as exc:
        return {"ok": False, "phase": "exec", "err": str(exc)}


def _compare(cases: list[tuple[str, str, dict[str, Any], str]]) -> tuple[int, list[str], int]:
    requests = [{"name": name, "template": text, "data": data, "numbers": numbers, "secrets": SECRETS}
                for name, text, data, numbers in cases]
    answers = run_oracle("gotemplate", requests)
    mismatches: list[str] = []
    unsupported = 0
    for (name, text, data, numbers), go in zip(cases, answers, strict=True):
        if go.get("ok"):
            go.setdefault("out", "")
        ours = _ours(name, text, data, numbers)
        if ours.get("phase") == "unsupported":
            unsupported += 1
            if not ("is not supported" in ours["err"] and ours["err"].startswith(f"template: {name}:")):
                mismatches.append(f"{name}: unclear unsupported error {ours['err']!r}")
            continue
        if ours != go:
            mismatches.append(f"{name}: template {text!r}\n   go:   {json.dumps(go)}\n   ours: {json.dumps(ours)}")
    return len(cases), mismatches, unsupported


def test_catalog_templates_render_as_go_renders_them() -> None:
    templates = catalog_templates()
    assert len(templates) >= 60, f"expected the anchors' catalogs to yield at least 60 templates, got {len(templates)}"
    cases = []
    for t in templates:
        for _variant, data, numbers in _datasets(t.kind):
            for service in ("slack", "teams"):
                name = f"{t.name}{t.field}"[:60]
                cases.append((name, t.text, {**data, "serviceType": service, "recipient": "deploys"}, numbers))
    total, mismatches, unsupported = _compare(cases)
    assert not mismatches, f"{len(mismatches)} of {total} catalog renders differ from Go:\n" + "\n".join(mismatches[:15])
    assert unsupported == 0, "the catalogs use nothing outside the supported subset"


def test_generated_templates_render_as_go_renders_them() -> None:
    cases = []
    for i, text in enumerate(generated_templates(700)):
        kind_data = _datasets("rollout")[i % 2][1]
        cases.append((f"gen{i}", text, {**kind_data, "serviceType": "slack", "recipient": "r"}, "float64"))
        if i % 5 == 0:
            cases.append((f"gen{i}i", text, {**kind_data, "serviceType": "slack", "recipient": "r"}, "int64"))
    total, mismatches, unsupported = _compare(cases)
    assert not mismatches, f"{len(mismatches)} of {total} generated renders differ from Go:\n" + "\n".join(mismatches[:12])
    assert unsupported < total // 20


HANDWRITTEN = [
    "{{.a}} {{.b}} {{.c}} {{.d}} {{.e}} {{.f}}",
    "{{printf \"%v %v %v\" .a .b .c}} {{printf \"%s|%d|%q|%x|%5.1f|%-3d|\" .s .n .s .s .f .n}}",
    "{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}{{range .l}}[{{.}}]{{else}}empty{{end}}",
    "{{with .m}}{{.z}}{{end}}{{if and .a .missing}}A{{else if or .missing .b}}B{{end}}",
    "{{index .l 1}} {{index .m \"z\"}} {{index .m \"nope\"}} {{slice .l 1}} {{len .s}}",
    "{{.null.x}}", "{{.s.x}}", "{{index .l 9}}", "{{upper 3}}", "{{nope}}", "{{.a | printf \"%v\" 1 2}}",
    "{{template \"x\"}}", "{{define \"x\"}}y{{end}}", "{{semverCompare \">1\" \"2\"}}", "{{1i}}",
    "{{eq .f 1.5}} {{eq .n 3}} {{eq .s \"hi\" \"x\"}} {{lt .s \"z\"}} {{eq .null nil}}",
    "{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "{{ 1e6 }} {{ 123456789.0 }} {{ 0.000001 }} {{ -0.0 }} {{ 1e21 }}",
    "{{toJson .}}", "{{toPrettyJson .m}}", "{{ .l | join \", \" }}", "{{ \"a,b\" | splitList \",\" | toJson }}",
    "{{ split \"/\" \"a/b/c\" }}", "{{ (split \"/\" \"a/b\")._1 }}", "{{ dict \"k\" .n | toJson }}",
    "{{ toDate \"2006-01-02\" \"2024-02-29\" | date \"Jan 2, 2006 15:04 MST\" }}",
    "{{ date \"2006-01-02T15:04:05Z07:00\" .t }}", "{{ .secrets.token }} {{ toString .secrets.token }}",
    "{{ b64dec \"aGk=\" }} {{ b64dec \"!!\" }} {{ quote .s .n }} {{ squote .null }}",
    "{{ coalesce .missing .null \"\" .s }} {{ default \"d\" .missing }} {{ default \"d\" 0 }} {{ ternary 1 2 false }}",
    "{{ regexReplaceAll \"(a)(b)\" \"xaby\" \"${2}$1\" }} {{ regexFind \"[0-9]+\" \"ab12cd\" }}",
    "{{- /* comment */ -}}  x  {{- .s -}}  y", "{{ .l | len }} {{ until 3 }} {{ add 1 2.7 \"3\" }} {{ div 7 -2 }} {{ mod -7 2 }}",
]


def test_handwritten_edge_cases_match_go() -> None:
    data = {"a": 1, "b": 2.5, "c": None, "d": [1, "x", None], "e": {"k": [True]}, "f": 1.5, "n": 3, "s": "hi",
            "l": ["x", "y", "z"], "m": {"z": 1, "a": None}, "null": None, "t": 1700000000}
    cases = [(f"h{i}", text, data, numbers) for i, text in enumerate(HANDWRITTEN) for numbers in ("int64", "float64")]
    total, mismatches, unsupported = _compare(cases)
    assert not mismatches, f"{len(mismatches)} of {total} hand-written cases differ from Go:\n" + "\n".join(mismatches)
    assert unsupported == 2 * 4


@pytest.mark.parametrize("text,position,what", [
    ("ab\n  {{template \"x\"}}", "t:2:4", "{{template}}"),
    ("{{define \"x\"}}y{{end}}", "t:1:2", "{{define}}"),
    ("{{ .a | semverCompare \">1\" }}", "t:1:8", "semverCompare"),
    ("{{ 1+2i }}", "t:1:3", "complex number"),
])
def test_unsupported_constructs_are_named_with_their_position(text: str, position: str, what: str) -> None:
    with pytest.raises(Unsupported) as err:
        parse("t", text)
    assert str(err.value).startswith(f"template: {position}: ") and what in str(err.value), str(err.value)
