"""Governed runs: a dataset generated (or ingested) into ``<registry>/<dataset>/<version>/``, once.

What a run guarantees:

- The version is reserved in the registry before anything is written; an existing version is refused.
- The run is written aside (``.<version>.esdh-pending``) and published by one rename, so a reader sees
  either no run or a whole one. An interrupted run can be resumed (``resume=True``) from the partitions it
  had written.
- The run folder holds only what is reproducible: the data, the data dictionary, the lineage and the
  reports (validation, and drift against the previous run of the dataset), each listed in its
  ``datapackage.json`` with its sha256. Times, host, user, command and the run id are run metadata, kept
  apart in ``<registry>/<dataset>/.meta/<version>/`` and in the registry.
- Once published, the run's files and folders are made read-only and nothing writes there again.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import re
import shlex
import shutil
import socket
import sqlite3
import stat
import sys
import uuid
from collections.abc import Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from esdh.errors import EsdhError, OutputError, UsageError
from esdh.logs import event
from esdh.output.checksum import sha256_file
from esdh.output.datapackage import file_resource, write_manifest
from esdh.output.faults import RUN_OVERHEAD, check_names, check_path, remove_folders
from esdh.output.folder import MANIFEST, publish_new, write_text
from esdh.output.lineage import EVENTS
from esdh.runs.registry import META, RUN_METADATA, Registry, RunRecord, record_digest
from esdh.runs.verify import listed_files
from esdh.version import __version__

REPORTS = "reports"
VERSION_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*(\+[0-9A-Za-z._-]+)?$")
DATASET_PATTERN = re.compile(r"^[a-z_][a-z0-9_-]*$")


@dataclass
class RunOutcome:
    """A finished run: its registry record, its folder and its reports (as dicts)."""

    record: RunRecord
    folder: Path
    validation: dict[str, Any] | None
    drift: dict[str, Any] | None
    metadata: dict[str, Any]
    resumed: bool = False  # an interrupted run of this version was continued


def dataset_version_of(version: str) -> str:
    """The dataset version a run version names: ``1.1.0+rerun`` is another run of dataset version 1.1.0
    (SemVer build metadata)."""
    return version.split("+", 1)[0]


def check_version(version: str) -> str:
    if not VERSION_PATTERN.match(version):
        raise UsageError(f"'{version}' is not a usable run version: use letters, digits, '.', '_', '-' and one "
                         "optional '+build' suffix (for example 1.1.0 or 1.1.0+2)")
    return version


def now() -> str:
    """Wall-clock time for run metadata (never for data)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def command_line() -> str:
    """The command that started this process, as a person would type it (``esdh run ...``, also when it was
    started as ``python -m esdh``)."""
    if not sys.argv:
        return ""
    program = "esdh" if sys.argv[0].endswith(("esdh", "__main__.py")) else sys.argv[0]
    return " ".join(shlex.quote(a) for a in [program, *sys.argv[1:]])


def make_read_only(folder: Path) -> None:
    """Files r--r--r--, folders r-xr-xr-x: a finished run is not modified again."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    folder.chmod(0o555)


def make_writable(folder: Path) -> None:
    """Undo :func:`make_read_only` (only to delete a run)."""
    folder.chmod(folder.stat().st_mode | stat.S_IWUSR)
    for path in folder.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def remove_run_folder(folder: Path) -> None:
    if folder.exists():
        make_writable(folder)
        shutil.rmtree(folder)


def add_reports(folder: Path, reports: list[Path]) -> dict[str, Any]:
    """List the report files in the folder's manifest (with their sha256), so verify covers them."""
    manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    names = {r["name"] for r in manifest["resources"]}
    for path in reports:
        resource = file_resource(folder, path)
        resource["name"] = f"report-{path.stem.lower()}"
        if resource["name"] in names:
            raise OutputError(f"two reports named {path.name}")
        if path.suffix == ".html":
            resource["mediatype"] = "text/html"
            resource["name"] += "-html"
        manifest["resources"].append(resource)
    write_manifest(folder / MANIFEST, manifest)
    return manifest


class Report(Protocol):
    def write(self, folder: Path) -> list[Path]: ...

    def as_dict(self) -> dict[str, Any]: ...


class ValidationLike(Report, Protocol):
    """What a run reads of a validation report (:class:`esdh.quality.validate.ValidationReport`)."""

    @property
    def ok(self) -> bool: ...

    @property
    def checks(self) -> Sized: ...


class DriftLike(Report, Protocol):
    """What a run reads of a drift report (:class:`esdh.quality.drift.DriftReport`); the run names both
    sides by ``dataset/version``, so the report does not depend on where it was made."""

    current: dict[str, Any]
    reference: dict[str, Any]


