"""Our manifests are valid by the standard's own validator: frictionless reports every resource of every
output VALID (data tables in every format, tables written in part files, the folder's metadata files, and a
governed run's reports), so its byte counts, hashes, types and foreign keys all agree with ours."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from esdh import library
from esdh.packs import pack_names

frictionless = pytest.importorskip("frictionless")
pytest.importorskip("pandas")  # frictionless reads Parquet through pandas (frictionless[parquet,pandas])
pytest.importorskip("ijson")  # and JSON through ijson (frictionless[json])

FORMATS = ["parquet", "csv", "ndjson", "json"]
SCALES = {"tpch": 0.001, "retail": 0.1}  # as tests/test_golden_bytes.py: small but whole
DEFAULT_SCALE = 0.02
ALL_FORMATS = ("insurance", "finance_transactions")  # every format on two packs; every other pack in its primary format


def _errors(report: Any) -> list[str]:
    return [f"{task.name}: {error.type}: {error.message}" for task in report.tasks for error in task.errors]


def assert_valid(folder: Path) -> None:
    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, "frictionless says INVALID:\n" + "\n".join(_errors(report))
    assert report.stats["tasks"] == len(_manifest(folder)["resources"])  # every resource was validated


def _manifest(folder: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    return result


@pytest.mark.parametrize("pack", pack_names())
def test_every_pack_is_valid_by_frictionless(pack: str, tmp_path: Path) -> None:
    formats = FORMATS if pack in ALL_FORMATS else FORMATS[:1]
    result = library.generate(pack, tmp_path / "out", formats=formats, scale=SCALES.get(pack, DEFAULT_SCALE))
    assert_valid(Path(result.folder))


PARTED_SPEC = textwrap.dedent("""\
    dataset: parted
    version: 1.0.0
    seed: 5
    as_of: 2026-01-01
    tables:
      events:
        rows: 65600
        primary_key: event_id
        columns:
          event_id: {generator: sequence}
          size: {generator: uniform_int, min: 1, max: 9, null_rate: 0.1}
      notes:
        rows: 20
        columns:
          event_id: {ref: events.event_id}
    """)


def test_part_files_are_valid_by_frictionless(tmp_path: Path) -> None:
    """A table cut into part files (two: 65,536 rows and the rest). CSV and NDJSON parts concatenate into
    one table (frictionless reads the repeated CSV header once); Parquet and JSON parts do not, and are
    listed as files. A foreign key to such a table refers to its first tabular resource."""
    spec = tmp_path / "parted.yaml"
    spec.write_text(PARTED_SPEC, encoding="utf-8")
    result = library.generate(str(spec), tmp_path / "out", formats=FORMATS, part_rows=65_536)
    folder = Path(result.folder)
    resources = {r["name"]: r for r in _manifest(folder)["resources"]}
    assert {name: (r["type"], len(r["path"])) for name, r in resources.items() if name.startswith("events")} == {
        "events": ("file", 2), "events-csv": ("table", 2), "events-ndjson": ("table", 2), "events-json": ("file", 2)}
    assert resources["notes"]["schema"]["foreignKeys"][0]["reference"]["resource"] == "events-csv"
    assert_valid(folder)


def test_a_governed_run_with_its_reports_is_valid_by_frictionless(tmp_path: Path) -> None:
    registry = tmp_path / "runs"
    library.run("insurance", registry, formats=("parquet", "csv"), scale=DEFAULT_SCALE)
    outcome = library.run("insurance", registry, version="1.0.0+2", formats=("parquet", "csv"), scale=DEFAULT_SCALE)
    folder = Path(outcome.folder)
    manifest = _manifest(folder)
    reports = {r["path"] for r in manifest["resources"] if str(r["path"]).startswith("reports/")}
    assert {"reports/validation.json", "reports/validation.html", "reports/drift.json",
            "reports/drift.html"} <= reports
    assert_valid(folder)


def test_ingested_runs_are_valid_by_frictionless(tmp_path: Path) -> None:
    """External data registered with ``esdh ingest``: one CSV file, one Parquet file (validated against a
    spec, with its reports), Parquet part files, CSV part files, and tables whose names are no Data Package
    names (``Sales 2024``, which would also clash with ``sales-2024``)."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    out = Path(library.generate("insurance", tmp_path / "gen", formats=["parquet", "csv"], scale=DEFAULT_SCALE).folder)
    registry = tmp_path / "runs"
    table = pq.read_table(out / "persons.parquet")
    sources: dict[str, Path] = {}
    for name in ("one_parquet", "parquet_parts", "csv_parts", "odd_names"):
        sources[name] = tmp_path / name
        sources[name].mkdir()
    (sources["one_parquet"] / "persons.parquet").write_bytes((out / "persons.parquet").read_bytes())
    (sources["parquet_parts"] / "persons").mkdir()
    (sources["csv_parts"] / "persons").mkdir()
    half = table.num_rows // 2
    for number, part in enumerate((table.slice(0, half), table.slice(half))):
        pq.write_table(part, sources["parquet_parts"] / "persons" / f"part-{number}.parquet")
        pcsv.write_csv(part, sources["csv_parts"] / "persons" / f"part-{number}.csv")
    (sources["odd_names"] / "Sales 2024.csv").write_bytes((out / "persons.csv").read_bytes())
    (sources["odd_names"] / "sales-2024.csv").write_bytes((out / "persons.csv").read_bytes())
    runs = [library.ingest(out / "persons.csv", registry, dataset="external", version="1.0.0"),
            library.ingest(sources["one_parquet"], registry, dataset="external", version="2.0.0", spec="insurance")]
    runs += [library.ingest(sources[name], registry, dataset="external", version=f"{number}.0.0")
             for number, name in enumerate(("parquet_parts", "csv_parts", "odd_names"), start=3)]
    for outcome in runs:
        assert_valid(Path(outcome.folder))
    names = [r["name"] for r in _manifest(Path(runs[-1].folder))["resources"] if r["type"] == "table"]
    assert names == ["sales-2024", "sales-2024-2"]
