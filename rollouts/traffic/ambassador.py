"""Ambassador (Emissary-ingress) traffic router: a weighted canary ``Mapping`` beside each of the user's Mappings.

Emissary splits the requests of one prefix between Mappings by their ``weight``; an unweighted Mapping takes the
rest. So, like Argo, for each base Mapping in ``trafficRouting.ambassador.mappings`` we own a canary Mapping
``<base>-canary`` (the base name cut to 246 characters), a copy of the base's spec whose ``service`` has the
stable Service's name replaced by the canary's (first occurrence, so ``shop-stable:8080`` and
``shop-stable.prod`` keep their port or namespace) and ``weight: w``. At weight 0 the canary Mapping is first set
to ``weight: 0`` and deleted 5 s later, as Argo does (its handleCanaryMapping sleeps 5 s "for propagation of
mapping update": deleting a weighted Mapping at once can send the last requests to the old version), so after
promotion or abort only the user's Mappings remain. The 5 s are counted from the API server's record of our
write (the Mapping's managedFields time for our field manager), never from a clock here: the delete comes back
with ``not_before``, the weight reads as not yet in effect (the canary is not scaled down before the delete),
and ``in_effect`` says when it settles so the planner looks again then.

The canary Mapping carries the Rollout's controller ownerReference (Argo's carries none) so the garbage
collector removes it with the Rollout; a Mapping of that name we do not control is a problem, never overwritten.
A base Mapping that sets ``weight`` itself cannot be split this way: Argo's words, "Ambassador mapping "x" can
not define weight".

Mappings are addressed as ``getambassador.io/v2``, Argo's default ``--ambassador-api-version``.

Worked example (Argo's ambassador_test.go ``baseMapping``, "will create canary mapping and set weight"):
``myapp-mapping`` with ``prefix: /myapp/``, ``rewrite: /myapp/``, ``service: main-service:8080``, stableService
``main-service``, canaryService ``canary-service``, weight 13 -> ``myapp-mapping-canary`` with the same prefix and
rewrite, ``service: canary-service:8080`` and ``weight: 13``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.owners import is_controlled_by
from rollouts.api.rollout import CanaryStep, RolloutTrafficRouting
from rollouts.planning.observed import EPOCH, parse_timestamp
from rollouts.traffic.router import (
    FIELD_MANAGER,
    ApplyObject,
    DeleteObject,
    HeaderRoute,
    InEffect,
    LiveObjects,
    MirrorRoute,
    ObjectRef,
    PodHashes,
    RolloutContext,
    RouteKind,
    TrafficChange,
    TrafficConfigError,
)

CANARY_SUFFIX = "-canary"
# Argo's pause between a canary Mapping's weight going to 0 and its deletion (ambassador.go handleCanaryMapping).
DELETE_DELAY = timedelta(seconds=5)


def canary_mapping_name(base: str) -> str:
    """``<base>-canary``, the base cut to 246 characters (Argo's ``buildCanaryMappingName``)."""
    return base[:246] + CANARY_SUFFIX


def deletable_at(canary: Mapping[str, Any]) -> datetime | None:
    """When a canary Mapping at weight 0 may be deleted: 5 s after our last write to it, as the API server
    recorded it (``managedFields`` time of our field manager); None when there is no such record (not written
    by us at weight 0: nothing to wait for)."""
    times = [parse_timestamp(entry.get("time")) for entry in (canary.get("metadata") or {}).get("managedFields") or []
             if isinstance(entry, Mapping) and entry.get("manager") == FIELD_MANAGER]
    written = max((t for t in times if t != EPOCH), default=None)
    return written + DELETE_DELAY if written is not None else None


@dataclass(frozen=True, slots=True)
class AmbassadorRouter:
    """``strategy.canary.trafficRouting.ambassador`` for one Rollout."""

    ctx: RolloutContext
    mappings: tuple[str, ...]

    @classmethod
    def from_config(
        cls, ctx: RolloutContext, routing: RolloutTrafficRouting, steps: Sequence[CanaryStep] = ()
    ) -> AmbassadorRouter:
        mappings = (routing.ambassador or {}).get("mappings")
        problems: list[str] = []
        if not isinstance(mappings, list) or not mappings or not all(isinstance(m, str) and m for m in mappings):
            problems.append("trafficRouting.ambassador.mappings must name at least one Mapping")
        elif len(set(mappings)) != len(mappings):
            problems.append(f"trafficRouting.ambassador.mappings has duplicates: {mappings}")
        problems += [f"steps[{i}]: setHeaderRoute is not supported by the Ambassador router"
                     for i, step in enumerate(steps) if step.set_header_route]
        if problems:
            raise TrafficConfigError("; ".join(problems))
        return cls(ctx=ctx, mappings=tuple(str(m) for m in mappings or ()))

    @property
    def name(self) -> str:
        return "ambassador"

    def _ref(self, name: str) -> ObjectRef:
        return ObjectRef(RouteKind.MAPPING, self.ctx.namespace, name)

    def references(self) -> list[ObjectRef]:
        return [ref for base in self.mappings for ref in (self._ref(base), self._ref(canary_mapping_name(base)))]

    def validate(self, live: LiveObjects) -> list[str]:
        problems: list[str] = []
        for base in self.mappings:
            obj = live.get(self._ref(base))
            if obj is None:
                problems.append(f'Ambassador mapping "{base}" not found')
            elif (obj.get("spec") or {}).get("weight"):
                problems.append(f'Ambassador mapping "{base}" can not define weight')
            canary = live.get(self._ref(canary_mapping_name(base)))
            if canary is not None and not is_controlled_by(canary, self.ctx.uid):
                problems.append(f"canary Mapping '{canary_mapping_name(base)}' already exists and is not controlled "
                                f"by Rollout '{self.ctx.name}'")
        return problems

    def canary_mapping(self, base: Mapping[str, Any], weight: int) -> dict[str, Any]:
        """The complete canary Mapping for ``base`` at ``weight`` (the server-side-apply body)."""
        spec = copy.deepcopy(dict(base.get("spec") or {}))
        spec["service"] = str(spec.get("service") or "").replace(self.ctx.stable_service, self.ctx.canary_service, 1)
        spec["weight"] = weight
        return {
            "apiVersion": RouteKind.MAPPING.api_version, "kind": "Mapping",
            "metadata": {"name": canary_mapping_name(str(base["metadata"]["name"])), "namespace": self.ctx.namespace,
                         "ownerReferences": [self.ctx.owner_reference]},
            "spec": spec,
        }

    def in_effect(self, live: LiveObjects) -> InEffect:
        """The weight every canary Mapping agrees on (0 when none exists; a canary Mapping at weight 0 still
        waiting for its delete reads as not in effect, and says when it settles)."""
        weights: set[int | None] = set()
        settles: list[datetime] = []
        for base in self.mappings:
            obj = live.get(self._ref(base))
            if obj is None:
                return InEffect(weight=None)
            canary = live.get(self._ref(canary_mapping_name(base)))
            if canary is None:
                weights.add(0)
                continue
            weight = (canary.get("spec") or {}).get("weight")
            exact = isinstance(weight, int) and weight > 0 and canary.get("spec") == self.canary_mapping(obj, weight)[
                "spec"]
            weights.add(weight if exact and isinstance(weight, int) else None)
            due = deletable_at(canary) if weight == 0 else None
            if due is not None:
                settles.append(due)
        return InEffect(weight=weights.pop() if len(weights) == 1 else None, settles_at=min(settles, default=None))

    def desired_changes(
        self,
        weight: int,
        header_routes: Sequence[HeaderRoute],
        live: LiveObjects,
        *,
        mirror_routes: Sequence[MirrorRoute] = (),
        pod_hashes: PodHashes | None = None,
    ) -> list[TrafficChange]:
        del mirror_routes, pod_hashes  # weights only: refused at configuration time
        self.ctx.check_weight(weight)
        if header_routes:
            raise TrafficConfigError("the Ambassador router cannot express header routes")
        problems = self.validate(live)
        if problems:
            raise TrafficConfigError("; ".join(problems))
        changes: list[TrafficChange] = []
        for base in self.mappings:
            ref = self._ref(canary_mapping_name(base))
            current = live.get(ref)
            if weight == 0:
                if current is not None:
                    changes.append(self._to_zero(ref, current, live[self._ref(base)]))
                continue
            desired = self.canary_mapping(live[self._ref(base)], weight)
            if current is None or current.get("spec") != desired["spec"]:
                changes.append(ApplyObject(RouteKind.MAPPING, desired,
                                           summary=f"set canary Mapping '{ref.name}' weight {weight}"))
        return changes

    def _to_zero(self, ref: ObjectRef, current: Mapping[str, Any], base: Mapping[str, Any]) -> TrafficChange:
        """Argo's two moves at weight 0: the canary Mapping to ``weight: 0`` first, then (5 s after that write)
        its delete."""
        if (current.get("spec") or {}).get("weight") != 0:
            return ApplyObject(RouteKind.MAPPING, self.canary_mapping(base, 0),
                               summary=f"set canary Mapping '{ref.name}' weight 0 (deleted 5 s later)")
        uid = str(current["metadata"].get("uid") or "")
        return DeleteObject(ref, uid, summary=f"delete canary Mapping '{ref.name}' (weight 0)",
                            not_before=deletable_at(current))
