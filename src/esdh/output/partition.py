"""Write one partition (see :mod:`esdh.plan.partitions`) into its files: the task every engine runs.

A table cut into several partitions is written as part files (``persons/part-00000.parquet``); a table of
one partition as one file (``persons.parquet``). A partition is written the same way wherever it runs (this
process, a worker process, a Dask worker), chunk by chunk from its first row, so every engine writes the
same bytes. What a partition reports back (:class:`PartResult`) is plain data: it crosses process
boundaries and is kept in the journal that lets an interrupted output resume.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from esdh.checks.results import CheckResult
from esdh.checks.rows import RowChecks
from esdh.engine import chunks
from esdh.engine.executors import ChunkProgress
from esdh.output.fingerprint import BlockDigests, Fingerprint
from esdh.output.formats import FORMATS
from esdh.output.layout import SINGLE_NAME, Layout, part_path, table_layout
from esdh.output.storage import commit_all, open_output
from esdh.plan.partitions import Part
from esdh.plan.planner import Plan


@dataclass(frozen=True)
class Job:
    """What every partition of an output shares: where and how to write. ``folder`` is a local path or an
    object store URL; ``storage_options`` (plain data) open the store wherever the partition runs. A job is
    the task an engine runs on each partition (it pickles, to run in another process or on a Dask worker)."""

    folder: str
    formats: tuple[str, ...]
    check: bool = True
    single_name: str = SINGLE_NAME
    # per table: the Arrow schema and write hints, decided once by the client so that no worker can decide
    # otherwise (the bytes of a Parquet file depend on them)
    layouts: dict[str, Layout] = field(default_factory=dict)
    storage_options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, plan: Plan, part: Part, progress: ChunkProgress | None = None) -> PartResult:
        return write_partition(plan, part, self, progress)


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


def write_partition(plan: Plan, part: Part, job: Job, progress: ChunkProgress | None = None) -> PartResult:
    """Generate one partition into its files, chunk by chunk. A file with its final name is always complete:
    a local file is written under a temporary name and renamed into place, an object in a store appears
    only once its upload is complete."""
    schema, hints = job.layouts.get(part.table) or table_layout(plan, part.table)
    result = PartResult(part.table, part.index, part.start, part.stop)
    outputs, writers = {}, {}
    for fmt in job.formats:
        relative = part_path(part, FORMATS[fmt].extension, job.single_name)
        outputs[fmt] = open_output(job.folder, relative, job.storage_options)
        writers[fmt] = FORMATS[fmt].writer(outputs[fmt].target, schema, hints)
    checks = RowChecks(plan.dataset.tables[part.table], plan.as_of) if job.check else None
    columns = list(plan.dataset.tables[part.table].columns) if checks is not None else schema.names
    fingerprint = Fingerprint()
    try:
        for frame in chunks.frames(plan, part.table, part.start, part.stop):
            start = int(frame.rows[0])
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
