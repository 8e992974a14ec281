"""analysis/providers."""
