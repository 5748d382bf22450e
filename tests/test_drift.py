"""Quality and drift between two output folders: verdicts, determinism, thresholds, formats, the HTML page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from esdh import library
from esdh.errors import UsageError
from esdh.quality.drift import DriftReport, Thresholds, compare_folders
from tests.browser import browser_page

ROWS = {"accounts": 3000, "transactions": 30000}
DISTANCES = {"psi": "value", "jensenshannon": "distance", "wasserstein": "normalized", "ks": "statistic"}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("drift")
    made = {}
    for name, options in {"v100": {}, "rerun": {}, "v110": {"version": "1.1.0"},
                          "csv": {"formats": ["csv"]}}.items():
        made[name] = root / name
        library.generate("finance_transactions", made[name], seed=17, rows=ROWS, **options)
    return made


@pytest.fixture(scope="module")
def fraud(folders: dict[str, Path]) -> DriftReport:
    return compare_folders(folders["v110"], folders["v100"])


def _assert_no_drift(report: dict[str, Any]) -> None:
    assert report["verdict"] == "pass"
    assert report["summary"]["fail"] == report["summary"]["warn"] == 0
    for name, column in report["columns"].items():
        assert column["verdict"] == "pass", (name, column["reasons"])
        metrics = column["metrics"]
        assert metrics["null_rate"]["change"] == 0
        for metric, key in DISTANCES.items():
            if metric in metrics:
                assert metrics[metric][key] == 0, (name, metric)
    for table in report["tables"].values():
        assert table["rows"]["change"] == 0
        assert table["correlation"]["max_change"] == 0


def test_identical_rerun_passes_with_zero_drift(folders: dict[str, Path]) -> None:
    report = compare_folders(folders["rerun"], folders["v100"]).as_dict()
    _assert_no_drift(report)
    assert report["current"] == {"folder": str(folders["rerun"]), "dataset": "finance_transactions",
                                 "version": "1.0.0", "seed": 17}
    assert {c["kind"] for c in report["columns"].values()} == {"numeric", "categorical", "marker"}
    assert report["columns"]["transactions.is_fraud"]["kind"] == "categorical"
    assert report["columns"]["transactions.timestamp"]["kind"] == "numeric"  # days since 1970


def test_fraud_rate_version_fails_only_the_fraud_column(fraud: DriftReport) -> None:
    report = fraud.as_dict()
    assert report["verdict"] == "fail"
    assert report["reference"]["version"] == "1.0.0" and report["current"]["version"] == "1.1.0"
    fraud_column = report["columns"]["transactions.is_fraud"]
    assert fraud_column["verdict"] == "fail"
    assert any("share" in r and "'true' 0.02 -> 0.05" in r for r in fraud_column["reasons"])
    others = {name: c["verdict"] for name, c in report["columns"].items() if name != "transactions.is_fraud"}
    assert set(others.values()) == {"pass"}, others
    assert {t["verdict"] for t in report["tables"].values()} == {"pass"}
    assert report["summary"]["drifted_columns"] == ["transactions.is_fraud"]


def test_same_inputs_give_the_same_bytes(folders: dict[str, Path], fraud: DriftReport, tmp_path: Path) -> None:
    again = compare_folders(folders["v110"], folders["v100"])
    assert again.to_json() == fraud.to_json()
    first, second = fraud.write(tmp_path / "a"), again.write(tmp_path / "b", prefix="v110-vs-v100")
    assert [p.name for p in first] == ["drift.json", "drift.html"]
    assert [p.name for p in second] == ["v110-vs-v100.json", "v110-vs-v100.html"]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert json.loads(first[0].read_text(encoding="utf-8")) == fraud.as_dict()


def test_report_shape_records_psi_bins_and_sample_sizes(fraud: DriftReport) -> None:
    report = fraud.as_dict()
    assert {"verdict", "current", "reference", "thresholds", "tables", "columns", "summary"} <= set(report)
    transactions = report["tables"]["transactions"]
    assert transactions["rows"] == {"reference": 30000, "current": 30000, "change": 0.0, "verdict": "pass"}
    corr = transactions["correlation"]
    assert corr["columns"] == ["transaction_id", "account_id", "amount", "timestamp"]
    assert len(corr["reference_matrix"]) == len(corr["current_matrix"]) == 4
    amount = report["columns"]["transactions.amount"]["metrics"]
    assert len(amount["psi"]["bins"]) == 10 and len(amount["psi"]["edges"]) == 9
    assert amount["psi"]["reference_n"] == amount["psi"]["current_n"] == 30000
    assert {"statistic", "p_value"} <= set(amount["ks"]) and amount["wasserstein"]["scale"] == "std"
    histogram = report["columns"]["transactions.amount"]["chart"]
    assert len(histogram["edges"]) == 31 and sum(histogram["reference"]) == 30000
    fraud_metrics = report["columns"]["transactions.is_fraud"]["metrics"]
    assert fraud_metrics["psi"]["bins"] == [{"bin": "false", "reference": 29400, "current": 28500},
                                            {"bin": "true", "reference": 600, "current": 1500},
                                            {"bin": "other", "reference": 0, "current": 0}]
    assert fraud_metrics["psi"]["reference_n"] == fraud_metrics["psi"]["current_n"] == 30000
    assert fraud_metrics["chi_square"]["verdict"] == "info"  # 30,000 rows: p-values do not decide
    category = report["columns"]["transactions.merchant_category"]
    assert category["metrics"]["null_rate"]["reference"] == 0.25
    assert len(category["chart"]["labels"]) == 11  # ten categories and "other"


def test_sampling_is_bounded_and_deterministic(folders: dict[str, Path]) -> None:
    first = compare_folders(folders["rerun"], folders["v100"], sample_rows=7000)
    _assert_no_drift(first.as_dict())
    amount = first.as_dict()["columns"]["transactions.amount"]["metrics"]
    assert amount["count"]["reference"] == 30000  # exact, from DuckDB
    assert amount["sample"] == {"reference": 6000, "current": 6000}  # every 5th row
    parquet = folders["v100"] / "transactions.parquet"
    exact = duckdb.sql(f"SELECT min(amount), max(amount) FROM '{parquet}'").fetchall()[0]
    summary = amount["summary"]["reference"]
    assert (summary["min"], summary["max"]) == exact  # extremes are exact too
    assert compare_folders(folders["rerun"], folders["v100"], sample_rows=7000).to_json() == first.to_json()


def test_csv_folder_reads_like_parquet(folders: dict[str, Path]) -> None:
    report = compare_folders(folders["csv"], folders["v100"]).as_dict()
    assert report["tables"]["transactions"]["format"] == {"reference": "parquet", "current": "csv"}
    _assert_no_drift(report)
    columns = report["columns"]
    assert columns["transactions.timestamp"]["type"]["current"] == "TIMESTAMP"
    assert columns["transactions.is_fraud"]["type"]["current"] == "BOOLEAN"


def _probe(mean: float = 50.0, null_rate: float = 0.0, reshaped: bool = False) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "value": {"generator": "normal", "mean": mean, "std": 10},
        "level": {"generator": "uniform", "min": 0, "max": 1},
        "site": {"generator": "choice", "values": {"a": 0.5, "b": 0.3, "c": 0.2}, "null_rate": null_rate}}
    tables = {"readings": {"rows": 5000, "columns": columns},
              "gone": {"rows": 10, "columns": {"x": {"generator": "uniform_int", "min": 1, "max": 5}}}}
    if reshaped:
        del columns["level"], tables["gone"]
        columns["grade"] = {"generator": "uniform_int", "min": 1, "max": 5}
        tables["extra"] = {"rows": 10, "columns": {"x": {"generator": "uniform_int", "min": 1, "max": 5}}}
    return {"dataset": "drift_probe", "as_of": "2026-01-01", "tables": tables}


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("probes")
    made = {}
    for name, spec in {"base": _probe(), "shifted": _probe(mean=55), "nulls": _probe(null_rate=0.1),
                       "reshaped": _probe(reshaped=True)}.items():
        made[name] = root / name
        library.generate(spec, made[name], seed=5)
    return made


def test_numeric_shift_is_flagged_by_ks_and_wasserstein(probes: dict[str, Path]) -> None:
    columns = compare_folders(probes["shifted"], probes["base"]).as_dict()["columns"]
    value = columns["readings.value"]
    assert value["kind"] == "numeric" and value["verdict"] == "fail"
    assert any(r.startswith("normalized Wasserstein distance 0.5") for r in value["reasons"])
    assert any(r.startswith("KS statistic") for r in value["reasons"])
    assert value["metrics"]["summary"]["current"]["mean"] > value["metrics"]["summary"]["reference"]["mean"] + 4
    assert columns["readings.level"]["verdict"] == columns["readings.site"]["verdict"] == "pass"


def test_null_rate_change_is_flagged(probes: dict[str, Path]) -> None:
    site = compare_folders(probes["nulls"], probes["base"]).as_dict()["columns"]["readings.site"]
    assert site["verdict"] == "fail"
    assert site["metrics"]["null_rate"] == {"reference": 0.0, "current": 0.1, "change": 0.1, "verdict": "fail"}
    assert any(r.startswith("null rate change 0.1 >= fail threshold 0.05") for r in site["reasons"])
    assert site["metrics"]["jensenshannon"]["verdict"] == "pass"  # the non-null values keep their shares


def test_tables_and_columns_on_one_side_are_reported(probes: dict[str, Path]) -> None:
    report = compare_folders(probes["reshaped"], probes["base"]).as_dict()
    columns, tables = report["columns"], report["tables"]
    assert (columns["readings.level"]["status"], columns["readings.level"]["verdict"]) == ("removed", "warn")
    assert (columns["readings.grade"]["status"], columns["readings.grade"]["verdict"]) == ("added", "warn")
    assert (tables["gone"]["status"], tables["gone"]["rows"]["reference"]) == ("removed", 10)
    assert (tables["extra"]["status"], tables["extra"]["rows"]["current"]) == ("added", 10)
    assert tables["gone"]["verdict"] == tables["extra"]["verdict"] == "warn"
    assert columns["readings.value"]["verdict"] == "pass"
    assert report["verdict"] == "warn"


def test_thresholds_are_configurable(folders: dict[str, Path]) -> None:
    assert Thresholds.from_mapping({}) == Thresholds()
    loose = Thresholds.from_mapping({"share_warn": 0.7, "share_fail": 0.9, "jensenshannon_warn": 0.1,
                                     "jensenshannon_fail": 0.2})
    report = compare_folders(folders["v110"], folders["v100"], loose).as_dict()
    assert report["columns"]["transactions.is_fraud"]["verdict"] == "pass"
    assert report["verdict"] == "pass"
    assert report["thresholds"]["share_fail"] == 0.9
    with pytest.raises(UsageError, match=r"unknown drift threshold 'psi_fial' \(did you mean 'psi_fail'\?\)"):
        Thresholds.from_mapping({"psi_fial": 0.3})
    with pytest.raises(UsageError) as caught:
        Thresholds.from_mapping({"psi_warn": "high", "null_rate_warn": 0.2, "small_sample": 1.5})
    message = str(caught.value)
    assert "'psi_warn' must be a number, not 'high'" in message
    assert "null_rate_warn (0.2) must be <= null_rate_fail (0.05)" in message
    assert "'small_sample' must be a whole number" in message


@pytest.mark.parametrize("ingested", [False, True])
def test_csv_types_declared_or_detected(tmp_path: Path, ingested: bool) -> None:
    rng = np.random.default_rng(3)
    ages = rng.integers(18, 90, 3000)
    zips = rng.choice(["00501", "02134", "10001"], 3000)
    codes = rng.integers(1, 4, 3000)
    for name, shift in (("before", 0), ("after", 10)):
        folder = tmp_path / name
        folder.mkdir()
        lines = ["age,zip,code"] + [f"{a + shift},{z},{c}" for a, z, c in zip(ages, zips, codes, strict=True)]
        (folder / "people.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        fields = [{"name": "age", "type": "any"}, {"name": "zip", "type": "string"},
                  {"name": "code", "type": "string"}]
        manifest: dict[str, Any] = {"name": "people", "version": "1.0.0", "resources": [
            {"name": "people", "type": "table", "path": "people.csv", "format": "csv", "schema": {"fields": fields}}]}
        if ingested:  # an ingested external file: DuckDB detects every type, as the ingest did
            manifest["esdh"] = {"dataset": "people", "source": "ingested"}
        (folder / "datapackage.json").write_text(json.dumps(manifest), encoding="utf-8")
    report = compare_folders(tmp_path / "after", tmp_path / "before").as_dict()
    assert report["current"] == {"folder": str(tmp_path / "after"), "dataset": "people", "version": "1.0.0",
                                 "seed": None}
    age, zip_code, code = (report["columns"][f"people.{c}"] for c in ("age", "zip", "code"))
    assert (age["kind"], age["type"]["reference"], age["verdict"]) == ("numeric", "BIGINT", "fail")
    assert code["type"]["reference"] == ("BIGINT" if ingested else "VARCHAR")
    assert code["kind"] == zip_code["kind"] == "categorical"  # few distinct integers are categories too
    assert code["verdict"] == zip_code["verdict"] == "pass"
    if not ingested:
        assert "00501" in zip_code["chart"]["labels"]  # declared a string: leading zeros kept


def test_html_report_in_a_browser(fraud: DriftReport, tmp_path: Path) -> None:
    html_path = fraud.write(tmp_path)[1]
    text = html_path.read_text(encoding="utf-8")
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "<script" not in text
    with browser_page() as page:
        page.goto(html_path.as_uri())
        for kind in ("histogram", "bars", "heatmap"):
            charts = page.locator(f"svg.chart.{kind}")
            assert charts.count() > 0, kind
            box = charts.first.bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0, kind
        section = page.locator('section[data-column="transactions.is_fraud"]')
        assert section.locator("h3 .verdict").inner_text() == "fail"
        assert section.locator("svg.chart.bars").count() == 1
        assert page.locator('section[data-column="transactions.amount"] h3 .verdict').inner_text() == "pass"
        assert page.external_requests == []
        assert page.console_errors == []
