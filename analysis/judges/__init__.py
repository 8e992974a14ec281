"""analysis/judges."""
