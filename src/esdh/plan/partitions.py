"""Partitions: a table cut into row ranges, the unit of work of every engine and of output of large tables.

A table of more than ``part_rows`` rows is cut into partitions of ``part_rows`` rows (each later written as
its own part file); a smaller table is one partition. Partition sizes are whole blocks of ``BLOCK`` rows,
the unit of the content fingerprint, so that each partition can fingerprint its rows on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from esdh.errors import UsageError
from esdh.plan.planner import Plan

BLOCK = 65_536  # rows per fingerprint block; part files hold whole blocks


def part_rows_option(rows: int | None) -> int | None:
    """``--part-rows`` as used: a whole number of fingerprint blocks (rounded up), or None for one file."""
    if rows is None:
        return None
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise UsageError(f"--part-rows must be a positive whole number, got {rows!r}")
    return -(-rows // BLOCK) * BLOCK


@dataclass(frozen=True)
class Part:
    """Rows [start, stop) of a table, its ``index``-th partition."""

    table: str
    index: int
    start: int
    stop: int
    split: bool  # the table has several partitions (and is written as part files in a folder of its own)

    @property
    def key(self) -> str:
        return f"{self.table}.{self.index:05d}"

    @property
    def rows(self) -> int:
        return self.stop - self.start


def partitions(plan: Plan, table: str, part_rows: int | None) -> list[Part]:
    """The table's partitions in row order (one for a table of at most ``part_rows`` rows, or None)."""
    total = plan.rows[table]
    if part_rows is None or total <= part_rows:
        return [Part(table, 0, 0, total, False)]
    return [Part(table, i, start, min(start + part_rows, total), True)
            for i, start in enumerate(range(0, total, part_rows))]
