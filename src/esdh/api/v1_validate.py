"""/v1/validate: check uploaded table files against a built-in dataset's spec.

The uploads are copied into a temporary folder, named by their table (``<table>.<ext>``), validated there
and removed with the folder whatever happens. The tables uploaded are the tables checked: a foreign key to
a table that was not uploaded is reported as skipped, not failed.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import HTMLResponse

from esdh import library
from esdh.api import v1_catalogue as catalogue
from esdh.api.deps import generation_slot
from esdh.api.errors import ApiError
from esdh.api.v1_datasets import Name, Version
from esdh.api.v1_models import ValidationReport, errors

router = APIRouter(tags=["validation"])

UPLOAD_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.(csv|parquet|ndjson|jsonl|json)$", re.IGNORECASE)


def stored_name(upload: UploadFile, tables: dict[str, str]) -> str:
    """The upload's file name as stored (``<table>.<ext>``, the table named as in the spec); 422 otherwise."""
    given = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    match = UPLOAD_NAME.match(given)
    if match is None:
        raise ApiError(422, f"files: '{given}' is not named <table>.<csv|parquet|ndjson|jsonl|json>",
                       "invalid_request", {"file": given, "tables": list(tables.values())})
    table = tables.get(match.group(1).lower())
    if table is None:
        raise ApiError(422, f"files: '{given}' names no table of the dataset (tables: {', '.join(tables.values())})",
                       "invalid_request", {"file": given, "tables": list(tables.values())})
    return f"{table}.{match.group(2).lower()}"


def checked(folder: str, dataset: library.Dataset, tables: list[str]) -> library.ValidationReport:
    """The validation report of the uploaded files; 422 when they cannot be read at all (a CSV that DuckDB
    cannot make sense of escapes the validator's own ``readable`` check)."""
    import duckdb
    import pyarrow as pa

    try:
        return library.validate(folder, dataset, tables=tables)
    except (duckdb.Error, pa.ArrowException, UnicodeDecodeError, OSError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0].replace(folder + "/", "")[:300]
        raise ApiError(422, f"files: the upload cannot be read: {reason}", "unreadable_upload") from None


@router.post("/validate/{name}", response_model=ValidationReport, summary="Validate uploaded data",
             responses={200: {"description": "the report (ok is false when a check fails)",
                              "content": {"text/html": {"schema": {"type": "string"}}}},
                        **errors(400, 401, 404, 413, 422, 429)},
             dependencies=[Depends(generation_slot, scope="function")])
def validate(name: Name,
             files: Annotated[list[UploadFile], File(
                 description="one file per table, named (its multipart filename) <table>.csv, .parquet or "
                             ".ndjson; an empty file or another name is refused (422)",
                 json_schema_extra={"minItems": 1, "items": {"type": "string", "minLength": 1,
                                                             "contentMediaType": "application/octet-stream"}})],
             version: Version = None,
             format: Annotated[Literal["json", "html"],
                               Query(description="the report as JSON or as an HTML page")] = "json") -> Any:
    """Check every row of the uploaded tables against the spec: types, nulls, declared checks, keys, foreign
    keys between the uploaded tables, rules. The answer is 200 whatever the verdict: ``ok`` says it."""
    dataset = catalogue.dataset_of(name, version)
    tables = {t.lower(): t for t in dataset.tables}
    names = [stored_name(upload, tables) for upload in files]
    uploaded = [FsPath(n).stem for n in names]
    if len(set(uploaded)) != len(uploaded):
        raise ApiError(422, "files: one file per table", "invalid_request", {"files": names})
    with tempfile.TemporaryDirectory(prefix="esdh-upload-") as folder:
        for upload, stored in zip(files, names, strict=True):
            with (FsPath(folder) / stored).open("wb") as out:
                shutil.copyfileobj(upload.file, out)
        report = checked(folder, dataset, uploaded)
    result = catalogue.json_safe({**report.as_dict(), "data": "upload: " + ", ".join(names)})
    if format == "html":
        return HTMLResponse(library.validation_html(result))
    return result
