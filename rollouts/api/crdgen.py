"""Generate the CustomResourceDefinitions in crds/ from the pydantic models, and check them for drift.

Why this module exists: the models are the contract; hand-written CRDs would drift from them. pydantic's
JSON schema is close to what Kubernetes wants but not the same: the API server requires *structural*
schemas (every node typed, no ``$ref``, no ``anyOf`` of different types, no ``const``, no ``uniqueItems``,
``exclusiveMinimum`` as a boolean), and we deliberately leave defaults out so the stored object stays as the
user wrote it (the controller applies defaults when it reads). The conversion here handles exactly those
differences:

- ``$ref`` and single-element ``allOf`` are inlined;
- ``X | None`` collapses to ``X`` (absent and null mean the same to us);
- ``int | str`` (``IntOrString``) becomes ``x-kubernetes-int-or-string: true`` with the integer/string pair;
- ``dict[str, Any]`` and ``Any`` become ``x-kubernetes-preserve-unknown-fields: true`` (pod template,
  provider configs kept open);
- unions we cannot express structurally (enum | str, model | model) widen to their common type;
- enums are dropped (Argo's CRDs do not restrict them either; validation.py reports bad values with a
  field path instead of the API server rejecting the whole object), and so are descriptions (docstrings are
  written for Python readers; the CRD should not change when they do).

Each API module exposes ``CRD`` (a ``CrdSpec``, or a tuple of them) and is listed in ``CRD_MODULES``.
``python -m rollouts.api.crdgen [--check] [--out crds/]`` writes ``crds/<plural>.yaml``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel

GROUP: Final = "argoproj.io"
VERSION: Final = "v1alpha1"

CRD_MODULES: Final[tuple[str, ...]] = (
    "rollouts.api.rollout", "rollouts.api.application", "rollouts.api.appproject", "rollouts.api.analysis",
    "rollouts.api.experiment",
)
"""API modules that define a ``CRD`` registration, in the order their files are listed."""

DEFAULT_OUT: Final = Path(__file__).resolve().parents[2] / "crds"

_INT_OR_STRING: Final[dict[str, Any]] = {
    "anyOf": [{"type": "integer"}, {"type": "string"}],
    "x-kubernetes-int-or-string": True,
}
_PRESERVE: Final = "x-kubernetes-preserve-unknown-fields"
_KEPT_FORMATS: Final = frozenset(
    {
        "int32",
        "int64",
        "float",
        "double",
        "byte",
        "date",
        "date-time",
        "duration",
        "uri",
        "email",
        "hostname",
        "ipv4",
        "ipv6",
        "cidr",
        "mac",
        "uuid",
        "password",
    }
)
_DROPPED_KEYS: Final = frozenset(
    {
        "title",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "uniqueItems",
        "$schema",
        "discriminator",
        "enum",
        "const",
        "description",
    }
)


# --------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrinterColumn:
    """An ``additionalPrinterColumns`` entry (what ``kubectl get`` shows)."""

    name: str
    json_path: str
    type: Literal["integer", "number", "string", "boolean", "date"] = "string"
    description: str | None = None
    priority: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description:
            out["description"] = self.description
        if self.priority is not None:
            out["priority"] = self.priority
        return out


AGE_COLUMN: Final = PrinterColumn("Age", ".metadata.creationTimestamp", "date", "Time since the object was created")


@dataclass(frozen=True)
class ScaleSubresource:
    """The scale subresource, so an HPA (or ``kubectl scale``) can drive the object."""

    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"specReplicasPath": self.spec_replicas_path, "statusReplicasPath": self.status_replicas_path}
        if self.label_selector_path:
            out["labelSelectorPath"] = self.label_selector_path
        return out


@dataclass(frozen=True)
class CrdSpec:
    """Everything crdgen needs to know about one kind besides its model's schema."""

    kind: str
    plural: str
    model: type[BaseModel]
    singular: str | None = None
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    scope: Literal["Namespaced", "Cluster"] = "Namespaced"
    group: str = GROUP
    version: str = VERSION
    status_subresource: bool = True
    scale: ScaleSubresource | None = None
    printer_columns: tuple[PrinterColumn, ...] = (AGE_COLUMN,)

    @property
    def name(self) -> str:
        return f"{self.plural}.{self.group}"

    @property
    def file_name(self) -> str:
        return f"{self.plural}.yaml"


def collect(modules: Iterable[str] = CRD_MODULES) -> list[CrdSpec]:
    """The ``CRD`` registrations of ``modules``; raises ``TypeError`` naming a module without a valid one."""
    specs: list[CrdSpec] = []
    for module_name in modules:
        module = importlib.import_module(module_name)
        registered = getattr(module, "CRD", None)
        entries = registered if isinstance(registered, tuple | list) else (registered,)
        for entry in entries:
            if not isinstance(entry, CrdSpec):
                raise TypeError(
                    f"{module_name}.CRD must be a CrdSpec or a tuple of CrdSpec, got {type(entry).__name__}"
                )
            specs.append(entry)
    return specs


