"""The JSON Schema of the /generate/* answers, derived from the seed dataset's spec.

The answers are rendered as raw JSON bytes (so that they stay byte-equal to the snapshot's JSON), which
leaves FastAPI nothing to document them from. Their schema is therefore built here from what the spec
declares: each written column with the JSON type generation gives it, null allowed only where the column
can hold one, and its enum, pattern, lengths and numeric range (declared, or implied by its generator).
Schemathesis checks every answer against it, so a row that breaks its spec breaks the API's contract too.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from esdh.spec.compile import Dataset

METADATA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "the seed's metadata block: dataset version, generated_at (the spec's as-of date), record "
                   "counts per entity, the seed and the synthetic marker",
    "required": ["dataset_version", "generated_at", "seed", "synthetic_source"],
    "properties": {"dataset_version": {"type": "string"}, "generated_at": {"type": "string"},
                   "seed": {"type": "integer"}, "notes": {"type": "string"},
                   "synthetic_source": {"type": "string"}},
    "patternProperties": {"^record_count_": {"type": "integer", "minimum": 0}},
}


def _json_type(arrow: pa.DataType) -> dict[str, Any]:
    if pa.types.is_boolean(arrow):
        return {"type": "boolean"}
    if pa.types.is_integer(arrow):
        return {"type": "integer"}
    if pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        return {"type": "number"}
    if pa.types.is_date(arrow):
        return {"type": "string", "format": "date"}
    return {"type": "string"}  # text, and timestamps rendered as text


def column_schema(dataset: Dataset, table: str, column: str, arrow: pa.DataType) -> dict[str, Any]:
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
            schema["enum"] = [*schema["enum"], None]
    return schema


def row_schemas(dataset: Dataset) -> dict[str, dict[str, Any]]:
    """The JSON Schema of a row of each table (its written columns)."""
    from esdh.quality.validate import expected_types

    types = expected_types(dataset)
    rows: dict[str, dict[str, Any]] = {}
    for table, model in dataset.tables.items():
        columns = [c for c in model.visible_columns if c in types[table]]
        rows[table] = {"type": "object", "additionalProperties": False, "required": columns,
                       "properties": {c: column_schema(dataset, table, c, types[table][c]) for c in columns}}
    return rows


def answer_schema(rows: dict[str, dict[str, Any]], tables: list[str]) -> dict[str, Any]:
    """The answer of a /generate/* endpoint that returns ``tables`` (``rows``: :func:`row_schemas`):
    metadata, the rows of each table, the record count, the effective seed and the records requested."""
    properties: dict[str, Any] = {"metadata": METADATA_SCHEMA}
    properties |= {table: {"type": "array", "items": rows[table]} for table in tables}
    properties |= {"record_count": {"type": "integer", "minimum": 0},
                   "seed": {"type": "integer", "minimum": 0, "description": "the seed used: send it to replay"},
                   "records_requested": {"type": "integer", "minimum": 1}}
    return {"type": "object", "required": list(properties), "properties": properties}
