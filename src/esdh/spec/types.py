"""Types known when a spec is compiled: what a column's values are before its declared ``type`` is applied,
and whether they can take that type. A cast that would fail is a spec error with a line, not a failure
halfway through generating a table."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.generators.base import Context
from esdh.spec.columns import Compiled


def produced_type(col: Compiled) -> pa.DataType | None:
    """The type a column's values have before any declared type is applied (None: known only later)."""
    if col.kind == "generator" and col.generator is not None:
        return col.generator.output_type()
    if col.kind == "value" and col.value is not None:
        try:
            return pa.scalar(col.value).type
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
    return None


_SAMPLE = 256  # rows of a generator made at compile time to see that they fit a declared type


def cast_problem(col: Compiled, as_of: dt.date) -> str:
    """Which values of a column cannot be cast to its declared type ('' if none are known not to fit)."""
    target, produced = col.declared_type, produced_type(col)
    if produced is None or produced == target:
        return ""
    try:
        pc.cast(pa.array([], produced), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return f"values of type {produced}"
    if col.kind == "value":
        values = pa.array([col.value])
    elif col.generator is not None and "enum" in col.generator.bounds(as_of):
        values = pa.array(col.generator.bounds(as_of)["enum"], produced)
    elif col.generator is not None and not col.generator.dependencies():
        rows = np.arange(_SAMPLE, dtype=np.int64)
        ctx = Context(seed=0, table="", column=col.name, rows=rows, total_rows=_SAMPLE, as_of=as_of, unique=False,
                      source=_NoColumns(), stream_name=col.generator.stream_name(col.name))
        values = col.generator.generate(ctx)
    else:
        return ""
    try:
        pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for value in values:
            try:
                pc.cast(pa.array([value.as_py()], produced), target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return f"values such as {value.as_py()!r} ({produced})"
        return f"values of type {produced}"
    return ""


_PICKING = ("first", "last", "min", "max")  # aggregates whose values are values of the column they read


def copied_cast_problem(col: Compiled, tables: dict[str, dict[str, Compiled]]) -> str:
    """For a ref, a lookup or an aggregate that picks a value (first, last, min, max): whether the type of the
    column it copies can be cast to the declared one at all."""
    source: Compiled | None = col
    for _ in range(len(tables) + 1):  # follow lookups of lookups; a cycle is reported elsewhere
        if source is None or source.target_table not in tables or not (
                source.kind in ("ref", "lookup") or source.spec.aggregate in _PICKING):
            break
        source = tables[source.target_table].get(source.target_column or "")
        if source is not None and source.declared_type is not None:
            break
    if source is None or source is col:
        return ""
    produced = source.declared_type or produced_type(source)
    if produced is None or produced == col.declared_type:
        return ""
    try:
        pc.cast(pa.array([], produced), col.declared_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return f"values of type {produced} (copied from {source.name})"
    return ""


class _NoColumns:
    """The column source of a generator sampled on its own (it reads no other column)."""

    def values(self, column: str) -> pa.Array:
        raise KeyError(column)
