"""placeholder; filled in by the vehicle work."""
