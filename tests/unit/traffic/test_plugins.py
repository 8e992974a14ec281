"""Traffic-router plugins come from the ``rollouts.traffic_router_plugins`` entry points (rollouts/traffic/plugins.py):
our own Gateway API router is one, and another distribution's router is used the same way."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

import pytest

from rollouts.api.rollout import CanaryStep, RolloutTrafficRouting
from rollouts.traffic import plugins
from rollouts.traffic.gatewayapi import GatewayApiRouter
from rollouts.traffic.registry import ROUTERS, available_routers, observe_traffic, routers_for
from rollouts.traffic.router import InEffect, LiveObjects, ObjectRef, RolloutContext, TrafficConfigError
from tests.unit.traffic.builders import rollout


@dataclass(frozen=True)
class AcmeRouter:
    """A third-party router as a plugin would ship it: reads its own open configuration."""

    ctx: RolloutContext
    mesh: str

    @classmethod
    def from_config(cls, ctx: RolloutContext, routing: RolloutTrafficRouting,
                    steps: Sequence[CanaryStep] = ()) -> AcmeRouter:
        config = (routing.plugins or {}).get("acme/mesh") or {}
        if not config.get("mesh"):
            raise TrafficConfigError("trafficRouting.plugins[acme/mesh].mesh is required")
        return cls(ctx, str(config["mesh"]))

    @property
    def name(self) -> str:
        return "acme/mesh"

    def references(self) -> list[ObjectRef]:
        return []

    def validate(self, live: LiveObjects) -> list[str]:
        return []

    def in_effect(self, live: LiveObjects) -> InEffect:
        return InEffect(weight=7)

    def desired_changes(self, weight: int, header_routes: object, live: LiveObjects, **kw: object) -> list[object]:
        return []


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoint]]:
    """Entry points as if more distributions were installed (the real ones stay)."""
    extra: list[EntryPoint] = []
    real = list(entry_points(group=plugins.GROUP))
    monkeypatch.setattr(plugins, "entry_points", lambda group: [*real, *extra] if group == plugins.GROUP else [])
    plugins.discovered.cache_clear()
    yield extra
    plugins.discovered.cache_clear()


def test_the_gateway_api_router_is_registered_through_our_own_entry_point() -> None:
    (point,) = [p for p in entry_points(group=plugins.GROUP) if p.name == "argoproj-labs/gatewayAPI"]
    assert point.value == "rollouts.traffic.gatewayapi:GatewayApiRouter.from_config"
    assert available_routers()["plugins/argoproj-labs/gatewayAPI"] == GatewayApiRouter.from_config
    assert "plugins/argoproj-labs/gatewayAPI" not in ROUTERS  # not hard-wired: the entry point is the only way in


def test_another_distributions_router_is_used_like_a_built_in(installed: list[EntryPoint]) -> None:
    installed.append(EntryPoint("acme/mesh", f"{__name__}:AcmeRouter.from_config", plugins.GROUP))
    (router,) = routers_for(rollout({"plugins": {"acme/mesh": {"mesh": "blue"}}}))
    assert router == AcmeRouter(router.ctx, "blue")  # type: ignore[attr-defined]
    assert observe_traffic([router], {}).weight == 7
    with pytest.raises(TrafficConfigError, match=r"plugins\[acme/mesh\]\.mesh is required"):
        routers_for(rollout({"plugins": {"acme/mesh": {}}}))


def test_a_plugin_that_cannot_be_loaded_is_a_clear_problem(installed: list[EntryPoint]) -> None:
    installed.append(EntryPoint("acme/broken", "acme_not_installed.router:Router.from_config", plugins.GROUP))
    with pytest.raises(TrafficConfigError, match=r"trafficRouting.plugins.acme/broken: plugin "
                                                 r"'acme_not_installed.router:Router.from_config' could not be "
                                                 r"loaded: ModuleNotFoundError"):
        routers_for(rollout({"plugins": {"acme/broken": {}}}))
    # the other plugins still work
    assert routers_for(rollout({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "r"}}}))


def test_an_unknown_plugin_names_the_mechanism() -> None:
    with pytest.raises(TrafficConfigError, match=r"rollouts\.traffic_router_plugins' entry point"):
        routers_for(rollout({"plugins": {"acme/none": {}}}))
