"""The JSON Schema of the /generate/* answers, derived from the classic dataset's spec.

The answers are rendered as raw JSON bytes (so that they stay byte-equal to the snapshot's JSON), which
leaves FastAPI nothing to document them from. Their schema is therefore built here around the rows'
schema that :func:`esdh.library.classic.row_schemas` derives from what the spec declares: each written column
with the JSON type generation gives it, null allowed only where the column can hold one, and its enum,
pattern, lengths and numeric range (declared, or implied by its generator). Schemathesis checks every
answer against it, so a row that breaks its spec breaks the API's contract too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

METADATA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "the classic metadata block: dataset version, generated_at (the spec's as-of date), record "
                   "counts per entity, the seed and the synthetic marker",
    "required": ["dataset_version", "generated_at", "seed", "synthetic_source"],
    "properties": {"dataset_version": {"type": "string"}, "generated_at": {"type": "string"},
                   "seed": {"type": "integer"}, "notes": {"type": "string"},
                   "synthetic_source": {"type": "string"}},
    "patternProperties": {"^record_count_": {"type": "integer", "minimum": 0}},
}


def answer_schema(rows: Mapping[str, Mapping[str, object]], tables: list[str]) -> dict[str, Any]:
    """The answer of a /generate/* endpoint that returns ``tables`` (``rows``: a row's schema per table):
    metadata, the rows of each table, the record count, the effective seed and the records requested."""
    properties: dict[str, Any] = {"metadata": METADATA_SCHEMA}
    properties |= {table: {"type": "array", "items": rows[table]} for table in tables}
    properties |= {"record_count": {"type": "integer", "minimum": 0},
                   "seed": {"type": "integer", "minimum": 0, "description": "the seed used: send it to replay"},
                   "records_requested": {"type": "integer", "minimum": 1}}
    return {"type": "object", "required": list(properties), "properties": properties}
