"""Reading a table's files: their columns matched to the spec's, then batch by batch in row order, as read and
converted to the spec's types."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from esdh.checks.results import CheckResult
from esdh.checks.rows import convert
from esdh.quality.validate.files import TableData, relative
from esdh.quality.validate.kinds import kind
from esdh.quality.validate.sql import json_source, quote, sql_list
from esdh.spec.compile import MARKER_COLUMN

if TYPE_CHECKING:
    from esdh.quality.validate.session import Validation

CHUNK_ROWS = 65_536
# A file of more columns is not read: no spec has so many, and DuckDB and Arrow parse every column of a CSV
# line even when a few are selected (a header of a million columns would take minutes and gigabytes).
MAX_COLUMNS = 10_000


def header_columns(path: Path, fmt: str) -> list[str] | None:
    """The column names of a CSV or Parquet file (None for other formats), read without its rows."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    return None


def too_wide(names: list[str] | dict[str, Any]) -> str | None:
    """Why a file of these columns is not read, or None."""
    if len(names) > MAX_COLUMNS:
        return f"it has {len(names):,} columns; a file of more than {MAX_COLUMNS:,} is not read"
    return None
TypedBatch = tuple[int, pa.RecordBatch, pa.RecordBatch]  # first row, batch as read, batch in the spec's types


def match_columns(run: Validation, data: TableData) -> None:
    """Match the files' columns to the spec's; a missing written column fails ``column_present``."""
    if data.format == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(data.files[0])
        if too_wide(schema.names):
            raise ValueError(f"{data.files[0].name}: {too_wide(schema.names)}")
        read = {f.name: f.type for f in schema}
    elif data.format == "csv":
        with data.files[0].open(newline="", encoding="utf-8-sig") as handle:
            read = dict.fromkeys(next(csv.reader(handle), []), pa.string())
        if too_wide(read):
            raise ValueError(f"{data.files[0].name}: {too_wide(read)}")
    else:
        described = run.con.execute(f"DESCRIBE SELECT * FROM read_json({sql_list(data.files)})").fetchall()
        read = {row[0]: pa.string() for row in described}
    by_lower = {name.lower(): name for name in read}
    model = run.dataset.tables[data.table]
    for column in model.visible_columns:
        name = by_lower.get(column.lower())
        if name is not None:
            data.columns[column] = name
            kept = read[name]
            data.types[column] = kept.value_type if pa.types.is_dictionary(kept) else kept
        elif column != MARKER_COLUMN or column in model.spec.columns:  # the implicit marker is optional
            run.results.append(CheckResult(data.table, "column_present", column, 1, 1))
    spec_lower = {c.lower() for c in model.columns}
    data.extra = [name for name in read if name.lower() not in spec_lower]


def raw_batches(run: Validation, data: TableData, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """The given columns (spec names) of a table as read, batch by batch in row order."""
    names = [data.columns[c] for c in columns]
    if not names:
        return  # none of the spec's columns is there: column_present says so
    if data.format == "parquet":
        import pyarrow.parquet as pq

        for path in data.files:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS, columns=names):
                yield _renamed(batch, columns)
    elif data.format == "csv":
        import pyarrow.csv as pcsv

        for path in data.files:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                header = next(csv.reader(handle), [])
            options = pcsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()), include_columns=names,
                                          strings_can_be_null=True, quoted_strings_can_be_null=False)

            def malformed(row: Any, path: Path = path) -> str:
                if not data.scanned:  # the first pass over the table counts them, later passes skip them
                    data.malformed.append({"file": relative(path, path.parent.parent) if len(data.files) > 1
                                           else path.name, "line": row.number, "value": row.text[:200]})
                return "skip"  # counted as a failure of 'readable'; the rows after it are still checked

            reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 23, use_threads=False),
                                   parse_options=pcsv.ParseOptions(invalid_row_handler=malformed),
                                   convert_options=options)
            for batch in reader:
                yield _renamed(batch, columns)
    else:
        select = ", ".join(quote(n) for n in names)
        cursor = run.ordered.cursor()  # a stream of its own: a lookup may read another table meanwhile
        try:
            relation = cursor.sql(f"SELECT {select} FROM {json_source(cursor, data.files)}")
            reader = relation.to_arrow_reader(CHUNK_ROWS) if hasattr(relation, "to_arrow_reader") else \
                relation.fetch_record_batch(CHUNK_ROWS)
            for batch in reader:
                yield _renamed(batch, columns)
        finally:
            cursor.close()


def typed_batches(run: Validation, table: str, columns: list[str]) -> Iterator[TypedBatch]:
    """(first row, batch as read, batch converted to the spec's types) of the given columns."""
    data = run.found[table]
    start = 0
    for raw in raw_batches(run, data, columns):
        typed = [typed_values(run, table, c, raw.column(i)) for i, c in enumerate(columns)]
        yield start, raw, pa.RecordBatch.from_arrays(typed, names=columns)
        start += raw.num_rows


def typed_values(run: Validation, table: str, column: str, values: pa.Array) -> pa.Array:
    """One column's values as read, converted to its expected type (a value that does not convert is null)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_timestamp(values.type) and values.type.tz is not None:
        values = values.cast(pa.timestamp(values.type.unit))  # UTC wall time: the spec's datetimes have no zone
    expected = run.types[table][column]
    if kind(values.type) == kind(expected):
        return values  # the same kind (int32 for int64, milliseconds for seconds) is kept as stored
    if pa.types.is_timestamp(expected) and kind(values.type) == "string":
        expected = pa.timestamp("us")  # text may carry fractions of a second
    return convert(values, expected)


def _renamed(batch: pa.RecordBatch, columns: list[str]) -> pa.RecordBatch:
    arrays = [a.dictionary_decode() if pa.types.is_dictionary(a.type) else a for a in batch.columns]
    return pa.RecordBatch.from_arrays(arrays, names=columns)
