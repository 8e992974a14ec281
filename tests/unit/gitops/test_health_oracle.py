"""Health conformance against Argo CD's own code: zero disagreements on status and message.

The Go oracle (tests/oracles/health) answers with gitops-engine's ``health.GetResourceHealth`` and Argo CD's
``lua.ResourceHealthOverrides`` (its embedded Lua scripts), exactly the call Argo CD's application controller
makes. Cases: the cited table of health_cases.py, the test data of gitops-engine (``pkg/health/testdata``) and
of Argo CD's scripts (``resource_customizations/*/*/health_test.yaml``, with their expected values), and a few
thousand generated variations. One oracle process answers all of them (a few seconds when warm).

Where Argo CD's code fails on an object (a Lua script concatenating an absent field), both sides must say
Unknown; the message is Argo CD's Lua error text on one side and ours on the other, so only the status is
compared there, and the test says how many such cases there were.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.gitops.health import group_of, lua_check, resource_health
from rollouts.gitops.health.builtin import BUILTIN_CHECKS
from tests.support import oracles
from tests.unit.gitops.health_cases import TABLE, generated

# The versions tests/oracles/health/go.mod pins (Argo CD v3.6.1 and the gitops-engine it releases with).
ENGINE_MODULE = ("github.com/argoproj/argo-cd/gitops-engine/v3", "v3.6.1")
ARGOCD_MODULE = ("github.com/argoproj/argo-cd/v3", "v3.6.1")

Answer = tuple[str | None, str]


class _Loader(yaml.SafeLoader):
    """YAML as the API server stores it: timestamps stay strings (the CronJob script compares them as text)."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(text: str) -> list[Any]:
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc]  # a SafeLoader subclass: safe


def ours(obj: dict[str, Any]) -> Answer:
    health = resource_health(obj)
    return (None, "") if health is None else (health.status.value, health.message)


def theirs(answer: dict[str, Any]) -> Answer:
    if answer.get("none") or not answer.get("status"):
        return None, ""  # no check, or a script's empty table (an empty health)
    return answer["status"], answer.get("message", "")


@pytest.fixture(scope="module")
def engine_testdata() -> list[tuple[str, dict[str, Any]]]:
    root = oracles.module_dir(*ENGINE_MODULE) / "pkg" / "health" / "testdata"
    return [(f"engine/{p.name}", _load(p.read_text())[0]) for p in sorted(root.glob("*.yaml"))]


def _script_tests() -> list[tuple[str, dict[str, Any], str, str]]:
    root = oracles.module_dir(*ARGOCD_MODULE) / "resource_customizations"
    out = []
    for suite in sorted(root.glob("*/*/health_test.yaml")):
        group, kind = suite.parent.parent.name, suite.parent.name
        for test in (yaml.safe_load(suite.read_text()) or {}).get("tests") or []:
            path = suite.parent / (test.get("inputPath") or test["inputpath"])
            for i, doc in enumerate(_load(path.read_text())):
                expected = test.get("healthStatus") or {}
                out.append((f"{group}/{kind}/{path.name}#{i}", doc, expected.get("status", ""),
                            expected.get("message", "")))
    return out


@pytest.fixture(scope="module")
def script_tests() -> list[tuple[str, dict[str, Any], str, str]]:
    return _script_tests()


@pytest.fixture(scope="module")
def verdicts(engine_testdata: list[tuple[str, dict[str, Any]]],
             script_tests: list[tuple[str, dict[str, Any], str, str]]) -> dict[str, tuple[dict[str, Any], Answer, bool]]:
    """Every case id -> (object, Argo CD's answer, whether Argo CD's code returned an error) in one batch."""
    cases: list[tuple[str, dict[str, Any]]] = [(f"table/{c.id}", c.obj) for c in TABLE]
    cases += engine_testdata
    cases += [(f"scripts/{name}", doc) for name, doc, _, _ in script_tests]
    cases += [(f"generated/{name}", o) for name, o in generated()]
    answers = oracles.run_oracle("health", [{"obj": o, "mode": "argocd"} for _, o in cases])
    return {name: (o, theirs(a), bool(a.get("error"))) for (name, o), a in zip(cases, answers, strict=True)}