class RunWriter:
    """The steps every run shares, generated or ingested: reserve, stage, report, publish, register."""

    def __init__(self, registry: Registry, dataset: str, version: str, source: str, command: str | None = None):
        if not DATASET_PATTERN.match(dataset):
            raise UsageError(f"'{dataset}' is not a usable dataset name: lower-case letters, digits, '_' and '-'")
        self.registry = registry
        self.dataset = dataset
        self.version = check_version(version)
        check_path(registry.root / dataset / version)
        check_names(registry.root, [dataset], "dataset name", overhead=0)
        check_names(registry.root, [version], "run version", "choose a shorter --version", overhead=RUN_OVERHEAD)
        self.source = source
        self.run_id = str(uuid.uuid4())
        self.command = command if command is not None else command_line()
        self.started = now()
        self.final = registry.root / dataset / version
        self.staging = registry.root / dataset / f".{version}.esdh-pending"
        self.meta = registry.root / dataset / META / version
        self.record: RunRecord | None = None
        self._created: list[Path] = []  # the dataset's folder and .meta, when this run made them

    @property
    def reference(self) -> str:
        """``dataset/version``: how reports inside the run name it (never by an absolute path)."""
        return f"{self.dataset}/{self.version}"

    def reserve(self, **fields: Any) -> RunRecord:
        self.record = self.registry.reserve(self.dataset, self.version, self.source, started_at=self.started,
                                            user=_user(), command=self.command, esdh_version=__version__,
                                            unfinished=self._discard_unregistered, **fields)
        self._created = [p for p in (self.registry.root / self.dataset, self.meta.parent) if not p.exists()]
        if self.staging.exists():  # left by a run killed after generating: generation redoes it (or resumes)
            remove_run_folder(self.staging)
        previous = self.registry.previous(self.record)
        event("run.reserved", dataset=self.dataset, version=self.version, folder=str(self.final),
              previous=previous.version if previous else None)
        return self.record

    def previous(self) -> RunRecord | None:
        assert self.record is not None
        return self.registry.previous(self.record)

    def reports(self, validation: ValidationLike | None,
                drift: DriftLike | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Write the validation report and the drift report (against the previous run) into the staged run."""
        folder = self.staging / REPORTS
        folder.mkdir(exist_ok=True)
        files: list[Path] = []
        validation_dict = drift_dict = None
        if validation is not None:
            files += validation.write(folder)
            validation_dict = validation.as_dict()
            event("run.validated", ok=validation.ok, checks=len(validation.checks))
        against = self.previous()
        if drift is not None and against is not None:
            # name both sides by run, relative to the registry: the report must not depend on where it was made
            drift.current.update(folder=self.reference, run=self.version)
            drift.reference.update(folder=against.folder, run=against.version)
            files += drift.write(folder)
            drift_dict = drift.as_dict()
            event("run.drift", against=against.version, verdict=drift_dict["verdict"])
        if not files:
            folder.rmdir()
        add_reports(self.staging, sorted(files))
        return validation_dict, drift_dict

    def _discard_unregistered(self, folder: Path) -> None:
        """The run folder (and metadata) of a writer that died after publishing it but before registering it
        (its reservation is being taken over): never finished, so it is redone."""
        event("run.discarded", folder=str(folder), reason="its writer died before registering it")
        remove_run_folder(folder)
        shutil.rmtree(self.meta, ignore_errors=True)

    def publish(self, events_file: Path | None = None, **fields: Any) -> RunOutcome:
        """Make the staged run read-only, rename it into place and register it as complete; if any of it
        fails, what it did is undone (the run folder, its metadata), so the version can be written again."""
        assert self.record is not None
        try:
            return self._publish(events_file, **fields)
        except BaseException:
            if self.record.being_written:
                if self.final.exists():
                    make_writable(self.final)
                    os.rename(self.final, self.staging)  # abandon() removes it, or keeps it for a resume
                shutil.rmtree(self.meta, ignore_errors=True)
            raise

    def _publish(self, events_file: Path | None = None, **fields: Any) -> RunOutcome:
        assert self.record is not None
        manifest = json.loads((self.staging / MANIFEST).read_text(encoding="utf-8"))
        files = {path: digest for path, (_, digest) in sorted(listed_files(manifest).items())}
        self.meta.mkdir(parents=True, exist_ok=True)
        if events_file is not None and events_file.exists():
            os.replace(events_file, self.meta / EVENTS)
        make_read_only(self.staging)
        publish_new(self.staging, self.final)  # the registry's reservation: only a hand-made folder can be there
        finished = now()
        metadata = {"run_id": self.run_id, "dataset": self.dataset, "version": self.version, "source": self.source,
                    "started_at": self.started, "finished_at": finished, "host": socket.gethostname(),
                    "pid": os.getpid(), "user": _user(), "command": self.command, "esdh_version": __version__,
                    "versions": manifest.get("esdh", {}).get("versions", {}), "folder": str(self.final),
                    "manifest_sha256": sha256_file(self.final / MANIFEST), **fields}
        write_text(self.meta / RUN_METADATA, json.dumps(metadata, indent=2, default=str) + "\n")
        meta_files = {path.name: sha256_file(path) for path in sorted(self.meta.iterdir()) if path.is_file()}
        recorded = {"dataset": self.dataset, "version": self.version, "source": self.source,
                    "folder": self.record.folder, "files": files, "manifest_sha256": metadata["manifest_sha256"],
                    "meta_files": meta_files, **fields}
        self.record = self.registry.complete(self.record, finished_at=finished, files=files,
                                             manifest_sha256=metadata["manifest_sha256"], meta_files=meta_files,
                                             record_sha256=record_digest(recorded), **fields)
        event("run.published", dataset=self.dataset, version=self.version, folder=str(self.final),
              files=len(files))
        return RunOutcome(self.record, self.final, None, None, metadata)

    def abandon(self, keep_staging: bool) -> None:
        """After a failure: free the version; keep the staged files only when a resume can use them. The
        files go first (on a full disk, they are what frees the space the registry needs to record it)."""
        if not keep_staging:
            remove_run_folder(self.staging)
            remove_folders(self._created)
        if self.record is not None and self.record.being_written:
            try:
                self.registry.release(self.record)
            except (EsdhError, OSError, sqlite3.Error) as exc:  # the next run takes the reservation over
                event("run.release_failed", level=logging.WARNING, error=str(exc))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())



