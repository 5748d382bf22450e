"""Retention: remove the older runs of a dataset, keeping the newest ``keep``.

Never removed: the latest run (even with ``keep=0`` it stays: other teams read "latest") and any run still
being written (its version is reserved with status ``writing``; it is not finished, so it is not counted).
The registry row goes first, in its own transaction, then the folder and the run metadata: a reader
never finds a registered run without its files, and a removal cut short leaves an unregistered folder
that a later run of that version refuses to overwrite, with a message that says so.
"""

from __future__ import annotations

import shutil

from esdh.errors import UsageError
from esdh.logs import event
from esdh.retention import all_but_newest
from esdh.runs.registry import META, Registry, RunRecord
from esdh.runs.run import remove_run_folder


def prune(registry: Registry, dataset: str, keep: int, dry_run: bool = False) -> list[RunRecord]:
    """Remove the finished runs of ``dataset`` older than its newest ``keep``; return what was (or, with
    ``dry_run``, would be) removed."""
    if keep < 1:
        raise UsageError("--keep must be at least 1: the latest run is never removed")
    runs = registry.runs(dataset)
    if not runs:
        registry.latest(dataset)  # raises the helpful "no runs of ..." error
    doomed = all_but_newest(runs, keep)  # runs being written are not listed: never dropped, never counted
    if dry_run:
        return doomed
    for record in doomed:
        registry.remove(record)
        remove_run_folder(registry.folder_of(record))
        shutil.rmtree(registry.root / record.dataset / META / record.version, ignore_errors=True)
        event("run.pruned", dataset=record.dataset, version=record.version)
    return doomed
