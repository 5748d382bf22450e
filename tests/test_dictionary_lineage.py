"""Every output folder describes itself: schema_metadata.json, generation_lineage.yaml, lineage_events.json."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from esdh import library
from esdh.errors import UsageError
from esdh.output.datapackage import field_type
from esdh.output.dataset import Result

FORMATS = ["parquet", "csv"]
FILE_SUFFIXES = (".parquet", ".csv", ".json", ".ndjson", ".yaml")


def _generate(folder: Path) -> Result:
    return library.generate("insurance", folder, rows={"persons": 300}, formats=FORMATS)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Result:
    return _generate(tmp_path_factory.mktemp("lineage") / "insurance")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _lineage(run: Result) -> dict[str, Any]:
    return yaml.safe_load((run.folder / "generation_lineage.yaml").read_text(encoding="utf-8"))


def test_schema_metadata_lists_every_table_and_written_column(run: Result) -> None:
    meta = json.loads((run.folder / "schema_metadata.json").read_text(encoding="utf-8"))
    assert list(meta["tables"]) == [t.name for t in run.tables] == run.plan.tables
    for table in run.tables:
        entry = meta["tables"][table.name]
        assert entry["row_count"] == table.rows == run.plan.rows[table.name]
        written = pq.read_schema(run.folder / f"{table.name}.parquet")
        assert list(entry["columns"]) == written.names  # visible columns only, in file order
        for field in written:
            assert entry["columns"][field.name]["type"] == field_type(field.type)
        model = run.plan.dataset.tables[table.name]
        assert entry["description"] == model.spec.description
        assert entry["primary_key"] == model.spec.primary_key_columns
    policies = meta["tables"]["policies"]["columns"]
    assert "base_premium" not in policies and policies["annual_premium"]["type"] == "number"
    assert policies["annual_premium"]["constraints"] == {"min": 300, "max": 4000}
    persons = meta["tables"]["persons"]["columns"]
    assert persons["date_of_birth"]["type"] == "date"
    # the declared max, and the min the generator guarantees (85 years before as_of)
    assert persons["date_of_birth"]["constraints"] == {"min": "1941-01-01", "max": "2010-01-01"}
    assert persons["person_id"] == {"type": "string", "description": "RFC 4122 version-4 UUID",
                                    "nullable": False, "constraints": {"unique": True}}
    assert persons["address_line_2"]["nullable"] is True
    assert persons["lob_type"]["constraints"]["enum"] == ["Personal", "Commercial"]


def test_foreign_keys_and_relationships_match_the_spec(run: Result) -> None:
    meta = json.loads((run.folder / "schema_metadata.json").read_text(encoding="utf-8"))
    for name, entry in meta["tables"].items():
        expected = [{"column": c, "references_table": t, "references_column": k}
                    for c, t, k in run.plan.dataset.foreign_keys(name)]
        assert entry["foreign_keys"] == expected
    assert {"column": "person_id", "references_table": "persons", "references_column": "person_id"} in \
        meta["tables"]["vehicles"]["foreign_keys"]
    relations = {(r["parent"], r["child"], r["via"]): r for r in meta["relationships"]}
    vehicles = relations[("persons", "vehicles", "person_id")]
    assert vehicles["type"] == "one-to-many" and vehicles["cardinality"] == {"min": 1, "max": 3}
    claims = relations[("policies", "claims", "policy_id")]
    assert claims["type"] == "one-to-many" and claims["cardinality"] == {"min": 0, "max": 3}
    assert relations[("persons", "profiles", "person_id")]["type"] == "one-to-one"
    assert relations[("vehicles", "policies", "vehicle_id")]["cardinality"] == {"min": 1, "max": 1}
    assert "cardinality" not in relations[("persons", "policies", "person_id")]  # a looked-up key
    assert len(relations) == sum(len(e["foreign_keys"]) for e in meta["tables"].values())


def test_every_file_named_in_the_metadata_exists_with_its_recorded_hash(run: Result) -> None:
    lineage = _lineage(run)
    meta = json.loads((run.folder / "schema_metadata.json").read_text(encoding="utf-8"))
    for document in (lineage, meta):
        for name in _strings(document):
            if name.endswith(FILE_SUFFIXES):
                assert (run.folder / name).is_file(), name
    files = list(lineage["outputs"])
    files += [f for s in lineage["steps"] for f in [*s.get("files", []), s.get("output")] if isinstance(f, dict)]
    for entry in files:
        path = run.folder / entry["path"]
        assert entry["sha256"] == _sha256(path) and entry["bytes"] == path.stat().st_size
    written = {p.name for p in run.files} | {"schema_metadata.json"}
    assert {o["path"] for o in lineage["outputs"]} == written
    for output in lineage["outputs"]:
        if "table" in output:
            assert output["rows"] == next(t.rows for t in run.tables if t.name == output["table"])


def test_steps_are_recorded_in_execution_order(run: Result) -> None:
    lineage = _lineage(run)
    steps = [s["step"] for s in lineage["steps"]]
    assert steps == ["load_spec", "plan", *["generate_table"] * len(run.tables), "checks", "schema_metadata",
                     "manifest"]
    tables = [s for s in lineage["steps"] if s["step"] == "generate_table"]
    assert [(s["table"], s["rows"]) for s in tables] == [(t.name, t.rows) for t in run.tables]
    assert [f["path"] for f in tables[0]["files"]] == ["persons.parquet", "persons.csv"]
    checks = lineage["steps"][steps.index("checks")]
    assert checks == {"step": "checks", "evaluated": len(run.checks), "passed": len(run.checks), "failed": 0}
    assert lineage["steps"][0]["spec"] == "insurance" and lineage["steps"][0]["kind"] == "pack"
    assert lineage["seed"] == run.plan.seed and lineage["spec_hash"] == run.plan.spec_hash
    assert {"table": "claims", "reads": ["policies"]} in lineage["inputs"]
    assert {"table": "profiles", "reads": ["persons", "vehicles"]} in lineage["inputs"]
    assert lineage["steps"][-1]["lists"] == [r["path"] for r in run.manifest["resources"]]


def test_lineage_follows_what_ran(tmp_path: Path, small_spec: Path) -> None:
    result = library.generate(small_spec, tmp_path / "o", formats=["ndjson"], tables=["orders"], check=False)
    lineage = _lineage(result)
    assert [s["step"] for s in lineage["steps"]] == ["load_spec", "plan", "generate_table", "checks",
                                                      "schema_metadata", "manifest"]
    assert lineage["steps"][0]["kind"] == "file" and lineage["steps"][0]["spec"] == str(small_spec)
    assert lineage["steps"][3] == {"step": "checks", "skipped": True}
    assert lineage["inputs"][1] == {"table": "orders", "reads": ["customers"]}
    meta = json.loads((result.folder / "schema_metadata.json").read_text(encoding="utf-8"))
    assert list(meta["tables"]) == ["orders"]
    assert meta["tables"]["orders"]["foreign_keys"] == [] and meta["relationships"] == []  # customers not written
    assert sorted(p.name for p in result.folder.iterdir()) == [
        "datapackage.json", "generation_lineage.yaml", "lineage_events.json", "orders.ndjson", "schema_metadata.json"]


def test_lineage_events_start_then_complete(run: Result) -> None:
    events = json.loads((run.folder / "lineage_events.json").read_text(encoding="utf-8"))
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert events[0]["run"]["runId"] == events[1]["run"]["runId"]
    assert uuid.UUID(events[0]["run"]["runId"]).version == 4
    assert events[0]["eventTime"] <= events[1]["eventTime"]
    for event in events:
        assert event["job"] == {"namespace": "esdh", "name": "insurance"}
        assert event["schemaURL"].endswith("OpenLineage.json#/$defs/RunEvent")
        assert event["inputs"][0]["facets"]["version"]["datasetVersion"] == run.plan.spec_hash
    assert events[0]["outputs"] == []
    outputs = {Path(o["name"]): o for o in events[1]["outputs"]}
    assert set(outputs) == set(run.files)
    rows = {t.name: t.rows for t in run.tables}
    for path, output in outputs.items():
        assert output["namespace"] == "file"
        stats = output["outputFacets"]["outputStatistics"]
        assert stats["rowCount"] == rows[path.stem] and stats["size"] == path.stat().st_size
        fields = output["facets"]["schema"]["fields"]
        assert [f["name"] for f in fields] == pq.read_schema(run.folder / f"{path.stem}.parquet").names
        assertions = output["outputFacets"]["dataQualityAssertions"]["assertions"]
        assert len(assertions) == len([c for c in run.checks if c.table == path.stem])
        assert all(a["success"] for a in assertions)
    claims = outputs[run.folder / "claims.csv"]["outputFacets"]["dataQualityAssertions"]["assertions"]
    assert {"assertion": "primary_key", "success": True, "column": "claim_id"} in claims


def test_datapackage_lists_the_metadata_files_with_their_hashes(run: Result) -> None:
    manifest = json.loads((run.folder / "datapackage.json").read_text(encoding="utf-8"))
    extra = {r["path"]: r for r in manifest["resources"] if r.get("type") != "table"}
    assert set(extra) == {"schema_metadata.json", "generation_lineage.yaml"}
    for path, resource in extra.items():
        data = (run.folder / path).read_bytes()
        assert resource["bytes"] == len(data) and resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert extra["schema_metadata.json"]["mediatype"] == "application/json"
    names = [r["name"] for r in manifest["resources"]]
    assert len(names) == len(set(names))


def test_two_runs_give_identical_metadata(tmp_path: Path, run: Result) -> None:
    other = _generate(tmp_path / "insurance")
    for name in ("schema_metadata.json", "generation_lineage.yaml", "datapackage.json", "persons.csv"):
        assert (run.folder / name).read_bytes() == (other.folder / name).read_bytes(), name
    first, second = (json.loads((r.folder / "lineage_events.json").read_text()) for r in (run, other))
    assert first[0]["run"]["runId"] != second[0]["run"]["runId"]  # run metadata lives only here


def test_a_table_file_cannot_take_a_metadata_file_name(tmp_path: Path) -> None:
    spec = {"dataset": "odd", "as_of": "2026-01-01",
            "tables": {"schema_metadata": {"rows": 3, "columns": {"n": {"generator": "sequence"}}}}}
    with pytest.raises(UsageError, match=r"schema_metadata\.json"):
        library.generate(spec, tmp_path / "o", formats=["json"])
    assert not (tmp_path / "o").exists()
    library.generate(spec, tmp_path / "p", formats=["csv"])  # another format is fine
