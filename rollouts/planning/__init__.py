"""rollouts/planning."""
