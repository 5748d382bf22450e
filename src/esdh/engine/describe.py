"""Describe a plan for people and machines: tables, rows, columns, relations, size estimates."""

from __future__ import annotations

from typing import Any

import numpy as np

from esdh.engine.frame import Frame
from esdh.plan.planner import Plan

SAMPLE_ROWS = 1000


def _bytes_per_row(plan: Plan, table: str) -> float:
    """In-memory Arrow bytes per row, measured on a sample of rows."""
    rows = min(SAMPLE_ROWS, plan.rows[table])
    if rows == 0:
        return 0.0
    model = plan.dataset.tables[table]
    batch = Frame(plan, table, np.arange(rows, dtype=np.int64)).batch(model.visible_columns)
    result: float = batch.nbytes / rows
    return result


def describe_plan(plan: Plan) -> dict[str, Any]:
    tables = []
    for name in plan.tables:
        model = plan.dataset.tables[name]
        per_row = _bytes_per_row(plan, name)
        relations = []
        if model.parent:
            count = model.count if model.count is None or isinstance(model.count, int) else model.count.model_dump()
            relations.append({"kind": "children_of", "table": model.parent, "count": count})
        for col in model.columns.values():
            if col.kind == "ref":
                relations.append({"kind": "foreign_key", "column": col.name,
                                  "references": f"{col.target_table}.{col.target_column}", "choose": col.choose})
            elif col.kind == "lookup":
                relations.append({"kind": "lookup", "column": col.name,
                                  "reads": f"{col.target_table}.{col.target_column}", "via": col.via})
        columns = []
        for col in model.columns.values():
            if col.hidden:
                continue
            source = type(col.generator).name if col.generator else (col.spec.expr or col.spec.ref or
                                                                     col.spec.lookup or "value")
            columns.append({"name": col.name, "kind": col.kind, "source": source})
        tables.append({"name": name, "rows": plan.rows[name], "chunks": len(plan.chunks(name)),
                       "primary_key": model.spec.primary_key_columns, "columns": columns,
                       "relations": relations, "estimated_bytes": int(per_row * plan.rows[name])})
    spec = plan.dataset.spec
    return {"dataset": spec.dataset, "version": spec.version, "seed": plan.seed, "as_of": spec.as_of.isoformat(),
            "scale": plan.scale, "chunk_size": plan.chunk_size, "tables": tables,
            "total_rows": sum(t["rows"] for t in tables),
            "estimated_bytes": sum(t["estimated_bytes"] for t in tables)}


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} B"


def render_plan(info: dict[str, Any]) -> str:
    lines = [f"dataset {info['dataset']} {info['version']}  seed {info['seed']}  as_of {info['as_of']}  "
             f"scale {info['scale']}",
             f"{info['total_rows']:,} rows in {len(info['tables'])} tables, about {_size(info['estimated_bytes'])} "
             "in memory (files are usually smaller)", ""]
    for table in info["tables"]:
        key = f"  key {', '.join(table['primary_key'])}" if table["primary_key"] else ""
        lines.append(f"{table['name']}: {table['rows']:,} rows in {table['chunks']} chunk(s), "
                     f"~{_size(table['estimated_bytes'])}{key}")
        for rel in table["relations"]:
            if rel["kind"] == "children_of":
                lines.append(f"  children of {rel['table']}: {rel['count']}")
            elif rel["kind"] == "foreign_key":
                lines.append(f"  {rel['column']} -> {rel['references']} ({rel['choose']})")
            else:
                lines.append(f"  {rel['column']} = {rel['reads']} via {rel['via']}")
        lines.append("  columns: " + ", ".join(c["name"] for c in table["columns"]))
    return "\n".join(lines)
