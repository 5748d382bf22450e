"""The in-process executor: tables in dependency order, chunk by chunk, into file writers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.engine.frame import Frame
from esdh.errors import UsageError
from esdh.plan.planner import Plan
from esdh.quality.checks import CheckFailed, CheckResult, RowChecks, file_relation, key_checks
from esdh.runs.datapackage import WrittenTable, build_manifest, write_manifest
from esdh.runs.folder import MANIFEST, staged_folder
from esdh.sinks.files import FORMATS, WriteHints

Progress = Callable[[str, int, int], None]  # (table, rows done, rows total)


def table_frames(plan: Plan, table: str) -> Iterator[Frame]:
    """One frame per chunk of the table, in row order."""
    for start, stop in plan.chunks(table):
        yield Frame(plan, table, np.arange(start, stop, dtype=np.int64))


def table_batches(plan: Plan, table: str, hidden: bool = False) -> Iterator[pa.RecordBatch]:
    """The table's visible (or all) columns, one record batch per chunk, in row order."""
    model = plan.dataset.tables[table]
    columns = list(model.columns) if hidden else model.visible_columns
    for frame in table_frames(plan, table):
        yield frame.batch(columns)


SAMPLE_ROWS = 4096


def table_sample(plan: Plan, table: str, rows: int = SAMPLE_ROWS) -> pa.RecordBatch:
    """The table's first rows (at least one row's worth of schema, even for an empty table)."""
    model = plan.dataset.tables[table]
    count = min(rows, plan.rows[table])
    if count == 0:
        return pa.RecordBatch.from_pylist([], schema=pa.schema([(c, pa.string()) for c in model.visible_columns]))
    return Frame(plan, table, np.arange(count, dtype=np.int64)).batch(model.visible_columns)


def table_schema(plan: Plan, table: str) -> pa.Schema:
    """The Arrow schema of a table, found by generating its first row."""
    return table_sample(plan, table, rows=1).schema


def write_hints(sample: pa.RecordBatch) -> WriteHints:
    """Min/max statistics for the columns where they help a query (numbers, dates, repeated text), not for
    nearly unique text such as ids and e-mails, where they only cost time. Decided on a fixed sample of the
    first rows, so the choice does not depend on the chunk size."""
    useful = []
    for name, column in zip(sample.schema.names, sample.columns, strict=True):
        if not _is_text(column.type) or pc.count_distinct(column).as_py() <= max(1, len(column) // 2):
            useful.append(name)
    return WriteHints(statistics=useful)


class Fingerprint:
    """A content hash of a table that depends on neither the file format nor the chunking.

    Each column feeds separate digests (so chunk boundaries cannot shift bytes between them): the rows
    that are null; for text the value lengths and the concatenated characters; for everything else the
    fixed-width values (nulls as 0).
    """

    def __init__(self) -> None:
        self._digests: dict[str, hashlib._Hash] = {}

    def _digest(self, name: str) -> hashlib._Hash:
        digest = self._digests.get(name)
        if digest is None:
            digest = self._digests[name] = hashlib.sha256()
        return digest

    def update(self, batch: pa.RecordBatch, start: int) -> None:
        """Add the batch holding rows [start, start + len(batch))."""
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if column.null_count:  # the global row numbers of the nulls: cheap and chunk-independent
                nulls = np.flatnonzero(~column.is_valid().to_numpy(zero_copy_only=False)) + start
                self._digest(f"{name}\x00nulls").update(nulls.astype(np.int64).tobytes())
                column = pc.fill_null(column, "") if _is_text(column.type) else column
            if _is_text(column.type):
                wide = pa.types.is_large_string(column.type)
                offsets = np.frombuffer(column.buffers()[1], dtype=np.int64 if wide else np.int32,
                                        count=len(column) + 1, offset=column.offset * (8 if wide else 4))
                self._digest(f"{name}\x00lengths").update(np.diff(offsets).tobytes())
                self._digest(name).update(memoryview(column.buffers()[2])[offsets[0]:offsets[-1]])
            else:
                physical = _PHYSICAL.get(column.type.id)
                if physical is not None:
                    column = column.cast(physical)
                if column.null_count:
                    column = pc.fill_null(column, 0)
                width = column.type.bit_width // 8
                data = memoryview(column.buffers()[1])
                self._digest(name).update(data[column.offset * width:(column.offset + len(column)) * width])

    def hexdigest(self) -> str:
        whole = hashlib.sha256()
        for name, digest in sorted(self._digests.items()):
            whole.update(name.encode("utf-8") + b"\x00" + digest.digest())
        return "sha256:" + whole.hexdigest()


_PHYSICAL = {pa.bool_().id: pa.uint8(), pa.date32().id: pa.int32(), pa.timestamp("s").id: pa.int64()}


def _is_text(type_: pa.DataType) -> bool:
    return pa.types.is_string(type_) or pa.types.is_large_string(type_)


def check_formats(formats: list[str]) -> list[str]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"unknown format(s) {', '.join(unknown) or '(none given)'}; choose from "
                         f"{', '.join(FORMATS)}")
    return list(dict.fromkeys(formats))


