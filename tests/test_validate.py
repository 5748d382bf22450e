"""Validating data against a spec: generated data passes; each kind of defect is found, counted and located."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from esdh import library
from esdh.checks.results import CheckResult
from esdh.errors import UsageError
from esdh.packs import pack_names
from esdh.quality.validate import ValidationReport, never_null, validate_data
from tests.browser import browser_page

SMALL = {"tpch": 0.002, "retail": 0.1, "insurance": 0.2}  # big enough for every table to have rows
FINANCE_ROWS = {"accounts": 300, "transactions": 3000}


@pytest.fixture(scope="module")
def finance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("finance") / "out"
    library.generate("finance_transactions", folder, rows=FINANCE_ROWS)
    return folder


@pytest.fixture(scope="module")
def dataset():
    return library.load("finance_transactions")


def read(folder: Path) -> dict[str, pa.Table]:
    return {path.stem: pq.read_table(path) for path in sorted(folder.glob("*.parquet"))}


def write(folder: Path, tables: dict[str, pa.Table], fmt: str) -> Path:
    """The tables as an 'external' folder: one file per table, no datapackage.json."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if fmt == "csv":
            pcsv.write_csv(table, folder / f"{name}.csv")
        else:
            pq.write_table(table, folder / f"{name}.parquet")
    return folder


def with_value(table: pa.Table, column: str, row: int, value: object, type_: pa.DataType | None = None) -> pa.Table:
    values = table[column].to_pylist()
    values[row] = value
    type_ = type_ or table.schema.field(column).type
    return table.set_column(table.schema.get_field_index(column), column, pa.array(values, type_))


def failures(report: ValidationReport) -> dict[tuple[str, str | None, str], CheckResult]:
    return {(r.table, r.column, r.check): r for r in report.failures}


# ---- clean data passes -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", pack_names())
def test_generated_folder_of_every_pack_validates_clean(name: str, tmp_path: Path) -> None:
    result = library.generate(name, tmp_path / name, scale=SMALL.get(name, 0.01))
    report = validate_data(tmp_path / name, result.plan.dataset)
    assert report.ok, report.text()
    assert {t: info["rows"] for t, info in report.tables.items()} == {t.name: t.rows for t in result.tables}
    assert all(info["format"] == "parquet" for info in report.tables.values())
    assert not report.ignored and not report.extra_columns
    checked = {r.check for r in report.checks}
    assert {"table_present", "type", "not_null"} <= checked
    rules = {(t, f"rule:{rule.name}") for t, m in result.plan.dataset.tables.items() for rule in m.spec.rules}
    evaluated = {(r.table, r.check) for r in report.checks if r.check.startswith("rule:")}
    skipped = {(s["table"], s["check"]) for s in report.skipped}
    assert evaluated | skipped == rules and not evaluated & skipped  # every rule: evaluated or skipped, never lost


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_external_copies_validate_clean_with_cross_table_rules(finance: Path, dataset, fmt: str,
                                                               tmp_path: Path) -> None:
    report = validate_data(write(tmp_path / fmt, read(finance), fmt), dataset)
    assert report.ok, report.text()
    rule = next(r for r in report.checks if r.check == "rule:after_account_opened")
    assert rule.evaluated == FINANCE_ROWS["transactions"]  # the hidden lookup was rebuilt from accounts
    key = next(r for r in report.checks if r.check == "foreign_key:accounts.account_id")
    assert (key.table, key.column, key.evaluated, key.failed) == ("transactions", "account_id", 3000, 0)
    assert {(s["check"], "transactions.category" in s["reason"]) for s in report.skipped} == {
        ("rule:category_reported_faithfully", True)}  # reads a hidden generated column: skipped, with why


def test_json_and_ndjson_and_a_multi_level_pack_validate_clean(tmp_path: Path) -> None:
    result = library.generate("tpch", tmp_path / "tpch", scale=0.002, formats=["ndjson", "json"])
    tpch = result.plan.dataset
    report = validate_data(tmp_path / "tpch", tpch)
    assert report.ok, report.text()
    assert {info["format"] for info in report.tables.values()} == {"ndjson"}
    assert sorted(report.ignored) == sorted(f"{t}.json" for t in tpch.tables)  # the other format, not read
    for table in tpch.tables:  # without the manifest: a plain folder of JSON arrays
        (tmp_path / "tpch" / f"{table}.ndjson").unlink()
    (tmp_path / "tpch" / "datapackage.json").unlink()
    report = validate_data(tmp_path / "tpch", tpch, tables=["orders", "LINEITEM"])
    assert report.ok, report.text()
    assert set(report.tables) == {"orders", "lineitem"}
    assert any(r.check == "rule:shipped_1_to_121_days_after_the_order" and r.evaluated for r in report.checks)


