"""The pod template as Argo's tolerant informer decodes it: a malformed quantity ends the decoding there.

Argo decodes a Rollout into its Go types; a field Go cannot decode (a resource quantity such as
`memory: invalid`) makes the converter fail, and Argo falls back to `encoding/json`, logging "malformed
object" (utils/tolerantinformer). `encoding/json` stops at a custom decoder's error, so the template Argo
works with holds every field that comes before the bad one in JSON's sorted-key order and nothing after it.
The ReplicaSet is then created from that template and the Rollout becomes Healthy (Argo's e2e
TestMalformedRollout and TestMalformedRolloutEphemeralCtr expect exactly that). We reproduce it for the
quantity-typed fields of a pod template, so a Rollout Argo runs is run the same way here, and the controller
logs the field it dropped. Every other invalid field (a label value "ünï", containerPort 99999999) decodes
in Go as well and is refused by the API server when the ReplicaSet is created: ReplicaSetCreateError.

Example: containers [{name: app, image: x, resources: {requests: {cpu: 1m, memory: invalid}}}, {name: b}]
-> containers [{image: x, name: app, resources: {requests: {cpu: 1m}}}]: "b" and everything after the
containers (volumes, ...) are gone, first bad field "spec.containers[0].resources.requests.memory".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.api.podtemplate.gojson import quantity_from_json
from rollouts.api.podtemplate.quantity import QuantityError


def is_quantity(value: Any) -> bool:
    """Whether Kubernetes' Quantity.UnmarshalJSON accepts `value` ("100Mi", "0.5", "1e3", 2; not "invalid",
    "1.2.3"), exactly as apimachinery decides (rollouts.api.podtemplate.quantity, checked against Go)."""
    try:
        quantity_from_json(value)
    except QuantityError:
        return False
    return not isinstance(value, bool | list | dict)


class _Malformed(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


def _quantity_typed(parents: tuple[str, ...]) -> bool:
    """Is the value at the end of this key path a resource.Quantity in a PodTemplateSpec?"""
    if len(parents) >= 3 and parents[-2] in ("limits", "requests") and parents[-3] == "resources":
        return True
    return (len(parents) >= 2 and parents[-2] == "overhead") or (bool(parents) and parents[-1] == "sizeLimit")


def _fill(source: Mapping[str, Any], target: dict[str, Any], parents: tuple[str, ...], path: str) -> None:
    """Copy `source` into `target` key by key in sorted order, as encoding/json decodes; a container is put
    in place before it is filled, so what was decoded before a failure stays (as in Go)."""
    for key in sorted(source, key=str):
        value, where, trail = source[key], f"{path}.{key}" if path else str(key), (*parents, str(key))
        if isinstance(value, Mapping):
            child: dict[str, Any] = {}
            target[str(key)] = child
            _fill(value, child, trail, where)
        elif isinstance(value, list):
            items: list[Any] = []
            target[str(key)] = items
            _fill_list(value, items, trail, where)
        else:
            if _quantity_typed(trail) and not is_quantity(value):
                raise _Malformed(where)
            target[str(key)] = value


def _fill_list(source: list[Any], target: list[Any], parents: tuple[str, ...], path: str) -> None:
    for index, item in enumerate(source):
        where = f"{path}[{index}]"
        if isinstance(item, Mapping):
            child: dict[str, Any] = {}
            target.append(child)
            _fill(item, child, parents, where)
        elif isinstance(item, list):
            items: list[Any] = []
            target.append(items)
            _fill_list(item, items, parents, where)
        else:
            target.append(item)


def tolerant_template(template: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
    """(the template Argo would work with, the path of the first malformed field or None)."""
    decoded: dict[str, Any] = {}
    try:
        _fill(template, decoded, ("template",), "")
    except _Malformed as bad:
        return decoded, bad.path
    return template, None
