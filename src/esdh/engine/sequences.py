"""Per-parent aggregates and windows over siblings, vectorised over whole chunks.

Children of a parent are contiguous and in parent order, so an aggregate is a segmented reduction of
the children's rows, and a window (a running total, the previous value) is a segmented scan. A chunk
may start or end in the middle of a parent's children: a window therefore computes every sibling of
the parents it touches and keeps the rows asked for, so values never depend on the chunking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.errors import EsdhError
from esdh.expr.functions import round_decimals

if TYPE_CHECKING:
    from esdh.plan.planner import Plan
    from esdh.spec.columns import Compiled

# a table's column at some rows, as the frame computes it (given by the frame, so this module needs none)
ValuesAt = Callable[[str, np.ndarray, str], pa.Array]


def _ranges(first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The rows [first_i, first_i + count_i) of every segment, concatenated."""
    total = int(count.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(first - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
    return starts + np.arange(total, dtype=np.int64)


def _numbers(values: pa.Array, where: str) -> np.ndarray:
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise EsdhError(f"{where}: needs numbers, got {values.type}")
    result: np.ndarray = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
    return result


def aggregate_children(plan: Plan, table: str, rows: np.ndarray, col: Compiled,
                       values_at: ValuesAt) -> pa.Array:
    """sum / count / mean / min / max / first / last of a child column, per parent row."""
    child = col.target_table or ""
    card = plan.cardinality[child]
    first, count = card.first_child(rows), card.count(rows)
    how = col.spec.aggregate
    n = len(rows)
    if how == "count":
        return pa.array(count, pa.int64())

    children = _ranges(first, count)
    values = values_at(child, children, col.target_column or "")
    empty = count == 0
    if how in ("first", "last"):
        ends = np.cumsum(count)
        pick = np.where(empty, 0, (ends - count) if how == "first" else ends - 1)
        out = values.take(pa.array(pick)) if len(values) else pa.nulls(n, values.type)
        return pc.if_else(pa.array(empty), pa.scalar(None, out.type), out) if empty.any() else out
    temporal = pa.types.is_temporal(values.type)
    if temporal and how in ("min", "max"):  # dates and timestamps reduce as their integer ticks
        physical = pa.int32() if pa.types.is_date32(values.type) else pa.int64()
        ticks = _numbers(pc.cast(values, physical), "")
        out = _reduce_extreme(how, ticks, count, empty)
        return pc.if_else(pa.array(empty), pa.scalar(None, physical), pa.array(out, physical)).cast(values.type)
    data = _numbers(values, f"{table}.{col.name}")
    group = np.repeat(np.arange(n), count)
    if how in ("sum", "mean"):
        total = np.bincount(group, weights=data.astype(np.float64), minlength=n)
        result = total if how == "sum" else np.divide(total, np.maximum(count, 1))
        if how == "sum" and pa.types.is_integer(values.type):
            return pa.array(np.bincount(group, weights=data, minlength=n).round().astype(np.int64))
    else:
        result = _reduce_extreme(how, data, count, empty)
    if col.spec.round is not None and result.dtype.kind == "f":
        result = np.round(result, col.spec.round)
    out = pa.array(result)
    nulls = empty if how != "sum" else None
    return pc.if_else(pa.array(nulls), pa.scalar(None, out.type), out) if nulls is not None and nulls.any() else out


def _reduce_extreme(how: str | None, data: np.ndarray, count: np.ndarray, empty: np.ndarray) -> np.ndarray:
    result = np.zeros(len(count), dtype=np.float64 if data.dtype.kind == "f" else np.int64)
    if len(data):
        reducer = np.maximum if how == "max" else np.minimum
        result[~empty] = reducer.reduceat(data, (np.cumsum(count) - count)[~empty])
    return result


def window_over_siblings(plan: Plan, table: str, rows: np.ndarray, col: Compiled,
                         values_at: ValuesAt) -> pa.Array:
    """A running value over the siblings that precede (or follow) each row, in row order."""
    card = plan.cardinality[table]
    parents = np.unique(card.parent_of(rows))
    first, count = card.first_child(parents), card.count(parents)
    siblings = _ranges(first, count)  # every sibling of every parent this chunk touches, sorted
    values = values_at(table, siblings, col.target_column or "")
    starts = np.cumsum(count) - count  # positions of each parent's first child within ``siblings``
    segment = np.repeat(np.arange(len(parents)), count)
    result = _scan(col.spec.window or "", values, segment, starts, f"{table}.{col.name}")
    if col.spec.round is not None and pa.types.is_floating(result.type):
        result = round_decimals(result, col.spec.round)
    return result.take(pa.array(np.searchsorted(siblings, rows)))


def _scan(how: str, values: pa.Array, segment: np.ndarray, starts: np.ndarray, where: str) -> pa.Array:
    n = len(values)
    if how in ("lag", "lead"):
        shifted = np.arange(n) + (-1 if how == "lag" else 1)
        valid = np.zeros(n, dtype=bool)
        if n:
            valid = (shifted >= 0) & (shifted < n)
            valid[valid] = segment[shifted[valid]] == segment[valid]
        out = values.take(pa.array(np.where(valid, shifted, 0))) if n else values
        return pc.if_else(pa.array(valid), out, pa.scalar(None, values.type)) if n else out
    if how in ("first", "last"):
        ends = np.concatenate([starts[1:], [n]]) - 1 if len(starts) else starts
        return values.take(pa.array((starts if how == "first" else ends)[segment]))
    data = _numbers(values, where)
    if how in ("cumsum", "cumprod"):
        # One row per parent, padded: each parent's scan runs along its own row, so the floating-point
        # result of a sibling never depends on which other parents the chunk happened to touch.
        lengths = np.diff(np.concatenate([starts, [n]]))
        position = np.arange(n) - starts[segment]
        matrix = np.full((len(starts), int(lengths.max()) if n else 0), 0 if how == "cumsum" else 1,
                         dtype=np.float64 if data.dtype.kind == "f" else np.int64)
        matrix[segment, position] = data
        scanned = np.cumsum(matrix, axis=1) if how == "cumsum" else np.cumprod(matrix, axis=1)
        result = scanned[segment, position]
    else:  # cummax / cummin: ranks keep the scan exact; segments are separated by an offset
        order = np.argsort(data, kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        key = rank if how == "cummax" else (n - 1 - rank)
        scanned = np.maximum.accumulate(segment * n + key) - segment * n
        result = data[order][scanned if how == "cummax" else (n - 1 - scanned)]
    return pa.array(result)
