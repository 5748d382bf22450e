"""Load YAML into plain Python while remembering the line of every key, for error messages."""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from esdh import limits
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
    """SafeLoader: no Python objects can be built from a spec; nesting deeper than the limit is refused
    while composing (PyYAML composes recursively, so deep nesting would otherwise be a RecursionError)."""

    def __init__(self, text: str, file: str):
        super().__init__(text)
        self.file = file
        self.depth = 0
        self.max_depth = limits.YAML_DEPTH.value

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > self.max_depth:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise SpecError([SpecProblem("", f"the document nests deeper than {self.max_depth} levels; "
                                             f"{limits.YAML_DEPTH.exceeded()}", limits.YAML_DEPTH.hint(),
                                             self.file, mark.line + 1)])
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_KINDS: dict[type[yaml.Node], str] = {yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}


class _Builder:
    """Plain Python from the composed node tree, with the line of every key.

    An alias (``*name``) is the very node of its anchor (``&name``) again, so a node met a second time is an
    alias being expanded: the nodes built beyond the first time of each are counted against the alias
    limit before the copy is built (the billion-laughs document fails at once), and a node met again
    inside itself is an alias to its own anchor, which has no end.
    """

    def __init__(self, loader: _Loader, source: SourceMap):
        self.loader = loader
        self.source = source
        self.sizes: dict[int, int] = {}  # id(node) -> nodes built for it (itself and below), once built
        self.active: set[int] = set()  # ids of the nodes being built (the path from the root)
        self.seen: set[int] = set()  # ids of the nodes built or being built
        self.built = 0
        self.max_aliased = limits.YAML_ALIAS_NODES.value

    def fail(self, path: Path_, message: str, hint: str, line: int | None = None) -> SpecError:
        problem = self.source.problem(path, message, hint)
        if line is not None:
            problem = SpecProblem(problem.path, message, hint, self.source.file, line)
        return SpecError([problem])

    def build(self, node: yaml.Node, path: Path_) -> object:
        key = id(node)
        if key in self.active:
            raise self.fail(path, "an alias refers to its own anchor (it would repeat without end)",
                            "an alias (*name) may only copy an anchor (&name) that is complete before it")
        if key in self.sizes:
            aliased = self.built - len(self.seen) + self.sizes[key]  # copies built so far, and this one
            if aliased > self.max_aliased:
                raise self.fail(path, f"YAML aliases expand to more than {self.max_aliased:,} nodes; "
                                f"{limits.YAML_ALIAS_NODES.exceeded()}", limits.YAML_ALIAS_NODES.hint())
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        before = self.built
        self.built += 1
        self.active.add(key)
        self.seen.add(key)
        try:
            out = self._value(node, path)
        finally:
            self.active.discard(key)
        self.sizes.setdefault(key, self.built - before)
        return out

    def _value(self, node: yaml.Node, path: Path_) -> object:
        if isinstance(node, yaml.MappingNode):
            out: dict[object, object] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node, path)
                line = key_node.start_mark.line + 1
                if key in out:
                    first = self.source.lines.get((*path, key))
                    also = f" (also on line {first})" if first else ""
                    raise self.fail((*path, key), f"duplicate key '{key}'{also}",
                                    "each key may appear once in a mapping", line)
                self.source.lines[(*path, key)] = line
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _key(self, node: yaml.Node, path: Path_) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(path, f"a key must be a plain word or number, not {_KINDS.get(type(node), 'that')}",
                            "write the key as a plain word (a '? ' key or a [list] or {mapping} as a key "
                            "has no meaning in a spec)", node.start_mark.line + 1)
        key = self._scalar(node, path)
        if isinstance(key, bool) or key is None:  # YAML true/false/null keys read as the words
            return {True: "true", False: "false", None: "null"}[key]
        return key if isinstance(key, str) else str(key)

    def _scalar(self, node: yaml.Node, path: Path_) -> object:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date such as 2026-13-45
            raise self.fail(path, f"cannot read the value {node.value!r}: {exc}",
                            "quote it to keep it as text", node.start_mark.line + 1) from None


# What YAML does not allow in a document (PyYAML's own check, made a located error): control characters
# other than tab, line feed and carriage return, and the non-characters.
_NOT_PRINTABLE = re.compile(r"[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_CONTROL_NAMES = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x0B: "vertical tab", 0x0C: "form feed", 0x08: "backspace"}


def _check_text(text: str, file: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.SPEC_BYTES.value:
        raise SpecError([SpecProblem("", f"the spec is {size:,} bytes; {limits.SPEC_BYTES.exceeded()}",
                                     limits.SPEC_BYTES.hint(), file)])
    found = _NOT_PRINTABLE.search(text)
    if found:
        char = found.group()
        line = text.count("\n", 0, found.start()) + 1
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
        named = _CONTROL_NAMES.get(ord(char))
        what = f"U+{ord(char):04X}" + (f" ({named})" if named else "")
        raise SpecError([SpecProblem("", f"the character {what} at column {column} is not allowed in YAML",
                                     "remove it: a spec may hold tabs and line breaks but no other control "
                                     "characters", file, line)])


def load_yaml(text: str, file: str = "<spec>") -> tuple[object, SourceMap]:
    """Parse YAML text within the limits of :mod:`esdh.limits`; every problem, a syntax error included,
    is a SpecError with the line."""
    _check_text(text, file)
    source = SourceMap(file=file)
    loader = _Loader(text, file)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, source
        return _Builder(loader, source).build(node, ()), source
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or "cannot read this document"
        hint = "check indentation and quoting near this line"
        if "'\\t'" in problem:
            hint = "indent with spaces: YAML does not allow tabs for indentation"
        raise SpecError([SpecProblem(path="", message=f"YAML syntax error: {problem}", hint=hint,
                                     file=file, line=line)]) from None
    except yaml.YAMLError as exc:  # not located by PyYAML (the checks above leave none expected)
        raise SpecError([SpecProblem(path="", message=f"YAML error: {exc}", hint="", file=file)]) from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> tuple[object, SourceMap]:
    """Read and parse a YAML file: at most the size limit is read, and it must be UTF-8."""
    limit = limits.SPEC_BYTES.value
    try:
        mode = path.stat().st_mode
    except OSError:
        mode = None  # opening it below says why it cannot be read
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        # a FIFO would block the open forever, a device would be read without end
        raise SpecError([SpecProblem(path="", message="cannot read spec: it is not a regular file (not opened)",
                                     hint="give the path of a YAML file", file=str(path))])
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        reason = "it is a folder" if path.is_dir() else (exc.strerror or str(exc))
        raise SpecError([SpecProblem(path="", message=f"cannot read spec: {reason}",
                                     hint="check the path and its permissions", file=str(path))]) from None
    if len(data) > limit:
        raise SpecError([SpecProblem("", f"the spec file is larger than {limit:,} bytes; "
                                     f"{limits.SPEC_BYTES.exceeded()}", limits.SPEC_BYTES.hint(), str(path))])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError([SpecProblem("", f"not UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start} "
                                     "cannot be read", "save the file as UTF-8", str(path), line)]) from None
    return load_yaml(text, str(path))
