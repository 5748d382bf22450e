"""Load a spec from a file, text, a mapping or a built-in pack name, reporting every problem at once."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from esdh.errors import SpecError, SpecProblem
from esdh.spec.compile import Dataset, compile_spec, suggest
from esdh.spec.model import UNION_TAGS, Column, Spec, Table
from esdh.spec.source import resolve_source
from esdh.spec.versions import apply_version
from esdh.spec.yamlsource import Path_, SourceMap, dotted, load_yaml, read_yaml

# A step pydantic adds to an error's location (``function-after[_check(), Column]``), not a key of the spec
# (a key may hold "[" too: ``1[as_of`` is a key, reported as unknown).
_PYDANTIC_STEP = re.compile(r"[a-z][a-z-]*\[.*\]", re.DOTALL)


def _model_problems(exc: ValidationError, source: SourceMap, prefix: Path_ = ()) -> list[SpecProblem]:
    from esdh.spec.compile import _type_hint

    problems = []
    for err in exc.errors():
        loc = (*prefix, *(p for p in err["loc"] if not (isinstance(p, str) and (_PYDANTIC_STEP.fullmatch(p) or
                                                                                   p in UNION_TAGS))))
        if err["type"] == "extra_forbidden" and loc:
            key = str(loc[-1])
            fields = _fields_at(loc[:-1])
            problems.append(source.problem(loc, f"unknown key '{key}'", suggest(key, fields) or
                                           f"allowed here: {', '.join(sorted(fields))}"))
        elif err["type"] == "missing":
            problems.append(source.problem(loc, f"missing required key '{loc[-1]}'", "add it"))
        else:
            given = err.get("input")
            shown = f" (got {given!r})" if not isinstance(given, dict | list) else ""
            problems.append(source.problem(loc, f"{err['msg']}{shown}", _type_hint(err["type"])))
    return problems


def _fields_at(loc: tuple[str | int, ...]) -> set[str]:
    from esdh.spec import model

    if not loc:
        return set(model.Spec.model_fields)
    if len(loc) == 2 and loc[0] == "tables":
        return set(model.Table.model_fields)
    if len(loc) >= 3 and loc[2] == "rows":
        return set(model.RowsPer.model_fields)
    if len(loc) >= 3 and loc[2] == "rules":
        return set(model.Rule.model_fields)
    if "check" in loc:
        return set(model.Check.model_fields)
    return set()


_PLACEHOLDER = {"dataset": "unnamed", "as_of": "2000-01-01"}


def parse_spec(data: Any, source: SourceMap) -> tuple[Spec, list[SpecProblem], set[str]]:
    """Validate the structure of loaded YAML/JSON, table by table.

    Returns the spec built from the valid parts, the structural problems, and the names of tables that
    could not be read (so that the meaning of the rest can still be checked and reported in one go).
    """
    if not isinstance(data, dict):
        raise SpecError([SpecProblem("", "a spec must be a mapping with dataset, as_of and tables",
                                     "see docs/spec.md for a minimal spec", source.file, 1)])
    problems: list[SpecProblem] = []
    tables = data.get("tables")
    good: dict[str, Any] = {}
    broken: set[str] = set()
    if isinstance(tables, dict):
        for name, table in tables.items():
            columns = table.get("columns") if isinstance(table, dict) else None
            if isinstance(columns, dict):  # columns one by one, so one bad column hides nothing else
                kept = {}
                for col_name, column in columns.items():
                    try:
                        kept[col_name] = Column.model_validate(column)
                    except ValidationError as exc:
                        problems += _model_problems(exc, source, ("tables", name, "columns", col_name))
                        broken.add(f"{name}.{col_name}")
                table = {**table, "columns": kept}
            try:
                good[name] = Table.model_validate(table)
            except ValidationError as exc:
                problems += _model_problems(exc, source, ("tables", name))
                repaired = _without_bad_keys(table, exc)
                if repaired is None:
                    broken.add(name)
                else:  # the table's other parts can still be checked (problems already block generation)
                    good[name] = repaired
    header = {k: v for k, v in data.items() if k != "tables"}
    try:
        spec = Spec.model_validate({**header, "tables": good if isinstance(tables, dict) else tables})
    except ValidationError as exc:
        # every table broken: those problems are reported already, not again as "no tables"
        all_broken = isinstance(tables, dict) and bool(tables) and not good
        problems += [p for p in _model_problems(exc, source) if not (all_broken and p.path == "tables")]
        fallback = {k: v for k, v in header.items() if k not in {str(e["loc"][0]) for e in exc.errors()}}
        spec = Spec.model_construct(**{**_PLACEHOLDER, **fallback, "tables": good,
                                       "as_of": _as_date(fallback.get("as_of", "2000-01-01"))})
    return spec, problems, broken


def _without_bad_keys(table: Any, exc: ValidationError) -> Table | None:
    """The table with its invalid top-level keys defaulted (rows: 1), or None if that does not help."""
    if not isinstance(table, dict):
        return None
    bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
    patched = {k: v for k, v in table.items() if k not in bad}
    if "rows" in bad or "rows" not in patched:
        patched["rows"] = 1
    try:
        return Table.model_validate(patched)
    except ValidationError:
        return None


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date(2000, 1, 1)


def load_spec(source: str | Path | dict[str, Any], version: str | None = None) -> Dataset:
    """Load and check a spec: a built-in dataset's name (or ``pack:NAME``), a path to a YAML file or a
    config folder, YAML text or a mapping (the rules: :mod:`esdh.spec.source`); ``version`` picks one of
    the versions the spec declares (default: its base version). The dataset's ``origin`` says what was
    read, with a note when a built-in's name is also a path here."""
    origin = resolve_source(source)
    if origin.kind == "mapping":
        smap = SourceMap("<mapping>")
        data: object = source
    elif origin.kind == "folder":  # a config folder (dataset.yaml, schema.yaml, evolution.yaml), translated
        from esdh.spec.config_folder import read_config_folder

        assert origin.path is not None
        data, smap = read_config_folder(origin.path)
    elif origin.kind in ("file", "pack"):
        assert origin.path is not None
        data, smap = read_yaml(origin.path)
    else:
        data, smap = load_yaml(str(source), "<text>")
    dataset = _compile_version(data, smap, version)
    dataset.origin = origin
    return dataset


