"""The type every column should have in data: the spec's kinds of types and the Arrow types generation makes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from esdh.errors import EsdhError
from esdh.spec.compile import Dataset

KINDS = [(pa.types.is_string, "string"), (pa.types.is_large_string, "string"), (pa.types.is_boolean, "boolean"),
         (pa.types.is_integer, "integer"), (pa.types.is_floating, "number"), (pa.types.is_date, "date"),
         (pa.types.is_timestamp, "datetime")]


def kind(type_: pa.DataType) -> str:
    """The spec's name for an Arrow type (string, integer, number, boolean, date, datetime) or ``other``."""
    return next((name for test, name in KINDS if test(type_)), "other")


def expected_types(dataset: Dataset) -> dict[str, dict[str, pa.DataType]]:
    """Every column's Arrow type, as generation makes it: from the first generated row of each table."""
    from esdh.engine.frame import Frame, columns_at
    from esdh.plan.planner import build_plan

    types: dict[str, dict[str, pa.DataType]] = {}
    try:
        plan = build_plan(dataset, read_columns=columns_at)
    except EsdhError:
        plan = None
    for table, model in dataset.tables.items():
        found: dict[str, pa.DataType] = {}
        if plan is not None and plan.rows.get(table):
            try:
                batch = Frame(plan, table, np.zeros(1, dtype=np.int64)).batch(list(model.columns))
                found = {f.name: f.type for f in batch.schema}
            except (EsdhError, pa.ArrowException):
                found = {}
        for column in model.columns:
            if column not in found:
                found[column] = _static_type(dataset, table, column, ())
        types[table] = found
    return types


def _static_type(dataset: Dataset, table: str, column: str, path: tuple[tuple[str, str], ...]) -> pa.DataType:
    col = dataset.tables[table].columns.get(column)
    if col is None or (table, column) in path:
        return pa.string()
    if col.declared_type is not None:
        return col.declared_type
    if col.kind == "generator" and col.generator is not None:
        return col.generator.output_type()
    if col.kind == "value" and col.value is not None:
        return pa.scalar(col.value).type
    if col.kind in ("ref", "lookup"):
        return _static_type(dataset, col.target_table or "", col.target_column or "", (*path, (table, column)))
    return pa.string()
