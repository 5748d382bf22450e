"""``esdh demo clean``: remove what the demo made under its root, and refuse a root holding anything else
or whose demo API still runs."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from esdh.demo.layout import foreign_entries
from esdh.demo.server import recorded_server
from esdh.errors import UsageError


@dataclass
class Cleaned:
    root: Path
    removed: list[Path] = field(default_factory=list)
    root_removed: bool = False


def clean_root(root: Path) -> Cleaned:
    """Remove the snapshots, the ``latest`` pointer, the log and leftovers; refuse a root holding anything else,
    or one whose demo API is still running."""
    result = Cleaned(root)
    if not root.exists():
        return result
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder; refusing to clean it")
    foreign = foreign_entries(root)
    if foreign:
        names = ", ".join(p.name for p in foreign[:10]) + (" ..." if len(foreign) > 10 else "")
        raise UsageError(f"{root} holds things the demo did not make ({names}); refusing to clean it "
                         "(give the demo's own --root)")
    running = recorded_server(root)
    if running is not None and running.is_server:
        raise UsageError(f"a demo API is still running (pid {running.pid}); stop it first: esdh demo stop "
                         f"--root {root}")
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        result.removed.append(entry)
    try:
        root.rmdir()
        result.root_removed = True
    except OSError:  # something appeared meanwhile: leave it
        pass
    return result
