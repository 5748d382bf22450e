"""Read a generated folder of Parquet files back, for tests that check rules from the written data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq


def read(folder: Path, table: str) -> pa.Table:
    return pq.read_table(folder / f"{table}.parquet")


def sql(folder: Path, query: str) -> list[tuple]:
    """Run a query over the folder's tables (each Parquet file is a view named after its table)."""
    con = duckdb.connect()
    for path in folder.glob("*.parquet"):
        con.execute(f"CREATE VIEW {path.stem} AS SELECT * FROM read_parquet('{path}')")
    return con.execute(query).fetchall()
