"""The classic endpoints' answers (``POST /generate/person|vehicle|profile|bundle`` and ``/healthz``'s plan),
made from a classic dataset (insurance): the JSON bytes of an answer, the generation plan in words and the JSON
Schema of a row of each table.

An answer generates only what it returns: a Frame of the table it answers computes the table's visible
columns and, by random access, only the parent columns those read (never a whole parent table, and never a
table nobody reads). Its rows are rendered as the snapshot's JSON files render them (dates as ISO text).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, TypedDict

import pyarrow as pa

from esdh.library import generation
from esdh.library.snapshot import ENTITIES, SNAPSHOT_VERSION, snapshot_metadata
from esdh.plan.planner import Plan
from esdh.spec.compile import Dataset

if TYPE_CHECKING:
    import duckdb

    from esdh.output.formats import JsonRenderer

ROOT = "persons"  # ``records`` counts rows of this table; the others follow it


class RowSchema(TypedDict):
    """The JSON Schema of one row of a table."""

    type: str
    additionalProperties: bool
    required: list[str]
    properties: dict[str, dict[str, object]]


@lru_cache(maxsize=4)
def classic_dataset(name: str) -> Dataset:
    """The checked spec of a classic dataset, loaded once per process (a plan never changes it)."""
    return generation.load(name)


def classic_plan(name: str, records: int, seed: int | None, randomize: bool, tables: list[str]) -> Plan:
    """The plan of ``records`` persons of the classic dataset ``name`` writing ``tables`` (``randomize``
    draws the seed)."""
    return generation.plan(classic_dataset(name), seed=seed, randomize=randomize, rows={ROOT: records}, tables=tables)


def _rows_json(table: pa.Table, renderer: JsonRenderer) -> bytes:
    """A JSON array of a table's rows, rendered the way the snapshot's JSON files are (dates as ISO text)."""
    from esdh.output.formats import joined

    if not table.num_rows:
        return b"[]"
    return b"[" + joined(renderer.lines(table.combine_chunks().to_batches()[0]), b",")[:-1] + b"]"


@lru_cache(maxsize=1)
def _duckdb() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB database per process, for rendering answers (each answer its own cursor)."""
    import duckdb

    return duckdb.connect()


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def answer_json(metadata: dict[str, object], tables: dict[str, pa.Table], tail: dict[str, object]) -> bytes:
    """``{"metadata": ..., "<table>": [rows], ..., <tail>}`` as compact JSON bytes."""
    from esdh.output.formats import JsonRenderer

    renderer = JsonRenderer(_duckdb())  # a cursor of the process's one DuckDB database: no 20 ms connect
    try:
        parts = [b'"metadata":' + _dumps(metadata)]
        parts += [f'"{name}":'.encode() + _rows_json(table, renderer) for name, table in tables.items()]
    finally:
        renderer.close()
    parts += [f'"{key}":'.encode() + _dumps(value) for key, value in tail.items()]
    return b"{" + b",".join(parts) + b"}"


def entity_answer(name: str, table: str, records: int, seed: int | None, randomize: bool) -> bytes:
    """The first ``records`` rows of one table of the classic dataset ``name``, with the classic metadata
    block (a plan of ``records`` persons has at least as many rows in each of the classic tables)."""
    plan = classic_plan(name, records, seed, randomize, [table])
    rows = generation.preview(plan, table, records)
    return answer_json(snapshot_metadata(plan, {table: rows.num_rows}), {table: rows},
                       {"record_count": rows.num_rows, "seed": plan.seed, "records_requested": records})


def bundle_answer(name: str, records: int, seed: int | None, randomize: bool) -> bytes:
    """``records`` persons, every vehicle they own and a profile each: one coherent extract."""
    plan = classic_plan(name, records, seed, randomize, list(ENTITIES))
    tables = {t: generation.preview(plan, t, plan.rows[t]) for t in ENTITIES}
    return answer_json(snapshot_metadata(plan, {t: rows.num_rows for t, rows in tables.items()}), tables,
                       {"record_count": tables["persons"].num_rows, "seed": plan.seed, "records_requested": records})


