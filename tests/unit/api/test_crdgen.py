"""crdgen: the committed CRDs match the models, and every generated schema is structural."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import Field

from rollouts.api import crdgen
from rollouts.api.common import ApiModel, IntOrString, OpenDict, Time
from rollouts.api.crdgen import CrdSpec, PrinterColumn, ScaleSubresource, SchemaError

CRDS = Path(__file__).resolve().parents[3] / "crds"


def test_committed_crds_match_the_models() -> None:
    files = crdgen.render_all(crdgen.collect())
    assert crdgen.drifted(files, CRDS) == [], "run `python -m rollouts.api.crdgen` and commit crds/"


def test_check_mode_reports_drift_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert crdgen.main(["--out", str(tmp_path)]) == 0
    assert crdgen.main(["--check", "--out", str(tmp_path)]) == 0
    target = tmp_path / "rollouts.yaml"
    target.write_text(target.read_text().replace("shortNames", "shortnames"))
    assert crdgen.main(["--check", "--out", str(tmp_path)]) == 1
    assert "rollouts.yaml: differs from the models" in capsys.readouterr().err
    target.unlink()
    assert crdgen.main(["--check", "--out", str(tmp_path)]) == 1
    assert "rollouts.yaml: missing" in capsys.readouterr().err


def _walk(node: Any, path: str) -> list[str]:
    """Violations of Kubernetes' structural schema rules under ``node``."""
    problems: list[str] = []
    if not isinstance(node, dict):
        return [f"{path}: not a schema object"]
    for forbidden in ("$ref", "allOf", "oneOf", "not", "const", "default", "uniqueItems", "$defs", "title"):
        if forbidden in node:
            problems.append(f"{path}: has {forbidden}")
    int_or_string = node.get("x-kubernetes-int-or-string") is True
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "anyOf" in node and not int_or_string:
        problems.append(f"{path}: anyOf without x-kubernetes-int-or-string")
    if "type" not in node and not (int_or_string or preserve):
        problems.append(f"{path}: no type")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{path}: both properties and additionalProperties")
    if isinstance(node.get("additionalProperties"), bool):
        problems.append(f"{path}: boolean additionalProperties")
    if "exclusiveMinimum" in node and not isinstance(node["exclusiveMinimum"], bool):
        problems.append(f"{path}: numeric exclusiveMinimum")
    for name, sub in node.get("properties", {}).items():
        problems.extend(_walk(sub, f"{path}.{name}"))
    if isinstance(node.get("additionalProperties"), dict):
        problems.extend(_walk(node["additionalProperties"], f"{path}[*]"))
    if "items" in node:
        problems.extend(_walk(node["items"], f"{path}[]"))
    if node.get("type") == "array" and "items" not in node:
        problems.append(f"{path}: array without items")
    return problems


def _committed() -> list[Any]:
    return [pytest.param(yaml.safe_load(p.read_text()), id=p.stem) for p in sorted(CRDS.glob("*.yaml"))]


