"""Progressive delivery for Kubernetes, schema-compatible with Argo Rollouts."""

__version__ = "0.1.0"
