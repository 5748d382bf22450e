"""A plan described for people and machines (tables, rows, columns, relations, size estimates; ``esdh plan``),
and the cost of planning estimated from a spec before any plan is made (the API refuses requests with it)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypedDict

from esdh import limits
from esdh.engine import chunks
from esdh.errors import UsageError
from esdh.plan.planner import Plan
from esdh.relational.cardinality import most_children
from esdh.spec.compile import Dataset
from esdh.spec.model import Count

PLAN_PARENT_ROWS = 50_000_000  # parent rows a plan may place (about half a second of planning)
MOST_ROWS = 2**62  # any larger bound is shown as this
CHUNK_FACTOR = 3  # peak memory of a chunk: its Arrow columns, intermediate arrays and the encoder's buffers


class ColumnDescription(TypedDict):
    """A column of a described plan and where its values come from."""

    name: str
    kind: str
    source: str


class RelationDescription(TypedDict, total=False):
    """A relation of a described plan's table (children of a parent, a foreign key, a lookup)."""

    kind: Literal["children_of", "foreign_key", "lookup"]
    table: str
    count: int | dict[str, object] | None
    column: str
    references: str
    choose: str | None
    reads: str
    via: str | None


class TableDescription(TypedDict):
    """A table of a described plan: rows, chunks, key, columns, relations, estimated bytes."""

    name: str
    rows: int
    chunks: int
    primary_key: list[str]
    columns: list[ColumnDescription]
    relations: list[RelationDescription]
    estimated_bytes: int
    estimated_rows: bool


class PlanDescription(TypedDict):
    """A plan described (``esdh plan --json``)."""

    dataset: str
    version: str
    seed: int
    as_of: str
    scale: float
    chunk_size: int
    tables: list[TableDescription]
    total_rows: int
    estimated_bytes: int
    estimated_chunk_bytes: int


def _bytes_per_row(plan: Plan, table: str) -> float:
    """In-memory Arrow bytes per row, measured on a sample of rows."""
    rows = min(chunks.SAMPLE_ROWS, plan.rows[table])
    if rows == 0:
        return 0.0
    return float(chunks.sample(plan, table).nbytes / rows)


def row_counts(plan: Plan) -> dict[str, int]:
    """The rows the plan generates, per table it writes."""
    return {t: plan.rows[t] for t in plan.tables}


def chunk_bytes(plan: Plan, table: str, per_row: float | None = None) -> int:
    """Estimated peak memory of computing one chunk of ``table``: chunk rows x bytes per row x a factor."""
    if per_row is None:
        per_row = _bytes_per_row(plan, table)
    return int(min(plan.chunk_size, plan.rows[table]) * per_row * CHUNK_FACTOR)


def check_chunk_memory(plan: Plan) -> None:
    """Refuse a chunk size whose estimated memory per chunk exceeds ``esdh.limits.CHUNK_BYTES``."""
    limit = limits.CHUNK_BYTES
    for name in plan.tables:
        per_row = _bytes_per_row(plan, name)
        need = chunk_bytes(plan, name, per_row)
        if need > limit.value:
            fits = max(1, int(limit.value / (per_row * CHUNK_FACTOR)))
            raise UsageError(f"--chunk-size {plan.chunk_size}: a chunk of {name} needs about {_size(need)} of "
                             f"memory, beyond the {limit.what} limit of {_size(limit.value)}; use --chunk-size "
                             f"{fits} or less, or {limit.hint()}")


