"""The run registry: WAL SQLite safe under concurrent writers; reservations; retention; diff."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from esdh.errors import OutputError, UsageError
from esdh.runs.compare import diff_runs
from esdh.runs.registry import Registry
from esdh.runs.retention import prune


def _register_many(root: str, worker: int, count: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait()
    registry = Registry(root)
    for i in range(count):
        record = registry.reserve("shop", f"1.0.0+w{worker}.{i}", "generated", seed=i)
        registry.complete(record, row_counts={"t": i}, files={"t.parquet": f"{worker:02d}{i:04d}"})


def _claim(root: str, start: multiprocessing.synchronize.Event, results: multiprocessing.Queue,
           finish: multiprocessing.synchronize.Event) -> None:
    start.wait()
    try:
        Registry(root).reserve("shop", "2.0.0", "generated")
        results.put("won")
    except OutputError as exc:
        results.put(f"refused: {exc}")
    finish.wait(60)  # a writer stays alive while the others try: a dead writer's reservation is taken over


def _processes(target, args_of, count: int) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    procs = [context.Process(target=target, args=(*args_of(i, context), start)) for i in range(count)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0


def test_wal_mode_and_concurrent_writers_all_land(tmp_path: Path):
    workers, each = 6, 15
    _processes(_register_many, lambda i, _: (str(tmp_path), i, each), workers)
    registry = Registry(tmp_path)
    runs = registry.runs("shop")
    assert len(runs) == workers * each
    assert len({r.version for r in runs}) == workers * each
    assert all(r.status == "complete" and r.files for r in runs)
    with sqlite3.connect(registry.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_one_version_is_claimed_by_exactly_one_process(tmp_path: Path):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start, finish = context.Event(), context.Event()
    procs = [context.Process(target=_claim, args=(str(tmp_path), start, results, finish)) for _ in range(6)]
    for p in procs:
        p.start()
    start.set()
    outcomes = [results.get(timeout=60) for _ in procs]
    finish.set()
    for p in procs:
        p.join(120)
    assert outcomes.count("won") == 1
    assert all("being written by process" in o for o in outcomes if o != "won")


def test_existing_version_refused_with_a_hint(tmp_path: Path):
    registry = Registry(tmp_path)
    registry.complete(registry.reserve("shop", "1.0.0", "generated"))
    with pytest.raises(OutputError, match=r"already exists.*never replaced.*1\.0\.0\+2"):
        registry.reserve("shop", "1.0.0", "generated")


def test_reservation_of_a_dead_writer_is_taken_over(tmp_path: Path):
    registry = Registry(tmp_path)
    record = registry.reserve("shop", "1.0.0", "generated")
    with sqlite3.connect(registry.path) as con:  # a writer that died: its pid is gone
        con.execute("UPDATE runs SET pid = ? WHERE id = ?", (_dead_pid(), record.id))
    taken = registry.reserve("shop", "1.0.0", "generated")
    assert taken.pid == os.getpid() and taken.being_written


def _dead_pid() -> int:
    proc = multiprocessing.get_context("spawn").Process(target=os.getpid)
    proc.start()
    proc.join()
    return proc.pid


def test_unregistered_folder_is_not_overwritten(tmp_path: Path):
    (tmp_path / "shop" / "1.0.0").mkdir(parents=True)
    with pytest.raises(OutputError, match="not in the registry"):
        Registry(tmp_path).reserve("shop", "1.0.0", "generated")


def test_latest_previous_and_resolve(tmp_path: Path):
    registry = Registry(tmp_path)
    for version in ("1.0.0", "1.1.0", "1.0.0+2"):
        registry.complete(registry.reserve("shop", version, "generated"))
    writing = registry.reserve("shop", "3.0.0", "generated")
    assert registry.latest("shop").version == "1.0.0+2"  # registration order, finished runs only
    assert registry.previous(registry.get("shop", "1.0.0+2")).version == "1.1.0"
    assert registry.previous(registry.get("shop", "1.0.0")) is None
    assert registry.resolve("shop/1.1.0").version == "1.1.0"
    assert registry.resolve("shop").version == "1.0.0+2"
    assert [r.version for r in registry.runs("shop", include_writing=True)][-1] == writing.version
    with pytest.raises(UsageError, match=r"its runs: 1\.0\.0, 1\.1\.0, 1\.0\.0\+2"):
        registry.get("shop", "9.9.9")
    with pytest.raises(UsageError, match=r"no finished runs of .nope.*datasets: shop"):
        registry.latest("nope")


def _complete_with_folder(registry: Registry, version: str) -> None:
    record = registry.reserve("shop", version, "generated")
    folder = registry.folder_of(record)
    folder.mkdir(parents=True)
    (folder / "data.csv").write_text("a\n1\n")
    folder.chmod(0o555)
    registry.complete(record)


def test_prune_keeps_newest_and_never_touches_a_run_being_written(tmp_path: Path):
    registry = Registry(tmp_path)
    for version in ("1", "2", "3", "4"):
        _complete_with_folder(registry, version)
    writing = registry.reserve("shop", "5", "generated")
    assert [r.version for r in prune(registry, "shop", keep=2, dry_run=True)] == ["1", "2"]
    assert (tmp_path / "shop" / "1").exists()
    removed = prune(registry, "shop", keep=2)
    assert [r.version for r in removed] == ["1", "2"]
    assert not (tmp_path / "shop" / "1").exists() and not (tmp_path / "shop" / "2").exists()
    assert [r.version for r in registry.runs("shop", include_writing=True)] == ["3", "4", "5"]
    assert registry.get("shop", "5").id == writing.id
    assert prune(registry, "shop", keep=1)[0].version == "3"
    assert registry.latest("shop").version == "4"  # the latest stays
    with pytest.raises(UsageError, match="at least 1"):
        prune(registry, "shop", keep=0)


def test_diff_reports_spec_rows_and_files(tmp_path: Path):
    registry = Registry(tmp_path)
    old = registry.complete(registry.reserve("shop", "1", "generated", spec={"tables": {"t": {"rows": 10}}},
                                             spec_hash="a"),
                            row_counts={"t": 10, "gone": 1}, files={"t.parquet": "x", "same.json": "s", "gone": "g"})
    new = registry.complete(registry.reserve("shop", "2", "generated", spec={"tables": {"t": {"rows": 20}}},
                                             spec_hash="b"),
                            row_counts={"t": 20}, files={"t.parquet": "y", "same.json": "s", "new": "n"})
    result = diff_runs(old, new)
    assert not result["same_spec"]
    assert "-    rows: 10" in result["spec_diff"] and "+    rows: 20" in result["spec_diff"]
    assert result["row_counts"]["t"] == {"old": 10, "new": 20, "change": 10}
    assert result["row_counts"]["gone"]["new"] is None
    assert result["files"] == {"same": ["same.json"], "changed": ["t.parquet"], "added": ["new"], "removed": ["gone"]}


# the registry schema 1, as ESDH wrote it before the column spec_version became dataset_version
SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset       TEXT NOT NULL,
    version       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('writing', 'complete')),
    source        TEXT NOT NULL CHECK (source IN ('generated', 'ingested')),
    folder        TEXT NOT NULL,
    spec_version  TEXT,
    seed          INTEGER,
    scale         REAL,
    spec_hash     TEXT,
    row_counts    TEXT NOT NULL DEFAULT '{}',
    files         TEXT NOT NULL DEFAULT '{}',
    manifest_sha256 TEXT,
    validation    TEXT,
    drift         TEXT,
    against       TEXT,
    spec          TEXT,
    started_at    TEXT,
    finished_at   TEXT,
    host          TEXT,
    pid           INTEGER,
    user          TEXT,
    command       TEXT,
    esdh_version  TEXT,
    UNIQUE (dataset, version)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _registry_of_schema_1(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(root / "registry.sqlite")
    con.executescript(SCHEMA_1)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO runs (dataset, version, status, source, folder, spec_version, seed, row_counts, files) "
                "VALUES ('shop', '1.0.0+2', 'complete', 'generated', 'shop/1.0.0+2', '1.0.0', 7, '{\"t\": 3}', '{}')")
    con.commit()
    con.close()


def _schema_of(root: Path) -> tuple[set[str], str]:
    with sqlite3.connect(root / "registry.sqlite") as con:
        columns = {row[1] for row in con.execute("PRAGMA table_info(runs)")}
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    return columns, version


def test_a_registry_of_schema_1_is_migrated_on_open_and_keeps_its_runs(tmp_path: Path):
    _registry_of_schema_1(tmp_path)
    registry = Registry(tmp_path)
    run = registry.get("shop", "1.0.0+2")
    assert run.dataset_version == "1.0.0" and run.seed == 7 and run.row_counts == {"t": 3}
    columns, version = _schema_of(tmp_path)
    assert "dataset_version" in columns and "spec_version" not in columns and version == "3"
    assert {"meta_files", "record_sha256"} <= columns and run.meta_files is None and run.record_sha256 is None
    registry.complete(registry.reserve("shop", "1.1.0", "generated", dataset_version="1.1.0"))  # writes work
    assert registry.get("shop", "1.1.0").dataset_version == "1.1.0"
    assert Registry(tmp_path).latest("shop").version == "1.1.0"  # opening it again changes nothing
    assert _schema_of(tmp_path) == (columns, "3")


def test_a_new_registry_records_its_schema_and_a_newer_one_is_refused(tmp_path: Path):
    Registry(tmp_path).reserve("shop", "1.0.0", "generated")
    columns, version = _schema_of(tmp_path)
    assert "dataset_version" in columns and "spec_version" not in columns and version == "3"
    with sqlite3.connect(tmp_path / "registry.sqlite") as con:
        con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    with pytest.raises(OutputError, match="newer ESDH"):
        Registry(tmp_path).runs()


def _open_registry(root: str, start: multiprocessing.synchronize.Event, results: multiprocessing.Queue) -> None:
    start.wait()
    results.put(Registry(root).get("shop", "1.0.0+2").dataset_version)


def test_processes_opening_a_schema_1_registry_together_all_see_it_migrated(tmp_path: Path):
    _registry_of_schema_1(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_open_registry, args=(str(tmp_path), start, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert sorted(results.get(timeout=5) for _ in workers) == ["1.0.0"] * 4
