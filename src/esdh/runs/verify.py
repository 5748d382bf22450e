"""Verify an output folder against its manifest, and a registered run against its registry row.

What verify guarantees (see docs/governance.md for what it cannot):

- Every file and folder under the run is declared: listed in the manifest, a folder of a listed file, the
  manifest itself, or (in a plain output only) ``lineage_events.json``, which must be a JSON list.
- Every listed file is present, a regular file, and of its recorded size and sha256.
- Nothing outside the run is read: a listed path that is absolute, climbs out (``..``), holds a backslash
  or a NUL is a finding and is never opened; symbolic links, FIFOs, sockets and devices under the run are
  findings and are never followed or opened. Only regular files found by walking the run without following
  a link are opened (``O_NOFOLLOW | O_NONBLOCK``, and checked again once open).
- A manifest or registry that cannot be understood is a finding, never a crash.
- A registered run: the manifest's sha256, the files' checksums and the row counts agree with the registry
  row; the run metadata (``.meta/<version>/``) has the checksums the registry recorded; the row agrees
  with the digest recorded in it at publication.
- With ``digest``: the manifest's sha256 is the one given (kept outside the run, e.g. printed by
  ``esdh generate``), which no one with write access to the run alone can forge.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from esdh.errors import EsdhError, OutputError, UsageError
from esdh.limits import Limit
from esdh.output.folder import MANIFEST
from esdh.output.lineage import EVENTS
from esdh.runs.registry import Registry, RunRecord, record_digest

SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # http:, file:, s3:, C: (a drive): never a file of the run
SHA256 = re.compile(r"[0-9a-f]{64}")
MANIFEST_BYTES = Limit("manifest size", 64 * 2**20, "bytes", "ESDH_MAX_MANIFEST_BYTES",
                       "a manifest of ESDH lists a file in about 200 bytes")
UNLISTED = {MANIFEST, EVENTS}  # the manifest cannot list itself; events hold times and a run id
CHUNK = 1 << 20
REGISTRY_WAIT_S = 5.0  # verify waits this long for a registry another process holds locked, then reports it


@dataclass
class Verification:
    folder: Path
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each: "malformed manifest: ...", "link: ..."
    manifest_sha256: str | None = None  # of the manifest read, when it could be read
    manifest: dict[str, Any] | None = field(default=None, repr=False)  # as read, when it is a JSON object

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.extra or self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "ok": self.ok, "checked": self.checked, "missing": self.missing,
                "changed": self.changed, "extra": self.extra, "problems": self.problems,
                "manifest_sha256": self.manifest_sha256}


def unsafe_path(path: str) -> str | None:
    """Why a path of a manifest may not be followed, or None when it names a place inside the folder."""
    if not path:
        return "empty"
    if "\x00" in path:
        return "holds a NUL"
    if "\\" in path:
        return "holds a backslash"
    if path.startswith("/") or PurePosixPath(path).is_absolute():
        return "absolute"
    if SCHEME.match(path):
        return "a URL or a drive (NAME:)"
    parts = path.split("/")
    if any(p in ("..",) for p in parts):
        return "climbs out of the run (..)"
    if any(p in ("", ".") for p in parts):
        return "not a plain relative path"
    return None


def _entries(value: Any, label: str, problems: list[str]) -> list[tuple[str, int | None, str | None]]:
    """The files one resource (or part) declares: (path, bytes, sha256 hex)."""
    if not isinstance(value, dict):
        problems.append(f"malformed manifest: {label} is not an object")
        return []
    path, size, digest = value.get("path"), value.get("bytes", value.get("esdh:bytes")), value.get("hash")
    if not isinstance(path, str):
        problems.append(f"malformed manifest: {label} has no usable path ({json.dumps(path)[:80]})")
        return []
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        problems.append(f"malformed manifest: {path} has no sha256 hash")
        digest = None
    elif not SHA256.fullmatch(digest.removeprefix("sha256:")):
        problems.append(f"malformed manifest: {path} has a sha256 that is not 64 lowercase hex digits")
        digest = None
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
        problems.append(f"malformed manifest: {path} has a size that is not a number")
        size = None
    return [(path, size, digest.split(":", 1)[1] if digest else None)]


def listed_files(manifest: dict[str, Any], problems: list[str] | None = None,
                 ) -> dict[str, tuple[int | None, str | None]]:
    """Every file the manifest lists: relative path -> (bytes, sha256 hex). What cannot be understood is
    added to ``problems`` (one line each)."""
    problems = problems if problems is not None else []
    resources = manifest.get("resources", [])
    if not isinstance(resources, list):
        problems.append(f"malformed manifest: resources is a {type(resources).__name__}, not a list")
        return {}
    files: dict[str, tuple[int | None, str | None]] = {}
    for index, resource in enumerate(resources):
        label = f"resource {index}"
        if not isinstance(resource, dict):
            problems.append(f"malformed manifest: {label} is not an object")
            continue
        parts = resource.get("esdh:parts")
        entries = []
        if parts is not None:
            if not isinstance(parts, list) or not parts:
                problems.append(f"malformed manifest: {label}'s esdh:parts is not a list of parts")
                continue
            for number, part in enumerate(parts):
                entries += _entries(part, f"{label} part {number}", problems)
        else:
            entries = _entries(resource, label, problems)
        for path, size, digest in entries:
            if path in files:
                problems.append(f"malformed manifest: {path} is listed twice")
            files[path] = (size, digest)
    return files


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def walk(folder: Path, problems: list[str], label: str = "") -> tuple[set[str], set[str], set[str]]:
    """The regular files, folders and refused entries under ``folder`` (relative, POSIX), never following a
    link; every link and special file is refused, a problem (and is neither followed nor opened).
    ``label``: what problems name the folder by (a prefix of the paths)."""
    files: set[str] = set()
    folders: set[str] = set()
    refused: set[str] = set()
    pending = [""]
    while pending:
        relative = pending.pop()
        try:
            with os.scandir(folder / relative if relative else folder) as found:
                entries = list(found)
        except OSError as exc:
            problems.append(f"unreadable: {label}{relative or '.'}/ ({exc.strerror or exc})")
            continue
        for entry in entries:
            name = f"{relative}/{entry.name}" if relative else entry.name
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:  # gone since it was listed, or unreadable
                problems.append(f"unreadable: {label}{name} ({exc.strerror or exc})")
                continue
            if stat.S_ISLNK(mode):
                refused.add(name)
                problems.append(f"link: {label}{name} (a symbolic link; not followed)")
            elif stat.S_ISDIR(mode):
                folders.add(name)
                pending.append(name)
            elif stat.S_ISREG(mode):
                files.add(name)
                links = entry.stat(follow_symlinks=False).st_nlink
                if links > 1:
                    problems.append(f"hard link: {label}{name} ({links} names for its bytes; one may be outside "
                                    "the run)")
            else:
                refused.add(name)
                problems.append(f"special file: {label}{name} ({_kind(mode)}; not opened)")
    return files, folders, refused


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file, opened without following a link or blocking on a FIFO."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file")
        return handle.read()


def hash_regular(path: Path) -> tuple[int, str]:
    """Size and sha256 hex of a regular file, read as :func:`read_regular` opens it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file")
        digest, size = hashlib.sha256(), 0
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _parse_digest(digest: str) -> str:
    value = digest.strip().lower()
    value = value.split(":", 1)[1] if value.startswith("sha256:") else value
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        shown = digest if len(digest) <= 80 else digest[:80] + "..."
        raise UsageError(f"{shown!r} is not a sha256 digest (give sha256:<64 hex digits>)")
    return value


