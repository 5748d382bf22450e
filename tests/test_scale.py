"""Scale: partitions and part files, the engines (local, processes, Dask) writing the same bytes, the
journal that lets an interrupted run resume, and progress."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from esdh import library
from esdh.checks.keys import file_relation, key_checks
from esdh.cli.main import cli
from esdh.engine.recipe import Recipe
from esdh.errors import OutputError, UsageError
from esdh.output.checksum import sha256_file
from esdh.output.target_folder import FolderTarget
from esdh.packs import pack_names
from esdh.plan.partitions import BLOCK

PERSONS = 150_000  # three partitions of 65,536 rows
PART = BLOCK
VOLATILE = {"lineage_events.json"}  # the one file with times and a run id


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in VOLATILE}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> library.Result:
    out = tmp_path_factory.mktemp("local") / "out"
    return library.generate("insurance", out, rows={"persons": PERSONS}, formats=["parquet", "csv"], part_rows=PART)


def test_large_tables_are_written_as_part_files_listed_in_the_manifest(local_run: library.Result) -> None:
    folder = local_run.folder
    assert sorted(p.name for p in (folder / "persons").iterdir()) == [
        f"part-0000{i}.{ext}" for i in range(3) for ext in ("csv", "parquet")]
    resources = {r["name"]: r for r in local_run.manifest["resources"]}
    persons = resources["persons"]
    assert persons["path"] == [f"persons/part-0000{i}.parquet" for i in range(3)]
    assert [p["rows"] for p in persons["esdh:parts"]] == [65_536, 65_536, PERSONS - 2 * 65_536]
    for part in persons["esdh:parts"] + resources["persons-csv"]["esdh:parts"]:
        path = folder / part["path"]
        assert part["hash"] == "sha256:" + sha256_file(path) and part["bytes"] == path.stat().st_size
    assert persons["esdh:bytes"] == sum(p["bytes"] for p in persons["esdh:parts"])
    assert sum(pq.ParquetFile(folder / p).metadata.num_rows for p in persons["path"]) == PERSONS
    # the parts read back as one table, in row order
    con = duckdb.connect()
    ids = [r[0] for r in con.execute(f"SELECT person_id FROM {file_relation([folder / p for p in persons['path']])}")
           .fetchall()]
    assert ids == library.table("insurance", "persons", rows={"persons": PERSONS}).column("person_id").to_pylist()
    # lineage lists every part file
    lineage = (folder / "generation_lineage.yaml").read_text()
    assert all(p in lineage for p in persons["path"])


def test_the_fingerprint_does_not_depend_on_partitioning_or_chunking(tmp_path: Path,
                                                                      local_run: library.Result) -> None:
    whole = library.generate("insurance", tmp_path / "whole", rows={"persons": PERSONS}, part_rows=None,
                             chunk_size=50_000, formats=["ndjson"])
    assert (whole.folder / "persons.ndjson").is_file()
    prints = [{r["name"].split("-")[0]: r["esdh:fingerprint"] for r in m.manifest["resources"]
               if "esdh:fingerprint" in r} for m in (whole, local_run)]
    assert prints[0] == prints[1]


def test_part_rows_are_whole_fingerprint_blocks(tmp_path: Path) -> None:
    result = library.generate("insurance", tmp_path / "o", rows={"persons": 70_000}, tables=["persons"],
                              part_rows=1_000)  # rounded up to 65,536
    assert [p.rows for p in result.tables[0].parts["parquet"]] == [65_536, 70_000 - 65_536]
    with pytest.raises(UsageError, match="--part-rows must be a positive whole number"):
        library.generate("insurance", tmp_path / "p", part_rows=0)


def test_processes_and_dask_write_the_same_bytes_as_local(tmp_path: Path, local_run: library.Result) -> None:
    expected = files_of(local_run.folder)
    for engine in ("processes", "dask"):
        seen: dict[str, int] = {}

        def progress(table: str, done: int, total: int, seen: dict[str, int] = seen) -> None:
            seen[table] = done

        result = library.generate("insurance", tmp_path / engine, rows={"persons": PERSONS},
                                  formats=["parquet", "csv"], part_rows=PART, engine=engine, workers=2,
                                  progress=progress)
        assert files_of(result.folder) == expected, engine
        assert seen == result.plan.rows  # progress reached every table's row count
        assert [c.as_dict() for c in result.checks] == [c.as_dict() for c in local_run.checks]


def test_a_killed_run_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [sys.executable, "-m", "esdh.cli", "generate", "insurance", "--tables", "persons", "--rows",
            "persons=1200000", "--part-rows", str(PART), "--out", str(out), "-q"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = tmp_path / ".out.esdh-partial" / ".esdh-journal"
    deadline = time.monotonic() + 120
    while len(list(journal.glob("persons.*.json"))) < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = sorted(journal.glob("persons.*.json"))
    assert 4 <= len(done) < 19 and not out.exists()
    # tamper with a finished partition: resume must notice and write it again
    first = json.loads(done[0].read_text())["files"]["parquet"]["path"]
    damaged = tmp_path / ".out.esdh-partial" / first
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\x00")
    result = CliRunner().invoke(cli, [*args[3:], "--resume"])
    assert result.exit_code == 0, result.output
    assert "resumed" in result.output
    fresh = library.generate("insurance", tmp_path / "fresh", tables=["persons"], rows={"persons": 1_200_000},
                             part_rows=PART)
    assert files_of(out) == files_of(fresh.folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "out"]


def test_resume_refuses_a_run_started_with_other_options(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), FolderTarget(tmp_path / "out", "insurance", {"seed": 1}):
        raise KeyboardInterrupt  # an interrupted run is kept for --resume
    assert (tmp_path / ".out.esdh-partial" / ".esdh-journal" / "run.json").is_file()
    with pytest.raises(OutputError, match="started with other options; run again without --resume"):
        library.generate("insurance", tmp_path / "out", rows={"persons": 50}, resume=True)
    assert (tmp_path / ".out.esdh-partial").is_dir()  # refused: the earlier work is not lost
    library.generate("insurance", tmp_path / "out", rows={"persons": 50})  # without --resume: start over
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_two_runs_cannot_write_the_same_folder(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), FolderTarget(tmp_path / "out", "insurance", {"seed": 1}):
        with pytest.raises(OutputError, match="another process is writing to"):
            library.generate("insurance", tmp_path / "out", rows={"persons": 50})
        raise KeyboardInterrupt
    library.generate("insurance", tmp_path / "out", rows={"persons": 50})  # the lock went with the run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_key_checks_see_duplicates_and_orphans_across_part_files(tmp_path: Path) -> None:
    import pyarrow as pa

    dataset = library.load("insurance")
    folder = tmp_path / "persons"
    folder.mkdir()
    persons = library.table("insurance", "persons", rows={"persons": 20})
    pq.write_table(persons.slice(0, 10), folder / "part-00000.parquet")
    duplicate = persons.slice(10, 10).set_column(0, "person_id", pa.array([persons["person_id"][0].as_py()] * 10))
    pq.write_table(duplicate, folder / "part-00001.parquet")
    results = key_checks(duckdb.connect(), dataset, {"persons": file_relation(sorted(folder.iterdir()))})
    primary = next(r for r in results if r.check == "primary_key")
    assert (primary.evaluated, primary.failed) == (20, 10)


def test_every_pack_rebuilds_from_its_recipe() -> None:
    for name in pack_names():
        plan = library.plan(name, scale=0.5 if name != "retail" else 0.1, seed=7)
        rebuilt = Recipe.of(plan).plan()
        assert rebuilt.spec_hash == plan.spec_hash and rebuilt.rows == plan.rows, name


def test_engine_options_are_checked(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["generate", "insurance", "--out", str(tmp_path / "o"), "--engine", "threads"])
    assert result.exit_code == 2 and "'threads' is not one of 'local', 'processes', 'dask'" in result.output
    result = runner.invoke(cli, ["generate", "insurance", "--out", str(tmp_path / "o"), "--cluster", "tcp://x:1"])
    assert result.exit_code == 2 and "--cluster is for --engine dask" in result.output
    result = runner.invoke(cli, ["generate", "insurance", "--out", str(tmp_path / "o"), "--workers", "0"])
    assert result.exit_code == 2
    assert not (tmp_path / "o").exists()


def test_dask_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(UsageError, match=r"pip install 'enterprise-synthetic-data-hub\[dask\]'"):
        library.generate("insurance", tmp_path / "o", rows={"persons": 10}, engine="dask")
    assert not (tmp_path / "o").exists()