def _compile_version(data: Any, smap: SourceMap, version: str | None) -> Dataset:
    """Compile ``version`` of the spec (None: the base), checking every declared version on the way: a
    version whose changes break the spec is an error of the spec, found by ``spec check`` and by any load,
    not only when someone asks for that version."""
    versions = data.get("versions") if isinstance(data, dict) else None
    declared = {str(v): entry for v, entry in versions.items()} if isinstance(versions, dict) else {}
    if version is not None and version not in declared:
        data = apply_version(data, smap, version)  # the base version by its number, or an unknown one (raises)
        version = None
    dataset, problems = _compiled(data, smap, None)
    seen = {(p.path, p.message) for p in problems}
    for other, entry in declared.items():
        if any(p.path == f"versions.{other}" or p.path.startswith(f"versions.{other}.") for p in problems):
            continue  # the version entry itself is malformed: reported once already
        try:
            evolved, found = _compiled(data, smap, other)
        except SpecError as exc:  # the changes themselves name what is not there; located already
            evolved, found = None, exc.problems
        else:
            found = [_in_version(p, smap, other, entry["changes"]) for p in found if (p.path, p.message) not in seen]
        problems += found
        if other == version:
            dataset = evolved
    if problems:
        raise SpecError(sorted(problems, key=lambda p: (p.line or 0, p.path)))
    assert dataset is not None  # compiled without problems
    return dataset


def _compiled(data: Any, smap: SourceMap, version: str | None) -> tuple[Dataset | None, list[SpecProblem]]:
    """One version of the spec compiled, or its problems."""
    evolved = apply_version(data, smap, version)
    spec, problems, broken = parse_spec(evolved, smap)
    try:
        return compile_spec(spec, smap, problems, broken), []
    except SpecError as exc:
        return None, exc.problems


def _in_version(problem: SpecProblem, smap: SourceMap, version: str, changes: dict[str, Any]) -> SpecProblem:
    """A problem that only a version has, placed on the change that caused it (a change at, above or below
    the problem's path), else on the version itself."""
    related = [k for k in map(str, changes) if problem.path == k or problem.path.startswith(k + ".")
               or k.startswith(problem.path + ".")]
    path: Path_ = ("versions", version, "changes", related[0]) if related else ("versions", version)
    return SpecProblem(dotted(path), f"version {version} makes {problem.path} wrong: {problem.message}",
                       problem.hint or "fix or remove this change", smap.file, smap.line_of(path))


def spec_hash(spec: Spec) -> str:
    """A content hash of the spec's meaning (independent of YAML formatting and comments)."""
    canonical = json.dumps(spec.model_dump(mode="json", exclude_defaults=False), sort_keys=True,
                           separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
