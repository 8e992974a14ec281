"""Facts that depend only on a Rollout's spec, computed once per spec generation.

Validating a spec and hashing its steps cost more than the rest of a plan together, yet a Rollout is planned
many times per spec generation (every pod that becomes ready triggers a reconcile). Kubernetes increments
``metadata.generation`` on every spec change of a custom resource with a status subresource, so
(namespace, name, uid, generation) identifies the spec's content; the facts are memoised under that key.
Objects without uid or generation (hand-built in tests) are never memoised. The memo is bounded and holds
only small values (strings and problem tuples), so it is safe in a long-running process.

Also here: a fast, canonical "to JSON" for our frozen API models (only fields that were set, by alias),
used for the steps hash; pydantic's serializer is several times slower for these tiny objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from rollouts.api.common import resolve_int_or_percent
from rollouts.api.podtemplate import MalformedTemplate
from rollouts.api.rollout import Rollout
from rollouts.api.validation import SpecProblem, validate_rollout
from rollouts.planning.conditions import selector_string
from rollouts.planning.hashing import legacy_step_hash, revision_hash, step_hash
from rollouts.planning.references import References, collect_references
from rollouts.planning.replicas import resolve_surge_and_unavailable
from rollouts.planning.tolerant import tolerant_template

MEMO_LIMIT = 16_384


@dataclass(frozen=True, slots=True)
class SpecFacts:
    steps_hash: str
    """Argo's ``currentStepHash`` of the canary steps ("" for blue-green)."""
    legacy_steps_hash: str
    """The steps hash of this project's earlier versions (recognised so an upgrade does not restart steps)."""
    problems: tuple[SpecProblem, ...]
    template_hash: str
    """Argo's hash of ``spec.template`` without a collision count ("" when the template comes from a
    workloadRef)."""
    max_surge: int
    max_unavailable: int
    """The canary's maxSurge/maxUnavailable resolved against spec.replicas (0/0 for blue-green)."""
    references: References
    selector: str
    """``status.selector``: the spec's selector as a label-selector string."""


_memo: dict[tuple[str, str, str, int], SpecFacts] = {}


def jsonable(value: Any) -> Any:
    """An API model as plain JSON data: set fields only, camelCase aliases, extras kept, None dropped."""
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        result: dict[str, Any] = {}
        for name in value.model_fields_set:
            item = getattr(value, name)
            if item is None:
                continue
            field = fields.get(name)
            key = (field.alias or name) if field is not None else name
            result[key] = jsonable(item)
        for name, item in (value.model_extra or {}).items():
            if item is not None:
                result[name] = jsonable(item)
        return result
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def compute_spec_facts(rollout: Rollout) -> SpecFacts:
    canary = rollout.spec.strategy.canary
    raw_steps = None if canary is None or canary.steps is None else [jsonable(s) for s in canary.steps]
    steps_hash = ""
    if canary is not None:
        try:
            steps_hash = step_hash(raw_steps)
        except MalformedTemplate:  # a step Go cannot decode; validation reports it
            steps_hash = legacy_step_hash(raw_steps or [])
    template = rollout.spec.template
    surge = unavailable = 0
    replicas = rollout.spec.replicas
    if canary is not None:
        try:
            surge, unavailable = resolve_surge_and_unavailable(
                replicas,
                resolve_int_or_percent(canary.max_surge, replicas, round_up=True),
                resolve_int_or_percent(canary.max_unavailable, replicas, round_up=False),
            )
        except ValueError:
            surge, unavailable = 0, 1  # reported by validation; the spec is not planned
    return SpecFacts(
        steps_hash=steps_hash,
        legacy_steps_hash=legacy_step_hash(raw_steps or []),
        problems=tuple(validate_rollout(rollout)),
        template_hash=(revision_hash(tolerant_template(template)[0])
                       if template and rollout.spec.workload_ref is None else ""),
        max_surge=surge,
        max_unavailable=unavailable,
        references=collect_references(rollout),
        selector=selector_string(rollout.spec.selector),
    )


def spec_facts(rollout: Rollout) -> SpecFacts:
    """The memoised facts of this spec generation (computed on first use)."""
    meta = rollout.metadata
    if not meta.uid or meta.generation is None:
        return compute_spec_facts(rollout)
    key = (meta.namespace or "", meta.name or "", meta.uid, meta.generation)
    facts = _memo.get(key)
    if facts is None:
        facts = compute_spec_facts(rollout)
        if len(_memo) >= MEMO_LIMIT:
            _memo.clear()
        _memo[key] = facts
    return facts
