"""Run one generator outside a spec, for generator unit tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from esdh.generators.base import Context, registry


class DictSource:
    """Other columns of the same rows, given up front."""

    def __init__(self, columns: dict[str, pa.Array] | None = None):
        self.columns = columns or {}

    def values(self, column: str) -> pa.Array:
        return self.columns[column]


def run_generator(name: str, params: dict | None = None, rows: np.ndarray | int = 1000, *,
                  column: str = "c", table: str = "t", seed: int = 1, total_rows: int | None = None,
                  unique: bool = False, columns: dict[str, pa.Array] | None = None,
                  as_of: dt.date = dt.date(2026, 1, 1)) -> pa.Array:
    """Validate params, build the generator and produce values for ``rows``."""
    cls = registry()[name]
    gen = cls(cls.Params(**(params or {})))
    rows = np.arange(rows, dtype=np.int64) if isinstance(rows, int) else np.asarray(rows, dtype=np.int64)
    ctx = Context(seed=seed, table=table, column=column, rows=rows,
                  total_rows=total_rows if total_rows is not None else int(rows.max()) + 1 if len(rows) else 0,
                  as_of=as_of, unique=unique, source=DictSource(columns), stream_name=gen.stream_name(column))
    out = gen.generate(ctx)
    assert len(out) == len(rows)
    assert out.type == gen.output_type(), (out.type, gen.output_type())
    return out
