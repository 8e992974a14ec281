"""Prune planning: which tracked objects left Git, in which order they go, and when to refuse.

Why this module exists: deleting is the one irreversible thing a sync does. Only objects whose tracking
annotation names this application (see ``tracking.py``) are candidates; an object marked
``argocd.argoproj.io/sync-options: Prune=false`` is never deleted; deletion runs in reverse sync order (last
wave, last kind first) so dependents go before what they depend on; and an automated sync refuses to delete
*everything* unless ``allowEmpty`` is set, because an empty render is far more often a mistake (wrong path,
broken kustomization) than an intent. Pure: the reconciler supplies desired keys and owned live objects.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from rollouts.gitops.tracking import ResourceKey
from rollouts.gitops.waves import kind_rank, resource_sync_options, sync_wave


@dataclass(frozen=True, slots=True)
class PrunePlan:
    prune: tuple[ResourceKey, ...]
    """To delete, in deletion order (reverse of the sync order)."""
    skipped: tuple[tuple[ResourceKey, str], ...]
    """Left in place, with the reason (prune disabled, Prune=false)."""

    @property
    def extraneous(self) -> tuple[ResourceKey, ...]:
        return self.prune + tuple(key for key, _ in self.skipped)


def _delete_order(key: ResourceKey, obj: Mapping[str, Any]) -> tuple[int, int, str, str]:
    try:
        wave = sync_wave(obj)
    except ValueError:
        wave = 0
    return (wave, kind_rank(key.kind), key.kind, key.name)


def plan_prune(
    desired: Collection[ResourceKey], live_owned: Mapping[ResourceKey, Mapping[str, Any]], *, prune_enabled: bool
) -> PrunePlan:
    """Owned live objects that are no longer desired: pruned when enabled, otherwise reported as skipped.

    desired {cm/a}, owned {cm/a, cm/b, deploy/c} -> prune (deploy/c, cm/b): Deployments go before ConfigMaps.
    """
    extra = [(key, obj) for key, obj in live_owned.items() if key not in desired]
    extra.sort(key=lambda item: _delete_order(*item), reverse=True)
    prune: list[ResourceKey] = []
    skipped: list[tuple[ResourceKey, str]] = []
    for key, obj in extra:
        if resource_sync_options(obj).get("Prune", "").lower() == "false":
            skipped.append((key, "ignored (no prune): annotated Prune=false"))
        elif not prune_enabled:
            skipped.append((key, "ignored (requires pruning)"))
        else:
            prune.append(key)
    return PrunePlan(tuple(prune), tuple(skipped))


def wipes_everything(desired_count: int, live_owned_count: int) -> bool:
    """True when a sync would leave the application with no resources although it has some now."""
    return desired_count == 0 and live_owned_count > 0
