"""/v1/runs: the registered runs of the server's registry, their files and reports, and verification.

A run's files are served only from inside its folder: a path with ``..``, an absolute path, a hidden part
(``.meta`` lives beside the run, not in it) or a symbolic link anywhere on the way is answered 404, as is
anything that is not a regular file.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse

from esdh import library
from esdh.api.deps import generation_slot
from esdh.api.errors import ApiError
from esdh.api.v1_catalogue import json_safe
from esdh.api.v1_models import RunDetail, RunList, Verification, errors
from esdh.errors import EsdhError

router = APIRouter(tags=["runs"])

Dataset = Annotated[str, Path(description="the run's dataset", examples=["insurance"])]
Version = Annotated[str, Path(description="the run's version, e.g. 1.0.0 or 1.0.0+2 (URL-encoded: 1.0.0%2B2)",
                              examples=["1.0.0"])]
MEDIA = {f".{f.extension}": f.mediatype for f in library.stream.FORMATS.values()} | {
    ".html": "text/html; charset=utf-8", ".yaml": "application/yaml", ".yml": "application/yaml",
    ".json": "application/json", ".csv": "text/csv; charset=utf-8"}
# the reports are self-contained: a page served from here may load nothing and run nothing
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
BINARY = {"type": "string", "format": "binary"}
FILE_TYPES = {media.split(";")[0]: {"schema": {} if media in ("application/json", "application/yaml") else BINARY}
              for media in sorted({*MEDIA.values(), "application/octet-stream"})}


def registry(request: Request) -> library.Registry:
    return library.registry(request.app.state.settings.registry)


def find_run(request: Request, dataset: str, version: str) -> tuple[library.Registry, library.RunRecord, FsPath]:
    """A finished run of the registry and its folder; 404 otherwise."""
    runs = registry(request)
    record = None
    if runs.path.exists():
        try:
            record = runs.get(dataset, version)
        except EsdhError:
            record = None
    if record is None or record.being_written:
        known = [r.version for r in runs.runs(dataset)] if runs.path.exists() else []
        hint = f"its runs: {', '.join(known)}" if known else "GET /v1/runs lists the runs"
        raise ApiError(404, f"no run {dataset} {version} ({hint})", "not_found", {"versions": known})
    return runs, record, runs.folder_of(record)


def run_url(record: library.RunRecord, path: str) -> str:
    return f"/v1/runs/{quote(record.dataset, safe='')}/{quote(record.version, safe='')}/files/{quote(path)}"


def run_files(folder: FsPath) -> list[str]:
    """The regular files of a run folder (relative), never following a link."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not _linked(folder, relative.parts) and not relative.as_posix().startswith("."):
            found.append(relative.as_posix())
    return found


def _linked(folder: FsPath, parts: tuple[str, ...]) -> bool:
    here = folder
    for part in parts:
        here = here / part
        if here.is_symlink():
            return True
    return False


def safe_file(folder: FsPath, path: str) -> FsPath:
    """``path`` inside ``folder``, a regular file reached without a link; 404 for anything else."""
    missing = ApiError(404, f"no file '{path}' in this run", "not_found")
    parts = path.split("/")
    if (not path or "\\" in path or "\x00" in path or path.startswith("/")
            or any(p in ("", ".", "..") or p.startswith(".") for p in parts)):
        raise missing
    try:
        if _linked(folder, tuple(parts)):
            raise missing
        target = folder.joinpath(*parts)
        resolved = target.resolve(strict=True)
    except (OSError, ValueError):
        raise missing from None
    if resolved != folder.resolve().joinpath(*parts) or not resolved.is_file():
        raise missing
    return resolved


@router.get("/runs", response_model=RunList, summary="List the registered runs",
            responses=errors(401, 422, 429))
def runs(request: Request,
         dataset: Annotated[str | None, Query(description="only this dataset's runs")] = None) -> dict[str, Any]:
    """Finished runs, oldest first, as the registry records them (without their spec)."""
    found = registry(request)
    return {"runs": [r.as_dict() for r in found.runs(dataset)]}


@router.get("/runs/{dataset}/{version}", response_model=RunDetail, summary="Show a run",
            responses=errors(401, 404, 422, 429))
def show(request: Request, dataset: Dataset, version: Version) -> dict[str, Any]:
    """The registry's record, the manifest (datapackage.json), the reports with their URLs and every file."""
    _, record, folder = find_run(request, dataset, version)
    found = library.manifest(folder)
    manifest = json_safe(found) if found is not None else None
    files = run_files(folder)
    reports = [{"name": FsPath(p).stem, "format": FsPath(p).suffix.lstrip("."), "path": p, "url": run_url(record, p)}
               for p in files if p.startswith("reports/")]
    return {"run": record.as_dict(), "manifest": manifest, "reports": reports, "files": files}


@router.get("/runs/{dataset}/{version}/files/{path:path}", response_class=FileResponse, summary="Get a file of a run",
            responses={200: {"description": "the file", "content": FILE_TYPES}, **errors(401, 404, 422, 429)})
def file(request: Request, dataset: Dataset, version: Version,
         path: Annotated[str, Path(description="relative to the run folder", examples=["reports/validation.html"])],
         ) -> FileResponse:
    """One file of a run (data, dictionary, lineage, manifest, reports), with its media type."""
    _, _, folder = find_run(request, dataset, version)
    target = safe_file(folder, path)
    media = MEDIA.get(target.suffix.lower(), "application/octet-stream")
    headers = {"X-Content-Type-Options": "nosniff"}
    if media.startswith("text/html"):
        headers["Content-Security-Policy"] = REPORT_POLICY
    return FileResponse(target, media_type=media, headers=headers)


@router.post("/runs/{dataset}/{version}/verify", response_model=Verification, summary="Verify a run",
             responses=errors(401, 404, 409, 422, 429), dependencies=[Depends(generation_slot, scope="function")])
def verify(request: Request, dataset: Dataset, version: Version) -> dict[str, Any]:
    """Recompute the sha256 of every file the manifest lists, and check the manifest against the registry:
    ``ok`` is false when a file is missing, changed or extra."""
    runs, record, folder = find_run(request, dataset, version)
    result = library.verify(folder, runs.root).as_dict()
    return {**result, "folder": record.folder}
