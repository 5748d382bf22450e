"""The limits that keep reading a spec, and planning it, bounded, defined in one place (docs/spec.md, "Limits").

A spec is input from people and from other programs: a file of any size, YAML aliases that expand a small
document into billions of nodes, nesting that exhausts Python's stack. Each limit below turns such input into
a located spec error instead of a hang, a MemoryError or a RecursionError. The limits a real spec could
reach can be raised with an environment variable; the depth limits cannot, because they protect the stack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from esdh.errors import UsageError


@dataclass(frozen=True)
class Limit:
    """One limit: what it bounds, its default, its unit and the environment variable that raises it."""

    what: str
    default: int
    unit: str
    env: str | None = None
    advice: str = ""

    @property
    def value(self) -> int:
        """The limit in force: the environment variable's value when set, else the default."""
        if not self.env:
            return self.default
        raw = os.environ.get(self.env, "").strip().replace("_", "")
        if not raw:
            return self.default
        if not raw.isdigit() or int(raw) < 1:
            raise UsageError(f"{self.env} must be a whole number >= 1 (got {os.environ[self.env]!r})")
        return int(raw)

    def hint(self) -> str:
        """How to stay within the limit, or raise it."""
        parts = [self.advice] if self.advice else []
        if self.env:
            parts.append(f"raise the limit with the environment variable {self.env}")
        return "; ".join(parts)

    def exceeded(self) -> str:
        """The message's tail: ``the expression length limit is 10,000 characters``."""
        return f"the {self.what} limit is {self.value:,} {self.unit}"


SPEC_BYTES = Limit("spec file size", 10_000_000, "bytes", "ESDH_MAX_SPEC_BYTES",
                   "a spec describes data, it does not hold it: keep long value lists in a vocabulary file")
YAML_ALIAS_NODES = Limit("YAML alias expansion", 100_000, "nodes", "ESDH_MAX_YAML_ALIAS_NODES",
                         "aliases (*name) copy what their anchor (&name) holds; copy less, or less often")
YAML_DEPTH = Limit("YAML nesting depth", 64, "levels", None,
                   "a spec needs a handful of levels; flatten the nested lists and mappings")
EXPRESSION_CHARS = Limit("expression length", 10_000, "characters", "ESDH_MAX_EXPRESSION_CHARS",
                         "split the expression into intermediate expr columns")
EXPRESSION_DEPTH = Limit("expression nesting depth", 100, "levels", None,
                         "split the expression into intermediate expr columns (a chain a + b + c ... nests one "
                         "level per operator)")


# Sizes: what a plan may ask for, checked before any row (or any child count) is computed. A request beyond
# them is refused with its estimate, instead of looping for days or allocating terabytes.
TABLE_ROWS = Limit("rows per table", 10**12, "rows", "ESDH_MAX_TABLE_ROWS",
                   "lower --rows or --scale (or the spec's rows, or a child table's count)")
TOTAL_ROWS = Limit("rows per dataset", 10**13, "rows", "ESDH_MAX_TOTAL_ROWS",
                   "lower --rows or --scale, or generate fewer tables (--tables)")
# a chunk's estimated peak; a process holds one chunk at a time, so this bounds a worker's memory
CHUNK_BYTES = Limit("chunk memory", 2 * 2**30, "bytes", "ESDH_MAX_CHUNK_BYTES")
NAME_CHARS = 100  # a table's or column's name: a table's name is a file's name, which file systems bound
STRING_CHARS = 1_000  # a generator's width, pattern, prefix, suffix or template: a value of every row

ALL = (SPEC_BYTES, YAML_ALIAS_NODES, YAML_DEPTH, EXPRESSION_CHARS, EXPRESSION_DEPTH, TABLE_ROWS, TOTAL_ROWS,
       CHUNK_BYTES)
