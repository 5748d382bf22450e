"""The catalogue: the built-in datasets (listed, loaded by name, summarised and described table by table),
the column generators and the spec language's JSON Schema. ``esdh packs``, ``esdh generators``, ``esdh spec
schema`` and the API's /v1/datasets show these."""

from __future__ import annotations

from typing import Literal, TypedDict

import pyarrow as pa

from esdh.engine import chunks
from esdh.library.generation import load, plan
from esdh.spec.compile import Dataset


class DatasetSummary(TypedDict):
    """A built-in dataset in a list: name, version, title, description and tables."""

    name: str
    version: str
    title: str | None
    description: str | None
    tables: list[str]


class ColumnDetail(TypedDict):
    """A written column: its type, where its values come from, its null rate."""

    name: str
    type: str
    generator: str | None
    description: str | None
    kind: str
    source: str
    null_rate: float


class TableDetail(TypedDict):
    """A table of a dataset described: rows at the default scale, key, columns, parent."""

    name: str
    rows: int
    primary_key: list[str]
    columns: list[ColumnDetail]
    description: str | None
    parent: str | None


class TableRelation(TypedDict):
    """A link between tables: a foreign key (ref), a lookup, or rows per a parent."""

    from_table: str
    from_column: str | None
    to_table: str | None
    to_column: str | None
    kind: Literal["ref", "lookup", "parent"]


class DatasetDetail(TypedDict):
    """A dataset described for a page: tables, relations, versions and the spec."""

    name: str
    version: str
    title: str | None
    description: str | None
    seed: int
    as_of: str
    versions: list[str]
    tables: list[TableDetail]
    relations: list[TableRelation]
    spec: dict[str, object]


def names() -> list[str]:
    """The names of the built-in datasets."""
    from esdh.packs import pack_names

    return pack_names()


def builtin(name: str, version: str | None = None) -> Dataset:
    """A built-in dataset by name only (``pack:``): never a file or folder that happens to have the name."""
    return load(f"pack:{name}", version)


def declared_versions(dataset: Dataset) -> list[str]:
    """The base version, then every version the spec declares."""
    return list(dict.fromkeys([dataset.spec.version, *dataset.spec.versions]))


def summary(name: str, dataset: Dataset) -> DatasetSummary:
    """A dataset's name, version, title, description and tables."""
    spec = dataset.spec
    return {"name": name, "version": spec.version, "title": spec.title, "description": spec.description,
            "tables": list(spec.tables)}


def detail(name: str, dataset: Dataset, versions: list[str]) -> DatasetDetail:
    """Everything a page needs to show a dataset: tables (rows at the default seed and scale, key, columns),
    relations, the ``versions`` it declares and the spec itself."""
    the_plan = plan(dataset)
    tables: list[TableDetail] = []
    relations: list[TableRelation] = []
    for table in dataset.order:
        model = dataset.tables[table]
        schema = chunks.schema(the_plan, table)
        columns: list[ColumnDetail] = []
        for col in model.columns.values():
            if col.hidden:
                continue
            generator = type(col.generator).name if col.generator else None
            source = generator or col.spec.expr or col.spec.ref or col.spec.lookup or col.spec.of or "value"
            columns.append({"name": col.name, "type": col.spec.type or type_name(schema.field(col.name).type),
                            "generator": generator, "description": col.spec.description, "kind": col.kind,
                            "source": str(source), "null_rate": col.null_rate})
        tables.append({"name": table, "rows": the_plan.rows[table], "primary_key": model.spec.primary_key_columns,
                       "columns": columns, "description": model.spec.description, "parent": model.parent})
        relations += table_relations(dataset, table)
    spec = dataset.spec
    return {"name": name, "version": spec.version, "title": spec.title, "description": spec.description,
            "seed": spec.seed, "as_of": spec.as_of.isoformat(), "versions": versions,
            "tables": tables, "relations": relations, "spec": spec.model_dump(mode="json", exclude_defaults=True)}


def table_relations(dataset: Dataset, table: str) -> list[TableRelation]:
    """The table's links to other tables: rows per a parent, foreign keys (ref) and lookups."""
    model = dataset.tables[table]
    out: list[TableRelation] = []
    if model.parent:
        out.append({"from_table": table, "from_column": None, "to_table": model.parent, "to_column": None,
                    "kind": "parent"})
    for col in model.columns.values():
        if col.hidden:
            continue
        if col.kind in ("ref", "lookup"):
            out.append({"from_table": table, "from_column": col.name, "to_table": col.target_table,
                        "to_column": col.target_column, "kind": "ref" if col.kind == "ref" else "lookup"})
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


def generators() -> dict[str, str]:
    """Every column generator's name and one-line summary, by name."""
    from esdh.generators.base import registry

    return {name: cls.summary for name, cls in sorted(registry().items())}


def spec_schema() -> dict[str, object]:
    """The JSON Schema of the spec language."""
    from esdh.spec.schema import spec_json_schema

    return spec_json_schema()
