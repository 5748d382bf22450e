"""One exception root. User errors carry a location and a hint so the CLI can print them plainly."""

from __future__ import annotations

from dataclasses import dataclass


class EsdhError(Exception):
    """Root of every error ESDH raises on purpose."""

    exit_code = 1


@dataclass(frozen=True)
class SpecProblem:
    """One problem found in a spec: where it is, what is wrong and how to fix it."""

    path: str
    message: str
    hint: str = ""
    file: str = "<spec>"
    line: int | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message,
                "hint": self.hint}


class SpecError(EsdhError):
    """A spec with one or more problems; every problem is reported at once."""

    exit_code = 2

    def __init__(self, problems: list[SpecProblem]):
        self.problems = problems
        count = len(problems)
        head = f"{count} problem{'s' if count != 1 else ''} in spec"
        super().__init__(head + ":\n" + "\n".join("  " + p.render() for p in problems))


class UsageError(EsdhError):
    """Bad arguments to a command or a library call."""

    exit_code = 2


class OutputError(EsdhError):
    """An output destination that cannot be written safely."""

    exit_code = 3


class FileSystemError(OutputError):
    """The file system refused a read or write (classified from the OSError's errno by
    :func:`esdh.output.faults.fault`); what the command had written is removed."""

    exit_code = 4

    def __init__(self, message: str, os_error: OSError | None = None):
        super().__init__(message)
        self.os_error = os_error


class NoSpaceError(FileSystemError):
    """No space left on the device, or the disk quota is exhausted (ENOSPC, EDQUOT)."""

    exit_code = 4


class NotWritableError(FileSystemError):
    """A read-only file system or a permission refused (EROFS, EACCES, EPERM)."""

    exit_code = 5


class NameTooLongError(FileSystemError):
    """A file or folder name (or a path) longer than the file system allows (ENAMETOOLONG)."""

    exit_code = 6


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that the same clean-up runs and the work done so
    far is kept for ``--resume``."""


class MissingExtraError(EsdhError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"{package} is not installed; install it with: pip install 'enterprise-synthetic-data-hub[{extra}]'"
        )
