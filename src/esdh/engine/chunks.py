"""A table's rows as frames and record batches, chunk by chunk in row order: the one loop every consumer of
generated rows (file writers, HTTP streams, previews, in-memory tables) goes through."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from esdh.engine.frame import Frame
from esdh.plan.planner import Plan

SAMPLE_ROWS = 4096


def frames(plan: Plan, table: str, start: int = 0, stop: int | None = None,
           step: int | None = None) -> Iterator[Frame]:
    """One frame per chunk of rows [start, stop) of the table (default: all), ``step`` rows each (default:
    the plan's chunk size); chunks start at ``start`` + a multiple of ``step``."""
    stop = plan.rows[table] if stop is None else stop
    step = step or plan.chunk_size
    for first in range(start, stop, step):
        yield Frame(plan, table, np.arange(first, min(first + step, stop), dtype=np.int64))


def batches(plan: Plan, table: str, columns: list[str] | None = None, schema: pa.Schema | None = None,
            step: int | None = None) -> Iterator[pa.RecordBatch]:
    """The table's ``columns`` (default: the visible ones, or ``schema``'s), one record batch per chunk, cast
    to ``schema`` when one is given."""
    names = columns or (schema.names if schema is not None else plan.dataset.tables[table].visible_columns)
    for frame in frames(plan, table, step=step):
        batch = frame.batch(names)
        yield batch.cast(schema) if schema is not None and batch.schema != schema else batch


def sample(plan: Plan, table: str, rows: int = SAMPLE_ROWS) -> pa.RecordBatch:
    """The table's first rows (at least one row's worth of schema, even for an empty table). Kept on the plan:
    the memory check, the file layout and the schema all look at the same first rows."""
    model = plan.dataset.tables[table]
    count = min(rows, plan.rows[table])
    if count == 0:
        return pa.RecordBatch.from_pylist([], schema=pa.schema([(c, pa.string()) for c in model.visible_columns]))
    kept: dict[tuple[object, ...], pa.RecordBatch] = vars(plan).setdefault("_samples", {})
    key = (table, count, plan.seed, tuple(plan.rows.items()))  # row counts decide a parent's children
    if key not in kept:
        kept[key] = Frame(plan, table, np.arange(count, dtype=np.int64)).batch(model.visible_columns)
    return kept[key]


def schema(plan: Plan, table: str) -> pa.Schema:
    """The Arrow schema of a table, found by generating its first row."""
    return sample(plan, table, rows=1).schema
