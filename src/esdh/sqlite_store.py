"""Opening a small SQLite database that several processes share (the run registry, the API's shared limits).

Switching a new database to WAL takes an exclusive lock, and SQLite answers "database is locked" at once,
without waiting for the busy timeout, when several processes create the same database together. The setup
of a new connection is therefore retried until the timeout, like any other wait for the lock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path


def connect(path: Path, prepare: Callable[[sqlite3.Connection], None], *, timeout_s: float,
            check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection to ``path`` in autocommit mode (transactions are explicit), with ``prepare`` (pragmas,
    schema) run on it; a lock held by another process while it sets the database up is waited for."""
    con = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=check_same_thread)
    con.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
    deadline = time.monotonic() + timeout_s
    pause = 0.01
    while True:
        try:
            prepare(con)
            return con
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                con.close()
                raise
        except BaseException:
            con.close()
            raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def use_wal(con: sqlite3.Connection) -> None:
    """WAL mode (persistent: set once per database), so readers never wait for the writer."""
    if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        con.execute("PRAGMA journal_mode = WAL")
