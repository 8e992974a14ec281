"""Argo's pod-template hash, step hash and template equality, differentially against Argo Rollouts v1.10.2.

The oracle (``tests/oracles/podhash``) decodes each case exactly as Argo's informers do and calls Argo's own
``hash.ComputePodTemplateHash`` and ``conditions.ComputeStepHash``; we compare the Go-encoded JSON too, so a
mismatch names the first differing byte. Cases: every pod template and canary step list in Argo's
``examples/`` and ``test/e2e/`` (YAML files and the YAML inlined in the e2e Go tests), then generated ones.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rollouts.api.podtemplate import MalformedTemplate
from rollouts.api.podtemplate.equality import semantically_equal
from rollouts.api.podtemplate.gojson import (
    canary_steps_go_json,
    decode_pod_template,
    go_json_value,
    pod_template_go_json,
)
from rollouts.api.podtemplate.layout import LAYOUT_FILE, layout
from rollouts.planning.hashing import pod_template_hash, step_hash
from rollouts.planning.tolerant import tolerant_template
from tests.support import go_json_strategies as gs
from tests.support.argo_manifests import argo_manifests, canary_steps, pod_templates
from tests.support.oracles import OracleProcess, module_dir, oracle_binary

Oracle = OracleProcess


@pytest.fixture(scope="module")
def oracle() -> Iterator[OracleProcess]:
    running = OracleProcess("podhash")
    yield running
    running.close()


@pytest.fixture(scope="module")
def argo_source() -> Path:
    return module_dir("github.com/argoproj/argo-rollouts", "v1.10.2")


def ours_for_template(value: Any, collision_count: int | None = None) -> dict[str, str]:
    try:
        return {"json": pod_template_go_json(value).decode(), "hash": pod_template_hash(value, collision_count)}
    except MalformedTemplate as err:
        return {"error": str(err)}


def ours_for_steps(value: Any) -> dict[str, str]:
    try:
        return {"json": canary_steps_go_json(value).decode(), "stepHash": step_hash(value)}
    except MalformedTemplate as err:
        return {"error": str(err)}


def template_request(text: str, collision_count: int | None) -> str:
    """The request line, with the template's text as the API server would have written it."""
    return f'{{"template":{text},"collisionCount":{json.dumps(collision_count)}}}'


def agree(ours: dict[str, str], theirs: dict[str, Any], keys: tuple[str, ...], case: str) -> None:
    if "error" in theirs or "error" in ours:
        assert ("error" in theirs) == ("error" in ours), (
            f"{case}: Go says {theirs.get('error', 'ok')!r}, we say {ours.get('error', 'ok')!r}")
        return
    assert ours["json"] == theirs["json"], f"{case}: Go-encoded JSON differs"
    for key in keys:
        assert ours[key] == theirs[key], f"{case}: {key} ours {ours[key]} Argo {theirs[key]}"


def test_layout_table_is_what_reflection_over_the_pinned_types_prints() -> None:
    binary = oracle_binary("podhash")
    fresh = json.loads(subprocess.run([str(binary), "layout"], capture_output=True, text=True, check=True,
                                      timeout=120).stdout)
    committed = json.loads(LAYOUT_FILE.read_text())
    assert fresh == committed, (
        f"{LAYOUT_FILE} is stale: regenerate it with `{binary} layout > {LAYOUT_FILE}` (tests/oracles/podhash)")


def test_the_hash_argo_e2e_expects() -> None:
    """canary_test.go TestCanaryScaleDownOnAbort expects this selector hash for canary-scaledownonabort.yaml."""
    template = {
        "metadata": {"labels": {"app": "canary-scaledowndelay"}},
        "spec": {"containers": [{
            "name": "canary-scaledowndelay", "image": "nginx:1.19-alpine",
            "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
            "resources": {"requests": {"memory": "16Mi", "cpu": "5m"}},
        }]},
    }
    assert pod_template_hash(template) == "674d8cf959"


def test_every_template_and_step_list_in_argos_repository(oracle: Oracle, argo_source: Path) -> None:
    manifests = argo_manifests(argo_source)
    templates = [(where, t) for m in manifests for where, t in pod_templates(m)]
    steps = [(m.where, s) for m in manifests if (s := canary_steps(m)) is not None]
    assert len(templates) >= 150 and len(steps) >= 60, (len(templates), len(steps))
    cases: list[tuple[str, str, dict[str, str], tuple[str, ...]]] = []
    for where, template in templates:
        text = go_json_value(template)
        for count in (None, 0, 3):
            cases.append((f"{where} collisionCount={count}", template_request(text, count),
                          ours_for_template(json.loads(text), count), ("hash",)))
    for where, step_list in steps:
        text = go_json_value(step_list)
        cases.append((f"{where} steps", f'{{"steps":{text}}}', ours_for_steps(json.loads(text)),
                      ("stepHash",)))
    answers = oracle.ask([request for _, request, _, _ in cases])
    failures = []
    for (case, _, ours, keys), theirs in zip(cases, answers, strict=True):
        try:
            agree(ours, theirs, keys, case)
        except AssertionError as err:
            failures.append(str(err))
    assert not failures, f"{len(failures)} of {len(cases)} cases differ:\n" + "\n".join(failures[:20])
    refused = {case.split()[0] for (case, *_), theirs in zip(cases, answers, strict=True) if "error" in theirs}
    # Only Argo's deliberately malformed manifests (memory: invalid) fail to decode.
    assert refused and all(where.startswith("test/e2e/expectedfailures/malformed-") for where in refused), refused


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=gs.pod_templates(), collision_count=st.none() | st.integers(0, 2**31 - 1))
def test_generated_templates(oracle: Oracle, raw: Any, collision_count: int | None) -> None:
    text = go_json_value(raw)
    [theirs] = oracle.ask([template_request(text, collision_count)])
    agree(ours_for_template(json.loads(text), collision_count), theirs, ("hash",), text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quantities=st.lists(gs.quantities, min_size=1, max_size=6))
