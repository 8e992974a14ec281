"""Traffic-router plugins, the Python way: routers other packages register under an entry-point group.

Argo Rollouts loads ``trafficRouting.plugins.<name>`` routers as Go binaries named in its ConfigMap and talks to
them over RPC. Here a plugin is a Python distribution that declares, in its ``pyproject.toml``::

    [project.entry-points."rollouts.traffic_router_plugins"]
    "acme/mesh" = "acme_mesh.router:AcmeRouter.from_config"

The entry point's name is the key under ``trafficRouting.plugins`` (Argo's plugin names, ``<org>/<name>``), its
object a factory ``(RolloutContext, RolloutTrafficRouting, steps) -> TrafficRouter`` exactly like a built-in
router's; the plugin reads its own open configuration ``routing.plugins["acme/mesh"]``. Installing the
distribution next to the controller (``pip install acme-mesh``, or a derived image) is the whole installation.
Our own Gateway API router is registered the same way, by this project's pyproject.toml.

A plugin that cannot be imported does not stop the controller: Rollouts that name it get InvalidSpec saying
why, every other Rollout is served. Discovery reads installed distributions' metadata once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points

from rollouts.api.rollout import CanaryStep, RolloutTrafficRouting
from rollouts.traffic.router import RolloutContext, TrafficRouter

GROUP = "rollouts.traffic_router_plugins"

RouterFactory = Callable[[RolloutContext, RolloutTrafficRouting, Sequence[CanaryStep]], TrafficRouter]
"""(rollout context, the trafficRouting block, the canary steps) -> router; raises TrafficConfigError."""


@dataclass(frozen=True, slots=True)
class Plugins:
    """The plugins found: usable factories by name, and why the others could not be loaded."""

    factories: dict[str, RouterFactory]
    broken: dict[str, str]


@functools.cache
def discovered() -> Plugins:
    """Every ``rollouts.traffic_router_plugins`` entry point, loaded (a failure is recorded, not raised)."""
    factories: dict[str, RouterFactory] = {}
    broken: dict[str, str] = {}
    for point in entry_points(group=GROUP):
        try:
            loaded = point.load()
        except Exception as err:
            broken[point.name] = f"plugin {point.value!r} could not be loaded: {type(err).__name__}: {err}"
            continue
        if not callable(loaded):
            broken[point.name] = f"plugin {point.value!r} is not a router factory"
            continue
        factories[point.name] = loaded
    return Plugins(factories=factories, broken=broken)