# --------------------------------------------------------------------------------------------------
# JSON schema -> structural OpenAPI v3 schema
# --------------------------------------------------------------------------------------------------


class SchemaError(ValueError):
    """A model uses a construct that cannot be expressed as a structural schema."""


def structural_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The ``openAPIV3Schema`` of a top-level kind: apiVersion/kind/metadata as Kubernetes expects."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Any] = raw.get("$defs", {})
    schema = _convert(raw, defs, path=model.__name__, stack=())
    properties: dict[str, Any] = schema.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string"}
    properties["kind"] = {"type": "string"}
    properties["metadata"] = {"type": "object"}
    required = [name for name in schema.get("required", []) if name not in ("apiVersion", "kind", "metadata")]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    schema["type"] = "object"
    return schema


def _resolve(
    node: dict[str, Any], defs: dict[str, Any], path: str, stack: tuple[str, ...]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    ref = node.get("$ref")
    if ref is None:
        return node, stack
    name = str(ref).rsplit("/", 1)[-1]
    if name in stack:
        raise SchemaError(f"{path}: recursive model {name!r} cannot be inlined into a structural schema")
    if name not in defs:
        raise SchemaError(f"{path}: unresolved reference {ref!r}")
    merged = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
    return merged, (*stack, name)


def _convert(node: dict[str, Any], defs: dict[str, Any], path: str, stack: tuple[str, ...]) -> dict[str, Any]:
    node, stack = _resolve(node, defs, path, stack)
    node = dict(node)
    node.pop("$defs", None)
    if "allOf" in node:
        parts = node.pop("allOf")
        if len(parts) != 1:
            raise SchemaError(f"{path}: allOf with {len(parts)} parts is not supported")
        node = {**parts[0], **node}
        return _convert(node, defs, path, stack)
    if node.get("x-kubernetes-int-or-string"):
        return dict(_INT_OR_STRING)
    for union_key in ("anyOf", "oneOf"):
        if union_key in node:
            branches = [b for b in node.pop(union_key) if b.get("type") != "null"]
            return _merge_union(branches, defs, path, stack)
    return _convert_typed(node, defs, path, stack)


def _merge_union(
    branches: list[dict[str, Any]], defs: dict[str, Any], path: str, stack: tuple[str, ...]
) -> dict[str, Any]:
    converted = [_convert(b, defs, path, stack) for b in branches]
    if len(converted) == 1:
        return converted[0]
    types = {c.get("type") for c in converted}
    int_or_string = any(c.get("x-kubernetes-int-or-string") for c in converted) or types == {"integer", "string"}
    if int_or_string and types <= {"integer", "string", None}:
        return dict(_INT_OR_STRING)
    if len(types) == 1 and None not in types:
        only = types.pop()
        if only == "object":
            return {"type": "object", _PRESERVE: True}
        if only == "array":
            return {"type": "array", "items": {_PRESERVE: True}}
        return {"type": only}
    if types <= {"integer", "number"}:
        return {"type": "number"}
    # Any JSON value: the controller validates it.
    return {_PRESERVE: True}


def _convert_typed(node: dict[str, Any], defs: dict[str, Any], path: str, stack: tuple[str, ...]) -> dict[str, Any]:
    kind = node.get("type")
    if kind is None:
        return _untyped(node, path)
    if isinstance(kind, list):
        raise SchemaError(f"{path}: multiple types {kind} are not structural")
    if kind == "object":
        return _object(node, defs, path, stack)
    if kind == "array":
        return _array(node, defs, path, stack)
    return _scalar(node, kind)


def _untyped(node: dict[str, Any], path: str) -> dict[str, Any]:
    """An enum/const gets the type of its values; an open schema preserves unknown fields."""
    if "enum" in node or "const" in node:
        values = node.get("enum", [node.get("const")])
        return {"type": _json_type(values[0], path)}
    if _PRESERVE in node or not node.keys() - _DROPPED_KEYS:
        return {_PRESERVE: True}
    raise SchemaError(f"{path}: schema without a type: {sorted(node)}")


def _object(node: dict[str, Any], defs: dict[str, Any], path: str, stack: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"}
    properties = node.get("properties")
    additional = node.get("additionalProperties")
    if properties:
        out["properties"] = {name: _convert(sub, defs, f"{path}.{name}", stack) for name, sub in properties.items()}
        if node.get("required"):
            out["required"] = list(node["required"])
    elif isinstance(additional, dict) and additional:
        out["additionalProperties"] = _convert(additional, defs, f"{path}[*]", stack)
    else:
        # dict[str, Any], an empty model or an explicit open object
        out[_PRESERVE] = True
    if node.get(_PRESERVE):
        out[_PRESERVE] = True
    return out


def _array(node: dict[str, Any], defs: dict[str, Any], path: str, stack: tuple[str, ...]) -> dict[str, Any]:
    if "prefixItems" in node:
        raise SchemaError(f"{path}: tuples are not structural; use a list")
    items = node.get("items")
    out: dict[str, Any] = {"type": "array"}
    out["items"] = _convert(items, defs, f"{path}[]", stack) if items else {_PRESERVE: True}
    for key in ("minItems", "maxItems"):
        if key in node:
            out[key] = node[key]
    return out


def _scalar(node: dict[str, Any], kind: str) -> dict[str, Any]:
    """Bounds, patterns and the formats the API server keeps; JSON Schema's numeric exclusive bounds become
    OpenAPI v3's boolean form."""
    out: dict[str, Any] = {"type": kind}
    for key in ("minimum", "maximum", "minLength", "maxLength", "pattern", "multipleOf"):
        if key in node:
            out[key] = node[key]
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if key in node and not isinstance(node[key], bool):
            out[bound] = node[key]
            out[key] = True
    if node.get("format") in _KEPT_FORMATS:
        out["format"] = node["format"]
    return out


def _json_type(value: object, path: str) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    raise SchemaError(f"{path}: cannot infer a type for enum value {value!r}")


# --------------------------------------------------------------------------------------------------
# CRD documents
# --------------------------------------------------------------------------------------------------


def crd_document(spec: CrdSpec) -> dict[str, Any]:
    """The full ``apiextensions.k8s.io/v1`` CustomResourceDefinition for one registration."""
    names: dict[str, Any] = {
        "kind": spec.kind,
        "listKind": f"{spec.kind}List",
        "plural": spec.plural,
        "singular": spec.singular or spec.kind.lower(),
    }
    if spec.short_names:
        names["shortNames"] = list(spec.short_names)
    if spec.categories:
        names["categories"] = list(spec.categories)
    version: dict[str, Any] = {
        "name": spec.version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": structural_schema(spec.model)},
    }
    subresources: dict[str, Any] = {}
    if spec.status_subresource:
        subresources["status"] = {}
    if spec.scale is not None:
        subresources["scale"] = spec.scale.to_dict()
    if subresources:
        version["subresources"] = subresources
    if spec.printer_columns:
        version["additionalPrinterColumns"] = [column.to_dict() for column in spec.printer_columns]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": spec.name},
        "spec": {"group": spec.group, "names": names, "scope": spec.scope, "versions": [version]},
    }


class _NoAliasDumper(yaml.SafeDumper):
    """Writes shared sub-schemas out in full: anchors and aliases are legal YAML but unreadable in a CRD."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(spec: CrdSpec) -> str:
    """The YAML text written to ``crds/<plural>.yaml`` (stable key order, so diffs are readable)."""
    header = "# Generated by `python -m rollouts.api.crdgen` from the pydantic models. Do not edit.\n"
    body = yaml.dump(crd_document(spec), Dumper=_NoAliasDumper, sort_keys=True, default_flow_style=False, width=120)
    return header + body


def render_all(specs: Sequence[CrdSpec]) -> dict[str, str]:
    """File name -> YAML text for every registration; raises ``ValueError`` on two kinds with one plural."""
    files: dict[str, str] = {}
    for spec in specs:
        if spec.file_name in files:
            raise ValueError(f"two CRDs would be written to {spec.file_name}")
        files[spec.file_name] = render(spec)
    return files


def drifted(files: dict[str, str], out: Path) -> list[str]:
    """Names of files under ``out`` that are missing or differ from the generated text."""
    problems = []
    for name, text in sorted(files.items()):
        path = out / name
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text() != text:
            problems.append(f"{path}: differs from the models")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rollouts.api.crdgen", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for <plural>.yaml files")
    parser.add_argument("--check", action="store_true", help="exit 1 if the files differ from the models")
    parser.add_argument(
        "--module",
        action="append",
        dest="modules",
        help="API module to read CRD from (repeatable; default: all registered modules)",
    )
    args = parser.parse_args(argv)
    files = render_all(collect(args.modules or CRD_MODULES))
    out: Path = args.out
    if args.check:
        problems = drifted(files, out)
        for problem in problems:
            print(f"crd drift: {problem}; run `python -m rollouts.api.crdgen`", file=sys.stderr)
        return 1 if problems else 0
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text)
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    # Re-import so CrdSpec is the class the API modules registered with, not a copy living in __main__.
    from rollouts.api import crdgen as _crdgen

    sys.exit(_crdgen.main())
