"""Evolution: a spec's ``versions`` describe later versions of the dataset by the values they change.

``versions: {"1.1.0": {changes: {"tables.transactions.columns.is_fraud.rate": 0.05}}}`` gives version
1.1.0: the same spec with that one value changed. Values are keyed by names, not versions, so every
column the changes do not touch keeps exactly the same values in both versions.
"""

from __future__ import annotations

import copy
from typing import Any

from esdh.errors import SpecError
from esdh.spec.compile import suggest
from esdh.spec.yamlsource import SourceMap


def apply_version(data: Any, source: SourceMap, version: str | None) -> Any:
    """The spec mapping of ``version`` (the base version, or one declared under ``versions``)."""
    if version is None or not isinstance(data, dict) or str(data.get("version", "1.0.0")) == version:
        return data
    versions = data.get("versions")
    declared: dict[str, Any] = {str(k): v for k, v in versions.items()} if isinstance(versions, dict) else {}
    if version not in declared:
        known = [str(data.get("version", "1.0.0")), *declared]
        raise SpecError([source.problem(("versions",), f"version '{version}' is not declared",
                                        suggest(version, known) or f"versions: {', '.join(known)}")])
    changes = declared[version].get("changes") if isinstance(declared[version], dict) else None
    if not isinstance(changes, dict) or not changes:
        raise SpecError([source.problem(("versions", version), "a version needs changes: {path: value}")])
    evolved = copy.deepcopy(data)
    problems = []
    for dotted, value in changes.items():
        parts = str(dotted).split(".")
        node = evolved
        for depth, part in enumerate(parts[:-1]):
            if not isinstance(node, dict) or part not in node:
                where = ".".join(parts[: depth + 1])
                options = set(node) if isinstance(node, dict) else set()
                problems.append(source.problem(("versions", version, "changes", dotted),
                                               f"'{where}' does not exist in the spec",
                                               suggest(part, options) or "give the dotted path of a spec value"))
                break
            node = node[part]
        else:
            if not isinstance(node, dict):
                problems.append(source.problem(("versions", version, "changes", dotted),
                                               f"'{'.'.join(parts[:-1])}' is not a mapping"))
                continue
            node[parts[-1]] = value
    if problems:
        raise SpecError(problems)
    evolved["version"] = version
    return evolved
