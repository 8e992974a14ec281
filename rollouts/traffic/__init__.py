"""Traffic routing: one small pure ``TrafficRouter`` protocol (router.py) and one module per provider.

``registry.routers_for(rollout)`` picks the routers a Rollout configures; see ``router.py`` for exactly
what the controller's executor does with them, and ``service.py`` for the Service selector builders.
"""