# ---- each defect, found, counted and located ---------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_orphan_foreign_key(finance: Path, dataset, fmt: str, tmp_path: Path) -> None:
    tables = read(finance)
    tables["transactions"] = with_value(tables["transactions"], "account_id", 7, 99_999_999)
    report = validate_data(write(tmp_path, tables, fmt), dataset)
    found = failures(report)
    assert list(found) == [("transactions", "account_id", "foreign_key:accounts.account_id")]
    orphan = found["transactions", "account_id", "foreign_key:accounts.account_id"]
    assert orphan.failed == 1 and orphan.samples == [{"row": 7, "value": 99_999_999}]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_null_in_a_non_null_column(finance: Path, dataset, fmt: str, tmp_path: Path) -> None:
    tables = read(finance)
    tables["transactions"] = with_value(tables["transactions"], "is_fraud", 3, None)
    tables["accounts"] = with_value(tables["accounts"], "home_state", 11, None)
    report = validate_data(write(tmp_path, tables, fmt), dataset)
    found = failures(report)
    assert set(found) == {("transactions", "is_fraud", "not_null"), ("accounts", "home_state", "not_null")}
    assert found["transactions", "is_fraud", "not_null"].samples == [{"row": 3, "value": None}]
    assert found["accounts", "home_state", "not_null"].failed == 1


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_duplicate_primary_key(finance: Path, dataset, fmt: str, tmp_path: Path) -> None:
    tables = read(finance)
    transactions = tables["transactions"]
    duplicate = transactions["transaction_id"][2].as_py()
    tables["transactions"] = with_value(transactions, "transaction_id", 10, duplicate)
    report = validate_data(write(tmp_path, tables, fmt), dataset)
    found = failures(report)
    # transaction_id is the primary key and also declared unique: both report the one repeated row
    assert set(found) == {("transactions", "transaction_id", "primary_key"),
                          ("transactions", "transaction_id", "unique")}
    key = found["transactions", "transaction_id", "primary_key"]
    assert (key.evaluated, key.failed) == (3000, 1)
    assert key.samples == [{"row": 10, "value": duplicate, "first_row": 2, "count": 2}]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_value_out_of_range_and_enum_violation(finance: Path, dataset, fmt: str, tmp_path: Path) -> None:
    tables = read(finance)
    tables["transactions"] = with_value(tables["transactions"], "amount", 5, 20_000.0)
    tables["accounts"] = with_value(tables["accounts"], "account_type", 4, "gold")
    report = validate_data(write(tmp_path, tables, fmt), dataset)
    found = failures(report)
    assert set(found) == {("transactions", "amount", "max"), ("accounts", "account_type", "enum")}
    assert found["transactions", "amount", "max"].samples == [{"row": 5, "value": 20_000.0}]
    enum = found["accounts", "account_type", "enum"]
    assert (enum.evaluated, enum.failed, enum.samples) == (300, 1, [{"row": 4, "value": "gold"}])


def test_pattern_violation(tmp_path: Path) -> None:
    result = library.generate("ecommerce_orders", tmp_path / "gen", scale=0.01)
    tables = read(tmp_path / "gen")
    tables["customers"] = with_value(tables["customers"], "state", 1, "Texas")
    report = validate_data(write(tmp_path / "csv", tables, "csv"), result.plan.dataset)
    found = failures(report)
    assert list(found) == [("customers", "state", "pattern")]
    assert found["customers", "state", "pattern"].samples == [{"row": 1, "value": "Texas"}]


