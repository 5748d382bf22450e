"""Governed runs: immutable, registered run folders with their reports; verify, diff, prune, report and
ingest from the command line."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from esdh.checks.results import CheckFailed
from esdh.cli.main import cli
from esdh.library.generated_run import run_generated
from esdh.runs.registry import Registry
from esdh.runs.verify import verify_run

SHOP_ROWS = {"customers": 400}


def run_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def first_run(small_spec: Path, tmp_path: Path):
    registry = Registry(tmp_path / "runs")
    return registry, run_generated(small_spec, registry, rows=SHOP_ROWS, command="test")


def test_run_folder_is_complete_listed_read_only_and_keeps_metadata_apart(first_run):
    registry, outcome = first_run
    folder = outcome.folder
    assert folder == registry.root / "shop" / "1.0.0"
    manifest = json.loads((folder / "datapackage.json").read_text())
    listed = {p for r in manifest["resources"] for p in
              ([x["path"] for x in r["esdh:parts"]] if "esdh:parts" in r else [r["path"]])}
    # every file of the run is listed with its sha256 (data, dictionary, lineage, reports), nothing else is there
    assert run_files(folder) - {"datapackage.json"} == listed
    assert {"customers.parquet", "orders.parquet", "schema_metadata.json", "generation_lineage.yaml",
            "reports/validation.json", "reports/validation.html"} <= listed
    assert all(r["hash"].startswith("sha256:") for r in manifest["resources"] if "hash" in r)
    # read-only files and folders
    for path in [folder, *folder.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o555 if path.is_dir() else 0o444), path
    # times, host, user, command and the run id live apart from the data
    meta = registry.root / "shop" / ".meta" / "1.0.0"
    metadata = json.loads((meta / "run.json").read_text())
    assert {"run_id", "started_at", "finished_at", "host", "user", "command", "versions"} <= set(metadata)
    assert metadata["command"] == "test" and (meta / "lineage_events.json").exists()
    assert not (folder / "lineage_events.json").exists()
    # the run validated itself and kept the report
    validation = json.loads((folder / "reports" / "validation.json").read_text())
    assert validation["ok"] and outcome.validation["ok"] and outcome.drift is None
    record = registry.get("shop", "1.0.0")
    assert record.status == "complete" and record.validation == "pass" and record.row_counts["customers"] == 400
    assert record.files["customers.parquet"] == manifest["resources"][0]["hash"].split(":")[1]
    assert verify_run("shop/1.0.0", registry.root).ok


def test_existing_version_refused_before_anything_is_written(first_run, small_spec: Path):
    registry, _outcome = first_run

    def state() -> dict[Path, int]:
        return {p: p.stat().st_mtime_ns for p in registry.root.rglob("*") if not p.name.startswith("registry.sqlite")}

    before = state()
    with pytest.raises(Exception, match="already exists"):
        run_generated(small_spec, registry, rows=SHOP_ROWS)
    assert state() == before  # nothing written, not even a staging folder


def test_rerun_gives_identical_data_and_no_drift(first_run, small_spec: Path):
    registry, _first = first_run
    second = run_generated(small_spec, registry, version="1.0.0+2", rows=SHOP_ROWS)
    old, new = registry.get("shop", "1.0.0"), registry.get("shop", "1.0.0+2")
    data = [p for p in old.files if p.endswith(".parquet") or p in ("schema_metadata.json", "generation_lineage.yaml")]
    assert data and all(old.files[p] == new.files[p] for p in data)
    assert second.drift["verdict"] == "pass" and new.drift == "pass" and new.against == "1.0.0"
    assert all(c["verdict"] == "pass" for c in second.drift["columns"].values())
    assert "reports/drift.html" in new.files and "reports/drift.json" in new.files


def test_failing_run_publishes_nothing_and_frees_its_version(tmp_path: Path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(textwrap.dedent("""\
        dataset: bad
        version: 1.0.0
        seed: 1
        as_of: 2026-01-01
        tables:
          items:
            rows: 100
            columns:
              price: {generator: uniform, min: 1, max: 20, round: 2}
            rules:
              - {name: below_ten, check: price < 10}
        """))
    registry = Registry(tmp_path / "runs")
    with pytest.raises(CheckFailed):
        run_generated(spec, registry)
    assert registry.runs("bad", include_writing=True) == []
    assert not any((registry.root / "bad").glob("*")) if (registry.root / "bad").exists() else True


def _writable(path: Path) -> None:
    for p in [path, *path.parents]:
        if p.exists():
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_verify_reports_changed_missing_extra_and_an_edited_manifest(first_run, runner):
    registry, outcome = first_run
    folder = outcome.folder
    args = ["verify", "shop/1.0.0", "--registry", str(registry.root)]
    assert runner.invoke(cli, args).exit_code == 0
    _writable(folder / "reports" / "validation.json")
    (folder / "reports").chmod(0o755)
    data = folder / "customers.parquet"
    data.chmod(0o644)
    raw = bytearray(data.read_bytes())
    raw[100] ^= 0xFF
    data.write_bytes(bytes(raw))
    (folder / "reports" / "validation.html").chmod(0o644)
    (folder / "reports" / "validation.html").unlink()
    (folder / "notes.txt").write_text("added")
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [c["path"] for c in report["changed"]] == ["customers.parquet"]
    assert report["missing"] == ["reports/validation.html"] and report["extra"] == ["notes.txt"]
    # a manifest edited to match edited data is caught by the registry's record of the manifest
    manifest_path = folder / "datapackage.json"
    manifest = json.loads(manifest_path.read_text())
    from esdh.output.checksum import sha256_file

    manifest["resources"][0]["hash"] = "sha256:" + sha256_file(data)
    manifest["resources"][0]["bytes"] = data.stat().st_size
    manifest_path.chmod(0o644)
    manifest_path.write_text(json.dumps(manifest))
    result = runner.invoke(cli, [*args])
    assert result.exit_code == 1 and "changed: datapackage.json" in result.output


def test_cli_run_runs_report_and_prune(small_spec: Path, tmp_path: Path, runner):
    reg = str(tmp_path / "runs")
    for version in ("1.0.0", "1.0.0+2", "1.0.0+3"):
        result = runner.invoke(cli, ["run", str(small_spec), "--registry", reg, "--version", version,
                                     "--rows", "customers=300", "-q"])
        assert result.exit_code == 0, result.output
    assert "drift against 1.0.0+2: pass" in result.output
    again = runner.invoke(cli, ["run", str(small_spec), "--registry", reg, "--rows", "customers=300"])
    assert again.exit_code == 3 and "already exists" in again.output
    listed = runner.invoke(cli, ["runs", "list", "--registry", reg, "--json"])
    assert [r["version"] for r in json.loads(listed.output)] == ["1.0.0", "1.0.0+2", "1.0.0+3"]
    latest = runner.invoke(cli, ["runs", "latest", "shop", "--registry", reg, "--path"])
    assert latest.output.strip() == str((tmp_path / "runs" / "shop" / "1.0.0+3").resolve())
    shown = json.loads(runner.invoke(cli, ["runs", "show", "shop/1.0.0", "--registry", reg, "--json"]).output)
    assert shown["seed"] == 7 and shown["row_counts"]["customers"] == 300 and shown["status"] == "complete"
    diff = runner.invoke(cli, ["runs", "diff", "shop", "1.0.0", "--registry", reg])
    assert "spec: same" in diff.output and "changed: customers.parquet" not in diff.output
    assert "added: reports/drift.json" in diff.output
    report = runner.invoke(cli, ["report", "shop/1.0.0+3", "--against", "1.0.0", "--registry", reg, "--json"])
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert data["verdict"] == "pass" and "customers.age" in data["columns"]
    assert (tmp_path / "runs" / "shop" / ".reports" / "1.0.0+3-vs-1.0.0" / "drift.html").exists()
    first = runner.invoke(cli, ["report", "shop/1.0.0", "--registry", reg])
    assert first.exit_code == 2 and "first run" in first.output
    pruned = runner.invoke(cli, ["runs", "prune", "shop", "--keep", "1", "--registry", reg])
    assert pruned.exit_code == 0 and "removed 2 run(s)" in pruned.output
    assert not (tmp_path / "runs" / "shop" / "1.0.0").exists()
    assert (tmp_path / "runs" / "shop" / "1.0.0+3").exists()


def test_evolution_drift_flags_only_the_changed_column(tmp_path: Path):
    registry = Registry(tmp_path / "runs")
    rows = {"accounts": 3000, "transactions": 30000}
    run_generated("finance_transactions", registry, rows=rows)
    outcome = run_generated("finance_transactions", registry, version="1.1.0", rows=rows)
    drift = outcome.drift
    assert drift["columns"]["transactions.is_fraud"]["verdict"] == "fail"
    others = {name: c["verdict"] for name, c in drift["columns"].items() if name != "transactions.is_fraud"}
    assert others and set(others.values()) == {"pass"}, others
    assert drift["verdict"] == "fail" and registry.get("finance_transactions", "1.1.0").drift == "fail"


def test_two_runs_finishing_at_once_both_register(small_spec: Path, tmp_path: Path):
    reg = str(tmp_path / "runs")
    procs = [subprocess.Popen([sys.executable, "-m", "esdh", "run", str(small_spec), "--registry", reg,
                               "--version", f"1.0.0+p{i}", "--rows", "customers=300", "-q"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(3)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert sorted(r.version for r in Registry(reg).runs("shop")) == ["1.0.0+p0", "1.0.0+p1", "1.0.0+p2"]


def test_ingest_csv_validated_registered_and_compared(small_spec: Path, tmp_path: Path, runner):
    from esdh import library

    out = tmp_path / "gen"
    library.generate(small_spec, out, formats=["csv"], rows=SHOP_ROWS)
    external = tmp_path / "external"
    external.mkdir()
    for name in ("customers.csv", "orders.csv"):
        shutil.copy(out / name, external / name)
    reg = str(tmp_path / "runs")
    good = runner.invoke(cli, ["ingest", str(external), "--dataset", "shop", "--spec", str(small_spec),
                               "--registry", reg])
    assert good.exit_code == 0, good.output
    registry = Registry(reg)
    record = registry.get("shop", "1.0.0")
    assert record.source == "ingested" and record.validation == "pass" and record.row_counts["customers"] == 400
    folder = registry.folder_of(record)
    assert (folder / "customers.csv").read_bytes() == (external / "customers.csv").read_bytes()
    assert verify_run("shop/1.0.0", reg).ok
    # a defective delivery: registered with its failing report, exit 1
    lines = (external / "orders.csv").read_text().splitlines()
    lines.append(lines[1])  # a duplicate primary key
    (external / "orders.csv").write_text("\n".join(lines) + "\n")
    bad = runner.invoke(cli, ["ingest", str(external), "--dataset", "shop", "--spec", str(small_spec),
                              "--version", "1.0.0+2", "--registry", reg])
    assert bad.exit_code == 1, bad.output
    record = registry.get("shop", "1.0.0+2")
    assert record.validation == "fail" and record.drift is not None and record.against == "1.0.0"
    report = json.loads((registry.folder_of(record) / "reports" / "validation.json").read_text())
    failed = [c for c in report["checks"] if c["failed"]]
    assert [(c["table"], c["check"], c["failed"]) for c in failed] == [("orders", "primary_key", 1)]
    # without a spec a version is required
    nospec = runner.invoke(cli, ["ingest", str(external), "--dataset", "shop", "--registry", reg])
    assert nospec.exit_code == 2 and "--version" in nospec.output


def test_read_only_run_resists_a_writer(first_run):
    if os.geteuid() == 0:
        pytest.skip("root ignores permission bits; the modes are checked in the folder test")
    _, outcome = first_run
    with pytest.raises(PermissionError):
        (outcome.folder / "customers.parquet").write_bytes(b"x")
    with pytest.raises(PermissionError):
        (outcome.folder / "new.txt").write_text("x")


def test_run_parquet_matches_plain_generate(first_run, small_spec: Path, tmp_path: Path):
    from esdh import library

    _, outcome = first_run
    plain = library.generate(small_spec, tmp_path / "plain", rows=SHOP_ROWS)
    assert pq.read_table(outcome.folder / "orders.parquet").equals(pq.read_table(plain.folder / "orders.parquet"))
    assert (outcome.folder / "orders.parquet").read_bytes() == (plain.folder / "orders.parquet").read_bytes()


def test_a_killed_run_resumes_under_the_same_version(tmp_path: Path, runner):
    import signal
    import time

    reg = tmp_path / "runs"
    args = ["run", "insurance", "--tables", "persons", "--rows", "persons=700000", "--part-rows", "65536",
            "--registry", str(reg), "-q"]
    process = subprocess.Popen([sys.executable, "-m", "esdh", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    journal = reg / "insurance" / "..1.0.0.esdh-pending.esdh-partial" / ".esdh-journal"
    deadline = time.monotonic() + 120
    while len(list(journal.glob("persons.*.json"))) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert len(list(journal.glob("persons.*.json"))) >= 3 and not (reg / "insurance" / "1.0.0").exists()
    registry = Registry(reg)
    assert registry.get("insurance", "1.0.0").being_written  # the dead writer's reservation is still there
    result = runner.invoke(cli, [*args, "--resume"])
    assert result.exit_code == 0, result.output
    assert "resumed" in result.output
    record = registry.get("insurance", "1.0.0")
    assert record.status == "complete" and record.pid == os.getpid()
    assert verify_run("insurance/1.0.0", reg).ok
    from esdh import library

    fresh = library.generate("insurance", tmp_path / "fresh", tables=["persons"], rows={"persons": 700_000},
                             part_rows=65536)
    parts = sorted(p.name for p in (fresh.folder / "persons").iterdir())
    assert len(parts) == 11
    for name in parts:
        assert (reg / "insurance" / "1.0.0" / "persons" / name).read_bytes() == \
            (fresh.folder / "persons" / name).read_bytes()
    assert [p.name for p in (reg / "insurance").iterdir() if p.name.startswith(".") and p.name != ".meta"] == []


def test_cli_validate_exit_codes_json_and_report_folder(small_spec: Path, tmp_path: Path, runner):
    from esdh import library

    out = tmp_path / "gen"
    library.generate(small_spec, out, formats=["csv"], rows=SHOP_ROWS)
    ok = runner.invoke(cli, ["validate", str(out), "--spec", str(small_spec)])
    assert ok.exit_code == 0 and "ok:" in ok.output
    import csv

    with (out / "customers.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    code = rows[0].index("code")
    rows[3][code] = rows[2][code]  # a duplicate of a unique column (rows 1 and 2 of the data)
    with (out / "customers.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    bad = runner.invoke(cli, ["validate", str(out), "--spec", str(small_spec), "--report", str(tmp_path / "rep")])
    assert bad.exit_code == 1
    assert "FAIL customers.code: unique: 1 of 400 fail" in bad.output and "'row': 2" in bad.output
    assert (tmp_path / "rep" / "validation.json").exists() and (tmp_path / "rep" / "validation.html").exists()
    data = json.loads(runner.invoke(cli, ["validate", str(out), "--spec", str(small_spec), "--json"]).output)
    assert not data["ok"] and [c["check"] for c in data["checks"] if c["failed"]] == ["unique"]
    missing = runner.invoke(cli, ["validate", str(tmp_path / "nope"), "--spec", str(small_spec)])
    assert missing.exit_code == 2


def test_library_wrappers(small_spec: Path, tmp_path: Path):
    from esdh import library

    outcome = library.run(small_spec, tmp_path / "runs", rows=SHOP_ROWS)
    second = library.run(small_spec, tmp_path / "runs", version="1.0.0+2", rows=SHOP_ROWS)
    assert library.registry(tmp_path / "runs").latest("shop").version == "1.0.0+2"
    assert library.validate(outcome.folder, small_spec).ok
    drift = library.compare(second.folder, outcome.folder, thresholds={"psi_fail": 0.3})
    assert drift.verdict == "pass" and drift.as_dict()["thresholds"]["psi_fail"] == 0.3


def test_library_names_are_not_shadowed_by_its_modules():
    """Importing a module of the library never replaces one of its functions (a module library/run.py made
    ``library.run`` that module once anything had imported it)."""
    import importlib
    import pkgutil

    import esdh
    from esdh import library

    for module in pkgutil.iter_modules(library.__path__):
        importlib.import_module(f"esdh.library.{module.name}")
    for name in esdh.__all__:
        if name != "__version__":
            assert getattr(library, name) is getattr(esdh, name), name
