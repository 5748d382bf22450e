"""The published JSON Schema of the spec language: the structural model, with one column variant per
generator so that editors can complete and check generator parameters."""

from __future__ import annotations

import copy
from typing import Any

from esdh.generators.base import registry
from esdh.spec.model import Column, Spec

SCHEMA_ID = "https://esdh.dev/schema/spec-v1.json"


def _column_variants(column_schema: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    own = ("generator", "expr", "ref", "lookup", "value", "aggregate", "window", "of")
    common = {k: v for k, v in column_schema["properties"].items() if k not in own}
    variants = []
    for name, cls in sorted(registry().items()):
        params = cls.Params.model_json_schema(ref_template="#/$defs/{model}")
        for def_name, definition in params.pop("$defs", {}).items():
            defs.setdefault(def_name, definition)
        properties = {"generator": {"const": name, "description": cls.summary}, **common}
        properties.update(params.get("properties", {}))
        variant = {"title": f"generator: {name}", "type": "object", "properties": properties,
                   "required": ["generator", *params.get("required", [])], "additionalProperties": False}
        variants.append(variant)
    for kind, description in (("expr", "a derived value: an expression over columns of the same row"),
                              ("ref", "a foreign key: table.column of the referenced key"),
                              ("lookup", "a parent's attribute, read through a foreign key: table.column"),
                              ("value", "the same value on every row")):
        properties = {kind: {"description": description} if kind == "value" else
                      {"type": "string", "description": description}, **common}
        variants.append({"title": kind, "type": "object", "properties": properties, "required": [kind],
                         "additionalProperties": False})
    for kind, description in (("aggregate", "a per-parent aggregate of a child table's column"),
                              ("window", "a running value over the siblings of one parent, in row order")):
        properties = {kind: column_schema["properties"][kind], "of": column_schema["properties"]["of"], **common}
        variants.append({"title": kind, "description": description, "type": "object", "properties": properties,
                         "required": [kind, "of"], "additionalProperties": False})
    return variants


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of spec version 1."""
    schema = copy.deepcopy(Spec.model_json_schema(ref_template="#/$defs/{model}"))
    defs = schema.setdefault("$defs", {})
    column = Column.model_json_schema(ref_template="#/$defs/{model}")
    for def_name, definition in column.pop("$defs", {}).items():
        defs.setdefault(def_name, definition)
    defs["Column"] = {"title": "Column", "description": (Column.__doc__ or "").strip(),
                      "oneOf": _column_variants(column, defs)}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "ESDH dataset spec, version 1"
    return schema