def test_value_that_does_not_convert_is_a_type_failure_not_a_null(finance: Path, dataset, tmp_path: Path) -> None:
    tables = read(finance)
    transactions = tables["transactions"]
    for column in ("account_id", "amount", "timestamp"):
        transactions = transactions.set_column(transactions.schema.get_field_index(column), column,
                                               pc.cast(transactions[column], pa.string()))
    transactions = with_value(transactions, "account_id", 6, "12,50")
    transactions = with_value(transactions, "amount", 8, "ten")
    transactions = with_value(transactions, "timestamp", 9, "2025-02-30 10:00:00")
    tables["transactions"] = transactions
    report = validate_data(write(tmp_path, tables, "csv"), dataset)
    found = failures(report)
    assert set(found) == {("transactions", c, "type") for c in ("account_id", "amount", "timestamp")}
    assert found["transactions", "account_id", "type"].samples == [{"row": 6, "value": "12,50"}]
    assert found["transactions", "amount", "type"].samples == [{"row": 8, "value": "ten"}]
    assert found["transactions", "timestamp", "type"].samples == [{"row": 9, "value": "2025-02-30 10:00:00"}]
    not_null = next(r for r in report.checks if (r.column, r.check) == ("account_id", "not_null"))
    assert not_null.passed  # the value was there: it is a type failure only


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_broken_cross_table_rule(finance: Path, dataset, fmt: str, tmp_path: Path) -> None:
    """An account opened after some of its transactions: the defect is in accounts, the rule that catches it
    belongs to transactions and reads opened_on through the foreign key."""
    tables = read(finance)
    transactions, accounts = tables["transactions"], tables["accounts"]
    account = transactions["account_id"][0].as_py()
    rows = [i for i, a in enumerate(transactions["account_id"].to_pylist()) if a == account]
    last = max(transactions["timestamp"][i].as_py().date() for i in rows)
    where = accounts["account_id"].to_pylist().index(account)
    tables["accounts"] = with_value(accounts, "opened_on", where, last + dt.timedelta(days=1))
    report = validate_data(write(tmp_path, tables, fmt), dataset)
    found = failures(report)
    # accounts are opened at least 30 days before as_of (the generator's max, an implied check): a later day
    # breaks that bound too
    too_late = last > dataset.spec.as_of - dt.timedelta(days=31)
    assert set(found) == {("transactions", None, "rule:after_account_opened")} | (
        {("accounts", "opened_on", "max")} if too_late else set())
    rule = found["transactions", None, "rule:after_account_opened"]
    assert (rule.evaluated, rule.failed) == (3000, len(rows))
    assert [s["row"] for s in rule.samples] == rows[:5]
    assert rule.samples[0]["value"]["opened_on"] == (last + dt.timedelta(days=1)).isoformat()


def test_every_failure_is_collected(finance: Path, dataset, tmp_path: Path) -> None:
    tables = read(finance)
    transactions = tables["transactions"]
    transactions = with_value(transactions, "account_id", 1, 42)
    transactions = with_value(transactions, "amount", 2, -5.0)
    transactions = with_value(transactions, "amount", 2500, 10_000.5)
    transactions = with_value(transactions, "is_fraud", 3, None)
    tables["transactions"] = transactions
    tables["accounts"] = with_value(tables["accounts"], "account_type", 0, "DEBIT")
    report = validate_data(write(tmp_path, tables, "parquet"), dataset)
    assert not report.ok
    found = failures(report)
    assert set(found) == {("transactions", "account_id", "foreign_key:accounts.account_id"),
                          ("transactions", "amount", "min"), ("transactions", "amount", "max"),
                          ("transactions", "is_fraud", "not_null"), ("accounts", "account_type", "enum")}
    assert found["transactions", "amount", "max"].samples == [{"row": 2500, "value": 10_000.5}]
    assert report.as_dict()["summary"]["failed"] == 5


def test_missing_table_missing_column_extra_column_and_ignored_file(finance: Path, dataset, tmp_path: Path) -> None:
    tables = read(finance)
    folder = write(tmp_path, {"transactions": tables["transactions"].drop_columns(["amount"])
                              .append_column("note", pa.array(["x"] * 3000))}, "csv")
    (folder / "README.txt").write_text("not data")
    report = validate_data(folder, dataset)
    found = failures(report)
    assert set(found) == {("accounts", None, "table_present"), ("transactions", "amount", "column_present")}
    assert report.extra_columns == {"transactions": ["note"]} and report.ignored == ["README.txt"]
    reasons = {s["check"]: s["reason"] for s in report.skipped}
    assert "accounts" in reasons["foreign_key:accounts.account_id"]
    assert reasons["rule:after_account_opened"] == "table accounts is missing"
    assert not any(r.column == "amount" and r.check in ("min", "max") for r in report.checks)


