"""Limits shared by every process of one server, kept in a folder (``ESDH_API_STATE_DIR``).

Each uvicorn worker is a process of its own; with limits in memory, ``esdh serve --workers 4`` would allow
four times ``max_concurrent`` generations and four times ``rate_limit`` requests a minute. With a state
folder, which ``esdh serve --workers N`` creates by itself, the limits hold for the whole server (and for
every server on the host given the same folder):

- a generation slot is one of ``max_concurrent`` lock files, held with ``flock``. The lock belongs to an
  open file, so threads of one process and other processes contend alike, and the kernel frees the slot of
  a process that dies: a crashed worker never keeps a slot;
- the token buckets of the rate limit live in a small SQLite database, spent in one short transaction per
  request. Time is the monotonic clock, which every process of a host shares.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from esdh import sqlite_store
from esdh.api.errors import ApiError
from esdh.api.security import RateLimiter, busy, key_busy
from esdh.errors import UsageError

BUSY_TIMEOUT_S = 10.0
BUCKETS = "CREATE TABLE IF NOT EXISTS buckets (caller TEXT PRIMARY KEY, tokens REAL NOT NULL, last REAL NOT NULL)"


def _flock() -> tuple[Callable[[int, int], None], int, int]:
    """flock, and its flags to take a lock without waiting and to free it."""
    try:
        import fcntl
    except ImportError:  # Windows
        raise UsageError("ESDH_API_STATE_DIR needs POSIX file locks (Linux, macOS); leave it unset here, "
                         "and run one worker") from None
    return fcntl.flock, fcntl.LOCK_EX | fcntl.LOCK_NB, fcntl.LOCK_UN


class SharedSlots:
    """At most ``limit`` generations at once across every process using ``folder``; one more is refused
    at once (429), not queued."""

    def __init__(self, folder: Path, limit: int):
        self.limit = limit
        folder.mkdir(parents=True, exist_ok=True)
        self.paths = [folder / f"generation-slot-{i}.lock" for i in range(limit)]
        self._flock, self._take, self._free = _flock()

    def acquire(self) -> Callable[[], None]:
        """Take a free slot; returns the function that gives it back (calling it twice is harmless)."""
        return _take_one(self.paths, self._flock, self._take, self._free, busy(self.limit))


class SharedCallerSlots:
    """At most ``limit`` streamed downloads per caller across every process using ``folder``: ``limit`` lock
    files per caller, named by a hash of the caller's id (one small file each, kept for the next time)."""

    def __init__(self, folder: Path, limit: int):
        self.limit = limit
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._flock, self._take, self._free = _flock()

    def acquire(self, caller: str) -> Callable[[], None]:
        """Take one of ``caller``'s slots; returns the function that gives it back (twice is harmless)."""
        tag = hashlib.sha256(caller.encode()).hexdigest()[:16]
        paths = [self.folder / f"caller-{tag}-slot-{i}.lock" for i in range(self.limit)]
        return _take_one(paths, self._flock, self._take, self._free, key_busy(self.limit))


def _take_one(paths: list[Path], flock: Callable[[int, int], None], take: int, free: int,
              refusal: ApiError) -> Callable[[], None]:
    """Lock the first free file of ``paths``; raise ``refusal`` when every one is held."""
    for path in paths:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            flock(fd, take)
        except BlockingIOError:
            os.close(fd)
            continue
        return _Release(fd, flock, free)
    raise refusal


class _Release:
    def __init__(self, fd: int, flock: Callable[[int, int], None], free: int):
        self.fd, self.flock, self.free = fd, flock, free
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            if self.fd < 0:
                return
            fd, self.fd = self.fd, -1
        self.flock(fd, self.free)
        os.close(fd)


class SharedRateLimiter(RateLimiter):
    """The token buckets of :class:`RateLimiter`, in ``folder/rate_limit.sqlite`` for every process."""

    def __init__(self, folder: Path, per_minute: int, clock: Callable[[], float] = time.monotonic):
        super().__init__(per_minute, clock)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "rate_limit.sqlite"
        self.connection = sqlite_store.connect(self.path, self._prepare, timeout_s=BUSY_TIMEOUT_S,
                                               check_same_thread=False)  # used under self.lock only

    @staticmethod
    def _prepare(con: sqlite3.Connection) -> None:
        sqlite_store.use_wal(con)
        con.execute("PRAGMA synchronous = OFF")  # the buckets are worth nothing after a crash of the host
        con.execute(BUCKETS)

    def _exchange(self, caller: str, update: Callable[[float, float], tuple[float, float]]) -> None:
        with self.lock:
            con = self.connection
            con.execute("BEGIN IMMEDIATE")
            try:
                row = con.execute("SELECT tokens, last FROM buckets WHERE caller = ?", (caller,)).fetchone()
                tokens, last = update(*(row or (self.capacity, self.clock())))
                con.execute("INSERT INTO buckets VALUES (?, ?, ?) ON CONFLICT (caller) DO UPDATE SET "
                            "tokens = excluded.tokens, last = excluded.last", (caller, tokens, last))
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
