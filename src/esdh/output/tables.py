"""Write every planned table into a target, partition by partition on an engine, then check it against the spec."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from esdh.checks.keys import file_relation, key_checks
from esdh.checks.results import SAMPLES, CheckFailed, CheckResult
from esdh.defaults import DEFAULT_PART_ROWS
from esdh.engine.executors import Engine, LocalEngine
from esdh.logs import event
from esdh.output.datapackage import PartFile, WrittenTable
from esdh.output.fingerprint import combine
from esdh.output.layout import table_layout
from esdh.output.partition import Job, PartResult, merge_checks
from esdh.output.storage import Store
from esdh.output.target_folder import FolderTarget
from esdh.output.target_store import StoreTarget
from esdh.plan.partitions import partitions
from esdh.plan.planner import Plan

Progress = Callable[[str, int, int], None]  # (table, rows done, rows total)


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


def bounded_duckdb_config() -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB settings for reading files a user gave (compare, ingest): at most ``CHECK_MEMORY``, spilling into
    a folder of this process under the system's temporary folder (DuckDB's default, ``.tmp`` in the current
    folder, would leave a folder where the user works); DuckDB removes its spill files on close."""
    import os
    import tempfile

    return {"memory_limit": CHECK_MEMORY, "temp_directory": os.path.join(tempfile.gettempdir(),
                                                                         f"esdh-spill-{os.getpid()}")}


def write_tables(plan: Plan, folder: Path, formats: list[str], progress: Progress | None = None,
                 check: bool = True, *, engine: Engine | None = None, part_rows: int | None = DEFAULT_PART_ROWS,
                 single_name: str = "{table}.{ext}", target: FolderTarget | StoreTarget | None = None,
                 store: Store | None = None) -> tuple[list[WrittenTable], list[CheckResult]]:
    """Write every planned table into ``folder``, partition by partition on ``engine``; with ``check``,
    raise CheckFailed if the data breaks its spec (the caller's staging folder is then discarded, so
    nothing is published). With ``target``, partitions already in its journal are kept, not rewritten.
    With ``store``, the files are written into the store instead; their paths in the returned tables are
    then where they would be in ``folder`` (only their paths relative to it matter)."""
    engine = engine or LocalEngine()
    layout = {table: partitions(plan, table, part_rows) for table in plan.tables}
    every = [part for table in plan.tables for part in layout[table]]
    results = target.completed(every) if target is not None else {}
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
        if target is not None:
            target.record(part, result)
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
