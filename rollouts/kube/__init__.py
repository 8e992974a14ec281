"""rollouts/kube."""
