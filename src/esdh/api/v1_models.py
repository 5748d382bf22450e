"""The shapes /v1 answers with, as pydantic models: they document the API in /openapi.json and FastAPI
checks every JSON answer against them. Models allow extra fields, so a field can be added without breaking
a client."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorBody(BaseModel):
    code: str = Field(description="a stable machine-readable code, e.g. not_found, invalid_request, busy")
    message: str = Field(description="what went wrong, with the value, the place and the fix")
    details: Any = Field(None, description="structured details (validation errors, limits, suggestions)")


class ErrorEnvelope(BaseModel):
    """Every error of the API, whatever its status."""

    error: ErrorBody


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for error statuses (and 500, which any operation may answer), each answered with
    the error envelope."""
    what = {400: "Malformed request", 401: "Missing or wrong API key", 404: "Not found",
            409: "Conflict with the state of the data", 413: "Request body too large",
            422: "Invalid parameter or request (the message names the parameter and the limit)",
            429: "Rate limit reached, every generation slot busy, or the caller's downloads at their limit "
                 "(see Retry-After)",
            500: "Unexpected error (logged on the server; the answer says nothing about the code)"}
    return {status: {"model": ErrorEnvelope, "description": what[status]} for status in (*statuses, 500)}


# -- datasets -------------------------------------------------------------------------------------------


class DatasetSummary(_Open):
    name: str
    version: str
    title: str | None = None
    description: str | None = None
    tables: list[str]


class DatasetList(_Open):
    datasets: list[DatasetSummary]


class ColumnInfo(_Open):
    name: str
    type: str = Field(description="string, integer, number, boolean, date or datetime")
    generator: str | None = Field(None, description="the generator's name (null for expr, ref, lookup, value)")
    description: str | None = None
    kind: str = Field(description="where values come from: generator, expr, ref, lookup, value, aggregate, window")
    source: str = Field(description="the generator's name, the expression or the referenced column")
    null_rate: float = 0.0


class TableInfo(_Open):
    name: str
    rows: int = Field(description="rows at the default seed and scale")
    primary_key: list[str]
    columns: list[ColumnInfo]
    description: str | None = None
    parent: str | None = Field(None, description="the table this one has rows per (a child table)")


class Relation(_Open):
    from_table: str
    from_column: str | None = Field(description="null for a parent relation (rows per parent)")
    to_table: str
    to_column: str | None = Field(description="null for a parent relation")
    kind: Literal["ref", "lookup", "parent"]


class DatasetDetail(_Open):
    name: str
    version: str
    title: str | None = None
    description: str | None = None
    seed: int
    as_of: str = Field(description="the dataset's reference date (ISO)")
    versions: list[str] = Field(description="the base version and every version the spec declares")
    tables: list[TableInfo]
    relations: list[Relation]
    spec: dict[str, Any] = Field(description="the spec (of the version asked for) as JSON")


class Preview(_Open):
    dataset: str
    table: str
    seed: int
    version: str
    columns: list[str]
    rows: list[dict[str, Any]] = Field(description="JSON values: dates and timestamps as ISO text")


# -- runs -----------------------------------------------------------------------------------------------


class RunRecord(_Open):
    id: int
    dataset: str
    version: str
    status: str
    source: str
    folder: str = Field(description="the run's folder relative to the registry")
    dataset_version: str | None = None
    seed: int | None = None
    scale: float | None = None
    row_counts: dict[str, int] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict, description="relative path -> sha256")
    validation: str | None = None
    drift: str | None = None
    against: str | None = None


class RunList(_Open):
    runs: list[RunRecord]


class ReportLink(_Open):
    name: str = Field(description="validation or drift")
    format: str = Field(description="html or json")
    path: str = Field(description="relative to the run folder")
    url: str = Field(description="where the API serves it")


class RunDetail(_Open):
    run: RunRecord
    manifest: dict[str, Any] | None = Field(description="the run's datapackage.json (null if unreadable)")
    reports: list[ReportLink]
    files: list[str] = Field(description="every file of the run folder, relative")


class Verification(_Open):
    folder: str = Field(description="the run's folder relative to the registry")
    ok: bool
    checked: int
    missing: list[str]
    changed: list[dict[str, Any]]
    extra: list[str]
    problems: list[str] = Field(default_factory=list, description="findings other than a missing, changed or "
                                "extra file, one line each: a malformed manifest, a link, a special file, an "
                                "unsafe path, a registry row that disagrees with the run")
    manifest_sha256: str | None = Field(default=None, description="the sha256 of the manifest read")


# -- validation -----------------------------------------------------------------------------------------


class ValidationReport(_Open):
    format_version: int
    dataset: str
    version: str
    data: str
    ok: bool = Field(description="false when any check fails (the request itself succeeded)")
    summary: dict[str, int]
    tables: dict[str, dict[str, Any]]
    checks: list[dict[str, Any]]
    skipped: list[dict[str, str]]
    ignored: list[str]
    extra_columns: dict[str, list[str]]
