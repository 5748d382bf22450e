"""Where the data is: the files of each table of the spec, in row order, and the files that are not read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from esdh.errors import UsageError
from esdh.spec.compile import Dataset, suggest

EXTENSIONS = {".parquet": "parquet", ".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "json"}
PREFERENCE = ("parquet", "csv", "ndjson", "json")  # when a table is there in several formats, the first wins


@dataclass
class TableData:
    """The files holding one table, in row order, and what their columns are."""

    table: str
    format: str  # parquet | csv | ndjson | json
    files: list[Path]
    columns: dict[str, str] = field(default_factory=dict)  # spec column -> column name in the files
    types: dict[str, pa.DataType] = field(default_factory=dict)  # spec column -> type as read
    extra: list[str] = field(default_factory=list)  # columns of the files the spec does not write
    rows: int = 0
    malformed: list[dict[str, Any]] = field(default_factory=list)  # CSV lines with the wrong number of fields
    scanned: bool = False


def find_tables(data: Path, dataset: Dataset) -> tuple[dict[str, TableData], list[str]]:
    """The data of each table found under ``data`` (matched to the spec's tables case-insensitively) and
    the files that were not read (relative paths)."""
    names = {name.lower(): name for name in dataset.tables}
    if data.is_file():
        fmt = EXTENSIONS.get(data.suffix.lower())
        table = names.get(data.stem.lower()) or (next(iter(dataset.tables)) if len(dataset.tables) == 1 else None)
        if fmt is None or table is None:
            what = f"'{data.suffix}' is not a data file" if fmt is None else (
                f"'{data.stem}' is not a table of {dataset.spec.dataset}")
            hint = suggest(data.stem, set(dataset.tables)) or f"tables: {', '.join(dataset.tables)}"
            raise UsageError(f"{data}: {what} ({hint}; formats: parquet, csv, ndjson, json)")
        return {table: TableData(table, fmt, [data])}, []
    if not data.is_dir():
        raise UsageError(f"{data}: no such file or folder")
    manifest = data / "datapackage.json"
    candidates: dict[str, list[TableData]] = {}
    ignored: list[str] = []
    if manifest.is_file():
        for resource in json.loads(manifest.read_text(encoding="utf-8")).get("resources", []):
            fmt = resource.get("format")
            if fmt not in PREFERENCE or (resource.get("type") != "table" and "schema" not in resource):
                continue  # the folder's own metadata (schema_metadata.json, lineage), not data
            paths = resource.get("path")
            paths = [paths] if isinstance(paths, str) else list(paths or [])
            table = names.get(str(resource.get("name", "")).partition("-")[0].lower())
            if table is None or not paths:
                ignored += paths
                continue
            candidates.setdefault(table, []).append(TableData(table, fmt, [data / p for p in paths]))
    else:
        for entry in sorted(data.iterdir()):
            if entry.name.startswith((".", "_")) or entry.name.startswith("validation."):
                continue
            table = names.get(entry.stem.lower() if entry.is_file() else entry.name.lower())
            if entry.is_dir():
                parts: dict[str, list[Path]] = {}
                for part in sorted(entry.iterdir()):
                    fmt = EXTENSIONS.get(part.suffix.lower())
                    if table is not None and fmt is not None and part.name.startswith("part-"):
                        parts.setdefault(fmt, []).append(part)
                    elif not part.name.startswith("."):
                        ignored.append(part.relative_to(data).as_posix())
                for fmt, files in parts.items():
                    candidates.setdefault(table or "", []).append(TableData(table or "", fmt, files))
                continue
            fmt = EXTENSIONS.get(entry.suffix.lower())
            if table is None or fmt is None:
                ignored.append(entry.name)
                continue
            candidates.setdefault(table, []).append(TableData(table, fmt, [entry]))
    found = {}
    for table, options in candidates.items():
        options.sort(key=lambda t: PREFERENCE.index(t.format))
        found[table] = options[0]
        ignored += [relative(p, data) for other in options[1:] for p in other.files]
    return found, sorted(ignored)


def relative(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` as it is shown in a report (the path itself if it is not under ``base``)."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)
