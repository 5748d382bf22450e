"""Write a whole dataset output: every table, then the dictionary, lineage and manifest, published at once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from esdh.checks.results import CheckResult
from esdh.defaults import DEFAULT_PART_ROWS
from esdh.engine.executors import Engine, LocalEngine
from esdh.engine.recipe import Recipe
from esdh.errors import UsageError
from esdh.logs import event
from esdh.output.datapackage import WrittenTable, build_manifest, write_manifest
from esdh.output.dictionary import write_schema_metadata
from esdh.output.faults import FILE_OVERHEAD, check_names, fault
from esdh.output.folder import MANIFEST
from esdh.output.formats import FORMATS
from esdh.output.lineage import LineageRecorder
from esdh.output.storage import Store, is_url
from esdh.output.tables import Progress, write_tables
from esdh.output.target_folder import FolderTarget
from esdh.output.target_store import StoreTarget
from esdh.plan.partitions import part_rows_option
from esdh.plan.planner import Plan


def check_formats(formats: list[str]) -> list[str]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"unknown format(s) {', '.join(unknown) or '(none given)'}; choose from "
                         f"{', '.join(FORMATS)}")
    return list(dict.fromkeys(formats))


@dataclass
class Result:
    folder: Path | str  # a URL for an object store destination (and so are the tables' paths)
    plan: Plan
    tables: list[WrittenTable] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)
    resumed: bool = False

    @property
    def files(self) -> list[Path | str]:
        return [p.path for t in self.tables for files in t.parts.values() for p in files]


def resume_key(plan: Plan, formats: list[str], check: bool, part_rows: int | None) -> dict[str, Any]:
    """What must match for an interrupted generation to be resumed."""
    recipe = Recipe.of(plan)
    return {"spec_hash": recipe.spec_hash, "seed": recipe.seed, "chunk_size": recipe.chunk_size,
            "rows": {t: plan.rows[t] for t in plan.tables}, "formats": formats, "check": check,
            "part_rows": part_rows}


def generate_to_folder(plan: Plan, out: Path | str, formats: list[str], progress: Progress | None = None,
                       check: bool = True, *, engine: Engine | None = None,
                       part_rows: int | None = DEFAULT_PART_ROWS, resume: bool = False,
                       storage_options: dict[str, Any] | None = None) -> Result:
    """Generate the plan's tables into ``out`` (written aside, published atomically). With ``check``,
    the output is checked against the spec and not published if any check fails. ``resume`` continues an
    interrupted generation of the same plan and options into the same folder. ``out`` may be an object store
    URL (``s3://bucket/prefix``, opened with ``storage_options``): see :mod:`esdh.output.target_store`."""
    formats = check_formats(formats)
    part_rows = part_rows_option(part_rows)
    name = plan.dataset.spec.dataset.lower()
    store = destination_store(out, storage_options)
    lineage = LineageRecorder(plan, formats, store.url if store else Path(out).resolve())  # load_spec, plan, START
    key = resume_key(plan, formats, check, part_rows)
    event("generate.started", dataset=plan.dataset.spec.dataset, version=plan.dataset.spec.version, seed=plan.seed,
          rows=sum(plan.rows[t] for t in plan.tables), formats=formats, engine=type(engine or LocalEngine()).__name__,
          out=str(out))
    if store is None:
        longest = max(len(FORMATS[fmt].extension) for fmt in formats)
        check_names(Path(out).resolve(), plan.tables, "table name", "choose a shorter table name in the spec",
                    overhead=max(FILE_OVERHEAD + longest, len("..00000.json.tmp")))
    target = StoreTarget(store, name, key, resume) if store else FolderTarget(Path(out), name, key, resume)
    try:
        return _generate(plan, target, formats, progress, check, engine, part_rows, store, lineage)
    except OSError as exc:  # a local target removed what it wrote; a store's keeps it for --resume
        kept = "the partitions written so far are kept for --resume" if target.kept else "nothing was kept"
        raise fault(exc, store.url if store else Path(out).resolve(), kept) from None


def _generate(plan: Plan, target: FolderTarget | StoreTarget, formats: list[str], progress: Progress | None,
              check: bool, engine: Engine | None, part_rows: int | None, store: Store | None,
              lineage: LineageRecorder) -> Result:
    with target:
        staging = target.folder
        written, results = write_tables(plan, staging, formats, progress, check, engine=engine,
                                        part_rows=part_rows, target=target, store=store)
        target.finish()
        for table in written:
            event("table.written", table=table.name, rows=table.rows, fingerprint=table.fingerprint,
                  files=sum(len(parts) for parts in table.parts.values()))
        if check:
            event("checks.passed", checks=len(results), evaluated=sum(r.evaluated for r in results))
        lineage.tables(staging, written, results, check)
        extra = [lineage.wrote("schema_metadata", staging, write_schema_metadata(staging, plan, written)),
                 lineage.write(staging)]
        manifest = build_manifest(plan, staging, written, formats, extra_files=extra, hashes=lineage.hashes)
        write_manifest(staging / MANIFEST, manifest)
        lineage.complete(staging, written)
    # Not typed cleanly: once a store's output is published its files are URLs (str), while WrittenTable and
    # PartFile hold the staging Paths everything before this point works with (and most readers after it).
    for table in written:
        table.files = {fmt: target.located(path.relative_to(staging).as_posix())  # type: ignore[misc]
                       for fmt, path in table.files.items()}
        table.parts = {fmt: [replace(p, path=target.located(p.path.relative_to(staging).as_posix()))  # type: ignore[arg-type]
                             for p in files]
                       for fmt, files in table.parts.items()}
    event("generate.published", folder=str(target.destination), resumed=target.resumed)
    return Result(target.destination, plan, written, manifest, results, resumed=target.resumed)


def destination_store(out: Path | str, storage_options: dict[str, Any] | None) -> Store | None:
    """The object store ``out`` names (a URL), or None for a local path."""
    if is_url(out):
        return Store(str(out), dict(storage_options or {}))
    if storage_options:
        raise UsageError(f"storage options are for object store URLs (s3://..., file://...), not the local "
                         f"path {out}")
    return None
