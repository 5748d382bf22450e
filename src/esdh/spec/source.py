"""Which spec a user meant: a built-in dataset, a YAML file, a config folder, YAML text or a mapping.

The rules, the same for the library, the CLI and the API (which names only built-ins):

- ``pack:NAME`` is the built-in dataset NAME; a bare NAME of a built-in dataset is that built-in, always,
  even when a file or folder of that name exists in the current directory (the result then carries a
  ``note`` saying so, and how to read the path instead: ``./NAME``);
- a ``Path``, or a string with a path separator, starting with ``.``, ``~`` or ``/``, or ending in
  ``.yaml``/``.yml``, is a path: a spec file or a config folder (a missing one is an error);
- any other single-line name that exists as a file or folder is that path;
- text with a line break (or a one-line mapping: ``{...}`` or ``key: value``) is YAML text;
- anything else is an unknown name, reported with the closest built-in name.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from esdh.errors import SpecError, SpecProblem

PACK_PREFIX = "pack:"
CONFIG_FOLDER_FILES = ("dataset.yaml", "schema.yaml")

Kind = Literal["pack", "file", "folder", "text", "mapping"]


@dataclass(frozen=True)
class ResolvedSource:
    """A spec source with its meaning made explicit.

    ``kind`` is what was read, ``name`` the built-in's name (kind ``pack``), ``path`` the file read (the
    built-in's YAML file for ``pack``, the file or folder for ``file``/``folder``), ``given`` what the
    user wrote, and ``note`` a sentence for people when the same words could also have meant a path.
    """

    kind: Kind
    given: str
    name: str | None = None
    path: Path | None = None
    note: str | None = None

    def describe(self) -> str:
        """One line saying what was read: ``built-in dataset 'insurance'``, ``folder ./insurance``, ..."""
        if self.kind == "pack":
            return f"built-in dataset '{self.name}'"
        if self.kind in ("file", "folder"):
            return f"{self.kind} {self.given}"
        return "YAML text" if self.kind == "text" else "a mapping"


def _pack_names() -> list[str]:
    from esdh.packs import pack_names

    return pack_names()


def _pack(name: str, given: str, note: str | None = None) -> ResolvedSource:
    from esdh.packs import pack_path

    return ResolvedSource("pack", given, name=name, path=pack_path(name), note=note)


def _unknown(given: str, message: str, extra: str = "") -> SpecError:
    names = _pack_names()
    close = difflib.get_close_matches(given.removeprefix(PACK_PREFIX), names, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"built-in datasets: {', '.join(names)}"
    return SpecError([SpecProblem("", message, f"{extra}{hint}", given)])


def looks_like_path(text: str) -> bool:
    """Written as a path: a separator, a leading ``.``, ``~`` or ``/``, or a ``.yaml``/``.yml`` ending."""
    separators = {"/", os.sep, os.altsep or "/"}
    return (any(s in text for s in separators) or text.startswith((".", "~"))
            or text.lower().endswith((".yaml", ".yml")))


def _looks_like_text(text: str) -> bool:
    return "\n" in text or text.lstrip().startswith("{") or bool(re.search(r":\s", text))


def _path(path: Path, given: str) -> ResolvedSource:
    path = path.expanduser()
    if path.is_dir():
        if (path / "datapackage.json").is_file() and not any((path / f).exists() for f in CONFIG_FOLDER_FILES):
            raise SpecError([SpecProblem(
                "", f"{given} is an ESDH output folder (it holds datapackage.json), not a spec",
                "give a built-in dataset's name, a .yaml spec file or a config folder (dataset.yaml, "
                "schema.yaml, evolution.yaml); to check generated data against a spec: esdh validate " + given
                + " --spec SPEC",
                given)])
        return ResolvedSource("folder", given, path=path)
    if path.exists():
        return ResolvedSource("file", given, path=path)
    if path.suffix.lower() in (".yaml", ".yml"):
        raise SpecError([SpecProblem("", f"spec file not found: {given}", "check the path", given)])
    bare = given.removeprefix("./").removeprefix(".\\")
    hint = "check the path"
    if bare in _pack_names():
        hint += f"; the built-in dataset is written without a path: {bare} (or pack:{bare})"
    raise SpecError([SpecProblem("", f"no spec file or folder at {given}", hint, given)])


def resolve_source(source: str | Path | dict[str, Any]) -> ResolvedSource:
    """What ``source`` names, by the rules of this module; a SpecError for a missing path or unknown name.

    Paths are taken relative to the current directory. Only existence is checked here: the file or folder
    is read (and its problems reported) by :func:`esdh.spec.load.load_spec`.
    """
    if isinstance(source, dict):
        return ResolvedSource("mapping", "<mapping>")
    if isinstance(source, Path):
        return _path(source, str(source))
    if not isinstance(source, str):
        raise SpecError([SpecProblem("", f"a spec source must be a path, a name, YAML text or a mapping, "
                                         f"not {type(source).__name__}", "", "")])
    if "\n" in source:
        return ResolvedSource("text", "<text>")
    text = source.strip()
    if text.startswith(PACK_PREFIX):
        name = text.removeprefix(PACK_PREFIX).strip()
        if name not in _pack_names():
            raise _unknown(text, f"'{name}' is not a built-in dataset")
        return _pack(name, text)
    if text in _pack_names():
        here = Path(text)
        note = None
        if here.exists():
            what = "folder" if here.is_dir() else "file"
            note = (f"built-in dataset '{text}' (./{text} is a {what}; write ./{text} to use it)")
        return _pack(text, text, note)
    if looks_like_path(text):
        return _path(Path(text), text)
    if text and Path(text).exists():
        return _path(Path(text), text)
    if _looks_like_text(source):
        return ResolvedSource("text", "<text>")
    extra = "a built-in dataset is written NAME or pack:NAME; " if ":" in text else ""
    raise _unknown(text, f"'{text}' is neither a spec file nor a built-in dataset", extra)
