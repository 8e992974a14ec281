"""rollouts/gitops."""
