"""Comparing two output folders: their tables paired by name, each pair compared column by column."""

from __future__ import annotations

from pathlib import Path

from esdh.errors import UsageError
from esdh.quality.drift.queries import SAMPLE_ROWS
from esdh.quality.drift.report import DriftReport
from esdh.quality.drift.sources import open_folder
from esdh.quality.drift.table_pair import TablePair
from esdh.quality.drift.thresholds import Thresholds


def compare_folders(current: Path, reference: Path, thresholds: Thresholds | None = None,
                    sample_rows: int = SAMPLE_ROWS) -> DriftReport:
    """Quality and drift of the ``current`` output folder against the ``reference`` one; numeric
    distributions and correlations use at most ``sample_rows`` rows of each table."""
    import duckdb

    from esdh.output.tables import bounded_duckdb_config

    th = thresholds or Thresholds()
    con = duckdb.connect(config=bounded_duckdb_config())  # folders of any size: bounded memory
    try:
        cur_f, ref_f = open_folder(con, Path(current)), open_folder(con, Path(reference))
        report = DriftReport(cur_f.identity(), ref_f.identity(), th)
        names = list(ref_f.tables) + [t for t in cur_f.tables if t not in ref_f.tables]
        for name in names:
            ref_t, cur_t = ref_f.tables.get(name), cur_f.tables.get(name)
            if ref_t is not None and cur_t is not None:
                try:
                    pair = TablePair(con, ref_t, cur_t, th, sample_rows)
                    report.tables[name] = pair.compare(name, report.columns)
                except duckdb.Error as exc:
                    raise UsageError(f"table {name!r} cannot be read: {exc}") from None
                continue
            present = cur_t or ref_t
            assert present is not None
            row = con.execute(f"SELECT count(*) FROM {present.relation}").fetchone()
            assert row is not None  # count(*) always gives a row
            count = int(row[0])
            status, side = ("added", "current folder") if cur_t else ("removed", "reference")
            report.tables[name] = {"status": status, "format": {("current" if cur_t else "reference"): present.format},
                                   "rows": {"reference": None if cur_t else count, "current": count if cur_t else None,
                                            "change": None},
                                   "correlation": None, "verdict": "warn", "reasons": [f"table only in the {side}"]}
        return report
    finally:
        con.close()
