"""Desired vs live comparison that never reports a defaulted field as drift.

Why this module exists: a manifest in Git states a handful of fields; the live object has hundreds (defaults,
status, managedFields, controller-written annotations). Comparing them naively marks every application
OutOfSync forever. The reconciler therefore compares the live object with the result of a *server-side
dry-run apply* of the desired object (see ``sync.py``): the API server applies its own defaulting, merges
fields other managers own, and turns a Secret's ``stringData`` into ``data``, so the two sides differ only
where our manifest really disagrees with the cluster. This module is the pure part: normalisation (drop what
is never compared), Argo CD's ``ignoreDifferences`` (JSON pointers, a feasible subset of jq path expressions,
fields owned by named managers), and a unified diff for humans.
"""

from __future__ import annotations

import base64
import copy
import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import jsonpointer
import yaml

from rollouts.api.application import ResourceIgnoreDifferences
from rollouts.gitops.tracking import ResourceKey, key_of

_DROPPED_METADATA = ("managedFields", "creationTimestamp", "resourceVersion", "uid", "generation", "selfLink")
_DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


@dataclass(frozen=True, slots=True)
class ResourceDiff:
    key: ResourceKey
    modified: bool
    text: str = ""


def normalize(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without status and server-written metadata; a Secret's stringData folded into data."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for field in _DROPPED_METADATA:
            meta.pop(field, None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            for name in _DROPPED_ANNOTATIONS:
                annotations.pop(name, None)
            if not annotations:
                meta.pop("annotations")
        if isinstance(meta.get("labels"), dict) and not meta["labels"]:
            meta.pop("labels")
    if out.get("kind") == "Secret" and out.get("apiVersion") == "v1":
        string_data = out.pop("stringData", None)
        if isinstance(string_data, dict):
            data = dict(out.get("data") or {})
            for name, value in string_data.items():
                data[name] = base64.b64encode(str(value).encode()).decode()
            out["data"] = data
    return out


# -- ignoreDifferences -----------------------------------------------------------------------------------------


def matching_rules(rules: Iterable[ResourceIgnoreDifferences], key: ResourceKey) -> list[ResourceIgnoreDifferences]:
    """Rules for this resource: same group and kind, and name/namespace when the rule gives them (globs allowed
    for the kind, as Argo CD accepts ``kind: "*"``)."""
    out = []
    for rule in rules:
        if rule.group not in (key.group, "*") or not fnmatchcase(key.kind, rule.kind):
            continue
        if rule.name and rule.name != key.name:
            continue
        if rule.namespace and rule.namespace != key.namespace:
            continue
        out.append(rule)
    return out


def remove_pointer(obj: dict[str, Any], pointer: str) -> None:
    """Remove the value at an RFC 6901 pointer if it is there; a missing path is not an error."""
    try:
        parts = jsonpointer.JsonPointer(pointer).parts
    except jsonpointer.JsonPointerException as exc:
        raise ValueError(f"invalid JSON pointer {pointer!r} in ignoreDifferences: {exc}") from exc
    if not parts:
        return
    parent: Any = obj
    for part in parts[:-1]:
        parent = _child(parent, part)
        if parent is None:
            return
    last = parts[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        parent.pop(int(last))


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


# jq: the subset Argo CD users write in practice, e.g.
#   .spec.replicas
#   .spec.template.spec.containers[] | select(.name == "app") | .image
#   .metadata.annotations["example.com/x"]
_JQ_TOKEN = re.compile(r'\.([A-Za-z_][A-Za-z0-9_-]*)|\["((?:[^"\\]|\\.)*)"\]|\.?\[(\d*)\]')
_JQ_SELECT = re.compile(r'^select\(\s*\.([A-Za-z0-9_.-]+)\s*(==|!=)\s*("(?:[^"\\]|\\.)*"|-?\d+|true|false|null)\s*\)$')


def _jq_steps(expression: str) -> list[tuple[str, Any]]:
    """Parse a jq path expression into steps: ("key", name), ("index", n), ("each", None),
    ("select", (path, op, value)). Raises ValueError for anything outside the subset."""
    steps: list[tuple[str, Any]] = []
    for segment in (s.strip() for s in expression.split("|")):
        select = _JQ_SELECT.match(segment)
        if select:
            value = yaml.safe_load(select.group(3))
            steps.append(("select", (select.group(1).split("."), select.group(2), value)))
            continue
        if segment == ".":
            continue
        pos = 0
        while pos < len(segment):
            match = _JQ_TOKEN.match(segment, pos)
            if match is None:
                raise ValueError(
                    f"unsupported jq path expression {expression!r}: only .field, [\"key\"], [n], [] and "
                    "select(.path == value) are supported"
                )
            if match.group(1) is not None:
                steps.append(("key", match.group(1)))
            elif match.group(2) is not None:
                steps.append(("key", match.group(2).replace('\\"', '"')))
            elif match.group(3):
                steps.append(("index", int(match.group(3))))
            else:
                steps.append(("each", None))
            pos = match.end()
    if not steps:
        raise ValueError(f"jq path expression {expression!r} selects the whole object")
    return steps


def _jq_paths(node: Any, steps: list[tuple[str, Any]], path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    if not steps:
        yield path
        return
    kind, arg = steps[0]
    rest = steps[1:]
    keyed = kind == "key" and isinstance(node, dict) and arg in node
    indexed = kind == "index" and isinstance(node, list) and arg < len(node)
    if keyed or indexed:
        yield from _jq_paths(node[arg], rest, (*path, arg))
    elif kind == "each":
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for sub, value in items:
            yield from _jq_paths(value, rest, (*path, sub))
    elif kind == "select":
        field_path, op, expected = arg
        current: Any = node
        for part in field_path:
            current = current.get(part) if isinstance(current, dict) else None
        if (current == expected) == (op == "=="):
            yield from _jq_paths(node, rest, path)


def remove_jq_path(obj: dict[str, Any], expression: str) -> None:
    """Delete what a jq path expression selects, like ``del(EXPR)`` in jq (for the supported subset)."""
    paths = list(_jq_paths(obj, _jq_steps(expression), ()))
    # Highest list index first, so removing one item does not shift the others still to remove.
    paths.sort(key=lambda p: [(0, x, "") if isinstance(x, int) else (1, 0, str(x)) for x in p], reverse=True)
    for path in paths:
        if path:
            remove_managed_path(obj, path)


def managed_paths(live: Mapping[str, Any], managers: Iterable[str]) -> list[tuple[Any, ...]]:
    """Leaf paths owned by the given field managers, read from the live object's ``managedFields``.

    ``f:spec: {f:replicas: {}}`` -> ("spec", "replicas"); list items named by key (``k:{"name":"app"}``) become
    a ``{"name": "app"}`` matcher resolved against the object when removing.
    """
    wanted = set(managers)
    out: list[tuple[Any, ...]] = []
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") in wanted and isinstance(entry.get("fieldsV1"), dict):
            _walk_fields(entry["fieldsV1"], (), out)
    return out


def _walk_fields(node: Mapping[str, Any], path: tuple[Any, ...], out: list[tuple[Any, ...]]) -> None:
    children = {k: v for k, v in node.items() if k != "."}
    if not children and path:
        out.append(path)
        return
    for name, sub in children.items():
        if name.startswith("f:"):
            step: Any = name[2:]
        elif name.startswith("k:"):
            step = yaml.safe_load(name[2:])
        else:  # v: (set values) and i: (indexes) are too ambiguous to ignore safely
            continue
        _walk_fields(sub if isinstance(sub, dict) else {}, (*path, step), out)


def remove_managed_path(obj: dict[str, Any], path: tuple[Any, ...]) -> None:
    parent: Any = obj
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(step, int):
            if not isinstance(parent, list) or step >= len(parent):
                return
            if last:
                parent.pop(step)
                return
            parent = parent[step]
        elif isinstance(step, dict):
            if not isinstance(parent, list):
                return
            index = next((i for i, item in enumerate(parent) if isinstance(item, dict)
                          and all(item.get(k) == v for k, v in step.items())), None)
            if index is None:
                return
            if last:
                parent.pop(index)
                return
            parent = parent[index]
        else:
            if not isinstance(parent, dict) or step not in parent:
                return
            if last:
                parent.pop(step)
                return
            parent = parent[step]


def apply_ignore_differences(
    obj: dict[str, Any], rules: Iterable[ResourceIgnoreDifferences], *, live: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Remove ignored fields in place (and return the object). ``live`` supplies managedFields."""
    for rule in rules:
        for pointer in rule.json_pointers or ():
            remove_pointer(obj, pointer)
        for expression in rule.jq_path_expressions or ():
            remove_jq_path(obj, expression)
        if rule.managed_fields_managers and live is not None:
            for path in managed_paths(live, rule.managed_fields_managers):
                remove_managed_path(obj, path)
    return obj


def _step_into(node: Any, step: Any) -> tuple[bool, Any]:
    """(found, child) for one path step: a key, an index (int or digits), or a ``{"name": ...}`` list matcher."""
    if isinstance(node, dict) and not isinstance(step, (int, dict)):
        return (step in node), node.get(step)
    if isinstance(node, list):
        if isinstance(step, dict):
            found = next((item for item in node if isinstance(item, dict)
                          and all(item.get(k) == v for k, v in step.items())), None)
            return found is not None, found
        index = step if isinstance(step, int) else int(step) if str(step).isdigit() else None
        if index is not None and index < len(node):
            return True, node[index]
    return False, None


def _lookup(obj: Any, path: tuple[Any, ...]) -> tuple[bool, Any]:
    node = obj
    for step in path:
        found, node = _step_into(node, step)
        if not found:
            return False, None
    return True, node


def _put(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    """Set the value at ``path`` when its parent exists (a missing parent is created for object keys)."""
    parent = obj
    for step in path[:-1]:
        found, child = _step_into(parent, step)
        if not found:
            if not isinstance(parent, dict) or isinstance(step, (int, dict)):
                return
            child = parent[step] = {}
        parent = child
    last = path[-1]
    if isinstance(parent, dict) and not isinstance(last, (int, dict)):
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        found, item = _step_into(parent, last)
        if found:
            parent[parent.index(item)] = copy.deepcopy(value)


def _ignored_paths(obj: Mapping[str, Any], rule: ResourceIgnoreDifferences,
                   live: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    paths: list[tuple[Any, ...]] = []
    for pointer in rule.json_pointers or ():
        try:
            paths.append(tuple(jsonpointer.JsonPointer(pointer).parts))
        except jsonpointer.JsonPointerException as exc:
            raise ValueError(f"invalid JSON pointer {pointer!r} in ignoreDifferences: {exc}") from exc
    for expression in rule.jq_path_expressions or ():
        paths += list(_jq_paths(obj, _jq_steps(expression), ()))
    if rule.managed_fields_managers:
        paths += managed_paths(live, rule.managed_fields_managers)
    return [p for p in paths if p]


def keep_ignored_fields(desired: Mapping[str, Any], live: Mapping[str, Any],
                        rules: Iterable[ResourceIgnoreDifferences]) -> dict[str, Any]:
    """``RespectIgnoreDifferences=true``: the desired object with every field the rules ignore taken from the
    live object (removed when the live object has none), so a sync leaves those fields as they are.

    desired ``spec.replicas: 2``, live ``spec.replicas: 5`` (an HPA scaled it), rule ``/spec/replicas`` ->
    the sync writes ``spec.replicas: 5``; a rule matching nothing changes nothing.
    """
    out = copy.deepcopy(dict(desired))
    for rule in rules:
        for path in _ignored_paths(live, rule, live):
            found, value = _lookup(live, path)
            if found:
                _put(out, path, value)
        for path in _ignored_paths(desired, rule, live):
            if not _lookup(live, path)[0]:
                remove_managed_path(out, tuple(int(s) if isinstance(s, str) and s.isdigit()
                                               and isinstance(_lookup(out, path[:i])[1], list) else s
                                               for i, s in enumerate(path)))
    return out


# -- comparison ------------------------------------------------------------------------------------------------


def to_yaml(obj: Mapping[str, Any] | None) -> str:
    return "" if obj is None else yaml.safe_dump(dict(obj), sort_keys=True, default_flow_style=False)


def compare(
    predicted: Mapping[str, Any] | None,
    live: Mapping[str, Any] | None,
    rules: Iterable[ResourceIgnoreDifferences] = (),
) -> ResourceDiff:
    """Compare what the object would be after applying (``predicted``) with the live object.

    ``predicted`` is the server-side dry-run result (or the desired manifest itself when the live object does
    not exist yet); ``None`` for predicted means the resource should not exist (prune candidate).
    """
    source = predicted if predicted is not None else live
    if source is None:
        raise ValueError("compare needs at least one of predicted and live")
    key = key_of(source)
    matched = matching_rules(rules, key)
    want = apply_ignore_differences(normalize(predicted), matched, live=live) if predicted is not None else None
    have = apply_ignore_differences(normalize(live), matched, live=live) if live is not None else None
    if want == have:
        return ResourceDiff(key, False)
    text = "".join(difflib.unified_diff(
        to_yaml(have).splitlines(keepends=True), to_yaml(want).splitlines(keepends=True),
        fromfile=f"live/{key}", tofile=f"desired/{key}",
    ))
    return ResourceDiff(key, True, text)
