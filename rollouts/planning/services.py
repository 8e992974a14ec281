"""Pointing a Service at one revision's pods: the selector switch and its SwitchService event.

A Service selects a revision by the ``rollouts-pod-template-hash`` label; switching it is the moment traffic
moves (blue-green promotion, a canary Service following the canary), so each switch is recorded as an
Event with the hashes it switched from and to, as Argo does.
"""

from __future__ import annotations

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.planning.context import PlanContext
from rollouts.planning.plan import SetServiceSelector
from rollouts.planning.vocabulary import Event


def selected_hash(ctx: PlanContext, service_name: str) -> str | None:
    """The pod-template hash the observed Service selects now (None if it selects none, or is missing)."""
    service = ctx.observed.services.get(service_name)
    return service.selector.get(POD_TEMPLATE_HASH_LABEL) if service is not None else None


def switch_service(ctx: PlanContext, service_name: str, pod_template_hash: str) -> bool:
    """Point ``service_name`` at ``pod_template_hash`` unless it already is; True when a switch is planned."""
    current = selected_hash(ctx, service_name)
    if current == pod_template_hash:
        return False
    ctx.act(SetServiceSelector(service_name, pod_template_hash))
    ctx.event(
        Event.SWITCH_SERVICE,
        f"Switched selector for service '{service_name}' from '{current or ''}' to '{pod_template_hash}'",
    )
    return True