FileName = Callable[[str, str], str]  # (table, extension) -> file name


def default_file_name(table: str, extension: str) -> str:
    return f"{table}.{extension}"


def write_table(plan: Plan, table: str, folder: Path, formats: list[str],
                progress: Progress | None = None, checks: RowChecks | None = None,
                file_name: FileName = default_file_name) -> WrittenTable:
    """Stream one table into one file per format."""
    sample = table_sample(plan, table)
    schema, hints = sample.schema, write_hints(sample)
    written = WrittenTable(table, schema)
    writers = {}
    for fmt in formats:
        path = folder / file_name(table, FORMATS[fmt].extension)
        writers[fmt] = FORMATS[fmt].writer(path, schema, hints)
        written.files[fmt] = path
    fingerprint = Fingerprint()
    total = plan.rows[table]
    try:
        columns = list(plan.dataset.tables[table].columns) if checks is not None else schema.names
        for frame in table_frames(plan, table):
            full = frame.batch(columns)
            if checks is not None:
                checks.update(full, written.rows, frame.values)
            batch = full.select(schema.names)
            batch = batch.cast(schema) if batch.schema != schema else batch
            for writer in writers.values():
                writer.write(batch)
            fingerprint.update(batch, written.rows)
            written.rows += batch.num_rows
            for name, column in zip(batch.schema.names, batch.columns, strict=True):
                written.null_counts[name] = written.null_counts.get(name, 0) + column.null_count
            if progress:
                progress(table, written.rows, total)
    finally:
        for writer in writers.values():
            writer.close()
    written.fingerprint = fingerprint.hexdigest()
    return written


@dataclass
class Result:
    folder: Path
    plan: Plan
    tables: list[WrittenTable] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [self.folder / p.name for t in self.tables for p in t.files.values()]


def run_checks(plan: Plan, written: list[WrittenTable], row_checks: list[RowChecks]) -> list[CheckResult]:
    """Every declared constraint, key and foreign key of the written tables."""
    import duckdb

    results = [r for checks in row_checks for r in checks.results.values()]
    sources = {w.name: file_relation(next(iter(w.files.values()))) for w in written}
    con = duckdb.connect()
    try:
        results += key_checks(con, plan.dataset, sources)
    finally:
        con.close()
    return results


def write_tables(plan: Plan, folder: Path, formats: list[str], progress: Progress | None = None,
                 check: bool = True, file_name: FileName = default_file_name,
                 ) -> tuple[list[WrittenTable], list[CheckResult]]:
    """Write every planned table into ``folder``; with ``check``, raise CheckFailed if the data breaks
    its spec (the caller's staging folder is then discarded, so nothing is published)."""
    written, row_checks = [], []
    for table in plan.tables:
        checks = RowChecks(plan.dataset.tables[table], plan.as_of) if check else None
        written.append(write_table(plan, table, folder, formats, progress, checks, file_name))
        row_checks += [checks] if checks else []
    results: list[CheckResult] = []
    if check:
        results = run_checks(plan, written, row_checks)
        failures = [r for r in results if not r.passed]
        if failures:
            raise CheckFailed(failures)
    return written, results


def generate_to_folder(plan: Plan, out: Path, formats: list[str], progress: Progress | None = None,
                       check: bool = True) -> Result:
    """Generate the plan's tables into ``out`` (written aside, published atomically). With ``check``,
    the output is checked against the spec and not published if any check fails."""
    from esdh.runs.dictionary import write_schema_metadata
    from esdh.runs.lineage import LineageRecorder

    formats = check_formats(formats)
    name = plan.dataset.spec.dataset.lower()
    lineage = LineageRecorder(plan, formats, Path(out).resolve())  # load_spec and plan steps, START event
    with staged_folder(Path(out), name) as staging:
        written, results = write_tables(plan, staging, formats, progress, check)
        lineage.tables(staging, written, results, check)
        extra = [lineage.wrote("schema_metadata", staging, write_schema_metadata(staging, plan, written)),
                 lineage.write(staging)]
        manifest = build_manifest(plan, staging, written, formats, extra_files=extra, hashes=lineage.hashes)
        write_manifest(staging / MANIFEST, manifest)
        lineage.complete(staging, written)
    final = Path(out).resolve()
    for table in written:
        table.files = {fmt: final / path.name for fmt, path in table.files.items()}
    return Result(final, plan, written, manifest, results)
