"""A local folder as the target of an output, written aside so that it can be resumed and published at once.

An output is written into ``.<destination>.esdh-partial`` beside its destination and publishes it by renaming.
After each partition it records what it wrote in a journal (files with their sha256, row checks,
fingerprint blocks). If the output is interrupted (Ctrl-C, a killed process, a lost worker, a full disk) the
folder stays; ``--resume`` keeps every partition whose files still match the journal and writes only the
rest, which gives the same bytes as an uninterrupted one because every partition is a pure function of the
plan. An output that fails for a reason that a retry cannot fix (its data breaks the spec, bad options) leaves
nothing behind. One lock per destination keeps two writers from writing the same folder. (An object store
destination has no folder to rename and no lock: see :mod:`esdh.output.target_store`.)
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

from esdh.errors import EsdhError, OutputError
from esdh.logs import event
from esdh.output.checksum import sha256_file
from esdh.output.faults import OUTPUT_OVERHEAD, check_names, check_path, make_folders, remove_folders
from esdh.output.folder import check_destination, publish
from esdh.output.journal import JOURNAL, RUN_KEY, resumes
from esdh.output.partition import PartResult
from esdh.plan.partitions import Part


class FolderTarget:
    """Stage, journal and publish an output into a local folder (see the module's docstring)."""

    def __init__(self, destination: Path, dataset: str, key: dict[str, Any], resume: bool = False):
        self.destination = Path(destination).resolve()
        self.dataset = dataset
        self.key = key
        self.resume = resume
        self.folder = self.destination.parent / f".{self.destination.name}.esdh-partial"
        self.journal = self.folder / JOURNAL
        self.resumed = False
        self.kept = False
        self._lock: int | None = None
        self._created: list[Path] = []  # folders above the destination that this output made
        self._made_folder = False

    def __enter__(self) -> FolderTarget:
        check_path(self.destination)
        check_names(self.destination.parent, [self.destination.name], "output folder name",
                    "choose a shorter --out", overhead=OUTPUT_OVERHEAD)
        check_destination(self.destination, self.dataset)
        self._created = []
        try:
            self._created = make_folders(self.destination.parent)
            self._lock = _take_lock(self._lock_path)
        except NotADirectoryError as exc:
            remove_folders(self._created)
            raise OutputError(f"cannot write to {self.destination}: {_reason(exc, self.destination)}") from None
        except BaseException:
            remove_folders(self._created)
            raise
        if self._lock is None:
            raise OutputError(f"another process is writing to {self.destination}; wait for it or choose another "
                              "folder")
        try:
            _recover(self.destination)
            self._prepare()
        except BaseException:
            if self._made_folder:
                shutil.rmtree(self.folder, ignore_errors=True)
            self._unlock()
            remove_folders(self._created)
            raise
        return self

    def _prepare(self) -> None:
        if self.folder.exists():
            if resumes(self.resume, self._recorded_key(), self.key, self.folder):
                self.resumed = True
                return
            event("output.discarded", folder=str(self.folder), reason="not resumed")
            shutil.rmtree(self.folder)
        self._made_folder = True
        self.journal.mkdir(parents=True)
        (self.journal / RUN_KEY).write_text(json.dumps(self.key, sort_keys=True), encoding="utf-8")

    def _recorded_key(self) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] | None = json.loads((self.journal / RUN_KEY).read_text(encoding="utf-8"))
            return result
        except (OSError, ValueError):
            return None

    def completed(self, parts: list[Part]) -> dict[str, PartResult]:
        """The journal's partitions among ``parts`` whose files are all present and unchanged. Every
        other file in the folder (a part cut short, a temporary file) is removed: it will be written again."""
        if not self.resumed:
            return {}
        found = self._verified(parts)
        keep = {self.folder / entry["path"] for result in found.values() for entry in result.files.values()}
        for path in sorted(self.folder.rglob("*"), reverse=True):
            if self.journal in path.parents or path == self.journal:
                continue
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            elif path not in keep:
                path.unlink()
        return found

    def _verified(self, parts: list[Part]) -> dict[str, PartResult]:
        found = {}
        for part in parts:
            try:
                result = PartResult.from_dict(json.loads((self.journal / f"{part.key}.json").read_text("utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if all(self._intact(entry) for entry in result.files.values()):
                found[part.key] = result
        return found

    def _intact(self, entry: dict[str, Any]) -> bool:
        path = self.folder / entry["path"]
        result: bool = path.is_file() and path.stat().st_size == entry["bytes"] and sha256_file(path) == entry["sha256"]
        return result

    def record(self, part: Part, result: PartResult) -> None:
        temporary = self.journal / f".{part.key}.json.tmp"
        temporary.write_text(json.dumps(result.as_dict()), encoding="utf-8")
        os.replace(temporary, self.journal / f"{part.key}.json")

    def finish(self) -> None:
        """Drop the journal (it is not part of the output); call before the manifest is written."""
        shutil.rmtree(self.journal, ignore_errors=True)

    def located(self, relative: str) -> Path:
        """Where a file of the output is, once published."""
        return self.destination / relative

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        failed = False
        try:
            if exc is None:
                publish(self.folder, self.destination)
            elif isinstance(exc, EsdhError | OSError) or not self.journal.exists():
                # a failure a retry cannot fix, or one of the file system (a full disk, a read-only
                # target): nothing is left behind, neither the working folder nor the folders made for it
                failed = True
                shutil.rmtree(self.folder, ignore_errors=True)
            else:  # interrupted (Ctrl-C, SIGTERM): the working folder stays for --resume
                self.kept = True
        except BaseException:
            failed = True
            raise
        finally:
            self._unlock()
            if failed:
                remove_folders(self._created)

    @property
    def _lock_path(self) -> Path:
        return self.destination.parent / f".{self.destination.name}.esdh-lock"

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock_path.unlink(missing_ok=True)  # while still holding it: see _take_lock
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None


def _take_lock(path: Path) -> int | None:
    """An exclusive lock on ``path`` (created if needed), or None if another process holds it. The holder
    removes the file when it lets go, so after locking, check that the file locked is still the one at
    ``path``; if not, another process came and went in between: try again."""
    while True:
        handle = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(handle).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        os.close(handle)


def _recover(destination: Path) -> None:
    """Finish what a publish killed between its two renames left (see :func:`esdh.output.folder.publish`):
    the earlier output, moved aside, goes back in place if nothing took it; otherwise it is removed."""
    for retired in sorted(destination.parent.glob(f".{_glob_escape(destination.name)}.esdh-retired-*")):
        if not retired.is_dir():
            continue
        if destination.exists():
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(retired, destination)
            event("output.recovered", folder=str(destination))


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _reason(exc: OSError, destination: Path) -> str:
    """Why a destination cannot be written, in one line (naming a parent that is not a folder)."""
    for parent in destination.parents:
        if parent.exists() and not parent.is_dir():
            return f"{parent} is not a folder"
    return exc.strerror or str(exc)
