"""The command line: what each command prints, writes and exits with."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from pathlib import Path

import jsonschema
import pyarrow.parquet as pq
import yaml
from click.testing import CliRunner

from esdh.cli.main import cli
from esdh.packs import pack_path

ROOT = Path(__file__).resolve().parents[1]
METADATA_FILES = ["schema_metadata.json", "generation_lineage.yaml", "lineage_events.json"]


def _run(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_readme_generate_command_works_as_written(tmp_path: Path, runner: CliRunner, monkeypatch) -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    install_and_run = blocks[0].strip()
    assert install_and_run.startswith("python -m pip install -e")
    assert blocks[1].strip() == "python -m pytest"
    command = shlex.split(install_and_run.split("&&", 1)[1])
    assert command[0] == "esdh"
    monkeypatch.chdir(tmp_path)
    output = _run(runner, *command[1:])
    assert "seed: 20240601" in output
    out = tmp_path / "out" / "insurance"
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{t}.{ext}" for t in ("persons", "vehicles", "profiles", "policies", "claims")
                            for ext in ("parquet", "csv")] + [*METADATA_FILES, "datapackage.json"])


def test_generate_prints_seed_files_and_counts(tmp_path: Path, runner: CliRunner) -> None:
    output = _run(runner, "generate", "insurance", "--out", str(tmp_path / "o"), "--rows", "persons=50",
                  "--format", "csv,ndjson")
    assert output.splitlines()[0] == "seed: 20240601"
    assert "persons: 50 rows (persons.csv, persons.ndjson)" in output
    assert re.search(r"vehicles: [\d,]+ rows", output)
    assert "checks:" in output and "passed" in output


def test_randomize_prints_a_seed_that_replays(tmp_path: Path, runner: CliRunner) -> None:
    output = _run(runner, "generate", "insurance", "--out", str(tmp_path / "r"), "--randomize",
                  "--rows", "persons=40", "--format", "csv")
    seed = int(re.match(r"seed: (\d+) \(randomized\)", output).group(1))
    _run(runner, "generate", "insurance", "--out", str(tmp_path / "s"), "--seed", str(seed),
         "--rows", "persons=40", "--format", "csv")
    for table in ("persons", "claims"):
        assert (tmp_path / "r" / f"{table}.csv").read_bytes() == (tmp_path / "s" / f"{table}.csv").read_bytes()
    manifest = json.loads((tmp_path / "r" / "datapackage.json").read_text())
    assert manifest["esdh"]["seed"] == seed and manifest["esdh"]["randomized"] is True


def test_scale_and_tables(tmp_path: Path, runner: CliRunner) -> None:
    output = _run(runner, "generate", "insurance", "--out", str(tmp_path / "o"), "--scale", "2.5",
                  "--tables", "persons,claims")
    assert "persons: 500 rows" in output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == sorted(
        ["claims.parquet", "datapackage.json", "persons.parquet", *METADATA_FILES])


def test_csv_has_lf_line_ends_and_a_header(tmp_path: Path, runner: CliRunner) -> None:
    _run(runner, "generate", "insurance", "--out", str(tmp_path / "o"), "--format", "csv", "--rows",
         "persons=30")
    data = (tmp_path / "o" / "persons.csv").read_bytes()
    assert b"\r\n" not in data
    assert data.splitlines()[0].startswith(b'"person_id","first_name","last_name"')
    assert len(data.splitlines()) == 31


def test_json_formats_hold_the_same_rows(tmp_path: Path, runner: CliRunner) -> None:
    _run(runner, "generate", "insurance", "--out", str(tmp_path / "o"), "--format", "parquet,json,ndjson",
         "--rows", "persons=25")
    folder = tmp_path / "o"
    as_json = json.loads((folder / "vehicles.json").read_text())
    as_ndjson = [json.loads(line) for line in (folder / "vehicles.ndjson").read_text().splitlines()]
    parquet = pq.read_table(folder / "vehicles.parquet").to_pylist()
    assert as_json == as_ndjson
    assert [r["vin"] for r in as_json] == [r["vin"] for r in parquet]
    assert list(as_json[0]) == list(parquet[0])


def test_datapackage_describes_every_file(tmp_path: Path, runner: CliRunner) -> None:
    _run(runner, "generate", "insurance", "--out", str(tmp_path / "o"), "--format", "parquet,csv",
         "--rows", "persons=60")
    folder = tmp_path / "o"
    manifest = json.loads((folder / "datapackage.json").read_text())
    assert manifest["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert manifest["name"] == "insurance" and manifest["version"] == "1.0.0"
    # all but itself and the run's events (written after it, and different in every run)
    assert {r["path"] for r in manifest["resources"]} == {p.name for p in folder.iterdir()} - {
        "datapackage.json", "lineage_events.json"}
    for resource in manifest["resources"]:
        data = (folder / resource["path"]).read_bytes()
        assert resource.get("bytes", resource.get("esdh:bytes")) == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource.get("type") != "table" or resource["schema"]["fields"]
    by_name = {r["name"]: r for r in manifest["resources"]}
    vehicles = by_name["vehicles"]["schema"]
    assert vehicles["primaryKey"] == ["vehicle_id"]
    assert {"fields": ["person_id"], "reference": {"resource": "persons", "fields": ["person_id"]}} in \
        vehicles["foreignKeys"]
    policies = by_name["policies"]["schema"]
    assert {"fields": ["person_id"], "reference": {"resource": "persons", "fields": ["person_id"]}} in \
        policies["foreignKeys"]
    esdh = manifest["esdh"]
    assert esdh["seed"] == 20240601 and esdh["as_of"] == "2026-01-01"
    assert esdh["spec_hash"].startswith("sha256:") and esdh["row_counts"]["persons"] == 60
    assert {"esdh", "pyarrow", "duckdb"} <= set(esdh["versions"])
    fields = {f["name"]: f for f in by_name["persons"]["schema"]["fields"]}
    assert fields["address_line_2"].get("constraints", {}).get("required") is None
    assert fields["person_id"]["constraints"] == {"required": True, "unique": True}
    assert fields["date_of_birth"]["type"] == "date"


def test_plan_shows_tables_relations_and_sizes_without_writing(tmp_path: Path, runner: CliRunner,
                                                                monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    output = _run(runner, "plan", "insurance", "--rows", "persons=1000")
    assert "persons: 1,000 rows" in output
    assert "vehicles:" in output and "children of persons" in output
    assert "person_id -> persons.person_id (parent)" in output
    assert "garaging_state = persons.state via person_id" in output
    info = json.loads(_run(runner, "plan", "insurance", "--json"))
    assert info["tables"][0]["name"] == "persons" and info["estimated_bytes"] > 0
    assert list(tmp_path.iterdir()) == []


def test_packs_and_generators(runner: CliRunner) -> None:
    assert "insurance 1.0.0" in _run(runner, "packs")
    listing = _run(runner, "generators")
    for name in ("uuid", "vehicle", "address", "driver_license", "email", "flag", "choice"):
        assert re.search(rf"^{name}\s", listing, re.M)


def test_spec_check_and_schema(runner: CliRunner) -> None:
    assert _run(runner, "spec", "check", str(pack_path("insurance"))).startswith("ok: insurance 1.0.0")
    schema = json.loads(_run(runner, "spec", "schema"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    document = json.loads(json.dumps(yaml.safe_load(pack_path("insurance").read_text()), default=str))
    assert list(validator.iter_errors(document)) == []
    document["tables"]["persons"]["columns"]["first_name"]["genderr"] = "any"
    assert list(validator.iter_errors(document))


def test_generate_snapshot_layout(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "snap"
    output = _run(runner, "generate-snapshot", "--output-dir", str(out), "--records", "12", "--seed", "5",
                  "--output-format", "csv", "json", "parquet")
    assert "seed: 5" in output and "Record counts — persons: 12" in output
    names = {p.name for p in out.iterdir()}
    for entity in ("persons", "vehicles", "profiles"):
        assert {f"{entity}_v0_1.csv", f"{entity}_v0_1.json", f"{entity}_v0_1.parquet"} <= names
    assert {"dataset_v0_1.json", "metadata_v0_1.json", "snapshot_manifest_v0_1.json",
            "README_SNAPSHOT_V0_1.md"} <= names
    manifest = json.loads((out / "snapshot_manifest_v0_1.json").read_text())
    assert manifest["record_counts"]["persons"] == 12
    for label, name in manifest["files"].items():
        assert manifest["checksums"][label] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    bundle = json.loads((out / "dataset_v0_1.json").read_text())
    assert len(bundle["persons"]) == 12 and len(bundle["profiles"]) == 12
    assert bundle["metadata"]["record_count_vehicles"] == len(bundle["vehicles"])
    assert all(row["synthetic_source"] for row in bundle["vehicles"])
    assert 16 <= manifest["stats"]["persons"]["min_age"] <= manifest["stats"]["persons"]["max_age"] <= 85


def test_snapshot_entity_filter_applies_to_every_file(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "snap"
    _run(runner, "generate-snapshot", "--output-dir", str(out), "--records", "8", "--entity-filter", "persons",
         "profiles", "--output-format", "ndjson")
    names = {p.name for p in out.iterdir()}
    assert not any(n.startswith("vehicles") for n in names)
    bundle = json.loads((out / "dataset_v0_1.json").read_text())
    assert set(bundle) == {"metadata", "persons", "profiles"}
    manifest = json.loads((out / "snapshot_manifest_v0_1.json").read_text())
    assert set(manifest["record_counts"]) == {"persons", "profiles"}
    assert "vehicles" not in manifest["stats"]


def test_snapshot_randomize_prints_the_seed_and_zero_records_is_refused(tmp_path: Path,
                                                                       runner: CliRunner) -> None:
    output = _run(runner, "generate-snapshot", "--output-dir", str(tmp_path / "a"), "--records", "3",
                  "--randomize")
    assert re.match(r"seed: \d+ \(randomized\)", output)
    bad = runner.invoke(cli, ["generate-snapshot", "--output-dir", str(tmp_path / "b"), "--records", "0"])
    assert bad.exit_code == 2 and not (tmp_path / "b").exists()


def test_profile_info(runner: CliRunner) -> None:
    info = json.loads(_run(runner, "profile-info", "--profile", "baseline", "--json"))
    assert info["records"]["persons"] == 30 and info["seed"] == 42 and info["randomize"] is False
    assert info["records"]["vehicles"] >= 30
    heavy = json.loads(_run(runner, "profile-info", "--profile", "heavy", "--json"))
    assert heavy["records"]["persons"] == 200 and heavy["randomize"] is True
    assert "vin" in heavy["payload_shape"]["vehicles_fields"]
    bad = runner.invoke(cli, ["profile-info", "--profile", "nope"])
    assert bad.exit_code == 2 and "available: baseline, heavy" in bad.output


def test_version(runner: CliRunner) -> None:
    assert "esdh, version" in _run(runner, "--version")


def test_a_refusal_of_the_system_is_one_line_and_exit_4(tmp_path, monkeypatch) -> None:
    """A full disk while writing is one line naming the output folder (see tests/test_faults.py for real)."""
    import dataclasses
    import errno

    from esdh.output import formats

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out"))

    monkeypatch.setitem(formats.FORMATS, "csv", dataclasses.replace(formats.FORMATS["csv"], writer=full))
    result = CliRunner().invoke(cli, ["generate", "insurance", "--out", str(tmp_path / "out"), "--format", "csv"])
    assert result.exit_code == 4, result.output
    assert f"error: no space left on device while writing {tmp_path / 'out'}; nothing was kept" in result.output
    assert list(tmp_path.iterdir()) == []
    assert "Traceback" not in result.output
