"""Load a spec from a file, text, a mapping or a built-in pack name, reporting every problem at once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from esdh.errors import SpecError, SpecProblem
from esdh.spec.compile import Dataset, compile_spec, suggest
from esdh.spec.model import Spec
from esdh.spec.yamlsource import SourceMap, load_yaml, read_yaml


def _model_problems(exc: ValidationError, source: SourceMap) -> list[SpecProblem]:
    from esdh.spec.compile import _type_hint

    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in ("int", "RowsPer"))))
        if err["type"] == "extra_forbidden":
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
    # A union (e.g. rows: int | {per, count}) reports one error per branch; keep one per path.
    unique: dict[str, SpecProblem] = {}
    for problem in problems:
        unique.setdefault(problem.path, problem)
    return list(unique.values())


def _fields_at(loc: tuple) -> set[str]:
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


def parse_spec(data: Any, source: SourceMap) -> Spec:
    """Validate the structure of loaded YAML/JSON."""
    if not isinstance(data, dict):
        raise SpecError([SpecProblem("", "a spec must be a mapping with dataset, as_of and tables",
                                     "see docs/spec.md for a minimal spec", source.file, 1)])
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_model_problems(exc, source)) from None


def load_spec(source: str | Path | dict[str, Any]) -> Dataset:
    """Load and check a spec: a path to a YAML file, a built-in pack name, YAML text or a mapping."""
    if isinstance(source, dict):
        smap = SourceMap("<mapping>")
        data = source
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and
                                      (source.endswith((".yaml", ".yml")) or Path(source).exists())):
        path = Path(source)
        if not path.exists():
            raise SpecError([SpecProblem("", f"spec file not found: {path}", "check the path", str(path))])
        data, smap = read_yaml(path)
    elif isinstance(source, str) and "\n" not in source:
        from esdh.packs import pack_path

        path = pack_path(source)
        data, smap = read_yaml(path)
    else:
        data, smap = load_yaml(str(source), "<text>")
    spec = parse_spec(data, smap)
    return compile_spec(spec, smap)


def spec_hash(spec: Spec) -> str:
    """A content hash of the spec's meaning (independent of YAML formatting and comments)."""
    canonical = json.dumps(spec.model_dump(mode="json", exclude_defaults=False), sort_keys=True,
                           separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
