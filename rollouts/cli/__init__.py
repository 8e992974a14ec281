"""rollouts/cli."""