def _disagreements(verdicts: dict[str, tuple[dict[str, Any], Answer, bool]], prefix: str) -> tuple[list[str], int]:
    wrong, errors = [], 0
    for name, (obj, expected, failed) in verdicts.items():
        if not name.startswith(prefix):
            continue
        got = ours(obj)
        if failed:
            errors += 1
            if got[0] != expected[0]:
                wrong.append(f"{name}: Argo CD {expected} (its code failed), ours {got}")
        elif got != expected:
            wrong.append(f"{name}: Argo CD {expected}, ours {got}")
    return wrong, errors


@pytest.mark.parametrize("case", TABLE, ids=[c.id for c in TABLE])
def test_table_is_argo_cds_answer(case: Any, verdicts: dict[str, tuple[dict[str, Any], Answer, bool]]) -> None:
    """The expected values written in the table are what Argo CD's code answers (the table is not ours alone)."""
    _, answer, _ = verdicts[f"table/{case.id}"]
    assert answer == (case.status, case.message), f"{case.rule}: the oracle says {answer}"


def test_gitops_engine_testdata_agrees(verdicts: dict[str, tuple[dict[str, Any], Answer, bool]]) -> None:
    wrong, _ = _disagreements(verdicts, "engine/")
    assert len([n for n in verdicts if n.startswith("engine/")]) >= 45
    assert not wrong, "\n".join(wrong)


def test_argo_cd_script_testdata_agrees(verdicts: dict[str, tuple[dict[str, Any], Answer, bool]],
                                        script_tests: list[tuple[str, dict[str, Any], str, str]]) -> None:
    """Argo CD's scripts' own test data: the oracle gives the expected value written in each health_test.yaml,
    and we agree with the oracle for every kind we assess (the kinds without a rule here are counted)."""
    ours_kinds, wrong, unassessed = 0, [], set()
    for name, doc, status, message in script_tests:
        _, answer, failed = verdicts[f"scripts/{name}"]
        # Argo CD's script tests run the script alone; the controller adds the "Pending deletion" overlay.
        deleting = bool((doc.get("metadata") or {}).get("deletionTimestamp"))
        assert failed or deleting or answer == ((status or None), message), (
            f"{name}: oracle {answer}, test data {status} {message}")
        group, kind = group_of(doc), str(doc.get("kind") or "")
        if lua_check(group, kind) is None and (group, kind) not in BUILTIN_CHECKS:
            unassessed.add(f"{group}/{kind}")
            continue
        got = ours(doc)
        ours_kinds += 1
        if (got[0] != answer[0]) if failed else (got != answer):
            wrong.append(f"{name}: Argo CD {answer}, ours {got}")
    assert ours_kinds >= 150, f"only {ours_kinds} script test cases are assessed here"
    assert not wrong, "\n".join(wrong)
    # Argo CD v3.6.1 has scripts for about 290 kinds; the ~275 we have no rule for get no health (README).
    assert len(unassessed) <= 280, f"{len(unassessed)} kinds with Argo CD scripts have no rule here"


def test_generated_variations_agree(verdicts: dict[str, tuple[dict[str, Any], Answer, bool]]) -> None:
    wrong, errors = _disagreements(verdicts, "generated/")
    total = len([n for n in verdicts if n.startswith("generated/")])
    assert total >= 3000
    assert errors < total // 10, f"{errors} of {total} generated cases make Argo CD's code fail: too few valid"
    assert not wrong, f"{len(wrong)} of {total} disagree:\n" + "\n".join(wrong[:40])


def test_oracle_is_argo_cd(tmp_path: Path) -> None:
    """The oracle really runs Argo CD's code: a user override changes its answer, built-in rules do not."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"restartPolicy": "Always"},
           "status": {"phase": "Pending"}}
    script = 'return {status = "Degraded", message = "from the override"}'
    plain, override = oracles.run_oracle("health", [{"obj": pod, "mode": "builtin"},
                                             {"obj": pod, "mode": "argocd", "overrides": {"Pod": {"health.lua": script}}}])
    assert theirs(plain) == ("Progressing", "")
    assert theirs(override) == ("Degraded", "from the override")


USER_SCRIPTS: dict[str, tuple[str, bool]] = {
    # The shape of the example in Argo CD's docs (operator-manual/health.md, "Custom Health Checks").
    "ready-condition": ("""
