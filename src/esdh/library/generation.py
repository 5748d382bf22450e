"""Generation: load a spec, plan it, generate it into a folder or an object store, or read rows in memory."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pyarrow as pa

from esdh.defaults import DEFAULT_CHUNK_SIZE, DEFAULT_PART_ROWS
from esdh.engine import chunks
from esdh.engine.executors import engine_for
from esdh.engine.frame import columns_at
from esdh.errors import OutputError, SpecError, SpecProblem
from esdh.library.describe import check_chunk_memory
from esdh.output.dataset import Result, generate_to_folder
from esdh.output.storage import is_url
from esdh.output.tables import Progress
from esdh.plan.planner import Plan, build_plan
from esdh.rng import random_seed
from esdh.spec.compile import Dataset
from esdh.spec.load import load_spec
from esdh.spec.source import resolve_source

SpecSource = str | Path | dict[str, Any] | Dataset


def load(source: SpecSource, version: str | None = None) -> Dataset:
    """A checked spec from a file, a built-in dataset name, YAML text or a mapping; ``version`` picks
    one of the versions it declares."""
    if isinstance(source, Dataset):
        return source
    _refuse_special_file(source)
    return load_spec(source, version)


def check(source: SpecSource) -> Dataset:
    """What ``esdh spec check`` checks: the spec, its plan, and the plan of every version it declares (a
    version can make a plan impossible, e.g. fewer parents than ``choose: distinct`` needs)."""
    dataset = load(source)
    plan(dataset)
    if not isinstance(source, Dataset):
        for name in dataset.spec.versions:
            plan(load(source, name))
    return dataset


def _refuse_special_file(source: SpecSource) -> None:
    """A spec path that names a FIFO, a socket or a device is refused before it is opened: reading a FIFO
    waits for a writer that may never come."""
    if not isinstance(source, str | Path):
        return
    origin = resolve_source(source)
    if origin.kind != "file" or origin.path is None:
        return
    try:
        mode = origin.path.expanduser().stat().st_mode
    except OSError:
        return  # gone or unreadable: reading it says so
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        what = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise SpecError([SpecProblem("", f"{origin.given} is {what}, not a spec file (not opened)",
                                     "give a .yaml spec file, a config folder or a built-in dataset's name",
                                     str(origin.path))])


def _refuse_run_folder(out: Path) -> None:
    """A registered run (``<registry>/<dataset>/<version>/``, whose metadata is in ``<dataset>/.meta/<version>``)
    is immutable: ``generate`` never writes into it or over it, even where the file system would let it."""
    def is_run(place: Path) -> bool:
        try:
            return (place.parent / ".meta" / place.name).is_dir() and (place / "datapackage.json").is_file()
        except OSError:  # a name too long for the file system: no run has it (the output's own check says so)
            return False

    folder = out.expanduser().absolute()
    for place in (folder, *folder.parents):
        if place.name and is_run(place):
            raise OutputError(f"{out} is {'in ' if place != folder else ''}the registered run "
                              f"{place.parent.name}/{place.name}; a run is never written over (give another --out)")


def plan(source: SpecSource, *, seed: int | None = None, randomize: bool = False, scale: float = 1.0,
         rows: dict[str, int] | None = None, tables: list[str] | None = None,
         chunk_size: int = DEFAULT_CHUNK_SIZE, version: str | None = None, estimate: bool = False) -> Plan:
    """Resolve a spec into row counts and chunks; ``randomize`` draws a fresh seed (reported in the plan).
    Sizes beyond ``esdh.limits`` are refused before anything is counted. ``estimate`` extrapolates the
    children of very large parents from a prefix (``Plan.estimated``; fast, for describing only: such a plan
    cannot generate)."""
    dataset = load(source, version)
    if randomize:
        seed = random_seed()
    the_plan = build_plan(dataset, seed=seed, scale=scale, rows=rows, tables=tables, chunk_size=chunk_size,
                          randomized=randomize, read_columns=columns_at, estimate=estimate)
    check_chunk_memory(the_plan)  # wide rows (many long strings) can outgrow memory even at the default size
    return the_plan


def generate(source: SpecSource | Plan, out: str | Path, *, formats: list[str] | tuple[str, ...] = ("parquet",),
             check: bool = True, progress: Progress | None = None, engine: str = "local",
             workers: int | None = None, cluster: str | None = None, part_rows: int | None = DEFAULT_PART_ROWS,
             resume: bool = False, storage_options: dict[str, Any] | None = None, **plan_options: Any) -> Result:
    """Generate a dataset into a folder: per table and format one file, or part files of ``part_rows``
    rows in a folder of the table's name (None: always one file), plus datapackage.json. ``engine``
    (local, processes, dask) says where partitions run; every engine writes the same bytes. ``resume``
    continues an interrupted run of the same plan into the same folder. ``out`` may be an object store
    URL (a string such as ``s3://bucket/prefix/insurance``), opened with fsspec and ``storage_options``
    (endpoint, credentials, ...; by default the store's usual environment variables)."""
    the_plan = source if isinstance(source, Plan) else plan(source, **plan_options)
    the_plan.require_exact()
    if not is_url(out):
        _refuse_run_folder(Path(out))
    runner = engine_for(engine, workers=workers, cluster=cluster)
    return generate_to_folder(the_plan, out if is_url(out) else Path(out), list(formats), progress=progress,
                              check=check, engine=runner, part_rows=part_rows, resume=resume,
                              storage_options=storage_options)


def preview(source: SpecSource | Plan, table: str, rows: int = 10, **plan_options: Any) -> pa.Table:
    """The first rows of one table, generated in memory."""
    the_plan = source if isinstance(source, Plan) else plan(source, **plan_options)
    return pa.Table.from_batches([chunks.sample(the_plan, table, rows)])


def table(source: SpecSource | Plan, name: str, **plan_options: Any) -> pa.Table:
    """A whole table in memory (for tests and small datasets)."""
    the_plan = source if isinstance(source, Plan) else plan(source, **plan_options)
    the_plan.require_exact()
    schema = chunks.schema(the_plan, name)
    return pa.Table.from_batches(list(chunks.batches(the_plan, name, schema=schema)), schema=schema)


# -- governed runs ---------------------------------------------------------------------------------------
# Thin wrappers: the CLI and the HTTP API call these; the work is in esdh.runs and esdh.quality.
