"""Write an output folder aside and publish it by an atomic rename.

A failed generation leaves nothing that looks finished: the work happens in a hidden sibling folder that is
removed on failure, and an earlier output of the same dataset is replaced only after the new one is
complete. A folder holding anything else is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from esdh.errors import OutputError
from esdh.output.faults import OUTPUT_OVERHEAD, check_names, check_path, fault, make_folders, remove_folders

MANIFEST = "datapackage.json"


def existing_dataset(folder: Path, manifest: str = MANIFEST) -> str | None:
    """The dataset name recorded in a folder's manifest, or None when there is no readable manifest."""
    try:
        data = json.loads((folder / manifest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def check_destination(folder: Path, dataset: str, manifest: str = MANIFEST) -> None:
    """Refuse a destination that holds something other than an earlier output of the same dataset."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} exists and is not a folder")
    if not folder.exists() or not any(folder.iterdir()):
        return
    found = existing_dataset(folder, manifest)
    if found is None:
        raise OutputError(f"{folder} is not empty and holds no ESDH output; refusing to overwrite it "
                          "(choose an empty or new folder)")
    if found != dataset:
        raise OutputError(f"{folder} already holds the dataset '{found}', not '{dataset}'; "
                          "choose another folder or remove it first")


@contextmanager
def staged_folder(destination: Path, dataset: str, manifest: str = MANIFEST) -> Iterator[Path]:
    """Yield a hidden staging folder; on success it replaces ``destination`` atomically."""
    destination = destination.resolve()
    check_path(destination)
    check_names(destination.parent, [destination.name], "output folder name", "choose a shorter folder",
                overhead=OUTPUT_OVERHEAD)
    check_destination(destination, dataset, manifest)
    created: list[Path] = []
    try:
        created = make_folders(destination.parent)
        token = uuid.uuid4().hex[:12]
        staging = destination.parent / f".{destination.name}.esdh-staging-{token}"
        staging.mkdir()
        try:
            yield staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        publish(staging, destination, token)
    except OSError as exc:  # nothing is left behind: the staging folder is gone, and so are the folders made
        remove_folders(created)
        raise fault(exc, destination) from None
    except BaseException:
        remove_folders(created)
        raise


def publish(staging: Path, destination: Path, token: str | None = None) -> None:
    """Put a finished staging folder in place of ``destination`` (renames only; an earlier output is
    kept aside until the new one is in place, and restored if that fails)."""
    retired = destination.parent / f".{destination.name}.esdh-retired-{token or uuid.uuid4().hex[:12]}"
    if destination.exists():
        os.rename(destination, retired)
    try:
        os.rename(staging, destination)
    except OSError:
        if retired.exists():
            os.rename(retired, destination)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def publish_new(staging: Path, destination: Path) -> None:
    """Rename a finished staging folder to ``destination``, which must not exist (a run is never replaced)."""
    if destination.exists():
        raise OutputError(f"{destination} appeared while it was written; what was written is kept in {staging}")
    os.rename(staging, destination)


def write_text(path: Path, text: str) -> None:
    """Write a file whole or not at all: into a temporary sibling, then renamed over ``path``."""
    temporary = path.with_name(f".{path.name}.esdh-{uuid.uuid4().hex[:12]}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