hs = {}
if obj.status ~= nil then
  if obj.status.conditions ~= nil then
    for i, condition in ipairs(obj.status.conditions) do
      if condition.type == "Ready" and condition.status == "False" then
        hs.status = "Degraded"
        hs.message = condition.message
        return hs
      end
      if condition.type == "Ready" and condition.status == "True" then
        hs.status = "Healthy"
        hs.message = condition.message
        return hs
      end
    end
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the widget"
return hs""", False),
    "open-libs": ("""
local hs = {status = "Progressing", message = "no phase"}
if obj.status ~= nil and obj.status.phase ~= nil then
  if string.find(obj.status.phase, "^Run") then hs.status = "Healthy" end
  hs.message = string.format("%s (%d replicas)", string.lower(obj.status.phase), math.floor(obj.status.replicas or 0))
end
return hs""", True),
    "nil-falls-back": ("if obj.kind == 'Pod' then return nil end\nreturn {status = 'Suspended'}", False),
    "deletion-message": ("return {status = 'Healthy', message = 'fine', deletionMessage = 'draining'}", False),
    "invalid-and-empty": ("if obj.status == nil then return {} end\nreturn {status = obj.status.phase}", False),
    "numbers": ("return {status = 'Healthy', message = 'r=' .. (obj.status and obj.status.replicas or 0)}", False),
}


def _user_objects() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for kind, api in (("Widget", "example.com/v1"), ("Pod", "v1")):
        for status in (None, {}, {"phase": "Running", "replicas": 3}, {"phase": "Healthy", "replicas": 2.0},
                       {"phase": "Pending"}, {"conditions": [{"type": "Ready", "status": "True", "message": "ok"}]},
                       {"conditions": [{"type": "Ready", "status": "False"}]}):
            for deleting in (False, True):
                meta: dict[str, Any] = {"name": "w", "namespace": "ns"}
                if deleting:
                    meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
                o: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": meta,
                                     "spec": {"restartPolicy": "Always"}}
                if status is not None:
                    o["status"] = status
                out.append(o)
    return out


@pytest.mark.parametrize("key", ["example.com/Widget", "*/*", "*.com/*", "Pod"])
@pytest.mark.parametrize("script_name", sorted(USER_SCRIPTS))
async def test_user_scripts_agree_with_argo_cds_lua(script_name: str, key: str) -> None:
    """A user's argocd-cm health check gives the same answers here (lupa) as in Argo CD (gopher-lua)."""
    from analysis.sandbox import InlineSandbox
    from rollouts.gitops.custom_health import HealthAssessor
    from rollouts.gitops.health.customizations import parse_customizations

    script, open_libs = USER_SCRIPTS[script_name]
    group_kind = "all" if key == "*/*" else key.replace("/", "_")
    data = {f"resource.customizations.health.{group_kind}": script}
    if open_libs:
        data[f"resource.customizations.useOpenLibs.{group_kind}"] = "true"
    assessor = HealthAssessor(parse_customizations(data), sandbox=InlineSandbox())  # benign scripts: in-thread
    objects = _user_objects()
    answers = oracles.run_oracle("health", [{"obj": o, "mode": "argocd", "overrides": {
        key: {"health.lua": script, "useOpenLibs": open_libs}}} for o in objects])
    wrong = []
    for o, answer in zip(objects, answers, strict=True):
        health = await assessor.health(o)
        got = (None, "") if health is None else (health.status.value, health.message)
        expected = theirs(answer)
        if (got[0] != expected[0]) if answer.get("error") else (got != expected):
            wrong.append(f"{o['kind']} {o.get('status')} deleting={'deletionTimestamp' in o['metadata']}: "
                         f"Argo CD {expected}{' (error)' if answer.get('error') else ''}, ours {got}")
    assessor.close()
    assert not wrong, "\n".join(wrong)
