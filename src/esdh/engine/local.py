"""The in-process executor: tables in dependency order, chunk by chunk, into file writers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.checks.keys import file_relation, key_checks
from esdh.checks.results import SAMPLES, CheckFailed, CheckResult
from esdh.defaults import DEFAULT_PART_ROWS
from esdh.engine.executors import Engine, LocalEngine
from esdh.engine.fingerprint import Fingerprint, combine, is_text
from esdh.engine.frame import Frame
from esdh.engine.partitions import (
    Job,
    PartResult,
    merge_checks,
    part_rows_option,
    partitions,
    table_layout,
)
from esdh.engine.recipe import Recipe
from esdh.errors import UsageError
from esdh.logs import event
from esdh.plan.planner import Plan
from esdh.runs.datapackage import PartFile, WrittenTable, build_manifest, write_manifest
from esdh.runs.folder import MANIFEST
from esdh.runs.objectstore import StoreRun
from esdh.runs.partial import PartialRun
from esdh.sinks.files import FORMATS, WriteHints
from esdh.sinks.storage import Store, is_url

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
    """Which columns get min/max statistics and dictionary encoding, decided on a fixed sample of the
    first rows (so the choice does not depend on the chunk size or the partition). Statistics help a query
    on numbers, dates and repeated text, not on ids and e-mails, where they only cost time; a dictionary
    helps repeated values and is wasted work on nearly unique ones (Parquet builds it, then gives up)."""
    statistics, dictionary = [], []
    for name, column in zip(sample.schema.names, sample.columns, strict=True):
        distinct = pc.count_distinct(column).as_py()
        if not is_text(column.type) or distinct <= max(1, len(column) // 2):
            statistics.append(name)
        if distinct <= max(1, len(column) * 9 // 10):
            dictionary.append(name)
    return WriteHints(statistics=statistics, dictionary=dictionary)


__all__ = ["Fingerprint", "Result", "generate_to_folder", "table_batches", "table_sample", "write_tables"]


def check_formats(formats: list[str]) -> list[str]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"unknown format(s) {', '.join(unknown) or '(none given)'}; choose from "
                         f"{', '.join(FORMATS)}")
    return list(dict.fromkeys(formats))


@dataclass
class Result:
    folder: Path | str  # a URL for an object store destination (and so are the tables' paths)
    plan: Plan
    tables: list[WrittenTable] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)
    resumed: bool = False

    @property
    def files(self) -> list[Path | str]:
        return [p.path for t in self.tables for files in t.parts.values() for p in files]


def run_checks(plan: Plan, written: list[WrittenTable], row_checks: list[CheckResult],
               store: Store | None = None, folder: Path | None = None) -> list[CheckResult]:
    """Every declared constraint, key and foreign key of the written tables: the row checks already made
    while writing, then the set checks in DuckDB over the written files (spilling to disk, so that
    memory stays bounded however many rows there are). With ``store``, the files are objects in it at
    their paths relative to ``folder``, and DuckDB reads them from the store (nothing is downloaded first)."""
    import tempfile

    import duckdb

    def where(path: Path) -> Path | str:
        return path if store is None else store.url_of(path.relative_to(folder or Path()).as_posix())

    sources = {w.name: file_relation([where(p.path) for p in next(iter(w.parts.values()))]) for w in written}
    with tempfile.TemporaryDirectory(prefix="esdh-checks-") as spill:
        con = duckdb.connect(config={"memory_limit": CHECK_MEMORY, "temp_directory": spill,
                                     "preserve_insertion_order": False})
        try:
            if store is not None:
                # DuckDB reads the objects through fsspec, in ranges, as it reads files; listing the prefix
                # once lets fsspec answer its many questions about sizes and dates without asking the store
                store.list()
                con.register_filesystem(store.fs)
            return row_checks + key_checks(con, plan.dataset, sources)
        finally:
            con.close()


CHECK_MEMORY = "1GB"


def write_tables(plan: Plan, folder: Path, formats: list[str], progress: Progress | None = None,
                 check: bool = True, *, engine: Engine | None = None, part_rows: int | None = DEFAULT_PART_ROWS,
                 single_name: str = "{table}.{ext}", partial: PartialRun | StoreRun | None = None,
                 store: Store | None = None) -> tuple[list[WrittenTable], list[CheckResult]]:
    """Write every planned table into ``folder``, partition by partition on ``engine``; with ``check``,
    raise CheckFailed if the data breaks its spec (the caller's staging folder is then discarded, so
    nothing is published). With ``partial``, partitions already in its journal are kept, not rewritten.
    With ``store``, the files are written into the store instead; their paths in the returned tables are
    then where they would be in ``folder`` (only their paths relative to it matter)."""
    engine = engine or LocalEngine()
    layout = {table: partitions(plan, table, part_rows) for table in plan.tables}
    every = [part for table in plan.tables for part in layout[table]]
    results = partial.completed(every) if partial is not None else {}
    done = dict.fromkeys(plan.tables, 0)
    for result in results.values():
        done[result.table] += result.rows
    if progress:
        for table in plan.tables:
            progress(table, done[table], plan.rows[table])

    def chunk_done(table: str, rows: int) -> None:
        done[table] += rows
        if progress:
            progress(table, done[table], plan.rows[table])

    job = Job(store.url if store else str(folder), tuple(formats), check, single_name,
              layouts={table: table_layout(plan, table) for table in plan.tables},
              storage_options=store.options if store else {})
    todo = [part for part in every if part.key not in results]
    by_key = {part.key: part for part in todo}
    for result in engine.run(plan, job, todo, chunk_done if isinstance(engine, LocalEngine) else None):
        part = by_key[f"{result.table}.{result.index:05d}"]
        results[part.key] = result
        if partial is not None:
            partial.record(part, result)
        if progress and not isinstance(engine, LocalEngine):
            chunk_done(result.table, result.rows)
    written, row_checks = [], []
    for table in plan.tables:
        parts = [results[part.key] for part in layout[table]]
        written.append(_written_table(plan, table, folder, parts))
        row_checks += merge_checks(parts, SAMPLES)
    checks: list[CheckResult] = []
    if check:
        checks = run_checks(plan, written, row_checks, store, folder)
        failures = [r for r in checks if not r.passed]
        if failures:
            event("checks.failed", level=logging.WARNING,
                  failed=[f"{f.table}.{f.column or '*'}:{f.check}" for f in failures])
            raise CheckFailed(failures)
    return written, checks


def _written_table(plan: Plan, table: str, folder: Path, parts: list[PartResult]) -> WrittenTable:
    schema, _ = table_layout(plan, table)
    written = WrittenTable(table, schema, rows=sum(p.rows for p in parts))
    for fmt in parts[0].files:
        files = [PartFile(folder / p.files[fmt]["path"], p.rows, p.files[fmt]["bytes"], p.files[fmt]["sha256"])
                 for p in parts]
        written.parts[fmt] = files
        written.files[fmt] = files[0].path if len(files) == 1 else files[0].path.parent
    written.null_counts = {name: sum(p.null_counts.get(name, 0) for p in parts) for name in schema.names}
    written.fingerprint = combine(p.blocks for p in parts)
    return written


def run_key(plan: Plan, formats: list[str], check: bool, part_rows: int | None) -> dict[str, Any]:
    """What must match for an interrupted run to be resumed."""
    recipe = Recipe.of(plan)
    return {"spec_hash": recipe.spec_hash, "seed": recipe.seed, "chunk_size": recipe.chunk_size,
            "rows": {t: plan.rows[t] for t in plan.tables}, "formats": formats, "check": check,
            "part_rows": part_rows}


def generate_to_folder(plan: Plan, out: Path | str, formats: list[str], progress: Progress | None = None,
                       check: bool = True, *, engine: Engine | None = None,
                       part_rows: int | None = DEFAULT_PART_ROWS, resume: bool = False,
                       storage_options: dict[str, Any] | None = None) -> Result:
    """Generate the plan's tables into ``out`` (written aside, published atomically). With ``check``,
    the output is checked against the spec and not published if any check fails. ``resume`` continues
    an interrupted run of the same plan and options into the same folder. ``out`` may be an object store
    URL (``s3://bucket/prefix``, opened with ``storage_options``): see :mod:`esdh.runs.objectstore`."""
    from esdh.runs.dictionary import write_schema_metadata
    from esdh.runs.lineage import LineageRecorder

    formats = check_formats(formats)
    part_rows = part_rows_option(part_rows)
    name = plan.dataset.spec.dataset.lower()
    store = destination_store(out, storage_options)
    lineage = LineageRecorder(plan, formats, store.url if store else Path(out).resolve())  # load_spec, plan, START
    key = run_key(plan, formats, check, part_rows)
    event("generate.started", dataset=plan.dataset.spec.dataset, version=plan.dataset.spec.version, seed=plan.seed,
          rows=sum(plan.rows[t] for t in plan.tables), formats=formats, engine=type(engine or LocalEngine()).__name__,
          out=str(out))
    run = StoreRun(store, name, key, resume) if store else PartialRun(Path(out), name, key, resume)
    with run:
        staging = run.folder
        written, results = write_tables(plan, staging, formats, progress, check, engine=engine,
                                        part_rows=part_rows, partial=run, store=store)
        run.finish()
        for table in written:
            event("table.written", table=table.name, rows=table.rows, fingerprint=table.fingerprint,
                  files=sum(len(parts) for parts in table.parts.values()))
        if check:
            event("checks.passed", checks=len(results), evaluated=sum(r.evaluated for r in results))
        lineage.tables(staging, written, results, check)
        extra = [lineage.wrote("schema_metadata", staging, write_schema_metadata(staging, plan, written)),
                 lineage.write(staging)]
        manifest = build_manifest(plan, staging, written, formats, extra_files=extra, hashes=lineage.hashes)
        write_manifest(staging / MANIFEST, manifest)
        lineage.complete(staging, written)
    for table in written:
        table.files = {fmt: run.located(path.relative_to(staging).as_posix()) for fmt, path in table.files.items()}
        table.parts = {fmt: [replace(p, path=run.located(p.path.relative_to(staging).as_posix())) for p in files]
                       for fmt, files in table.parts.items()}
    event("generate.published", folder=str(run.destination), resumed=run.resumed)
    return Result(run.destination, plan, written, manifest, results, resumed=run.resumed)


def destination_store(out: Path | str, storage_options: dict[str, Any] | None) -> Store | None:
    """The object store ``out`` names (a URL), or None for a local path."""
    if is_url(out):
        return Store(str(out), dict(storage_options or {}))
    if storage_options:
        raise UsageError(f"storage options are for object store URLs (s3://..., file://...), not the local "
                         f"path {out}")
    return None