def verify_folder(folder: Path, digest: str | None = None, registered: bool = False) -> Verification:
    """Recompute every checksum the folder's manifest records; collect every difference. ``digest``: the
    manifest's expected sha256; ``registered``: a run of a registry (its lineage events live in ``.meta``,
    so ``lineage_events.json`` may not be in its folder)."""
    expected = _parse_digest(digest) if digest is not None else None
    folder = Path(folder).resolve()
    report = Verification(folder)
    problems = report.problems
    try:
        manifest_mode = os.lstat(folder / MANIFEST).st_mode
    except FileNotFoundError:
        raise OutputError(f"{folder} has no datapackage.json: it is not an ESDH output (or not a finished one)"
                          ) from None
    except OSError as exc:
        raise OutputError(f"{folder / MANIFEST} cannot be read: {exc}") from None
    files, folders, refused = walk(folder, problems)
    manifest: Any = None
    manifest_size = os.lstat(folder / MANIFEST).st_size
    if stat.S_ISREG(manifest_mode) and manifest_size > MANIFEST_BYTES.value:
        problems.append(f"malformed manifest: {MANIFEST} is {manifest_size:,} bytes, more than "
                        f"{MANIFEST_BYTES.value:,} (not read; {MANIFEST_BYTES.env} raises the limit)")
    elif stat.S_ISREG(manifest_mode):
        try:
            raw = read_regular(folder / MANIFEST)
            report.manifest_sha256 = hashlib.sha256(raw).hexdigest()
            manifest = json.loads(raw.decode("utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).splitlines()[0][:120]
            problems.append(f"malformed manifest: {MANIFEST} is not JSON ({why})")
    elif not stat.S_ISDIR(manifest_mode):
        pass  # a link or special file: walk reported it
    else:
        problems.append(f"malformed manifest: {MANIFEST} is a folder")
    if expected is not None and report.manifest_sha256 != expected:
        problems.append(f"digest: {MANIFEST} has sha256 {report.manifest_sha256 or '(unreadable)'}, "
                        f"sha256:{expected} was expected")
    listed: dict[str, tuple[int | None, str | None]] = {}
    if manifest is not None and not isinstance(manifest, dict):
        problems.append(f"malformed manifest: {MANIFEST} is a JSON {type(manifest).__name__}, not an object")
    elif manifest is not None:
        report.manifest = manifest
        listed = listed_files(manifest, problems)
    safe: dict[str, tuple[int | None, str | None]] = {}
    for relative, entry in sorted(listed.items()):
        reason = unsafe_path(relative)
        if reason is None and relative in UNLISTED:
            reason = "is the manifest or the run's events, which the manifest cannot list"
        if reason is not None:
            problems.append(f"unsafe path: {json.dumps(relative)} in the manifest ({reason}; not opened)")
        else:
            safe[relative] = entry
    for relative, (size, sha) in safe.items():
        if relative not in files:
            if relative not in folders and not _refused(relative, refused):
                report.missing.append(relative)
            elif relative in folders:
                problems.append(f"not a file: {relative} (a folder)")
            continue
        try:
            actual_size, actual = hash_regular(folder / relative)
        except OSError as exc:
            problems.append(f"unreadable: {relative} ({exc.strerror or exc})")
            continue
        report.checked += 1
        if (sha is not None and actual != sha) or (size is not None and actual_size != size):
            report.changed.append({"path": relative, "expected_sha256": sha, "found_sha256": actual,
                                   "expected_bytes": size, "found_bytes": actual_size})
    declared_folders = {str(parent) for path in safe for parent in PurePosixPath(path).parents if str(parent) != "."}
    declared_folders |= set(safe) & folders  # a listed file that is a folder: "not a file", not also extra
    allowed = set(safe) | {MANIFEST} | (set() if registered else {EVENTS})
    extra = [f for f in files if f not in allowed] + [f"{d}/" for d in folders if d not in declared_folders]
    # a manifest that could not be read at all declares nothing: that is the one finding, not every file
    report.extra = sorted(extra) if report.manifest is not None else []
    if not registered and EVENTS in files:
        _check_events(folder / EVENTS, problems)
    return report


def _refused(relative: str, refused: set[str]) -> bool:
    """Whether walking the folder refused ``relative`` or a folder on its way (a link, a special file): then
    it was reported as that, not as missing."""
    return any(p in refused for p in [relative, *(str(p) for p in PurePosixPath(relative).parents)])


def _check_events(path: Path, problems: list[str]) -> None:
    """``lineage_events.json`` holds times and a run id, so no checksum can be fixed for it: it must at least
    be what ESDH writes, a JSON list of OpenLineage events."""
    try:
        events = json.loads(read_regular(path).decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).splitlines()[0][:120]
        problems.append(f"malformed lineage: {EVENTS} is not JSON ({reason})")
        return
    if not isinstance(events, list) or not all(isinstance(e, dict) and "eventType" in e and "run" in e
                                               for e in events):
        problems.append(f"malformed lineage: {EVENTS} is not a list of OpenLineage events")


def verify_run(run: str | Path, registry_root: Path | str, digest: str | None = None) -> Verification:
    """Verify an output folder, or a run of the registry (``DATASET/VERSION``, ``DATASET`` for its latest, or
    its folder). A registered run is also checked against its registry row (the manifest's sha256, every
    file's checksum, the row counts, the run metadata and the row's own digest), so a manifest edited to
    match edited data, or a row edited to match them, is caught too."""
    registry = Registry(registry_root, busy_timeout_s=REGISTRY_WAIT_S)
    path = Path(run)
    record = None
    if registry.path.exists():
        try:
            record = registry.resolve(run)
        except OutputError as exc:  # the registry itself cannot be read
            return _unusable_registry(path, registry.root, str(exc), digest)
        except (ValueError, TypeError, RecursionError) as exc:  # a row whose JSON or columns ESDH did not write
            return _unusable_registry(path, registry.root, f"malformed registry: {registry.path} ({exc})", digest)
        except sqlite3.Error as exc:  # locked by another process for longer than verify waits, or damaged
            return _unusable_registry(path, registry.root, f"{registry.path} cannot be read ({exc})", digest)
        except EsdhError:
            if not path.is_dir():
                raise
    elif not path.is_dir():
        raise OutputError(f"{run} is neither a folder nor a run of a registry ({registry.path} does not exist; "
                          "give --registry)")
    if record is None:
        return verify_folder(path, digest)
    if unsafe_path(record.folder) is not None or record.folder != f"{record.dataset}/{record.version}":
        report = Verification(registry.root / record.dataset / record.version)
        report.problems.append(f"registry: the run's folder is recorded as {json.dumps(record.folder)}, not "
                               f"{record.dataset}/{record.version} (not followed)")
        return report
    folder = registry.folder_of(record)
    if not folder.is_dir() or folder.is_symlink():  # a link is reported by the walk of a folder that is there
        report = Verification(folder)
        report.problems.append(f"link: {record.folder} (the run's folder is a symbolic link; not followed)"
                               if folder.is_symlink() else
                               f"missing: {record.folder}/ (the run's folder, recorded in the registry)")
        if record.meta_files is not None:
            _check_meta(registry, record, report.problems)
        return report
    report = verify_folder(folder, digest, registered=True)
    check_record(registry, record, report)
    return report


def _unusable_registry(path: Path, root: Path, message: str, digest: str | None) -> Verification:
    """A registry that cannot be read: a finding; a folder inside it is still verified as a folder."""
    if path.is_dir():
        report = verify_folder(path, digest)
        if not path.resolve().is_relative_to(root):
            return report  # a folder elsewhere: the registry has no say in it
    else:
        report = Verification(path)
    report.problems.insert(0, message if message.startswith("malformed registry") else f"registry: {message}")
    return report


def check_record(registry: Registry, record: RunRecord, report: Verification) -> None:
    """A registered run against its registry row: the manifest's sha256, the files' checksums and the row
    counts the row records; the run metadata's checksums; the row's own digest."""
    name = f"{record.dataset}/{record.version}"
    problems = report.problems
    if not record.manifest_sha256:
        problems.append(f"registry: the row of {name} records no sha256 of the manifest")
    elif report.manifest_sha256 is not None and report.manifest_sha256 != record.manifest_sha256:
        report.changed.insert(0, {"path": MANIFEST, "expected_sha256": record.manifest_sha256,
                                  "found_sha256": report.manifest_sha256, "expected_bytes": None,
                                  "found_bytes": (report.folder / MANIFEST).stat().st_size})
    if report.manifest is not None:
        listed = {path: sha for path, (_, sha) in listed_files(report.manifest, []).items()}
        for path in sorted(set(listed) | set(record.files)):
            if listed.get(path) != record.files.get(path):
                problems.append(f"registry: {path} has sha256 {record.files.get(path) or '(none)'} in the registry, "
                                f"{listed.get(path) or '(none)'} in the manifest")
        rows = report.manifest.get("esdh", {}).get("row_counts") if isinstance(report.manifest.get("esdh"), dict) \
            else None
        if record.row_counts and rows != record.row_counts:
            problems.append(f"registry: row counts {json.dumps(record.row_counts, sort_keys=True)} in the registry, "
                            f"{json.dumps(rows, sort_keys=True)} in the manifest")
    if record.meta_files is not None:
        _check_meta(registry, record, problems)
    if record.record_sha256 is not None and record_digest(record.as_dict()) != record.record_sha256:
        problems.append(f"registry: the row of {name} does not match the digest recorded in it (edited after "
                        "publication)")


def _check_meta(registry: Registry, record: RunRecord, problems: list[str]) -> None:
    """``.meta/<version>/`` holds exactly the files the registry recorded, with their checksums."""
    assert record.meta_files is not None
    folder = registry.meta_of(record)
    label = f"{folder.relative_to(registry.root).as_posix()}/"
    if folder.is_symlink() or not folder.is_dir():
        problems.append(f"missing: {label} (the run's metadata)")
        return
    files, folders, _ = walk(folder, problems, label)
    for relative in sorted(files | set(record.meta_files) | {f"{d}/" for d in folders}):
        expected = record.meta_files.get(relative)
        if expected is None:
            problems.append(f"extra: {label}{relative} (not recorded in the registry)")
        elif relative not in files:
            problems.append(f"missing: {label}{relative} (recorded in the registry)")
        else:
            try:
                _, found = hash_regular(folder / relative)
            except OSError as exc:
                problems.append(f"unreadable: {label}{relative} ({exc.strerror or exc})")
                continue
            if found != expected:
                problems.append(f"changed: {label}{relative} (sha256 {expected} recorded, {found} found)")
