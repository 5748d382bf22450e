"""/v1/datasets: the built-in datasets, their description, a preview of a table and streamed generation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BeforeValidator

from esdh import library
from esdh.api import v1_catalogue as catalogue
from esdh.api import v1_limits as limits
from esdh.api.deps import stream_slots
from esdh.api.streaming import HeldStream
from esdh.api.v1_models import DatasetDetail, DatasetList, Preview, errors

FORMATS = library.stream.FORMATS

router = APIRouter(tags=["datasets"])

Name = Annotated[str, Path(description="a built-in dataset (GET /v1/datasets lists them)", examples=["insurance"])]
TableName = Annotated[str, Path(description="a table of the dataset", examples=["persons"])]


def _ascii_digits(value: object) -> object:
    """Whole numbers in a query are written with the digits 0-9, as on the command line: '1_0', '+5', ' 5' and
    other scripts' digits ('١٠', '１０'), which Python's int() would take, are refused."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError(f"{value!r} is not a whole number (digits 0-9 only)")
    return value


Digits = BeforeValidator(_ascii_digits)
Seed = Annotated[int | None, Query(ge=0, le=2**63 - 1, description="the seed (default: the spec's)"), Digits]
Version = Annotated[str | None, Query(max_length=100, description="a version the dataset declares (default: its base; "
                                      "GET /v1/datasets/{name} lists them); any other: 404")]

MEDIA_ZIP = "application/zip"
BINARY = {"schema": {"type": "string", "format": "binary"}}
DOWNLOAD_TYPES = {FORMATS[f].mediatype: BINARY for f in ("ndjson", "csv", "parquet")} | {MEDIA_ZIP: BINARY}
DOWNLOAD_HEADERS = {
    "Content-Disposition": {"description": 'attachment; filename="<table>.<ext>" or "<dataset>-<format>.zip"',
                            "schema": {"type": "string"}},
    "X-ESDH-Seed": {"description": "the seed the data was generated with", "schema": {"type": "integer"}},
    "X-ESDH-Rows": {"description": "rows in the download (every table of a ZIP)", "schema": {"type": "integer"}},
    "X-ESDH-Version": {"description": "the dataset version generated", "schema": {"type": "string"}}}


@router.get("/datasets", response_model=DatasetList, summary="List the built-in datasets",
            responses=errors(401, 429))
def datasets() -> dict[str, list[library.catalogue.DatasetSummary]]:
    """Every built-in dataset with its version, title, description and tables."""
    return {"datasets": [catalogue.summary(name) for name in catalogue.pack_names()]}


@router.get("/datasets/{name}", response_model=DatasetDetail, summary="Describe a dataset",
            responses=errors(401, 404, 422, 429))
def dataset(name: Name, version: Version = None) -> library.catalogue.DatasetDetail:
    """Tables (rows at the default scale, primary key, columns), relations between tables, the declared
    versions and the spec itself."""
    return catalogue.detail(name, version)


@router.get("/datasets/{name}/tables/{table}/preview", response_model=Preview, summary="Preview a table",
            responses=errors(401, 404, 422, 429))
def preview(request: Request, name: Name, table: TableName,
            rows: Annotated[int, Query(ge=1, le=catalogue.PREVIEW_MAX, description="how many first rows"),
                            Digits] = 10,
            seed: Seed = None, version: Version = None) -> dict[str, Any]:
    """The table's first rows, generated in memory, as JSON (at most 1000, and at most max_rows)."""
    data = catalogue.dataset_of(name, version)
    catalogue.check_table(data, table)
    limit = request.app.state.settings.max_rows
    if rows > limit:
        raise limits.too_many(rows, limit, {table: rows})
    plan = library.plan(data, seed=seed)
    result = library.preview(plan, table, rows)
    return {"dataset": name, "table": table, "seed": plan.seed, "version": data.spec.version,
            "columns": result.column_names, "rows": catalogue.preview_rows(result)}


@router.get("/datasets/{name}/generate", response_class=StreamingResponse, summary="Generate and download",
            responses={200: {"description": "the file, streamed as it is generated", "content": DOWNLOAD_TYPES,
                             "headers": DOWNLOAD_HEADERS},
                       **errors(401, 404, 422, 429)})
def generate(request: Request, name: Name,
             format: Annotated[Literal["ndjson", "csv", "parquet"],
                               Query(description="the file format")] = "parquet",
             table: Annotated[str | None, Query(description="one table (default: every table, as a ZIP)")] = None,
             seed: Seed = None,
             scale: Annotated[float, Query(gt=0, allow_inf_nan=False, description="multiplies the rows of every "
                                           "table that scales")] = 1.0,
             rows: Annotated[list[str], Query(description="TABLE=N sets a table's rows (repeatable)")] = [],  # noqa: B006
             version: Version = None) -> HeldStream:
    """Generate a table (``table``) as one file, or the whole dataset as a ZIP of one file per table, streamed
    as it is generated: memory stays bounded whatever the size. The same parameters always give the same
    bytes. More rows than max_rows in total is refused (422) before anything is generated; the download holds
    one of the server's generation slots until it ends (429 when none is free)."""
    settings = request.app.state.settings
    data = catalogue.dataset_of(name, version)
    if table is not None:
        catalogue.check_table(data, table)
    overrides = limits.parse_rows(rows)
    limits.check_planning(data, scale, overrides, settings.max_rows)
    plan = library.plan(data, seed=seed, scale=scale, rows=overrides, tables=[table] if table else None)
    total = limits.check_plan_rows(plan, settings.max_rows)
    extension = FORMATS[format].extension
    if table is None:
        media, filename = MEDIA_ZIP, f"{name}-{format}.zip"
    else:
        media, filename = FORMATS[format].mediatype, f"{table}.{extension}"
    release = stream_slots(request)
    try:
        # Everything that can fail before the first byte fails here, answered as an error envelope: the
        # status line is sent only once the first piece of the file exists.
        chunks = library.stream.download(plan, format, table)
    except BaseException:
        release()
        raise
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "X-ESDH-Seed": str(plan.seed),
               "X-ESDH-Rows": str(total), "X-ESDH-Version": data.spec.version}
    return HeldStream(chunks, release, settings.stall_timeout, media_type=media, headers=headers)