def test_malformed_csv_lines_and_unreadable_files_fail_readable(finance: Path, dataset, tmp_path: Path) -> None:
    folder = write(tmp_path, {"transactions": read(finance)["transactions"]}, "csv")
    lines = (folder / "transactions.csv").read_text().splitlines()
    lines.insert(101, "1,2,3")  # line 102 of the file
    (folder / "transactions.csv").write_text("\n".join(lines) + "\n")
    (folder / "accounts.parquet").write_bytes(b"not parquet")
    report = validate_data(folder, dataset)
    found = failures(report)
    assert set(found) == {("accounts", None, "readable"), ("transactions", None, "readable")}
    assert found["transactions", None, "readable"].samples == [
        {"file": "transactions.csv", "line": 102, "value": "1,2,3"}]
    assert report.tables["transactions"]["rows"] == 3000  # the other rows are all checked
    assert "cannot be read" in {s["check"]: s["reason"] for s in report.skipped}["rule:after_account_opened"]


def test_rules_reading_generation_only_names_are_skipped(tmp_path: Path) -> None:
    result = library.generate("saas_events", tmp_path / "saas", scale=0.01)
    report = validate_data(tmp_path / "saas", result.plan.dataset)
    assert report.ok and report.skipped
    assert all(s["check"].startswith("rule:") for s in report.skipped)
    assert any("ordinal" in s["reason"] for s in report.skipped)
    assert any("window" in s["reason"] for s in report.skipped)


def test_part_files_count_rows_across_parts_and_single_files(finance: Path, dataset, tmp_path: Path) -> None:
    tables = read(finance)
    transactions = with_value(tables["transactions"], "amount", 2100, 0.0)
    (tmp_path / "parts" / "Transactions").mkdir(parents=True)
    for index, start in enumerate(range(0, 3000, 1000)):
        pcsv.write_csv(transactions.slice(start, 1000), tmp_path / "parts" / "Transactions" / f"part-{index:05d}.csv")
    pq.write_table(tables["accounts"], tmp_path / "parts" / "ACCOUNTS.parquet")
    report = validate_data(tmp_path / "parts", dataset)
    assert list(failures(report)) == [("transactions", "amount", "min")]
    assert failures(report)["transactions", "amount", "min"].samples == [{"row": 2100, "value": 0.0}]
    assert report.tables["transactions"]["files"] == [f"Transactions/part-{i:05d}.csv" for i in range(3)]
    manifest = {"resources": [
        {"name": "transactions", "type": "table", "format": "csv",
         "path": [f"Transactions/part-{i:05d}.csv" for i in range(3)]},
        {"name": "accounts", "type": "table", "format": "parquet", "path": "ACCOUNTS.parquet"},
        {"name": "schema_metadata", "format": "json", "path": "schema_metadata.json"}]}
    (tmp_path / "parts" / "datapackage.json").write_text(json.dumps(manifest))
    listed = validate_data(tmp_path / "parts", dataset)
    assert listed.as_dict()["checks"] == report.as_dict()["checks"] and not listed.ignored
    single = validate_data(finance / "transactions.parquet", dataset)
    assert single.ok and set(single.tables) == {"transactions"}
    assert {s["check"] for s in single.skipped} >= {"foreign_key:accounts.account_id", "rule:after_account_opened"}
    with pytest.raises(UsageError, match="unknown table"):
        validate_data(finance, dataset, tables=["nope"])


def test_never_null_follows_the_spec(dataset) -> None:
    assert never_null(dataset, "transactions", "transaction_id")  # primary key
    assert never_null(dataset, "transactions", "account_id")  # a weighted ref always chooses a row
    assert never_null(dataset, "transactions", "is_fraud") and never_null(dataset, "accounts", "home_state")
    assert not never_null(dataset, "transactions", "merchant_category")  # null_rate
    assert not never_null(dataset, "transactions", "amount")  # an expression may be null
    insurance = library.load("insurance")
    line2 = [(t, c) for t, m in insurance.tables.items() for c, col in m.columns.items()
             if col.generator is not None and getattr(col.generator.p, "field", None) == "line2"]
    assert line2 and not any(never_null(insurance, t, c) for t, c in line2)  # null by design


# ---- the report ----------------------------------------------------------------------------------------

