"""Pod templates compared as Argo compares them: ``equality.Semantic.DeepEqual`` over the decoded Go structs.

Why not ``==`` on the JSON: the API server writes defaults into a ReplicaSet's template and spells values its
own way, so a ReplicaSet made from a Rollout's template never has the same JSON. apimachinery's semantic
equality, which Argo's ``PodTemplateEqualIgnoreHash`` uses, compares quantities by value (``"1000m"`` equals
``"1"``), times by instant, and treats a nil slice or map as equal to an empty one; everything else must match
exactly, including which pointers are set. The desired template must already be defaulted (Argo runs
Kubernetes' defaulting on it; the controller asks the API server for the same by a dry-run create), and both
sides lose the ``rollouts-pod-template-hash`` label and the deprecated ``serviceAccount`` field first
(argoproj/argo-rollouts#1356: the API server fills it in on the live side only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.api.podtemplate.gojson import IntOrString, MalformedTemplate, decode_pod_template
from rollouts.api.podtemplate.layout import Map, Prim, Ptr, Slice, Special, Struct, TypeRef, layout
from rollouts.api.podtemplate.quantity import ZERO


def semantically_equal(a: Any, b: Any, ref: TypeRef) -> bool:
    """Two decoded values of type ``ref`` (``None`` = the zero value) under apimachinery's semantic rules."""
    match ref:
        case Ptr(elem):  # both nil, or both set and pointing at equal values
            return (a is None) == (b is None) and (a is None or semantically_equal(a, b, elem))
        case Slice(elem):
            return _slices_equal(a, b, elem)
        case Map(elem):
            return _maps_equal(a, b, elem)
        case Struct(name):
            a, b = a or {}, b or {}
            return all(semantically_equal(a.get(f.name), b.get(f.name), f.type) for f in layout().structs[name].fields)
    return _leaves_equal(a, b, ref)


def _slices_equal(a: Any, b: Any, elem: TypeRef) -> bool:
    """Element by element; a nil slice equals an empty one."""
    if not a or not b:
        return not a and not b
    return len(a) == len(b) and all(semantically_equal(x, y, elem) for x, y in zip(a, b, strict=True))


def _maps_equal(a: Any, b: Any, elem: TypeRef) -> bool:
    """Same keys, equal values; a nil map equals an empty one."""
    if not a or not b:
        return not a and not b
    return a.keys() == b.keys() and all(semantically_equal(a[k], b[k], elem) for k in a)


def _leaves_equal(a: Any, b: Any, ref: TypeRef) -> bool:
    """Scalars as Go compares them (a missing one is the zero value)."""
    match ref:
        case Special(kind):
            return _specials_equal(a, b, kind)
        case Prim("string"):
            return (a or "") == (b or "")
        case Prim("bool"):
            return bool(a) == bool(b)
        case Prim():
            return (a or 0) == (b or 0)
    raise AssertionError(f"unhandled type {ref}")


def _specials_equal(a: Any, b: Any, kind: str) -> bool:
    """apimachinery's own types (a missing one is the zero value): quantities by value, times by instant."""
    match kind:
        case "quantity":
            return (a or ZERO).nanos == (b or ZERO).nanos
        case "intorstring":
            return (a or IntOrString()) == (b or IntOrString())
        case "time":
            a_zero, b_zero = a is None or a.zero, b is None or b.zero
            return a_zero == b_zero and (a_zero or (a.seconds, a.nanos) == (b.seconds, b.nanos))
        case "fieldsv1" | "rawjson":
            return (a.text if a is not None else "") == (b.text if b is not None else "")
    raise AssertionError(f"unhandled special type {kind}")


def _without_hash_label(template: Mapping[str, Any]) -> dict[str, Any]:
    decoded = decode_pod_template(template)
    metadata = dict(decoded.get("metadata") or {})
    if metadata.get("labels"):
        metadata["labels"] = {k: v for k, v in metadata["labels"].items() if k != POD_TEMPLATE_HASH_LABEL}
    decoded["metadata"] = metadata
    spec = dict(decoded.get("spec") or {})
    spec.pop("serviceAccount", None)
    decoded["spec"] = spec
    return decoded


def pod_templates_equal_ignoring_hash(live: Mapping[str, Any], desired_defaulted: Mapping[str, Any]) -> bool:
    """Argo's ``PodTemplateEqualIgnoreHash`` once ``desired`` is defaulted; a template that does not decode
    equals nothing."""
    try:
        return semantically_equal(_without_hash_label(live), _without_hash_label(desired_defaulted),
                                  layout().roots["podTemplate"])
    except MalformedTemplate:
        return False
