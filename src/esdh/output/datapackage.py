"""The Frictionless Data Package v2 manifest (``datapackage.json``) of an output folder."""

from __future__ import annotations

import datetime as dt
import json
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa

from esdh.checks.implied import effective_check
from esdh.output.checksum import sha256_file
from esdh.output.folder import write_text
from esdh.plan.planner import Plan
from esdh.spec.compile import Dataset, TableModel
from esdh.version import __version__

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
FORMAT_VERSION = 2  # 2: tables may be written as part files (path is then a list)


@dataclass(frozen=True)
class PartFile:
    """One written file of a table: the whole table, or one partition of it."""

    path: Path
    rows: int
    bytes: int
    sha256: str


@dataclass
class WrittenTable:
    """What was written for one table: per format its file (or, for a table written in parts, its folder)
    and its part files; row count, nulls per column, fingerprint."""

    name: str
    schema: pa.Schema
    rows: int = 0
    files: dict[str, Path] = field(default_factory=dict)
    parts: dict[str, list[PartFile]] = field(default_factory=dict)
    null_counts: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""


_TYPES = [
    (pa.types.is_string, "string"), (pa.types.is_large_string, "string"), (pa.types.is_boolean, "boolean"),
    (pa.types.is_integer, "integer"), (pa.types.is_floating, "number"), (pa.types.is_date, "date"),
    (pa.types.is_timestamp, "datetime"),
]


def field_type(type_: pa.DataType) -> str:
    for test, name in _TYPES:
        if test(type_):
            return name
    return "any"


def json_value(value: Any, type_: str | None = None) -> Any:
    """A constraint value as JSON: dates and timestamps as ISO text, lists item by item. A date bound of a
    ``datetime`` field is that day's midnight: Table Schema reads a datetime field's bounds as datetimes."""
    if isinstance(value, list):
        return [json_value(v, type_) for v in value]
    if type_ == "datetime" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return value.isoformat() if hasattr(value, "isoformat") else value


def table_schema(dataset: Dataset, model: TableModel, written: WrittenTable,
                 resource_of: dict[str, str | None]) -> dict[str, Any]:
    """Table Schema: fields with types and constraints, primary key, foreign keys. ``resource_of``: the
    tabular resource a foreign key refers to, by table; None for a table with none (all its formats written
    in parts that are not tabular): its foreign keys are then ``esdh:foreignKeys``, not checkable."""
    keys = model.spec.primary_key_columns
    fields = []
    for col_field in written.schema:
        col = model.columns[col_field.name]
        entry: dict[str, Any] = {"name": col_field.name, "type": field_type(col_field.type)}
        if col.spec.description:
            entry["description"] = col.spec.description
        constraints: dict[str, Any] = {}
        if written.null_counts.get(col_field.name, 0) == 0 and col.null_rate == 0:
            constraints["required"] = True
        if col.unique or keys == [col_field.name]:
            constraints["unique"] = True
        check = effective_check(col, dataset.spec.as_of)  # declared, and what the generator guarantees
        if check is not None:
            for key, target in (("min", "minimum"), ("max", "maximum"), ("enum", "enum"), ("pattern", "pattern"),
                                ("min_length", "minLength"), ("max_length", "maxLength")):
                value = getattr(check, key)
                if value is not None:
                    constraints[target] = json_value(value, entry["type"])
        if constraints:
            entry["constraints"] = constraints
        fields.append(entry)
    schema: dict[str, Any] = {"fields": fields}
    if keys:
        schema["primaryKey"] = keys
    foreign: list[dict[str, Any]] = []
    unreadable: list[dict[str, Any]] = []
    for column, target_table, target_column in dataset.foreign_keys(model.name):
        if target_table in resource_of:
            referred = resource_of[target_table]
            reference: dict[str, Any] = {"resource": referred or target_table.lower(), "fields": [target_column]}
            if target_table == model.name:
                reference.pop("resource")  # Table Schema: a self-reference omits the resource
            (foreign if referred is not None else unreadable).append({"fields": [column], "reference": reference})
    if foreign:
        schema["foreignKeys"] = foreign
    if unreadable:
        schema["esdh:foreignKeys"] = unreadable
    if model.spec.unique:
        schema["uniqueKeys"] = [list(group) for group in model.spec.unique]
    return schema


