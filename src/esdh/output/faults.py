"""What the file system refuses, told plainly: an OSError classified by its errno into one of ESDH's errors
(each with its own exit code), names checked against the file system's limit before anything is written,
and the folders an output created removed again when it fails.

| errno | error | exit code |
| --- | --- | --- |
| ENOSPC, EDQUOT | :class:`NoSpaceError` | 4 |
| EROFS, EACCES, EPERM | :class:`NotWritableError` | 5 |
| ENAMETOOLONG | :class:`NameTooLongError` | 6 |
| any other | :class:`FileSystemError` | 4 |
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

from esdh.errors import FileSystemError, NameTooLongError, NoSpaceError, NotWritableError

NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}
DEFAULT_NAME_MAX = 255
DEFAULT_PATH_MAX = 4096
# what ESDH adds to a name for its hidden working names: ".<out>.esdh-retired-<12 hex>" beside an output
# folder, "..<version>.esdh-pending.esdh-retired-<12 hex>" beside a run, ".<table>.<ext>.<pid>.tmp" beside a
# data file (a pid has at most 7 digits on Linux)
OUTPUT_OVERHEAD = len("..esdh-retired-") + 12
RUN_OVERHEAD = len("...esdh-pending.esdh-retired-") + 12
FILE_OVERHEAD = len("...9999999.tmp")


def fault(exc: OSError, where: Path | str | None, kept: str = "nothing was kept",
          action: str = "while writing") -> FileSystemError:
    """The ESDH error for an OSError raised while writing ``where`` (the path a user named: the output
    folder, the registry), in one line. ``kept`` says what was left behind."""
    code = exc.errno
    if code is None and exc.args and isinstance(exc.args[0], int):
        code = exc.args[0]
    on = f" {action} {where}" if where else ""
    tail = f"; {kept}" if kept else ""
    if code in NO_SPACE:
        what = "disk quota exceeded" if code == errno.EDQUOT else "no space left on device"
        return NoSpaceError(f"{what}{on}{tail}; free some space and run the command again", exc)
    if code == errno.EROFS:
        return NotWritableError(f"read-only file system{on}{tail}", exc)
    if code in NOT_WRITABLE:
        detail = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(where) else ""
        return NotWritableError(f"permission denied{on}{detail}{tail}", exc)
    if code == errno.ENAMETOOLONG:
        limit = f" (it allows {name_max(Path(str(where)))} bytes per name)" if where else ""
        return NameTooLongError(f"a name too long for the file system{on}{limit}{tail}", exc)
    text = exc.strerror or str(exc)
    reason = text.splitlines()[0] if text else type(exc).__name__
    detail = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(where) else ""
    return FileSystemError(f"{reason}{on}{detail}{tail}", exc)


def existing_ancestor(path: Path) -> Path:
    """The nearest folder at or above ``path`` that exists (where a file system's limits can be asked)."""
    for candidate in (path, *path.parents):
        try:
            if candidate.is_dir():
                return candidate
        except OSError:
            continue
    return Path("/")


def name_max(path: Path) -> int:
    """The longest file name, in bytes, that the file system at ``path`` allows."""
    try:
        return int(os.pathconf(existing_ancestor(path), "PC_NAME_MAX"))
    except (OSError, ValueError):
        return DEFAULT_NAME_MAX


def check_names(where: Path, names: Iterable[str], what: str = "name", hint: str = "choose a shorter one",
                overhead: int = 0) -> None:
    """Refuse, before anything is written, a name that the file system at ``where`` could not hold once
    ESDH has added up to ``overhead`` bytes to it (the hidden working names it makes from it)."""
    limit = name_max(where)
    too_long = [name for name in names if len(os.fsencode(name)) + overhead > limit]
    if too_long:
        name = max(too_long, key=lambda n: len(os.fsencode(n)))
        size = len(os.fsencode(name))
        allowed = f"at most {limit - overhead} bytes (the file system allows {limit} and ESDH adds up to " \
                  f"{overhead} for its working names)" if overhead else f"at most {limit} bytes"
        raise NameTooLongError(f"the {what} '{_shorten(name)}' is too long for the file system at "
                               f"{existing_ancestor(where)}: {size} bytes, {allowed}; {hint}")


def check_path(path: Path) -> None:
    """Refuse a path with a component longer than the file system allows, or longer than PATH_MAX."""
    limit = name_max(path)
    for part in path.parts:
        if len(os.fsencode(part)) > limit:
            raise NameTooLongError(f"the folder name '{_shorten(part)}' in {_shorten(str(path), 120)} is too "
                                   f"long for the file system: {len(os.fsencode(part))} bytes, at most {limit} "
                                   "allowed; choose a shorter name")
    try:
        path_max = int(os.pathconf(existing_ancestor(path), "PC_PATH_MAX"))
    except (OSError, ValueError):
        path_max = DEFAULT_PATH_MAX
    if len(os.fsencode(str(path))) + 64 > path_max:  # room for the files inside it
        raise NameTooLongError(f"the path {_shorten(str(path), 120)} is too long for the file system: "
                               f"{len(os.fsencode(str(path)))} bytes, at most {path_max} allowed (with the "
                               "files in it); choose a shorter path")


def _shorten(text: str, keep: int = 40) -> str:
    return text if len(text) <= keep else f"{text[: keep // 2]}...{text[-(keep // 2):]}"


def make_folders(folder: Path) -> list[Path]:
    """``mkdir -p folder``, returning the folders it created (deepest last), so that a failure can remove
    them again with :func:`remove_folders`."""
    missing: list[Path] = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    created: list[Path] = []
    for candidate in reversed(missing):
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        except BaseException:
            remove_folders(created)
            raise
        created.append(candidate)
    return created


def remove_folders(created: list[Path]) -> None:
    """Remove the folders :func:`make_folders` created, deepest first, where they are still empty."""
    for candidate in reversed(created):
        try:
            candidate.rmdir()
        except OSError:
            break
