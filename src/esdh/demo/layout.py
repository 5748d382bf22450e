"""What the demo keeps under its root: snapshot folders, the ``latest`` pointer, retention, which names are its own.

``<root>/<UTC %Y%m%dT%H%M%S%fZ>_<profile>/`` per snapshot (microseconds, and the folder is claimed with mkdir,
so two demos never share or overwrite one), ``latest`` (a symlink replaced atomically, or ``latest.path``
where symlinks are not allowed), the log ``demo_flow.jsonl`` (and its rotated ``.1``) and, while an API runs,
``.demo_api.pid`` and ``.demo_api.port``. Only these names are ever removed (``clean``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from esdh.retention import all_but_newest

MAX_SAVED_SNAPSHOTS = 5
LATEST = "latest"
LATEST_PATH = "latest.path"
LOG = "demo_flow.jsonl"
PID_FILE = ".demo_api.pid"
PORT_FILE = ".demo_api.port"
SNAPSHOT_NAME = re.compile(r"^\d{8}T\d{12}Z_[A-Za-z0-9_.-]+$")
# leftovers of an interrupted demo: a temp symlink, a temp pointer file, a snapshot's staging folder
LEFTOVER = re.compile(r"^\.latest\.tmp-\d+$|^\.latest\.path\.tmp-\d+$|^\.\d{8}T\d{12}Z_.+\.esdh-(staging|retired)-\w+$")
OWN_FILES = re.compile(rf"^({re.escape(LATEST)}|{re.escape(LATEST_PATH)}|{re.escape(LOG)}(\.\d+)?|"
                       rf"{re.escape(PID_FILE)}|{re.escape(PORT_FILE)})$")


def claim_snapshot_dir(root: Path, profile: str, clock: Callable[[], dt.datetime]) -> Path:
    """Create ``<root>/<UTC timestamp with microseconds>_<profile>``; never an existing folder. ``clock`` gives
    the current UTC time (the CLI's; this package does not read the clock itself)."""
    root.mkdir(parents=True, exist_ok=True)
    while True:
        stamp = clock().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        folder = root / f"{stamp}_{profile}"
        try:
            folder.mkdir()
        except FileExistsError:  # same microsecond as another demo: take the next one
            continue
        return folder


def snapshot_dirs(root: Path) -> list[Path]:
    """The snapshot folders under ``root``, oldest first (the names sort by time)."""
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and SNAPSHOT_NAME.match(p.name)),
                  key=lambda p: p.name)


def point_latest(root: Path, snapshot_dir: Path) -> Path:
    """Point ``<root>/latest`` at ``snapshot_dir`` atomically (a relative symlink; else ``latest.path``)."""
    link = root / LATEST
    temp = root / f".latest.tmp-{os.getpid()}"
    try:
        temp.unlink(missing_ok=True)
        os.symlink(snapshot_dir.name, temp, target_is_directory=True)
        os.replace(temp, link)
    except (OSError, NotImplementedError):
        temp.unlink(missing_ok=True)
        pointer = root / f".latest.path.tmp-{os.getpid()}"
        pointer.write_text(str(snapshot_dir.resolve()) + "\n", encoding="utf-8")
        os.replace(pointer, root / LATEST_PATH)
        return root / LATEST_PATH
    (root / LATEST_PATH).unlink(missing_ok=True)
    return link


def latest_snapshot(root: Path) -> Path | None:
    """The snapshot folder ``latest`` points at, or None."""
    link = root / LATEST
    if link.is_symlink():
        return link.resolve()
    pointer = root / LATEST_PATH
    if pointer.is_file():
        return Path(pointer.read_text(encoding="utf-8").strip())
    return None


def apply_retention(root: Path, keep: int = MAX_SAVED_SNAPSHOTS, protect: Path | None = None) -> list[Path]:
    """Remove all but the newest ``keep`` snapshot folders (never ``protect``); returns the removed ones."""
    kept = protect.resolve() if protect is not None else None
    removed = all_but_newest(snapshot_dirs(root), keep, lambda folder: folder.resolve() == kept)
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def is_own(entry: Path) -> bool:
    """Whether a name directly under the root is one the demo makes."""
    if SNAPSHOT_NAME.match(entry.name):
        return entry.is_dir() and not entry.is_symlink()
    return bool(OWN_FILES.match(entry.name) or LEFTOVER.match(entry.name))


def foreign_entries(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if not is_own(p))
