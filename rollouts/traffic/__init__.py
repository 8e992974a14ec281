"""rollouts/traffic."""
