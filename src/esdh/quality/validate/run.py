"""Run one validation: find the tables, check their structure and rows table by table, then their keys."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from esdh.checks.results import CheckResult
from esdh.errors import UsageError
from esdh.quality.validate.files import find_tables, relative
from esdh.quality.validate.keys import check_keys
from esdh.quality.validate.read import match_columns
from esdh.quality.validate.report import ValidationReport
from esdh.quality.validate.rows import check_rows
from esdh.quality.validate.session import Validation
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
        check_tables(run, selected)
    report = ValidationReport(dataset.spec.dataset, dataset.spec.version, str(data), run.results, run.skipped,
                              sorted(ignored), {t: d.extra for t, d in found.items() if d.extra})
    report.tables = {t: {"format": d.format, "files": [relative(p, data) for p in d.files], "rows": d.rows}
                     for t, d in found.items()}
    return report


def check_tables(run: Validation, selected: list[str]) -> None:
    """Structure and rows table by table, then the keys of the tables that could be read."""
    import duckdb

    for table in selected:
        data = run.found.get(table)
        run.results.append(CheckResult(table, "table_present", None, 1, 0 if data else 1))
        if data is None:
            continue
        try:
            match_columns(run, data)
        except (pa.ArrowException, duckdb.Error, OSError, ValueError, csv.Error) as exc:
            run.cannot_read(table, 0, exc)
            continue
        if not data.columns and not data.extra:  # an empty file, or one of no header: nothing to key on
            run.cannot_read(table, 0, ValueError(f"{data.files[0].name} has no columns (an empty file?)"))
            continue
        check_rows(run, data)
    keyed = [t for t in selected if t in run.found and t not in run.unreadable]
    try:
        check_keys(run, keyed)
    except duckdb.Error as exc:  # data DuckDB cannot read as a whole although each file opened: say so, once
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        for table in keyed:
            run.skip(table, "keys", f"the keys could not be checked: {reason}")
