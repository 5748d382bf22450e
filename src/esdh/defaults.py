"""Defaults shared by the CLI, the library and the engines (a module of constants, cheap to import)."""

DEFAULT_CHUNK_SIZE = 262_144  # rows generated at once; also one Parquet row group
DEFAULT_PART_ROWS = 1_048_576  # rows per part file (a multiple of the fingerprint block, 65,536)
