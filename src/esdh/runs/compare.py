"""``esdh runs diff``: what changed between two runs of a dataset (spec, row counts, file checksums)."""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from esdh.runs.registry import RunRecord


def spec_text(record: RunRecord) -> list[str]:
    if record.spec is None:
        return []
    return yaml.safe_dump(record.spec, sort_keys=True, allow_unicode=True, width=120).splitlines()


def diff_runs(old: RunRecord, new: RunRecord) -> dict[str, Any]:
    """Spec differences (a unified diff of the specs as sorted YAML), row counts per table and the files
    whose checksums differ, appeared or disappeared."""
    spec_diff = list(difflib.unified_diff(spec_text(old), spec_text(new), f"{old.dataset} {old.version}",
                                          f"{new.dataset} {new.version}", lineterm="", n=2))
    tables = sorted(set(old.row_counts) | set(new.row_counts))
    rows = {t: {"old": old.row_counts.get(t), "new": new.row_counts.get(t),
                "change": (new.row_counts.get(t) or 0) - (old.row_counts.get(t) or 0)} for t in tables}
    files: dict[str, list[str]] = {"same": [], "changed": [], "added": [], "removed": []}
    for path in sorted(set(old.files) | set(new.files)):
        if path not in new.files:
            files["removed"].append(path)
        elif path not in old.files:
            files["added"].append(path)
        else:
            files["same" if old.files[path] == new.files[path] else "changed"].append(path)
    return {"old": {"dataset": old.dataset, "version": old.version, "seed": old.seed, "spec_hash": old.spec_hash},
            "new": {"dataset": new.dataset, "version": new.version, "seed": new.seed, "spec_hash": new.spec_hash},
            "same_spec": old.spec_hash == new.spec_hash and old.spec_hash is not None,
            "spec_diff": spec_diff, "row_counts": rows, "files": files}
