"""The files as DuckDB sees them: quoting, the table expression of a table in the spec's types, Arrow results."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from esdh.quality.validate.files import TableData
from esdh.quality.validate.kinds import kind

DUCK_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE",
              "datetime": "TIMESTAMP"}


def quote(name: str) -> str:
    """``name`` as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_list(paths: list[Path]) -> str:
    """The paths as a DuckDB list literal of strings."""
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def json_source(con: Any, files: list[Path]) -> str:
    """read_json over the files with every key read as text (converted like CSV text afterwards)."""
    listed = sql_list(files)
    keys = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_json({listed})").fetchall()]
    columns = ", ".join("'" + k.replace("'", "''") + "': 'VARCHAR'" for k in keys)
    return f"read_json({listed}, columns={{{columns}}})"


def csv_source(files: list[Path]) -> str:
    """read_csv over the files with the first file's header as the columns, all text. Nothing is sniffed: a
    file DuckDB cannot sniff is still read, its malformed lines skipped as the row reader skips them (they
    fail ``readable``), so that the key checks see the same rows."""
    with files[0].open(newline="", encoding="utf-8", errors="replace") as handle:
        header = next(csv.reader(handle), [])
    columns = ", ".join("'" + name.replace("'", "''") + "': 'VARCHAR'" for name in dict.fromkeys(header))
    return (f"read_csv({sql_list(files)}, header=true, auto_detect=false, columns={{{columns}}}, "
            "allow_quoted_nulls=false, delim=',', quote='\"', escape='\"', ignore_errors=true)")


def arrow(result: Any) -> pa.Table:
    """A DuckDB result as an Arrow table."""
    for method in ("to_arrow_table", "fetch_arrow_table", "arrow"):  # the name differs between DuckDB versions
        if hasattr(result, method):
            return getattr(result, method)()
    raise AttributeError("DuckDB result without an Arrow export")


def positions(count: int) -> pa.Array:
    """0 .. count - 1: the position of each row of a chunk, which DuckDB joins return in any order."""
    return pa.array(np.arange(count, dtype=np.int64))


def relation(con: Any, data: TableData, columns: list[str], types: dict[str, pa.DataType]) -> str:
    """A DuckDB table expression of the table's written ``columns``, converted to the spec's ``types``."""
    files = sql_list(data.files)
    if data.format == "parquet":
        source = f"read_parquet({files})"
    elif data.format == "csv":
        source = csv_source(data.files)
    else:
        source = json_source(con, data.files)
    select = []
    for column in columns:
        target = kind(types[column])
        duck = DUCK_TYPES.get(target, "VARCHAR")
        if column not in data.columns:
            select.append(f"CAST(NULL AS {duck}) AS {quote(column)}")
            continue
        stored, read = quote(data.columns[column]), kind(data.types[column])
        if read == target:
            expr = stored
        elif target == "integer" and read == "string":
            expr = f"CASE WHEN regexp_full_match({stored}, '-?[0-9]+') THEN TRY_CAST({stored} AS BIGINT) END"
        elif target == "integer" and read == "number":
            expr = f"CASE WHEN {stored} = trunc({stored}) THEN TRY_CAST({stored} AS BIGINT) END"
        else:
            expr = f"TRY_CAST({stored} AS {duck})"
        select.append(f"{expr} AS {quote(column)}")
    return f"(SELECT {', '.join(select)} FROM {source})"
