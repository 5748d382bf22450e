"""Partitions: the unit of work of every engine, and the unit of output of large tables.

A table of more than ``part_rows`` rows is cut into partitions of ``part_rows`` rows, each written as its
own part file (``persons/part-00000.parquet``); a smaller table is one partition written as one file
(``persons.parquet``). A partition is written the same way wherever it runs (this process, a worker
process, a Dask worker), chunk by chunk from its first row, so every engine writes the same bytes. What a
partition reports back (:class:`PartResult`) is plain data: it crosses process boundaries and is kept in
the journal that lets an interrupted run resume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from esdh.checks.results import CheckResult
from esdh.checks.rows import RowChecks
from esdh.engine.fingerprint import BLOCK, BlockDigests, Fingerprint
from esdh.engine.frame import Frame
from esdh.errors import UsageError
from esdh.plan.planner import Plan
from esdh.sinks.files import FORMATS
from esdh.sinks.storage import commit_all, open_output

ChunkProgress = Callable[[str, int], None]  # (table, rows just written)


def part_rows_option(rows: int | None) -> int | None:
    """``--part-rows`` as used: a whole number of fingerprint blocks (rounded up), or None for one file."""
    if rows is None:
        return None
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise UsageError(f"--part-rows must be a positive whole number, got {rows!r}")
    return -(-rows // BLOCK) * BLOCK


@dataclass(frozen=True)
class Part:
    table: str
    index: int
    start: int
    stop: int
    split: bool  # the table is written as part files in a folder of its own

    @property
    def key(self) -> str:
        return f"{self.table}.{self.index:05d}"

    def path(self, extension: str, single_name: str) -> str:
        """The file's path relative to the output folder."""
        if self.split:
            return f"{self.table}/part-{self.index:05d}.{extension}"
        return single_name.format(table=self.table, ext=extension)


def partitions(plan: Plan, table: str, part_rows: int | None) -> list[Part]:
    total = plan.rows[table]
    if part_rows is None or total <= part_rows:
        return [Part(table, 0, 0, total, False)]
    return [Part(table, i, start, min(start + part_rows, total), True)
            for i, start in enumerate(range(0, total, part_rows))]


@dataclass(frozen=True)
class Job:
    """What every partition of a run shares: where and how to write. ``folder`` is a local path or an
    object store URL; ``storage_options`` (plain data) open the store wherever the partition runs."""

    folder: str
    formats: tuple[str, ...]
    check: bool = True
    single_name: str = "{table}.{ext}"
    # per table: the Arrow schema and write hints, decided once by the client so that no worker can decide
    # otherwise (the bytes of a Parquet file depend on them)
    layouts: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    storage_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class PartResult:
    table: str
    index: int
    start: int
    stop: int
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # format -> path, bytes, sha256
    null_counts: dict[str, int] = field(default_factory=dict)
    blocks: BlockDigests = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.stop - self.start

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PartResult:
        blocks = {int(k): v for k, v in data["blocks"].items()}
        return cls(**{**data, "blocks": blocks})


def table_layout(plan: Plan, table: str) -> tuple[Any, Any]:
    """The table's Arrow schema and write hints, from a fixed sample of its first rows (so every
    partition, wherever it runs, writes the same schema and statistics)."""
    from esdh.engine.local import table_sample, write_hints

    cache = plan.cache.setdefault("layout", {})
    if table not in cache:
        sample = table_sample(plan, table)
        cache[table] = (sample.schema, write_hints(sample))
    return cache[table]


def write_partition(plan: Plan, part: Part, job: Job, progress: ChunkProgress | None = None) -> PartResult:
    """Generate one partition into its files, chunk by chunk. A file with its final name is always complete:
    a local file is written under a temporary name and renamed into place, an object in a store appears
    only once its upload is complete."""
    schema, hints = job.layouts.get(part.table) or table_layout(plan, part.table)
    result = PartResult(part.table, part.index, part.start, part.stop)
    outputs, writers = {}, {}
    for fmt in job.formats:
        relative = part.path(FORMATS[fmt].extension, job.single_name)
        outputs[fmt] = open_output(job.folder, relative, job.storage_options)
        writers[fmt] = FORMATS[fmt].writer(outputs[fmt].target, schema, hints)
    checks = RowChecks(plan.dataset.tables[part.table], plan.as_of) if job.check else None
    columns = list(plan.dataset.tables[part.table].columns) if checks is not None else schema.names
    fingerprint = Fingerprint()
    try:
        for start in range(part.start, part.stop, plan.chunk_size):
            stop = min(start + plan.chunk_size, part.stop)
            frame = Frame(plan, part.table, np.arange(start, stop, dtype=np.int64))
            full = frame.batch(columns)
            if checks is not None:
                checks.update(full, start, frame.values)
            batch = full.select(schema.names)
            batch = batch.cast(schema) if batch.schema != schema else batch
            for writer in writers.values():
                writer.write(batch)
            fingerprint.update(batch, start)
            for name, column in zip(batch.schema.names, batch.columns, strict=True):
                result.null_counts[name] = result.null_counts.get(name, 0) + column.null_count
            if progress:
                progress(part.table, batch.num_rows)
    except BaseException:
        for writer in writers.values():
            writer.close()
        for output in outputs.values():
            output.abort()
        raise
    for writer in writers.values():
        writer.close()
    result.files = commit_all(outputs)
    result.null_counts = {name: result.null_counts.get(name, 0) for name in schema.names}
    result.blocks = fingerprint.finish()
    result.checks = [r.state() for r in (checks.results.values() if checks is not None else [])]
    return result


def merge_checks(parts: list[PartResult], samples: int) -> list[CheckResult]:
    """One result per check of a table from its partitions' results (in row order)."""
    merged: dict[tuple[str, str | None], CheckResult] = {}
    for part in parts:
        for data in part.checks:
            key = (data["check"], data["column"])
            result = merged.setdefault(key, CheckResult(data["table"], data["check"], data["column"],
                                                        expected=data["expected"], implied=data["implied"]))
            result.evaluated += data["evaluated"]
            result.failed += data["failed"]
            result.samples += data["samples"][: max(0, samples - len(result.samples))]
    return list(merged.values())
