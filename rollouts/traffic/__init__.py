"""Traffic routing: one small pure ``TrafficRouter`` protocol (router.py) and one module per provider.

``registry.routers_for(rollout)`` picks the routers a Rollout configures and ``registry.observe_traffic`` sums
up what they see; ``service.py`` builds the Service selector change. How the controller drives them, and how to
add a router (one module plus one registry line): ``rollouts/traffic/README.md``.
"""
