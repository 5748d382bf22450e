"""placeholder; filled in by the identity work."""
