"""Lineage captured from the execution itself: ``generation_lineage.yaml`` and ``lineage_events.json``.

``generate_to_folder`` drives a ``LineageRecorder``: each step is recorded once it has happened, with
what it actually did (rows written, files with their size and sha256, check counts), never from a fixed
list. ``load_spec`` and ``plan`` ran before the executor was called; they are recorded first, from their
results (the compiled spec and the plan). The manifest lists the lineage file with its hash, so the
lineage file is written as the manifest step begins; its last step names ``datapackage.json``, written
right after it (and, like every file, published only if the whole generation succeeds).

Determinism: ``generation_lineage.yaml`` holds no time and no random id, so two generations of the same
spec, seed and options give the same bytes, like the data and ``schema_metadata.json``. What differs
between generations, the OpenLineage run id (a UUID4) and wall-clock times, is run metadata and lives only
in ``lineage_events.json`` (written last and so not listed in ``datapackage.json``): OpenLineage 2-0-2
RunEvents, START (made before generation) and COMPLETE (after the manifest). A failed generation publishes
nothing (its staging folder is removed), so its FAIL event has nowhere to go and is not written.
"""

from __future__ import annotations

import json
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from esdh.checks.results import CheckResult
from esdh.errors import UsageError
from esdh.output.checksum import sha256_file
from esdh.output.datapackage import WrittenTable
from esdh.output.dictionary import SCHEMA_METADATA
from esdh.output.events import run_event
from esdh.output.folder import MANIFEST
from esdh.output.formats import FORMATS
from esdh.plan.planner import Plan
from esdh.spec.compile import Dataset

LINEAGE = "generation_lineage.yaml"
EVENTS = "lineage_events.json"
RESERVED = {LINEAGE, EVENTS, MANIFEST, SCHEMA_METADATA}


def spec_input(dataset: Dataset) -> dict[str, str]:
    """Where the spec came from: a built-in pack's name, a file's path as given, or inline text."""
    file = dataset.source.file
    if file.startswith("<"):
        return {"kind": "inline", "spec": file}
    path = Path(file)
    packs = Path(str(resources.files("esdh.packs"))).resolve()
    if path.suffix == ".yaml" and path.resolve().parent == packs:
        return {"kind": "pack", "spec": path.stem}
    return {"kind": "file", "spec": file}


def reads(dataset: Dataset, table: str) -> list[str]:
    """The other tables a table's rows read (by random access): its rows-per parent and the tables
    its refs and lookups point to."""
    model = dataset.tables[table]
    found = {c.target_table for c in model.columns.values() if c.target_table} | {model.parent}
    return [t for t in dataset.order if t in found and t != table]


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # no &id001 anchors: every entry is written out
        return True


class LineageRecorder:
    """Records the steps of one generation as they happen and writes the two lineage files."""

    def __init__(self, plan: Plan, formats: list[str], final: Path | str):
        """``final``: where the output is published (a folder, or an object store URL)."""
        names = {f"{t}.{FORMATS[f].extension}" for t in plan.tables for f in formats}
        if names & RESERVED:
            raise UsageError(f"a table file would be named {', '.join(sorted(names & RESERVED))}, which the "
                             "output folder's metadata uses; rename the table or choose another format")
        self.plan, self.final, self.run_id = plan, final, str(uuid.uuid4())
        self.steps: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []
        self.hashes: dict[Path, str] = {}
        self.results: list[CheckResult] = []
        self.spec = {**spec_input(plan.dataset), "spec_hash": plan.spec_hash}
        self.events = [run_event("START", self)]
        self.record("load_spec", **self.spec, tables=list(plan.dataset.tables))
        self.record("plan", seed=plan.seed, randomized=plan.randomized, scale=plan.scale,  # not the chunk size:
                    rows={t: plan.rows[t] for t in plan.tables})  # it never changes a byte of the output

    def record(self, step: str, **details: Any) -> None:
        self.steps.append({"step": step, **details})

    def file(self, folder: Path, path: Path, digest: str | None = None, size: int | None = None,
             **facts: Any) -> dict[str, Any]:
        """Note a file written into the (staging) folder, for the outputs list: its path there, ``facts``
        (table, format, rows), size and sha256 (``digest`` and ``size`` when already known: the part files
        of an output in an object store are not in the folder). Returns a copy of the entry."""
        self.hashes[path] = digest = digest or sha256_file(path)
        entry = {"path": path.relative_to(folder).as_posix(), **facts,
                 "bytes": path.stat().st_size if size is None else size, "sha256": digest}
        self.outputs.append(entry)
        return dict(entry)

    def tables(self, folder: Path, written: list[WrittenTable], results: list[CheckResult], check: bool) -> None:
        """One step per table, in the order they were written, then the checks."""
        for table in written:
            files = [self.file(folder, part.path, part.sha256, part.bytes, table=table.name, format=fmt,
                               rows=part.rows) for fmt, parts in table.parts.items() for part in parts]
            self.record("generate_table", table=table.name, rows=table.rows, reads=reads(self.plan.dataset, table.name),
                        files=[{k: v for k, v in f.items() if k not in ("table", "rows")} for f in files])
        self.results = results
        if check:
            passed = sum(r.passed for r in results)
            self.record("checks", evaluated=len(results), passed=passed, failed=len(results) - passed)
        else:
            self.record("checks", skipped=True)

    def wrote(self, step: str, folder: Path, path: Path) -> Path:
        self.record(step, output=self.file(folder, path))
        return path

    def write(self, folder: Path) -> Path:
        """Write generation_lineage.yaml; its last step is the manifest, which lists it."""
        listed = [o["path"] for o in self.outputs] + [LINEAGE]
        self.record("manifest", output=MANIFEST, lists=listed)
        children = [{"table": s["table"], "reads": s["reads"]} for s in self.steps if s.get("reads")]
        spec = self.plan.dataset.spec
        document = {"dataset": spec.dataset, "version": spec.version, "seed": self.plan.seed,
                    "as_of": spec.as_of.isoformat(), "spec_hash": self.plan.spec_hash,
                    "run_events": EVENTS, "steps": self.steps, "inputs": [self.spec, *children],
                    "outputs": self.outputs}
        path = folder / LINEAGE
        path.write_text(yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                                  default_flow_style=False, width=120), encoding="utf-8")
        return path

    def complete(self, folder: Path, written: list[WrittenTable]) -> Path:
        """Add the COMPLETE event and write lineage_events.json (START, COMPLETE)."""
        self.events.append(run_event("COMPLETE", self, written))
        path = folder / EVENTS
        path.write_text(json.dumps(self.events, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path