def test_generated_quantities(oracle: Oracle, quantities: list[Any]) -> None:
    """Quantities one per container, so one that Go rejects does not hide the others."""
    requests = []
    for q in quantities:
        template = {"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": q}}}]}}
        requests.append(go_json_value(template))
    answers = oracle.ask([template_request(text, None) for text in requests])
    for text, theirs in zip(requests, answers, strict=True):
        agree(ours_for_template(json.loads(text)), theirs, ("hash",), text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=gs.canary_steps())
def test_generated_canary_steps(oracle: Oracle, raw: Any) -> None:
    text = go_json_value(raw)
    [theirs] = oracle.ask([f'{{"steps":{text}}}'])
    agree(ours_for_steps(json.loads(text)), theirs, ("stepHash",), text)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(data=st.data())
def test_semantic_equality_of_templates(oracle: Oracle, data: st.DataObject) -> None:
    """apimachinery's equality.Semantic.DeepEqual, which Argo's PodTemplateEqualIgnoreHash ends with."""
    ref = layout().roots["podTemplate"]
    first = json.loads(go_json_value(data.draw(gs.pod_templates())))
    try:
        decode_pod_template(first)
    except MalformedTemplate:
        assume(False)  # decoding is tested above; here both sides must hold a template
    second = json.loads(go_json_value(data.draw(gs.respelled(first, ref))))
    [theirs] = oracle.ask([f'{{"equal":[{go_json_value(first)},{go_json_value(second)}]}}'])
    try:
        ours: bool | None = semantically_equal(decode_pod_template(first), decode_pod_template(second), ref)
    except MalformedTemplate:
        ours = None
    assert ours == theirs.get("equal"), (first, second, theirs)


def _without_case_variants(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_case_variants(v) for k, v in value.items() if k not in ("Name", "IMAGE")}
    if isinstance(value, list):
        return [_without_case_variants(v) for v in value]
    return value


def tolerant_hash(template: Any) -> str:
    return pod_template_hash(tolerant_template(template)[0])


def test_malformed_quantities_are_hashed_as_argos_tolerant_informer_reads_them(oracle: Oracle,
                                                                               argo_source: Path) -> None:
    """TestMalformedRollout: Argo decodes such a Rollout with encoding/json, which stops at the bad quantity;
    what it decoded up to there is the template it hashes (and creates the ReplicaSet from)."""
    cases = [(where, t) for m in argo_manifests(argo_source) for where, t in pod_templates(m)
             if where.startswith("test/e2e/expectedfailures/malformed-")]
    assert cases
    answers = oracle.ask([f'{{"tolerant":{go_json_value(t)}}}' for _, t in cases])
    for (where, template), theirs in zip(cases, answers, strict=True):
        assert tolerant_hash(json.loads(go_json_value(template))) == theirs["hash"], where


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(data=st.data())
def test_generated_malformed_quantities(oracle: Oracle, data: st.DataObject) -> None:
    """(Not modelled: encoding/json matches keys case-insensitively, so a key "Name" would fill `name` on
    this fallback path; no manifest spells its keys that way, and the generator's such keys are dropped.)"""
    template = _without_case_variants(json.loads(go_json_value(data.draw(gs.pod_templates()))))
    try:
        decode_pod_template(template)
    except MalformedTemplate:
        assume(False)
    containers = (template.get("spec") or {}).get("containers") or []
    assume(containers and all(isinstance(c, dict) for c in containers))
    victim = containers[data.draw(st.integers(0, len(containers) - 1))]
    resources = victim.setdefault("resources", {}) if isinstance(victim.get("resources"), dict | None) else {}
    victim["resources"] = resources or {}
    victim["resources"].setdefault("requests", {})
    if not isinstance(victim["resources"]["requests"], dict):
        victim["resources"]["requests"] = {}
    victim["resources"]["requests"][data.draw(st.sampled_from(["memory", "cpu", "zz", "a"]))] = data.draw(
        st.sampled_from(["invalid", "1.2.3", "10Mx", "--1"]))
    text = go_json_value(template)
    [theirs] = oracle.ask([f'{{"tolerant":{text}}}'])
    assert tolerant_hash(json.loads(text)) == theirs["hash"], text