def versions() -> dict[str, str]:
    found = {"esdh": __version__, "python": platform.python_version()}
    for package in ("pyarrow", "numpy", "duckdb", "scipy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


_MEDIATYPES = {".json": "application/json", ".yaml": "application/yaml", ".html": "text/html"}

# A table resource's standard ``bytes`` is only given where a Data Package reader counts the same number:
# the bytes it reads through its byte stream. frictionless opens Parquet and JSON files by path (it counts
# nothing) and reads a multipart CSV without the repeated header rows; there the size is ``esdh:bytes``.
STREAMED = ("csv", "ndjson")
# Part files of these formats do not concatenate into one file of the format (the standard's reading of a
# multipart ``path``), so a table written in parts in them is not a tabular resource, only its files.
CONCATENABLE = ("csv", "ndjson")


def file_resource(folder: Path, path: Path, digest: str | None = None) -> dict[str, Any]:
    """A non-table resource (a metadata file of the folder or a report): path, bytes and sha256 hash. Its
    ``type`` is ``file``: a reader takes it as it is (never as a table, nor as a descriptor such as a
    frictionless pipeline, which the lineage file's ``steps`` would otherwise look like)."""
    return {"name": path.stem.lower(), "type": "file", "path": path.relative_to(folder).as_posix(),
            "format": path.suffix[1:], "mediatype": _MEDIATYPES.get(path.suffix, "application/octet-stream"),
            "encoding": "utf-8", "bytes": path.stat().st_size, "hash": "sha256:" + (digest or sha256_file(path))}


def tabular(fmt: str, parts: int) -> bool:
    """Whether a table written in ``fmt`` as ``parts`` files is a tabular resource of the standard."""
    return parts == 1 or fmt in CONCATENABLE


def _part_file(path: Path, rows: int, hashes: dict[Path, str]) -> PartFile:
    return PartFile(path, rows, path.stat().st_size, hashes.get(path) or sha256_file(path))


def build_manifest(plan: Plan, folder: Path, written: list[WrittenTable], formats: list[str],
                   extra_files: list[Path] | None = None, hashes: dict[Path, str] | None = None) -> dict[str, Any]:
    """The datapackage.json content for files already in ``folder``; ``extra_files`` (metadata files
    such as the data dictionary) are listed after the tables. ``hashes``: sha256 hex digests already
    computed, by path, so that no file is read twice."""
    from esdh.output.formats import FORMATS

    hashes = hashes or {}
    spec = plan.dataset.spec
    primary = formats[0]

    def name_of(table: str, fmt: str) -> str:
        return table.lower() if fmt == primary else f"{table.lower()}-{fmt}"

    def part_count(table: WrittenTable, fmt: str) -> int:
        return len(table.parts.get(fmt) or [None])

    # a foreign key refers to the table's first tabular resource: the primary format's, unless that one is
    # written in parts that are not tabular
    resource_of = {w.name: next((name_of(w.name, f) for f in formats if tabular(f, part_count(w, f))), None)
                   for w in written}
    resources = []
    for table in written:
        model = plan.dataset.tables[table.name]
        schema = table_schema(plan.dataset, model, table, resource_of)
        for fmt in formats:
            parts = table.parts.get(fmt) or [_part_file(table.files[fmt], table.rows, hashes)]
            paths = [p.path.relative_to(folder).as_posix() for p in parts]
            resource: dict[str, Any] = {
                "name": name_of(table.name, fmt),
                "type": "table" if tabular(fmt, len(parts)) else "file",
                "path": paths[0] if len(parts) == 1 else paths,
                "format": FORMATS[fmt].extension,
                "mediatype": FORMATS[fmt].mediatype,
            }
            if fmt != "parquet":
                resource["encoding"] = "utf-8"
            size = sum(p.bytes for p in parts)
            if fmt in STREAMED and len(parts) == 1:
                resource["bytes"] = size
            else:
                resource["esdh:bytes"] = size
            if len(parts) == 1:
                resource["hash"] = "sha256:" + parts[0].sha256
            else:  # a multipart resource: each part file with its own size, checksum and rows
                resource["esdh:parts"] = [{"path": path, "rows": p.rows, "bytes": p.bytes, "hash": "sha256:" + p.sha256}
                                          for path, p in zip(paths, parts, strict=True)]
            if model.spec.description:
                resource["description"] = model.spec.description
            resource["schema"] = schema
            if fmt == "parquet" and any(table.null_counts.values()):
                # a reader that goes through pandas (frictionless) sees a Parquet null in a number column as
                # NaN; ESDH writes no NaN, so NaN there is a null
                resource["schema"] = {**schema, "missingValues": ["", "nan"]}
            resource["esdh:rows"] = table.rows
            resource["esdh:fingerprint"] = table.fingerprint
            resources.append(resource)
    for path in extra_files or []:
        resource = file_resource(folder, path, hashes.get(path))
        if any(r["name"] == resource["name"] for r in resources):  # a table of the same name
            resource["name"] = f"esdh-{resource['name']}"
        resources.append(resource)
    return {
        "$schema": PROFILE,
        "name": spec.dataset.lower(),
        "title": spec.title or spec.dataset,
        **({"description": spec.description} if spec.description else {}),
        "version": spec.version,
        "resources": resources,
        "esdh": {
            "format_version": FORMAT_VERSION,
            "dataset": spec.dataset,
            "seed": plan.seed,
            "randomized": plan.randomized,
            "as_of": spec.as_of.isoformat(),
            "scale": plan.scale,
            "spec_hash": plan.spec_hash,
            "synthetic_source": spec.marker,
            "row_counts": {w.name: w.rows for w in written},
            "versions": versions(),
        },
    }


def read_manifest(folder: Path, error: type[Exception] | None = None) -> dict[str, Any]:
    """The ``datapackage.json`` of an output folder; a missing or unreadable one raises ``error`` (default
    OutputError) with a message that says which."""
    from esdh.errors import OutputError

    error = error or OutputError
    path = Path(folder) / "datapackage.json"
    try:
        result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return result
    except FileNotFoundError:
        raise error(f"{folder} has no datapackage.json: it is not an ESDH output (or not a finished one)") from None
    except (OSError, ValueError) as exc:
        raise error(f"{path} cannot be read: {exc}") from None


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
