"""rollouts/controller."""