def test_report_json_shape_and_run_report_from_generation_checks(finance: Path, dataset, tmp_path: Path) -> None:
    tables = read(finance)
    tables["transactions"] = with_value(tables["transactions"], "account_id", 7, 99_999_999)
    report = validate_data(write(tmp_path / "bad", tables, "parquet"), dataset)
    json_path = report.write(tmp_path / "report")[0]
    data = json.loads(json_path.read_text())
    assert data == json.loads(json.dumps(report.as_dict(), default=str))
    assert {"format_version", "dataset", "version", "data", "ok", "summary", "tables", "checks", "skipped",
            "ignored", "extra_columns"} <= set(data)
    assert (data["dataset"], data["ok"], data["summary"]["failed"]) == ("finance_transactions", False, 1)
    assert data["summary"]["evaluated_rows"] == 3300
    check = next(c for c in data["checks"] if not c["passed"])
    assert check == {"table": "transactions", "column": "account_id", "check": "foreign_key:accounts.account_id",
                     "evaluated": 3000, "failed": 1, "success_percent": 99.9667,
                     "samples": [{"row": 7, "value": 99_999_999}], "passed": False}
    assert "foreign_key:accounts.account_id: 1 of 3,000 fail" in report.text()
    result = library.generate("finance_transactions", tmp_path / "run", rows=FINANCE_ROWS)
    run = ValidationReport.from_checks(result.plan.dataset, result.folder, result.checks)
    assert run.ok and run.as_dict()["summary"]["checks"] == len(result.checks)
    assert run.as_dict()["summary"]["evaluated_rows"] == 3300
    assert [p.name for p in run.write(tmp_path / "run-report")] == ["validation.json", "validation.html"]


def test_html_report_in_a_browser(finance: Path, dataset, tmp_path: Path) -> None:
    tables = read(finance)
    tables["transactions"] = with_value(tables["transactions"], "amount", 5, 20_000.0)
    tables["accounts"] = with_value(tables["accounts"], "account_type", 4, "<b>gold</b>")
    shutil.rmtree(tmp_path / "bad", ignore_errors=True)
    report = validate_data(write(tmp_path / "bad", tables, "csv"), dataset)
    html_path = report.write(tmp_path / "report")[1]
    text = html_path.read_text(encoding="utf-8")
    assert "<b>gold</b>" not in text and "&lt;b&gt;gold&lt;/b&gt;" in text
    assert "http://" not in text and "https://" not in text and "<script" not in text
    with browser_page() as page:
        page.goto(html_path.as_uri())
        assert page.locator("#verdict .verdict").inner_text() == "fail"
        failed = page.locator("#checks tr.check.fail")
        assert failed.count() == 2
        assert [failed.nth(i).locator("td").all_inner_texts()[:6] for i in range(2)] == [
            ["accounts", "account_type", "enum", "300", "1", "99.6667"],
            ["transactions", "amount", "max", "3,000", "1", "99.9667"]]
        assert page.locator("#checks tbody tr").first.get_attribute("class") == "check fail"  # failures first
        samples = page.locator("#failures table.samples")
        assert samples.count() == 2
        assert samples.nth(0).locator("tbody td").all_inner_texts() == ["4", "<b>gold</b>"]  # shown, not markup
        assert samples.nth(1).locator("tbody td").all_inner_texts() == ["5", "20000.0"]
        assert "category_reported_faithfully" in page.locator("#skipped").inner_text()
        assert page.external_requests == []
        assert page.console_errors == []


def test_a_csv_duckdb_cannot_sniff_is_reported_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "persons.csv").write_text('person_id,first_name\n"a,1\n\x00\x01,"\n', encoding="utf-8")
    report = validate_data(folder, library.load("insurance"), tables=["persons"])
    assert not report.ok
    failed = {c.check for c in report.checks if not c.passed}
    assert "column_present" in failed  # most written columns are missing; the file was still read


def test_strict_fails_when_a_rule_is_skipped_and_only_then(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from esdh.cli.main import cli

    runner = CliRunner()
    library.generate("saas_events", tmp_path / "saas", scale=0.01)
    lenient = runner.invoke(cli, ["validate", str(tmp_path / "saas"), "--spec", "saas_events"])
    strict = runner.invoke(cli, ["validate", str(tmp_path / "saas"), "--spec", "saas_events", "--strict"])
    assert lenient.exit_code == 0 and "skipped" in lenient.output
    assert strict.exit_code == 1 and "could not be evaluated on this data" in strict.output
    orders = library.generate("ecommerce_orders", tmp_path / "orders", scale=0.01)
    assert not validate_data(tmp_path / "orders", orders.plan.dataset).skipped
    assert runner.invoke(cli, ["validate", str(tmp_path / "orders"), "--spec", "ecommerce_orders",
                               "--strict"]).exit_code == 0