@pytest.mark.parametrize("crd", _committed())
def test_committed_schemas_are_structural(crd: dict[str, Any]) -> None:
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    for version in crd["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        assert _walk(schema, "") == []
        assert schema["properties"]["metadata"] == {"type": "object"}


def _rollout_crd() -> dict[str, Any]:
    crd: dict[str, Any] = yaml.safe_load((CRDS / "rollouts.yaml").read_text())
    return crd


def test_rollout_crd_names_subresources_and_columns() -> None:
    crd = _rollout_crd()
    spec = crd["spec"]
    assert crd["metadata"]["name"] == "rollouts.argoproj.io"
    assert spec["group"] == "argoproj.io" and spec["scope"] == "Namespaced"
    assert spec["names"] == {
        "kind": "Rollout",
        "listKind": "RolloutList",
        "plural": "rollouts",
        "singular": "rollout",
        "shortNames": ["ro"],
    }
    version = spec["versions"][0]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {
        "status": {},
        "scale": {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.HPAReplicas",
            "labelSelectorPath": ".status.selector",
        },
    }
    columns = [(c["name"], c["jsonPath"], c["type"]) for c in version["additionalPrinterColumns"]]
    assert columns == [
        ("Desired", ".spec.replicas", "integer"),
        ("Current", ".status.replicas", "integer"),
        ("Up-to-date", ".status.updatedReplicas", "integer"),
        ("Available", ".status.availableReplicas", "integer"),
        ("Phase", ".status.phase", "string"),
        ("Age", ".metadata.creationTimestamp", "date"),
    ]


def test_rollout_schema_keeps_the_pod_template_open_and_int_or_string_marked() -> None:
    schema = _rollout_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    spec = schema["properties"]["spec"]["properties"]
    assert spec["template"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    canary = spec["strategy"]["properties"]["canary"]["properties"]
    for name in ("maxSurge", "maxUnavailable"):
        assert canary[name]["x-kubernetes-int-or-string"] is True
    pause = canary["steps"]["items"]["properties"]["pause"]["properties"]["duration"]
    assert pause["x-kubernetes-int-or-string"] is True
    status = schema["properties"]["status"]["properties"]
    assert status["observedGeneration"] == {"type": "string"}
    assert status["HPAReplicas"] == {"type": "integer"}
    assert "stableRS" in status
    assert "default" not in str(schema)


class _Color(StrEnum):
    RED = "red"


class _Inner(ApiModel):
    name: str
    weight: int = Field(default=1, gt=0)


class _Toy(ApiModel):
    amount: IntOrString = 1
    maybe_amount: IntOrString | None = None
    plain_union: int | str = 0
    open: OpenDict | None = None
    any_dict: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, str] | None = None
    plugins: dict[str, OpenDict] | None = None
    color: _Color | str = Field(default=_Color.RED, union_mode="left_to_right")
    mode: Literal["a", "b"] = "a"
    fixed: Literal["x"] = "x"
    inner: _Inner | None = None
    inners: list[_Inner] = Field(default_factory=list)
    when: Time | None = None
    tags: set[str] = Field(default_factory=set)
    number: float | int = 0
    anything: Any = None
    shapes: _Inner | list[str] | None = None


def test_conversion_of_each_construct() -> None:
    schema = crdgen.structural_schema(_Toy)
    props = schema["properties"]
    int_or_string = {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
    assert props["amount"] == int_or_string
    assert props["maybeAmount"] == int_or_string
    assert props["plainUnion"] == int_or_string
    assert props["open"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert props["anyDict"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert props["labels"] == {"type": "object", "additionalProperties": {"type": "string"}}
    assert props["plugins"]["additionalProperties"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert props["color"] == {"type": "string"}
    assert props["mode"] == {"type": "string"}
    assert props["fixed"] == {"type": "string"}
    assert props["inner"] == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "weight": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
        },
        "required": ["name"],
    }
    assert props["inners"]["items"] == props["inner"]
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["number"] == {"type": "number"}
    assert props["anything"] == {"x-kubernetes-preserve-unknown-fields": True}
    assert props["shapes"] == {"x-kubernetes-preserve-unknown-fields": True}
    assert _walk(schema, "") == []


class _Node(ApiModel):
    children: list[_Node] = Field(default_factory=list)


class _Pair(ApiModel):
    pair: tuple[int, int] = (0, 0)


@pytest.mark.parametrize(
    ("model", "fragment"),
    [pytest.param(_Node, "recursive model", id="recursion"), pytest.param(_Pair, "tuples", id="tuple")],
)
def test_unstructural_models_are_refused_with_the_field_named(model: type[ApiModel], fragment: str) -> None:
    with pytest.raises(SchemaError, match=fragment):
        crdgen.structural_schema(model)


def test_crd_document_for_a_cluster_scoped_kind_without_subresources() -> None:
    spec = CrdSpec(
        kind="Toy",
        plural="toys",
        model=_Toy,
        scope="Cluster",
        status_subresource=False,
        short_names=("ty",),
        categories=("argoproj",),
        printer_columns=(PrinterColumn("Amount", ".amount", "integer", priority=1),),
    )
    doc = crdgen.crd_document(spec)
    assert doc["metadata"]["name"] == "toys.argoproj.io"
    assert doc["spec"]["scope"] == "Cluster"
    assert doc["spec"]["names"]["categories"] == ["argoproj"]
    version = doc["spec"]["versions"][0]
    assert "subresources" not in version
    assert version["additionalPrinterColumns"] == [
        {"name": "Amount", "type": "integer", "jsonPath": ".amount", "priority": 1}
    ]


def test_scale_subresource_without_selector() -> None:
    assert ScaleSubresource(".spec.replicas", ".status.replicas").to_dict() == {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
    }


def test_collect_refuses_a_module_without_a_crd_registration() -> None:
    with pytest.raises(TypeError, match=r"rollouts\.api\.common\.CRD must be a CrdSpec"):
        crdgen.collect(["rollouts.api.common"])


def test_render_all_refuses_two_kinds_with_one_plural() -> None:
    spec = CrdSpec(kind="Toy", plural="toys", model=_Toy)
    with pytest.raises(ValueError, match=r"toys\.yaml"):
        crdgen.render_all([spec, spec])


def test_rendered_yaml_has_no_anchors() -> None:
    text = crdgen.render(CrdSpec(kind="Toy", plural="toys", model=_Toy))
    assert "&id" not in text and "*id" not in text


def _pruned(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    """Fields of ``value`` the API server would prune (drop silently) under ``schema``."""
    if schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("x-kubernetes-int-or-string"):
        return []
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        pruned: list[str] = []
        for key, sub in value.items():
            if properties is not None and key in properties:
                pruned.extend(_pruned(sub, properties[key], f"{path}.{key}"))
            elif isinstance(additional, dict):
                pruned.extend(_pruned(sub, additional, f"{path}.{key}"))
            else:
                pruned.append(f"{path}.{key}")
        return pruned
    if isinstance(value, list):
        items = schema.get("items", {})
        return [p for index, item in enumerate(value) for p in _pruned(item, items, f"{path}[{index}]")]
    return []


def _example_rollouts() -> list[Any]:
    examples = CRDS.parent / "examples"
    return [
        pytest.param(doc, id=path.stem)
        for path in sorted(examples.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc.get("kind") == "Rollout"
    ]


@pytest.mark.parametrize("doc", _example_rollouts())
def test_no_field_of_an_example_would_be_pruned_by_the_api_server(doc: dict[str, Any]) -> None:
    schema = _rollout_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _pruned({k: v for k, v in doc.items() if k != "metadata"}, schema, "") == []


def test_pruning_check_can_fail() -> None:
    schema = _rollout_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    doc = {"spec": {"strategy": {"canary": {"steps": [{"setWieght": 5}]}}}}
    assert _pruned(doc, schema, "") == [".spec.strategy.canary.steps[0].setWieght"]


def test_no_field_of_an_argo_written_status_would_be_pruned() -> None:
    from tests.unit.api.test_rollout_model import ARGO_STATUS

    schema = _rollout_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _pruned({"status": ARGO_STATUS}, schema, "") == []
