"""rollouts/api."""
