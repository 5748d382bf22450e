"""The run registry: one embedded SQLite database beside the run folders it describes.

``<root>/registry.sqlite`` in WAL mode, so readers never block the writer; every write is one short
``BEGIN IMMEDIATE`` transaction with a busy timeout, so two runs that finish at once both land (the second
waits for the first, it does not fail). A version is reserved (status ``writing``, with the writer's host
and pid) before anything is generated: a second run of the same version is refused at once, and retention
never removes a run that is still being written.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esdh import sqlite_store
from esdh.errors import OutputError, UsageError
from esdh.output.faults import fault
from esdh.processes import pid_alive

DATABASE = "registry.sqlite"
META = ".meta"  # <root>/<dataset>/.meta/<version>/: a run's metadata, beside its folder
RUN_METADATA = "run.json"
SCHEMA_VERSION = 3  # 2: the column spec_version is named dataset_version (it holds the spec's version:)
# 3: meta_files (sha256 of run.json and the lineage events in .meta/<version>/) and record_sha256 (of the row)
BUSY_TIMEOUT_S = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset       TEXT NOT NULL,
    version       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('writing', 'complete')),
    source        TEXT NOT NULL CHECK (source IN ('generated', 'ingested')),
    folder        TEXT NOT NULL,
    dataset_version  TEXT,
    seed          INTEGER,
    scale         REAL,
    spec_hash     TEXT,
    row_counts    TEXT NOT NULL DEFAULT '{}',
    files         TEXT NOT NULL DEFAULT '{}',
    manifest_sha256 TEXT,
    meta_files    TEXT,
    record_sha256 TEXT,
    validation    TEXT,
    drift         TEXT,
    against       TEXT,
    spec          TEXT,
    started_at    TEXT,
    finished_at   TEXT,
    host          TEXT,
    pid           INTEGER,
    user          TEXT,
    command       TEXT,
    esdh_version  TEXT,
    UNIQUE (dataset, version)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

JSON_FIELDS = ("row_counts", "files", "spec", "meta_files")
# what record_sha256 covers: the fields verify checks a run against (not the status, times or reports)
RECORDED = ("dataset", "version", "source", "folder", "row_counts", "files", "manifest_sha256", "meta_files")
ADDED_IN_3 = ("meta_files", "record_sha256")


@dataclass
class RunRecord:
    """One row of the registry."""

    id: int
    dataset: str
    version: str
    status: str
    source: str
    folder: str
    dataset_version: str | None = None
    seed: int | None = None
    scale: float | None = None
    spec_hash: str | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    manifest_sha256: str | None = None
    meta_files: dict[str, str] | None = None  # schema 3: sha256 of the files in .meta/<version>/
    record_sha256: str | None = None  # schema 3: sha256 of the RECORDED fields, see record_digest
    validation: str | None = None
    drift: str | None = None
    against: str | None = None
    spec: dict[str, Any] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    host: str | None = None
    pid: int | None = None
    user: str | None = None
    command: str | None = None
    esdh_version: str | None = None

    def as_dict(self, spec: bool = False) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        if not spec:
            data.pop("spec")
        return data

    @property
    def being_written(self) -> bool:
        return self.status == "writing"


def record_digest(values: dict[str, Any]) -> str:
    """The sha256 of a row's RECORDED fields as canonical JSON: a row whose checksums or row counts were
    edited by hand no longer matches it (one rewritten together with its digest does: see docs/governance.md)."""
    document = json.dumps({name: values.get(name) for name in RECORDED}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN = 3, 8, 10, 13, 14


def _nearly_full(folder: Path) -> bool:
    """Whether the file system holding ``folder`` has (almost) no space left: SQLite reports a write that a
    full disk refused as a plain I/O error, without its errno."""
    try:
        found = os.statvfs(folder)
    except OSError:
        return False
    return found.f_bavail * found.f_frsize < NEARLY_FULL


NEARLY_FULL = 1 << 20


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK) and _why_not_writable(folder) != errno.EROFS


def _why_not_writable(folder: Path) -> int:
    """EROFS for a folder on a read-only file system, else EACCES."""
    try:
        return errno.EROFS if os.statvfs(folder).f_flag & os.ST_RDONLY else errno.EACCES
    except OSError:
        return errno.EACCES


def _process_alive(host: str | None, pid: int | None) -> bool:
    """Whether the writer that reserved a run may still be at work (a writer on another host is assumed
    to be: its pid means nothing here)."""
    if host != socket.gethostname() or pid is None:
        return True
    return pid_alive(pid)


class Registry:
    """The runs of every dataset under ``root`` (``<root>/<dataset>/<version>/``)."""

    def __init__(self, root: Path | str, busy_timeout_s: float = BUSY_TIMEOUT_S):
        self.root = Path(root).resolve()
        self.path = self.root / DATABASE
        self.busy_timeout_s = busy_timeout_s  # how long to wait for a lock another process holds

    def _connect(self) -> sqlite3.Connection:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise fault(exc, self.root) from None
        try:
            con = sqlite_store.connect(self.path, self._prepare, timeout_s=self.busy_timeout_s)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):  # locked, busy, unreadable: not a judgement of the file
                raise self._refused(exc) from None
            raise OutputError(f"malformed registry: {self.path} is not an ESDH registry ({exc})") from None
        con.row_factory = sqlite3.Row
        return con

    def _refused(self, exc: sqlite3.OperationalError) -> Exception:
        """A full disk or a read-only file system as the same errors as any other write's (see
        :mod:`esdh.output.faults`); any other SQLite error as it is."""
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:
            return exc
        primary = code & 0xFF
        if primary == SQLITE_FULL or (primary == SQLITE_IOERR and _nearly_full(self.root)):
            return fault(OSError(errno.ENOSPC, str(exc)), self.path, "the registry is unchanged")
        if primary in (SQLITE_READONLY, SQLITE_PERM) or (primary == SQLITE_CANTOPEN and not _writable(self.root)):
            return fault(OSError(_why_not_writable(self.root), str(exc)), self.path, "the registry is unchanged")
        if primary in (SQLITE_IOERR, SQLITE_CANTOPEN):
            return fault(OSError(errno.EIO, f"I/O error in the registry ({exc})"), self.path,
                         "the registry is unchanged")
        return exc

    def _prepare(self, con: sqlite3.Connection) -> None:
        sqlite_store.use_wal(con)
        con.execute("PRAGMA synchronous = NORMAL")  # durable at each checkpoint; WAL keeps the file consistent
        con.executescript(SCHEMA)
        found = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if found is not None and int(found[0]) > SCHEMA_VERSION:
            raise OutputError(f"{self.path} was written by a newer ESDH (registry schema {found[0]}); upgrade ESDH")
        if found is None or int(found[0]) < SCHEMA_VERSION:
            self._migrate(con)

    @staticmethod
    def _migrate(con: sqlite3.Connection) -> None:
        """Bring a registry of an older schema to this one, in one transaction (a process that opens it at the
        same time waits, then finds it done): schema 1 named the column ``dataset_version`` ``spec_version``;
        schema 3 added ``meta_files`` and ``record_sha256`` (empty in the rows of older runs). A registry
        without a recorded schema (a new one) gets this version."""
        con.execute("BEGIN IMMEDIATE")  # outside the try: a BEGIN that fails opened nothing to roll back
        try:
            columns = {row[1] for row in con.execute("PRAGMA table_info(runs)")}
            if "spec_version" in columns and "dataset_version" not in columns:
                con.execute("ALTER TABLE runs RENAME COLUMN spec_version TO dataset_version")
            for name in ADDED_IN_3:
                if name not in columns:
                    con.execute(f"ALTER TABLE runs ADD COLUMN {name} TEXT")
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise self._refused(exc) from None
        finally:
            con.close()

    @staticmethod
    def _record(row: sqlite3.Row) -> RunRecord:
        data = dict(row)
        for name in JSON_FIELDS:
            if data.get(name) is not None:
                data[name] = json.loads(data[name])
        return RunRecord(**data)

    def folder_of(self, record: RunRecord) -> Path:
        return self.root / record.folder

    def meta_of(self, record: RunRecord) -> Path:
        """The folder of the run's metadata (run.json, the lineage events)."""
        return self.root / record.dataset / META / record.version

    # -- writing -------------------------------------------------------------------------------------

    def reserve(self, dataset: str, version: str, source: str,
                unfinished: Callable[[Path], None] | None = None, **fields: Any) -> RunRecord:
        """Claim ``dataset`` ``version`` for a run about to be written; refuse a version that exists or that
        a live process is writing. A reservation left by a writer that died is taken over (and the run can
        then resume what it had written); if that writer died after publishing the run folder but before
        registering it, ``unfinished`` is given the folder to remove (else it is refused like any folder
        that is not in the registry)."""
        folder = f"{dataset}/{version}"
        values = {"host": socket.gethostname(), "pid": os.getpid(), **fields}
        with self._transaction() as con:
            row = con.execute("SELECT * FROM runs WHERE dataset = ? AND version = ?", (dataset, version)).fetchone()
            if row is not None:
                found = self._record(row)
                if not found.being_written:
                    raise OutputError(f"run {dataset} {version} already exists ({self.root / found.folder}); a "
                                      "finished run is never replaced: choose another --version (for another run "
                                      f"of the same dataset version, add a build suffix such as {version}+2)")
                if _process_alive(found.host, found.pid):
                    raise OutputError(f"run {dataset} {version} is being written by process {found.pid} on "
                                      f"{found.host}; wait for it or choose another --version")
                con.execute("DELETE FROM runs WHERE id = ?", (found.id,))
                if unfinished is not None and (self.root / folder).exists():
                    unfinished(self.root / folder)
            if (self.root / folder).exists():
                raise OutputError(f"{self.root / folder} already exists but is not in the registry; move it away "
                                  "or choose another --version")
            columns = ["dataset", "version", "status", "source", "folder", *values]
            params = [dataset, version, "writing", source, folder, *(self._encode(k, v) for k, v in values.items())]
            cursor = con.execute(f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(params))})",
                                 params)
            row = con.execute("SELECT * FROM runs WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return self._record(row)

    @staticmethod
    def _encode(name: str, value: Any) -> Any:
        return json.dumps(value, sort_keys=True) if name in JSON_FIELDS and value is not None else value

    def complete(self, record: RunRecord, **fields: Any) -> RunRecord:
        """Mark a reserved run finished, with what is known about it now."""
        names = [*fields, "status"]
        params = [*(self._encode(k, v) for k, v in fields.items()), "complete", record.id]
        with self._transaction() as con:
            con.execute(f"UPDATE runs SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?", params)
            row = con.execute("SELECT * FROM runs WHERE id = ?", (record.id,)).fetchone()
        return self._record(row)

    def release(self, record: RunRecord) -> None:
        """Drop the reservation of a run that did not finish."""
        with self._transaction() as con:
            con.execute("DELETE FROM runs WHERE id = ? AND status = 'writing'", (record.id,))

    def remove(self, record: RunRecord) -> None:
        with self._transaction() as con:
            con.execute("DELETE FROM runs WHERE id = ?", (record.id,))

    # -- reading -------------------------------------------------------------------------------------

    def runs(self, dataset: str | None = None, include_writing: bool = False) -> list[RunRecord]:
        """Runs in the order they were registered (oldest first)."""
        if not self.path.exists():
            return []
        where, params = [], []
        if dataset is not None:
            where.append("dataset = ?")
            params.append(dataset)
        if not include_writing:
            where.append("status = 'complete'")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        con = self._connect()
        try:
            rows = con.execute(f"SELECT * FROM runs {clause} ORDER BY id", params).fetchall()
        finally:
            con.close()
        return [self._record(r) for r in rows]

    def get(self, dataset: str, version: str) -> RunRecord:
        for record in self.runs(dataset, include_writing=True):
            if record.version == version:
                return record
        known = [r.version for r in self.runs(dataset)]
        hint = f"its runs: {', '.join(known)}" if known else f"no finished runs of '{dataset}' in {self.root}"
        raise UsageError(f"no run {dataset} {version} in the registry {self.root} ({hint})")

    def latest(self, dataset: str) -> RunRecord:
        runs = self.runs(dataset)
        if not runs:
            datasets = sorted({r.dataset for r in self.runs()})
            raise UsageError(f"no finished runs of '{dataset}' in {self.root}"
                             + (f" (datasets: {', '.join(datasets)})" if datasets else ""))
        return runs[-1]

    def previous(self, record: RunRecord) -> RunRecord | None:
        """The finished run of the same dataset registered just before ``record``."""
        earlier = [r for r in self.runs(record.dataset) if r.id < record.id]
        return earlier[-1] if earlier else None

    def resolve(self, reference: str | Path) -> RunRecord:
        """A run named ``DATASET/VERSION``, ``DATASET`` (its latest run), or by its folder path."""
        path = Path(reference)
        if path.exists() and path.is_dir():
            resolved = path.resolve()
            for record in self.runs(include_writing=True):
                if self.folder_of(record) == resolved:
                    return record
            raise UsageError(f"{reference} is not a run of the registry {self.root} (give --registry)")
        dataset, _, version = str(reference).partition("/")
        return self.get(dataset, version) if version else self.latest(dataset)
