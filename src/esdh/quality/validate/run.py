"""One validation: the tables to check, the DuckDB connections the checks share, and what they found."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from esdh.checks.results import CheckResult
from esdh.errors import UsageError
from esdh.quality.validate.files import TableData, find_tables, relative
from esdh.quality.validate.keys import check_keys
from esdh.quality.validate.kinds import expected_types
from esdh.quality.validate.read import match_columns
from esdh.quality.validate.report import ValidationReport
from esdh.quality.validate.rows import check_rows
from esdh.quality.validate.sql import relation as sql_relation
from esdh.spec.compile import Dataset


def validate_data(data: Path, dataset: Dataset, *, tables: list[str] | None = None) -> ValidationReport:
    """Check the data in ``data`` (a folder of table files, an ESDH output folder or one table's file)
    against ``dataset``; ``tables`` limits the check to these tables (default: every table of the spec, or
    the one table of a single file). Every failure is collected in the report."""
    data = Path(data)
    found, ignored = find_tables(data, dataset)
    if tables is not None:
        names = {name.lower(): name for name in dataset.tables}
        unknown = [t for t in tables if t.lower() not in names]
        if unknown:
            raise UsageError(f"unknown table(s) {', '.join(unknown)} (tables: {', '.join(dataset.tables)})")
        wanted = {names[t.lower()] for t in tables}
    else:
        wanted = set(found) if data.is_file() else set(dataset.tables)
    selected = [t for t in dataset.order if t in wanted]
    ignored += [relative(p, data) for t, d in found.items() if t not in wanted for p in d.files]
    for table in list(found):
        if table not in wanted:
            del found[table]
    with Validation(dataset, found) as run:
        run.check(selected)
    report = ValidationReport(dataset.spec.dataset, dataset.spec.version, str(data), run.results, run.skipped,
                              sorted(ignored), {t: d.extra for t, d in found.items() if d.extra})
    report.tables = {t: {"format": d.format, "files": [relative(p, data) for p in d.files], "rows": d.rows}
                     for t, d in found.items()}
    return report


class Validation:
    """One validation run: a DuckDB connection for set checks and lookups, the expected types, results."""

    def __init__(self, dataset: Dataset, found: dict[str, TableData]):
        self.dataset = dataset
        self.found = found
        self.types = expected_types(dataset)
        self.results: list[CheckResult] = []
        self.skipped: list[dict[str, str]] = []
        self.lookups: dict[tuple[str, str, str], str] = {}
        self.unreadable: dict[str, str] = {}  # table -> why its files cannot be read
        self.counter = itertools.count()

    def __enter__(self) -> Validation:
        import duckdb

        from esdh.output.tables import CHECK_MEMORY

        self._spill = tempfile.TemporaryDirectory(prefix="esdh-validate-")
        config = {"memory_limit": CHECK_MEMORY, "temp_directory": self._spill.name}
        self.con = duckdb.connect(config={**config, "preserve_insertion_order": False})
        self.ordered = duckdb.connect(config=config)  # reads JSON rows in file order
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()
        self.ordered.close()
        self._spill.cleanup()

    def check(self, selected: list[str]) -> None:
        """Structure and rows table by table, then the keys of the tables that could be read."""
        import duckdb

        for table in selected:
            data = self.found.get(table)
            self.results.append(CheckResult(table, "table_present", None, 1, 0 if data else 1))
            if data is None:
                continue
            try:
                match_columns(self, data)
            except (pa.ArrowException, duckdb.Error, OSError, UnicodeDecodeError) as exc:
                self.cannot_read(table, 0, exc)
                continue
            check_rows(self, data)
        check_keys(self, [t for t in selected if t in self.found and t not in self.unreadable])

    def skip(self, table: str, check: str, reason: str) -> None:
        """Report a check that cannot be made on this data, with the reason."""
        self.skipped.append({"table": table, "check": check, "reason": reason})

    def cannot_read(self, table: str, row: int, exc: Exception) -> None:
        """A file that cannot be read (to the end): what was read is reported, the table's keys are not checked."""
        self.unreadable[table] = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        self.results.append(CheckResult(table, "readable", None, 1, 1, [{"row": row, "value": self.unreadable[table]}]))

    def relation(self, table: str) -> str:
        """A DuckDB table expression of the table's written columns, converted to the spec's types."""
        return sql_relation(self.con, self.found[table], self.dataset.tables[table].visible_columns, self.types[table])

    def temp(self, what: str) -> str:
        """A new name for a DuckDB temporary table."""
        return f"esdh_{what}_{next(self.counter)}"

    @contextmanager
    def registered(self, chunk: pa.Table) -> Iterator[None]:
        """``chunk`` visible to DuckDB as ``esdh_chunk``."""
        self.con.register("esdh_chunk", chunk)
        try:
            yield
        finally:
            self.con.unregister("esdh_chunk")