def describe_plan(plan: Plan) -> PlanDescription:
    """Tables (rows, chunks, key, columns, relations, estimated in-memory bytes) and totals of a plan; rows
    marked ``estimated_rows`` are extrapolated (``esdh.plan(estimate=True)``)."""
    tables: list[TableDescription] = []
    peak = 0
    for name in plan.tables:
        model = plan.dataset.tables[name]
        per_row = _bytes_per_row(plan, name)
        peak = max(peak, chunk_bytes(plan, name, per_row))
        relations: list[RelationDescription] = []
        if model.parent:
            count = model.count.model_dump() if isinstance(model.count, Count) else model.count
            relations.append({"kind": "children_of", "table": model.parent, "count": count})
        for col in model.columns.values():
            if col.kind == "ref":
                relations.append({"kind": "foreign_key", "column": col.name,
                                  "references": f"{col.target_table}.{col.target_column}", "choose": col.choose})
            elif col.kind == "lookup":
                relations.append({"kind": "lookup", "column": col.name,
                                  "reads": f"{col.target_table}.{col.target_column}", "via": col.via})
        columns: list[ColumnDescription] = []
        for col in model.columns.values():
            if col.hidden:
                continue
            source = type(col.generator).name if col.generator else (col.spec.expr or col.spec.ref or
                                                                     col.spec.lookup or "value")
            columns.append({"name": col.name, "kind": col.kind, "source": source})
        tables.append({"name": name, "rows": plan.rows[name], "chunks": -(-plan.rows[name] // plan.chunk_size),
                       "primary_key": model.spec.primary_key_columns, "columns": columns,
                       "relations": relations, "estimated_bytes": int(per_row * plan.rows[name]),
                       "estimated_rows": name in plan.estimated})
    spec = plan.dataset.spec
    return {"dataset": spec.dataset, "version": spec.version, "seed": plan.seed, "as_of": spec.as_of.isoformat(),
            "scale": plan.scale, "chunk_size": plan.chunk_size, "tables": tables,
            "total_rows": sum(t["rows"] for t in tables),
            "estimated_bytes": sum(t["estimated_bytes"] for t in tables), "estimated_chunk_bytes": peak}


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} B"


def render_plan(info: PlanDescription) -> str:
    """A plan's description as the text ``esdh plan`` prints."""
    about = "about " if any(t["estimated_rows"] for t in info["tables"]) else ""
    lines = [f"dataset {info['dataset']} {info['version']}  seed {info['seed']}  as_of {info['as_of']}  "
             f"scale {info['scale']}",
             f"{about}{info['total_rows']:,} rows in {len(info['tables'])} tables, "
             f"about {_size(info['estimated_bytes'])} in memory (files are usually smaller); about "
             f"{_size(info['estimated_chunk_bytes'])} of memory per chunk of {info['chunk_size']:,} rows", ""]
    for table in info["tables"]:
        key = f"  key {', '.join(table['primary_key'])}" if table["primary_key"] else ""
        about = "about " if table["estimated_rows"] else ""
        lines.append(f"{table['name']}: {about}{table['rows']:,} rows in {table['chunks']:,} chunk(s), "
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


# -- the cost of planning, before planning --------------------------------------------------------------


@dataclass(frozen=True)
class PlanningCost:
    """Upper bounds of the rows a plan of a spec would have, known before planning: ``bounds`` per table,
    and ``parent_rows``, the rows of the tables whose children the planner places (it does so for every
    child table, asked for or not). ``budget`` is the most parent rows a plan of ``limit`` rows may place."""

    bounds: dict[str, float]
    parent_rows: float
    budget: int

    @property
    def too_costly(self) -> bool:
        """Whether planning would take long (more parent rows than the budget, or unbounded counts)."""
        return self.parent_rows > self.budget or not all(math.isfinite(b) and b < MOST_ROWS
                                                         for b in self.bounds.values())

    def shown_bounds(self) -> dict[str, int]:
        """The bounds as whole numbers, capped at 2**62, for a message."""
        return {k: int(min(v, MOST_ROWS)) for k, v in self.bounds.items()}


def planning_cost(dataset: Dataset, scale: float, rows: dict[str, int], limit: int) -> PlanningCost:
    """What planning ``dataset`` at ``scale`` with the row counts ``rows`` would place, bounded from the spec
    alone (no plan is made); ``limit`` is the most rows a request may generate."""
    bound: dict[str, float] = {}
    for name in dataset.order:
        model = dataset.tables[name]
        if model.parent is None:
            base = model.spec.rows if isinstance(model.spec.rows, int) else 1
            bound[name] = float(rows.get(name, base * scale if model.spec.scale else base))
        else:
            bound[name] = bound[model.parent] * most_children(model.count)
    parents = {dataset.tables[name].parent for name in dataset.order} - {None}
    placed = sum(bound[name] for name in parents if name is not None)
    return PlanningCost(bound, placed, max(limit, PLAN_PARENT_ROWS))
