"""placeholder; filled in by the finance work."""
