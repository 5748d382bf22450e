"""The data dictionary of an output folder: ``schema_metadata.json``, in the shape system 004 wrote it.

Everything is derived, nothing is listed by hand: tables, descriptions, constraints, keys and
relationships come from the compiled spec; row counts, column types and nullability from what was
actually written (``WrittenTable``). Only written tables and their visible columns appear. The file
holds no time and no random id, so it is byte-identical across generations of the same spec and seed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from esdh.checks.implied import effective_check
from esdh.output.datapackage import WrittenTable, field_type, json_value
from esdh.plan.planner import Plan
from esdh.spec.columns import Compiled
from esdh.spec.compile import Dataset, TableModel

SCHEMA_METADATA = "schema_metadata.json"


def column_entry(col: Compiled, type_: pa.DataType, nulls: int, key: bool, as_of: dt.date) -> dict[str, Any]:
    """Type as in the datapackage, description, nullability and the constraints: declared, and those the
    generator guarantees (quality/implied.py)."""
    check = effective_check(col, as_of)
    constraints: dict[str, Any] = {name: json_value(getattr(check, name)) for name in type(check).model_fields
                                   if getattr(check, name) is not None} if check else {}
    if col.unique or key:
        constraints["unique"] = True
    return {"type": field_type(type_), "description": col.spec.description,
            "nullable": nulls > 0 or col.null_rate > 0, "constraints": constraints}


def table_entry(dataset: Dataset, model: TableModel, written: WrittenTable, names: set[str]) -> dict[str, Any]:
    keys = model.spec.primary_key_columns
    columns = {f.name: column_entry(model.columns[f.name], f.type, written.null_counts.get(f.name, 0),
                                    keys == [f.name], dataset.spec.as_of) for f in written.schema}
    foreign = [{"column": column, "references_table": table, "references_column": target}
               for column, table, target in dataset.foreign_keys(model.name) if table in names]
    return {"row_count": written.rows, "description": model.spec.description, "columns": columns,
            "primary_key": keys, "foreign_keys": foreign, "unique_keys": [list(g) for g in model.spec.unique],
            "rules": [rule.model_dump(mode="json") for rule in model.spec.rules]}


def per_parent(model: TableModel) -> dict[str, Any]:
    """Children per parent row of a ``rows: {per: ...}`` table, as declared."""
    count = model.count
    low, high = (count, count) if isinstance(count, int) else (count.min, count.max) if count else (0, 0)
    where = getattr(model.spec.rows, "where", None)  # only parents where it holds get children
    return {"min": 0 if where else low, "max": high, **({"where": where} if where else {})}


def _relation(parent: str, child: str, via: str | None, target: str | None, single: bool,
              cardinality: dict[str, Any] | None) -> dict[str, Any]:
    entry = {"parent": parent, "child": child, "type": "one-to-one" if single else "one-to-many", "via": via,
             "references": f"{parent}.{target}" if target else None}
    return {**entry, "cardinality": cardinality} if cardinality else entry


def relationships(dataset: Dataset, tables: list[str]) -> list[dict[str, Any]]:
    """One entry per foreign key between written tables, and one per rows-per link without a key.

    ``type`` is seen from the parent: one-to-one when a parent row has at most one child row (a
    per-parent count of at most 1, or a unique foreign key), else one-to-many. ``cardinality`` is the
    declared number of children per parent row, known for per-parent tables only."""
    out: list[dict[str, Any]] = []
    for child in tables:
        model = dataset.tables[child]
        linked = False
        for column, parent, target in dataset.foreign_keys(child):
            if parent not in tables:
                continue
            col = model.columns[column]
            if parent == model.parent and col.kind == "ref" and col.choose == "parent":
                linked, card = True, per_parent(model)
                out.append(_relation(parent, child, column, target, card["max"] <= 1, card))
            else:
                single = col.unique or model.spec.primary_key_columns == [column]
                out.append(_relation(parent, child, column, target, single, None))
        if model.parent is not None and model.parent in tables and not linked:
            card = per_parent(model)
            out.append(_relation(model.parent, child, None, None, card["max"] <= 1, card))
    return out


def schema_metadata(plan: Plan, written: list[WrittenTable]) -> dict[str, Any]:
    dataset, spec = plan.dataset, plan.dataset.spec
    names = {w.name for w in written}
    tables = {w.name: table_entry(dataset, dataset.tables[w.name], w, names) for w in written}
    return {"dataset": spec.dataset, "version": spec.version, "spec_hash": plan.spec_hash, "tables": tables,
            "relationships": relationships(dataset, [w.name for w in written])}


def write_schema_metadata(folder: Path, plan: Plan, written: list[WrittenTable]) -> Path:
    path = folder / SCHEMA_METADATA
    text = json.dumps(schema_metadata(plan, written), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
