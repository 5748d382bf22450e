"""The built-in datasets as the API shows them: found by name (404 with a suggestion), described for
people and pages, and their values made JSON-safe."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
from typing import Any

import pyarrow as pa

from esdh import library
from esdh.api.errors import ApiError
from esdh.spec.compile import Dataset

PREVIEW_MAX = 1000


def pack_names() -> list[str]:
    from esdh.packs import pack_names as names

    return names()


def declared_versions(dataset: Dataset) -> list[str]:
    """The base version, then every version the spec declares."""
    return list(dict.fromkeys([dataset.spec.version, *dataset.spec.versions]))


@functools.lru_cache(maxsize=64)
def _load(name: str, version: str | None) -> Dataset:
    # pack: by name only: a URL's name never reads a file or folder of the server's, whatever its directory
    return library.load(f"pack:{name}", version)


def dataset_of(name: str, version: str | None = None) -> Dataset:
    """A built-in dataset (in ``version``); 404 for an unknown name, 422 for an undeclared version."""
    names = pack_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "GET /v1/datasets lists them"
        raise ApiError(404, f"no dataset '{name}' ({hint})", "not_found",
                       {"suggestion": close[0] if close else None, "datasets": names})
    base = _load(name, None)
    known = declared_versions(base)
    if version is None or version == base.spec.version:
        return base
    if version not in known:
        raise ApiError(422, f"version: dataset '{name}' has no version '{version}' (versions: {', '.join(known)})",
                       "invalid_request", {"versions": known})
    return _load(name, version)


def check_table(dataset: Dataset, table: str) -> None:
    """404 for a table the dataset does not have, with the closest name."""
    if table not in dataset.tables:
        close = difflib.get_close_matches(table, list(dataset.tables), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"tables: {', '.join(dataset.tables)}"
        raise ApiError(404, f"no table '{table}' in dataset '{dataset.spec.dataset}' ({hint})", "not_found",
                       {"suggestion": close[0] if close else None, "tables": list(dataset.tables)})


def summary(name: str) -> dict[str, Any]:
    spec = dataset_of(name).spec
    return {"name": name, "version": spec.version, "title": spec.title, "description": spec.description,
            "tables": list(spec.tables)}


@functools.lru_cache(maxsize=64)
def _detail(name: str, version: str | None) -> dict[str, Any]:
    from esdh.engine import chunks

    dataset = dataset_of(name, version)
    plan = library.plan(dataset)
    tables, relations = [], []
    for table in dataset.order:
        model = dataset.tables[table]
        schema = chunks.schema(plan, table)
        columns = []
        for col in model.columns.values():
            if col.hidden:
                continue
            generator = type(col.generator).name if col.generator else None
            source = generator or col.spec.expr or col.spec.ref or col.spec.lookup or col.spec.of or "value"
            columns.append({"name": col.name, "type": col.spec.type or type_name(schema.field(col.name).type),
                            "generator": generator, "description": col.spec.description, "kind": col.kind,
                            "source": str(source), "null_rate": col.null_rate})
        tables.append({"name": table, "rows": plan.rows[table], "primary_key": model.spec.primary_key_columns,
                       "columns": columns, "description": model.spec.description, "parent": model.parent})
        relations += table_relations(dataset, table)
    spec = dataset.spec
    return {"name": name, "version": spec.version, "title": spec.title, "description": spec.description,
            "seed": spec.seed, "as_of": spec.as_of.isoformat(), "versions": declared_versions(dataset_of(name)),
            "tables": tables, "relations": relations, "spec": spec.model_dump(mode="json", exclude_defaults=True)}


def detail(name: str, version: str | None = None) -> dict[str, Any]:
    """Everything a page needs to show a dataset: tables, columns, relations, versions and the spec."""
    dataset_of(name, version)  # errors first, and never cached
    return _detail(name, version)


def table_relations(dataset: Dataset, table: str) -> list[dict[str, Any]]:
    """The table's links to other tables: rows per a parent, foreign keys (ref) and lookups."""
    model = dataset.tables[table]
    out = []
    if model.parent:
        out.append({"from_table": table, "from_column": None, "to_table": model.parent, "to_column": None,
                    "kind": "parent"})
    for col in model.columns.values():
        if col.hidden:
            continue
        if col.kind in ("ref", "lookup"):
            out.append({"from_table": table, "from_column": col.name, "to_table": col.target_table,
                        "to_column": col.target_column, "kind": col.kind})
        elif col.spec.references:
            target_table, _, target_column = col.spec.references.partition(".")
            out.append({"from_table": table, "from_column": col.name, "to_table": target_table,
                        "to_column": target_column, "kind": "ref"})
    return out


def type_name(arrow: pa.DataType) -> str:
    """The spec's name for an Arrow type."""
    if pa.types.is_integer(arrow):
        return "integer"
    if pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        return "number"
    if pa.types.is_boolean(arrow):
        return "boolean"
    if pa.types.is_date(arrow):
        return "date"
    if pa.types.is_timestamp(arrow):
        return "datetime"
    return "string" if pa.types.is_string(arrow) or pa.types.is_large_string(arrow) else str(arrow)


def json_value(value: Any) -> Any:
    """A value as JSON can carry it: dates and times as ISO text, no NaN or infinity."""
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    return value


def json_safe(value: Any) -> Any:
    """``value`` with every nested value made JSON-safe (:func:`json_value`)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return json_value(value)


def preview_rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in row.items()} for row in table.to_pylist()]
