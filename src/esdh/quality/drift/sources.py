"""Opening an output folder's tables through its datapackage.json, as DuckDB relations over the files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from esdh.checks.keys import file_relation
from esdh.errors import UsageError
from esdh.output.datapackage import read_manifest

FORMAT_PREFERENCE = ("parquet", "csv", "ndjson", "json")
MANIFEST = "datapackage.json"

_CSV_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE",
              "datetime": "TIMESTAMP"}


@dataclass
class Table:
    relation: str
    format: str


@dataclass
class Folder:
    path: Path
    manifest: dict[str, Any]
    tables: dict[str, Table]

    def identity(self) -> dict[str, Any]:
        esdh = self.manifest.get("esdh") or {}
        return {"folder": str(self.path), "dataset": esdh.get("dataset") or self.manifest.get("name"),
                "version": self.manifest.get("version"), "seed": esdh.get("seed")}


def literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _csv_relation(paths: list[Path], schema_fields: list[dict[str, Any]], typed: bool) -> str:
    """With ``typed``, declared Table Schema types are imposed (a zip code stays a string) and undeclared
    ones (``any``) are left to DuckDB's type detection; without, DuckDB detects every type."""
    listed = ", ".join(literal(str(p)) for p in paths)
    files = listed if len(paths) == 1 else f"[{listed}]"
    types = {f["name"]: _CSV_TYPES[f["type"]] for f in schema_fields if f.get("type") in _CSV_TYPES}
    option = ""
    if typed and types:
        option = ", types={" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in types.items()) + "}"
    return f"read_csv({files}, header=true{option})"


def _resource_format(resource: dict[str, Any]) -> str:
    fmt = str(resource.get("format") or "").lower()
    if not fmt:
        path = resource["path"] if isinstance(resource["path"], str) else resource["path"][0]
        fmt = Path(path).suffix.lstrip(".").lower()
    return fmt


def open_folder(con: Any, folder: Path) -> Folder:
    """The tables of an ESDH output folder, each read from its preferred format."""
    import duckdb

    folder = Path(folder)
    manifest = read_manifest(folder, UsageError)
    resources = [r for r in manifest.get("resources", [])  # a table written in parts that are not tabular: a file
                 if (r.get("type") == "table" or "schema" in r) and r.get("path")]
    names = {r["name"] for r in resources}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:  # a table written in several formats: "orders", "orders-csv", ...
        name, fmt = resource["name"], _resource_format(resource)
        base = name[: -len(fmt) - 1]
        grouped.setdefault(base if name.endswith("-" + fmt) and base in names else name, []).append(resource)
    # An ingested external file's schema was itself detected by DuckDB: read it the same way.
    ingested = (manifest.get("esdh") or {}).get("source") == "ingested"
    tables = {}
    for name, group in grouped.items():
        readable = [r for r in group if _resource_format(r) in FORMAT_PREFERENCE]
        if not readable:
            continue
        resource = min(readable, key=lambda r: FORMAT_PREFERENCE.index(_resource_format(r)))
        fmt = _resource_format(resource)
        listed = resource["path"] if isinstance(resource["path"], list) else [resource["path"]]
        paths = [folder / p for p in listed]
        if fmt != "csv":
            tables[name] = Table(file_relation(paths), fmt)
            continue
        schema_fields = (resource.get("schema") or {}).get("fields") or []
        relation = _csv_relation(paths, schema_fields, typed=not ingested)
        try:
            con.execute(f"DESCRIBE SELECT * FROM {relation}")
        except duckdb.Error:  # declared types the file does not follow: let DuckDB detect them
            relation = _csv_relation(paths, schema_fields, typed=False)
        tables[name] = Table(relation, fmt)
    return Folder(folder, manifest, tables)
