"""Hidden columns rebuilt from written data, for the rules that read them: expressions computed, lookups joined
to their parent table in DuckDB (a parent's column by key, also used to locate orphans)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.expr import evaluate
from esdh.quality.validate.kinds import kind
from esdh.quality.validate.read import typed_batches
from esdh.quality.validate.sql import DUCK_TYPES, arrow, positions, quote

if TYPE_CHECKING:
    from esdh.quality.validate.session import Validation


class Derived:
    """Hidden columns of one batch rebuilt from the written ones: expressions computed, lookups joined."""

    def __init__(self, run: Validation, table: str, batch: pa.RecordBatch):
        self.run = run
        self.model = run.dataset.tables[table]
        self.rows = batch.num_rows
        self.columns: dict[str, pa.Array] = dict(zip(batch.schema.names, batch.columns, strict=True))
        self.as_of = pa.scalar(run.dataset.spec.as_of, pa.date32())

    def __call__(self, name: str) -> pa.Array:
        if name in self.columns:
            return self.columns[name]
        col = self.model.columns[name]
        if col.kind == "value":
            out = pa.nulls(self.rows) if col.value is None else pa.repeat(pa.scalar(col.value), self.rows)
        elif col.kind == "expr":
            out = evaluate(col.expression, self._resolve)  # type: ignore[arg-type]
            if isinstance(out, pa.Scalar):
                out = pa.array([out.as_py()] * self.rows, out.type)
        elif col.kind == "lookup":
            via = self.model.columns[col.via or ""]
            out = look_up(self.run, col.target_table or "", via.target_column or "", col.target_column or "",
                          self(col.via or ""))
        else:
            raise KeyError(name)
        if isinstance(out, pa.ChunkedArray):
            out = out.combine_chunks()
        if col.declared_type is not None and out.type != col.declared_type:
            out = pc.cast(out, col.declared_type)
        self.columns[name] = out
        return out

    def _resolve(self, name: str) -> pa.Array | pa.Scalar:
        if name == "as_of" and name not in self.model.columns:
            return self.as_of
        return self(name)


def lookup_table(run: Validation, parent: str, key: str, value: str) -> str:
    """A DuckDB table (k, v): each key of ``parent`` once, with its ``value``."""
    name = run.lookups.get((parent, key, value))
    if name is not None:
        return name
    name = run.temp("lookup")
    data = run.found[parent]
    if key in data.columns and value in data.columns:
        run.con.execute(f"CREATE TEMP TABLE {name} AS SELECT {quote(key)} AS k, any_value({quote(value)}) AS v "
                        f"FROM {run.relation(parent)} WHERE {quote(key)} IS NOT NULL GROUP BY k")
    else:  # a hidden column of the parent: rebuilt batch by batch, then each key kept once
        types = run.types[parent]
        stage = run.temp("stage")
        run.con.execute(f"CREATE TEMP TABLE {stage} (k {DUCK_TYPES.get(kind(types[key]), 'VARCHAR')}, "
                        f"v {DUCK_TYPES.get(kind(types[value]), 'VARCHAR')})")
        for _, _, typed in typed_batches(run, parent, list(data.columns)):
            derived = Derived(run, parent, typed)
            with run.registered(pa.table({"k": derived(key), "v": derived(value)})):
                run.con.execute(f"INSERT INTO {stage} SELECT k, v FROM esdh_chunk")
        run.con.execute(f"CREATE TEMP TABLE {name} AS SELECT k, any_value(v) AS v FROM {stage} "
                        "WHERE k IS NOT NULL GROUP BY k")
    run.lookups[(parent, key, value)] = name
    return name


def look_up(run: Validation, parent: str, key: str, value: str, keys: pa.Array) -> pa.Array:
    """``parent.value`` of the row whose ``key`` is each of ``keys`` (null where there is none)."""
    name = lookup_table(run, parent, key, value)
    with run.registered(pa.table({"pos": positions(len(keys)), "k": keys})):
        found = arrow(run.con.sql(f"SELECT c.pos, l.v FROM esdh_chunk c LEFT JOIN {name} l ON c.k = l.k"))
    order = np.argsort(found.column(0).to_numpy(), kind="stable")  # rows come back in any order
    return found.column(1).combine_chunks().take(pa.array(order))
