"""Ingest: external CSV or Parquet data registered as a run of its own, so that it can be verified,
validated, compared and reported on like generated data.

The files are copied unchanged (their checksums are those of the originals) into a run folder with a
``datapackage.json`` describing them: per table its file or part files, row count, bytes, sha256 and the
field types DuckDB reads from it. With a spec, the data is validated against it and the report kept in the
run; a run whose data fails validation is still registered (it is what was delivered), and says so.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from esdh.checks.keys import file_relation
from esdh.errors import UsageError
from esdh.library.generated_run import drift_against_previous
from esdh.library.generation import SpecSource, load
from esdh.logs import event, run_context
from esdh.output.checksum import sha256_file
from esdh.output.datapackage import PROFILE, STREAMED, field_type, tabular, versions, write_manifest
from esdh.output.faults import fault
from esdh.output.folder import MANIFEST
from esdh.output.tables import bounded_duckdb_config
from esdh.quality.drift import Thresholds
from esdh.quality.validate import ValidationReport, validate_data
from esdh.quality.validate.read import header_columns, too_wide
from esdh.runs.registry import Registry
from esdh.runs.run import RunOutcome, RunWriter

SUFFIXES = {".csv": ("csv", "text/csv"), ".parquet": ("parquet", "application/vnd.apache.parquet")}


def find_tables(source: Path) -> dict[str, list[Path]]:
    """Table name -> its files: ``<table>.csv|parquet`` files, and ``<table>/`` folders of part files."""
    if source.is_file():
        if source.suffix.lower() not in SUFFIXES:
            raise UsageError(f"{source} is not a CSV or Parquet file")
        return {source.stem: [source]}
    if not source.is_dir():
        raise UsageError(f"{source} does not exist")
    tables: dict[str, list[Path]] = {}
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix.lower() in SUFFIXES:
            tables.setdefault(path.stem, []).append(path)
        elif path.is_dir() and not path.name.startswith("."):
            parts = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
            if parts:
                tables.setdefault(path.name, []).extend(parts)
    for name, files in tables.items():
        if len({p.suffix.lower() for p in files}) > 1:
            raise UsageError(f"table '{name}' has files of more than one format in {source}; keep one")
    if not tables:
        raise UsageError(f"{source} holds no CSV or Parquet files (expected <table>.csv, <table>.parquet or "
                         "<table>/part-*.parquet)")
    return tables


def check_readable(files: list[Path]) -> None:
    """A UsageError when DuckDB cannot read the files' columns (truncated, empty, not of their format, or
    too wide): found before a run is reserved, so that nothing is left in the registry."""
    _describe(files, count=False)


def _describe(files: list[Path], count: bool = True) -> tuple[int, list[dict[str, str]]]:
    """Row count and Table Schema fields, as DuckDB reads the files (``count``: else 0 rows, read faster)."""
    import duckdb
    import pyarrow as pa

    for file in files:
        try:
            wide = too_wide(header_columns(file, SUFFIXES[file.suffix.lower()][0]) or [])
        except (OSError, ValueError, csv.Error, pa.ArrowException):
            wide = None  # DuckDB says what is wrong with it below
        if wide:
            raise UsageError(f"cannot read {file.name}: {wide}")
    con = duckdb.connect(config=bounded_duckdb_config())  # files of any size: bounded memory
    try:
        relation = file_relation(files).replace(", all_varchar=true", "")  # let DuckDB detect CSV types
        rows = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0] if count else 0
        schema = con.sql(f"SELECT * FROM {relation} LIMIT 0").to_arrow_table().schema
    except (duckdb.Error, pa.ArrowException) as exc:  # not CSV or Parquet after all: truncated, empty, binary
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        reason = reason.replace(f"{files[0].parent}/", "")[:200]  # the copy's staging folder means nothing here
        names = ", ".join(f.name for f in files[:3]) + (", ..." if len(files) > 3 else "")
        raise UsageError(f"cannot read {names} as {files[0].suffix.lower()[1:]}: {reason}") from None
    finally:
        con.close()
    return rows, [{"name": f.name, "type": field_type(f.type if not pa.types.is_dictionary(f.type)
                                                       else f.type.value_type)} for f in schema]


def resource_name(name: str, taken: set[str]) -> str:
    """A Data Package name for ``name`` (lowercase letters, digits, ``-``, ``_``, ``.``), not yet in ``taken``:
    a table of external data may be named ``Sales 2024`` or ``ventes_été``."""
    base = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or "table"
    found, number = base, 1
    while found in taken:
        number += 1
        found = f"{base}-{number}"
    taken.add(found)
    return found


def ingest_manifest(folder: Path, dataset: str, version: str, tables: dict[str, list[Path]],
                    origin: Path) -> dict[str, Any]:
    """The datapackage.json of copied files (``tables``: name -> files inside ``folder``), valid by the Data
    Package standard as ``esdh generate``'s are (``output.datapackage``): the standard ``bytes`` only where a
    reader counts the same (one CSV file), Parquet part files listed as files, not as one table."""
    resources = []
    row_counts = {}
    taken: set[str] = set()
    for name, files in tables.items():
        fmt, mediatype = SUFFIXES[files[0].suffix.lower()]
        rows, fields = _describe(files)
        row_counts[name] = rows
        paths = [f.relative_to(folder).as_posix() for f in files]
        digests = [sha256_file(f) for f in files]
        size = sum(f.stat().st_size for f in files)
        resource: dict[str, Any] = {"name": resource_name(name, taken),
                                    "type": "table" if tabular(fmt, len(files)) else "file",
                                    "path": paths[0] if len(paths) == 1 else paths, "format": fmt,
                                    "mediatype": mediatype}
        if fmt == "csv":
            resource["encoding"] = "utf-8"
        resource["bytes" if fmt in STREAMED and len(files) == 1 else "esdh:bytes"] = size
        if len(files) == 1:
            resource["hash"] = "sha256:" + digests[0]
        else:
            resource["esdh:parts"] = [{"path": p, "bytes": f.stat().st_size, "hash": "sha256:" + d}
                                      for p, f, d in zip(paths, files, digests, strict=True)]
        resource["schema"] = {"fields": fields}
        if fmt == "parquet":  # read through pandas (frictionless), a null in a number column is NaN
            resource["schema"]["missingValues"] = ["", "nan"]
        resource["esdh:rows"] = rows
        resources.append(resource)
    return {"$schema": PROFILE, "name": resource_name(dataset, set()), "title": dataset, "version": version,
            "resources": resources,
            "esdh": {"format_version": 2, "dataset": dataset, "source": "ingested", "ingested_from": str(origin),
                     "row_counts": row_counts, "synthetic_source": None, "versions": versions()}}


def ingest(source: Path | str, registry: Registry | Path | str, *, dataset: str, version: str | None = None,
           spec: SpecSource | None = None, thresholds: Thresholds | None = None,
           command: str | None = None) -> RunOutcome:
    """Register the CSV or Parquet data at ``source`` as run ``version`` of ``dataset`` (validated against
    ``spec`` when one is given; ``version`` defaults to the spec's)."""
    source = Path(source).resolve()
    tables = find_tables(source)
    registry = registry if isinstance(registry, Registry) else Registry(registry)
    model = load(spec) if spec is not None else None
    for files in tables.values():
        check_readable(files)
    if version is None:
        if model is None:
            raise UsageError("give --version (or --spec, whose version is then used)")
        version = model.spec.version
    writer = RunWriter(registry, dataset, version, "ingested", command)
    with run_context(writer.run_id):
        writer.reserve(dataset_version=model.spec.version if model else None,
                       spec=model.spec.model_dump(mode="json", by_alias=True, exclude_none=True) if model else None)
        event("ingest.started", dataset=dataset, version=version, source=str(source), tables=list(tables))
        try:
            writer.staging.mkdir(parents=True)
            copied: dict[str, list[Path]] = {}
            for name, files in tables.items():
                for file in files:
                    relative = file.relative_to(source) if source.is_dir() else Path(file.name)
                    target = writer.staging / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(file, target)
                    copied.setdefault(name, []).append(target)
            manifest = ingest_manifest(writer.staging, dataset, version, copied, source)
            write_manifest(writer.staging / MANIFEST, manifest)
            validation: ValidationReport | None = None
            if model is not None:
                validation = validate_data(writer.staging, model)
                validation.data = writer.reference  # not the staging path: the report names the run
            validation_dict, drift_dict = writer.reports(validation, drift_against_previous(writer, thresholds))
            outcome = writer.publish(row_counts=manifest["esdh"]["row_counts"],
                                     validation=None if validation is None else ("pass" if validation.ok else "fail"),
                                     drift=drift_dict["verdict"] if drift_dict else None,
                                     against=drift_dict["reference"]["run"] if drift_dict else None)
        except BaseException as exc:
            event("run.failed", level=logging.WARNING, dataset=dataset, version=version, error=str(exc).splitlines()[0]
                  if str(exc) else type(exc).__name__)
            writer.abandon(keep_staging=False)
            if isinstance(exc, OSError):  # a full disk, a read-only registry: told of the run, not its staging
                raise fault(exc, writer.final) from None
            raise
        outcome.validation, outcome.drift = validation_dict, drift_dict
        return outcome
