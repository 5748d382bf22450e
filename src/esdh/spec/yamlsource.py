"""Load YAML into plain Python while remembering the line of every key, for error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from esdh.errors import SpecError, SpecProblem

Path_ = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Where each dotted path of a loaded document came from."""

    file: str
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return None

    def problem(self, path: Path_, message: str, hint: str = "") -> SpecProblem:
        return SpecProblem(path=dotted(path), message=message, hint=hint, file=self.file,
                           line=self.line_of(path))


def dotted(path: Path_) -> str:
    """``('tables', 'persons', 'columns', 0)`` -> ``tables.persons.columns[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Loader(yaml.SafeLoader):
    """SafeLoader: no Python objects can be built from a spec."""


def _build(node: yaml.Node, loader: _Loader, path: Path_, source: SourceMap) -> object:
    source.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[object, object] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, bool) or key is None:  # YAML true/false/null keys read as the words
                key = {True: "true", False: "false", None: "null"}[key]
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                raise SpecError([source.problem((*path, key), f"duplicate key '{key}'",
                                                "each key may appear once in a mapping")])
            source.lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, loader, (*path, key), source)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loader, (*path, i), source) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml(text: str, file: str = "<spec>") -> tuple[object, SourceMap]:
    """Parse YAML text; syntax errors become a SpecError with the line."""
    source = SourceMap(file=file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, source
        return _build(node, loader, (), source), source
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise SpecError([SpecProblem(path="", message=f"YAML syntax error: {exc.problem}",
                                     hint="check indentation and quoting near this line",
                                     file=file, line=line)]) from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> tuple[object, SourceMap]:
    """Read and parse a YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([SpecProblem(path="", message=f"cannot read spec: {exc.strerror}",
                                     hint="check the path", file=str(path))]) from None
    return load_yaml(text, str(path))
