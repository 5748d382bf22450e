"""What is read from one table in DuckDB: exact counts and extremes, value frequencies, a systematic sample."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from esdh.quality.drift.sources import literal

SAMPLE_ROWS = 100_000  # rows sampled per table for numeric distributions and correlations
FREQUENCY_LIMIT = 200  # categories fetched per side; a column with fewer has an exact distinct count
NUMERIC_FAMILIES = ("integer", "number", "date", "datetime")
DAYS = "days since 1970-01-01"  # the unit dates and timestamps are compared in


@dataclass
class Stats:
    """Exact counts (and numeric extremes) of one table, from one pass over its files."""

    rows: int
    types: dict[str, str]
    non_null: dict[str, int]
    approx_distinct: dict[str, int]
    extremes: dict[str, tuple[float | None, float | None]]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stats(con: Any, relation: str) -> Stats:
    """Rows, column types, non-null and approximate distinct counts, numeric extremes of one table."""
    types = {row[0]: str(row[1]) for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    numeric = [c for c, t in types.items() if family(t) in NUMERIC_FAMILIES]
    parts = ["count(*)"] + [f"count({_q(c)}), approx_count_distinct({_q(c)})" for c in types]
    parts += [f"min({numeric_expr(c, family(types[c]))}), max({numeric_expr(c, family(types[c]))})"
              for c in numeric]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {relation}").fetchone()
    names, base = list(types), 1 + 2 * len(types)
    return Stats(int(row[0]), types, {c: int(row[1 + 2 * i]) for i, c in enumerate(names)},
                 {c: int(row[2 + 2 * i]) for i, c in enumerate(names)},
                 {c: (row[base + 2 * i], row[base + 2 * i + 1]) for i, c in enumerate(numeric)})


def family(duckdb_type: str) -> str:
    """The kind of a DuckDB type: boolean, integer, number, date, datetime, string or other."""
    t = duckdb_type.upper()
    if t == "BOOLEAN":
        return "boolean"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT", "UHUGEINT"):
        return "integer"
    if t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "number"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    return "string" if t == "VARCHAR" else "other"


def numeric_expr(column: str, type_family: str) -> str:
    """The column as a DOUBLE; dates and timestamps in DAYS."""
    if type_family == "date":
        return f"CAST(date_diff('day', DATE '1970-01-01', {_q(column)}) AS DOUBLE)"
    if type_family == "datetime":
        return f"epoch({_q(column)}) / 86400.0"
    return f"CAST({_q(column)} AS DOUBLE)"


def frequencies(con: Any, relation: str, column: str, only: list[str] | None = None) -> list[tuple[str, int]]:
    """Non-null values of a column as text with their counts, most frequent first (ties by value)."""
    where = f"{_q(column)} IS NOT NULL"
    if only is not None:
        where += f" AND CAST({_q(column)} AS VARCHAR) IN ({', '.join(literal(v) for v in only)})"
    query = (f"SELECT CAST({_q(column)} AS VARCHAR) AS v, count(*) AS n FROM {relation} WHERE {where} "
             f"GROUP BY v ORDER BY n DESC, v LIMIT {FREQUENCY_LIMIT + 1}")
    return [(str(v), int(n)) for v, n in con.execute(query).fetchall()]


def sample(con: Any, relation: str, rows: int, exprs: dict[str, str],
           limit: int = SAMPLE_ROWS) -> dict[str, np.ndarray]:
    """Every k-th row (file order, which DuckDB preserves) of the numeric expressions: at most
    ``limit`` rows, nulls as NaN, row-aligned across columns for correlations."""
    if not exprs:
        return {}
    step = max(1, math.ceil(rows / limit))
    select = ", ".join(f"{expr} AS {_q(name)}" for name, expr in exprs.items())
    reader = con.sql(f"SELECT {select} FROM {relation}").to_arrow_reader(1 << 16)
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in exprs}
    offset = 0
    for batch in reader:
        take = np.arange((-offset) % step, batch.num_rows, step)
        offset += batch.num_rows
        picked = batch.take(take) if step > 1 else batch
        for name in exprs:
            values = picked.column(name).to_numpy(zero_copy_only=False)
            chunks[name].append(np.asarray(values, dtype=np.float64))
    return {name: np.concatenate(parts) if parts else np.empty(0) for name, parts in chunks.items()}