@lru_cache(maxsize=8)
def plan_steps(name: str, seed: int, records: int) -> tuple[str, ...]:
    """The generation plan of the classic dataset ``name``, in words, read from its spec and its plan."""
    from esdh.output.lineage import reads

    plan = classic_plan(name, records, seed, False, list(ENTITIES))
    ds, spec = plan.dataset, plan.dataset.spec
    steps = [f"Dataset version: {SNAPSHOT_VERSION}", f"Target person records: {records}",
             f"Use deterministic seed {seed} for reproducibility: every value is a pure function of the seed, "
             "table, column and row, so any row can be regenerated alone.",
             f"Generate from the spec {spec.dataset} {spec.version} ({spec.title or spec.dataset}), "
             f"as of {spec.as_of.isoformat()}."]
    relations, unique, rules = [], [], []
    for position, table in enumerate(plan.tables):
        model = ds.tables[table]
        if model.parent is None:
            rows = f"{plan.rows[table]:,} rows"
        else:
            count = model.count
            per = (f"{count}" if isinstance(count, int) or count is None
                   else f"{count.min} to {count.max} ({count.distribution})")
            rows = f"{per} per {model.parent} row, {plan.rows[table]:,} rows"
        source = f"; reads {', '.join(reads(ds, table))}" if reads(ds, table) else ""
        key = f"; key {', '.join(model.spec.primary_key_columns)}" if model.spec.primary_key_columns else ""
        steps.append(f"{'Generate' if position == 0 else 'Then generate'} {table}: {rows}{key}{source}. "
                     f"{model.spec.description or ''}".rstrip())
        for col in model.columns.values():
            if col.kind == "ref":
                relations.append(f"{table}.{col.name} references {col.target_table}.{col.target_column}"
                                 + (f" ({col.choose.replace('_', ' ')})" if col.choose else "") + ".")
            elif col.kind == "lookup" and not col.hidden:
                relations.append(f"{table}.{col.name} copies {col.target_table}.{col.target_column}.")
            if col.unique:
                unique.append(f"{table}.{col.name}")
        unique += [f"{table} ({', '.join(cols)})" for cols in model.spec.unique]
        rules += [f"Rule {table}.{rule.name}: {rule.description or rule.check}." for rule in model.spec.rules]
    steps += relations
    if unique:
        steps.append(f"Unique by construction: {'; '.join(unique)}.")
    steps += rules
    steps.append(f"Mark every record with synthetic_source '{spec.marker}'.")
    steps.append("Each /generate endpoint computes only the table it answers (and the parent columns it reads).")
    return tuple(steps)


# -- JSON Schema of the rows ----------------------------------------------------------------------------


def _json_type(arrow: pa.DataType) -> dict[str, object]:
    if pa.types.is_boolean(arrow):
        return {"type": "boolean"}
    if pa.types.is_integer(arrow):
        return {"type": "integer"}
    if pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        return {"type": "number"}
    if pa.types.is_date(arrow):
        return {"type": "string", "format": "date"}
    return {"type": "string"}  # text, and timestamps rendered as text


def column_schema(dataset: Dataset, table: str, column: str, arrow: pa.DataType) -> dict[str, object]:
    """One written column as JSON Schema: its type, whether it may be null, and its declared check."""
    from esdh.checks.implied import effective_check
    from esdh.quality.validate import never_null

    col = dataset.tables[table].columns[column]
    schema = _json_type(arrow)
    check = effective_check(col, dataset.spec.as_of)  # declared, and what the generator guarantees
    if check is not None:
        if check.enum is not None:
            schema["enum"] = list(check.enum)
        if check.pattern is not None and schema["type"] == "string":
            schema["pattern"] = f"^(?:{check.pattern})$"  # the validator's anchoring: the whole value matches
        if check.min_length is not None:
            schema["minLength"] = check.min_length
        if check.max_length is not None:
            schema["maxLength"] = check.max_length
        if schema["type"] in ("integer", "number"):
            for bound, keyword in ((check.min, "minimum"), (check.max, "maximum")):
                if isinstance(bound, int | float):
                    schema[keyword] = bound
    if col.spec.description:
        schema["description"] = col.spec.description
    if not never_null(dataset, table, column):
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*(check.enum if check is not None and check.enum is not None else []), None]
    return schema


def row_schemas(dataset: Dataset) -> dict[str, RowSchema]:
    """The JSON Schema of a row of each table (its written columns)."""
    from esdh.quality.validate import expected_types

    types = expected_types(dataset)
    rows: dict[str, RowSchema] = {}
    for table, model in dataset.tables.items():
        columns = [c for c in model.visible_columns if c in types[table]]
        rows[table] = {"type": "object", "additionalProperties": False, "required": columns,
                       "properties": {c: column_schema(dataset, table, c, types[table][c]) for c in columns}}
    return rows
