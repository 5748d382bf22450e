"""Config folders (dataset.yaml, schema.yaml, evolution.yaml) load as ESDH datasets with real semantics."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli
from esdh.errors import SpecError
from esdh.rng import derive_key
from esdh.spec.config_folder import RULES, FolderSourceMap, load_config_folder, rule_for
from esdh.spec.load import load_spec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "config_folders"
FINANCE = FIXTURES / "finance_transactions"
IOT = FIXTURES / "iot_sensor_readings"
BROKEN = FIXTURES / "broken"


def write_folder(root: Path, dataset: str, schema: str, evolution: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset.yaml").write_text(textwrap.dedent(dataset), encoding="utf-8")
    (root / "schema.yaml").write_text(textwrap.dedent(schema), encoding="utf-8")
    if evolution is not None:
        (root / "evolution.yaml").write_text(textwrap.dedent(evolution), encoding="utf-8")
    return root


def problems_of(folder: Path) -> list[tuple[str, int | None, str, str]]:
    with pytest.raises(SpecError) as info:
        load_spec(folder)
    return [(Path(p.file).name, p.line, p.path, p.message) for p in info.value.problems]


# ---- the finance folder --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finance(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("finance") / "out"
    result = library.generate(FINANCE, out, formats=["parquet"])
    return pq.read_table(result.tables[0].files["parquet"])


def test_finance_folder_translates_to_a_spec_with_documented_defaults() -> None:
    spec = load_config_folder(FINANCE)
    assert spec["dataset"] == "finance_transactions"
    assert spec["seed"] == derive_key(0, "finance_transactions") % 2**31
    assert spec["as_of"] == dt.date(2026, 1, 1)
    table = spec["tables"]["finance_transactions"]
    assert table["rows"] == 5000
    assert table["primary_key"] == "transaction_id"
    columns = table["columns"]
    assert list(columns) == ["transaction_id", "account_id", "amount", "timestamp", "is_fraud", "merchant_category"]
    assert columns["amount"]["check"] == {"min": 0.01, "max": 10000}
    assert (columns["amount"]["min"], columns["amount"]["max"]) == (0.01, 10000)
    assert columns["is_fraud"] == {**columns["is_fraud"], "generator": "flag", "rate": 0.02}
    assert columns["merchant_category"]["null_rate"] == 0.25
    assert load_config_folder(FINANCE) == spec  # deterministic


def test_finance_folder_generates_the_configured_data(finance) -> None:
    rows = 5000
    assert finance.num_rows == rows
    assert finance.column_names == ["transaction_id", "account_id", "amount", "timestamp", "is_fraud",
                                    "merchant_category", "synthetic_source"]
    assert pc.sum(finance["is_fraud"]).as_py() == round(0.02 * rows)
    assert finance["merchant_category"].null_count == round(0.25 * rows)
    amounts = pc.min_max(finance["amount"]).as_py()
    assert amounts["min"] >= 0.01 and amounts["max"] <= 10000
    ids = finance["transaction_id"].to_pylist()
    assert len(set(ids)) == rows
    timestamps = finance["timestamp"].to_pylist()
    assert len(set(timestamps)) > rows * 0.9  # not the platform's 60 values
    assert min(timestamps) >= dt.datetime(2025, 1, 1) and max(timestamps) < dt.datetime(2026, 1, 2)
    accounts = set(finance["account_id"].to_pylist())
    assert 100 < len(accounts) <= rows // 10 and min(accounts) >= 100000  # many transactions per account
    categories = set(finance["merchant_category"].drop_null().to_pylist())
    assert {"Grocery", "Retail", "Travel"} <= categories and not any(c.startswith("val_") for c in categories)


def test_load_spec_accepts_the_folder_as_str_and_path() -> None:
    assert load_spec(str(FINANCE)).spec == load_spec(FINANCE).spec
    assert library.plan(str(FINANCE)).rows == {"finance_transactions": 5000}


# ---- the iot folder ------------------------------------------------------------------------------------


def test_iot_folder_generates_readings_from_a_pool_of_sensors(tmp_path: Path) -> None:
    dataset = load_spec(IOT)
    table = dataset.spec.tables["iot_sensor_readings"]
    assert table.primary_key is None  # sensor_id names the sensor, not the reading
    result = library.generate(IOT, tmp_path / "out")
    data = pq.read_table(result.tables[0].files["parquet"])
    assert data.num_rows == 5000
    assert data["occupancy"].null_count == 750
    assert len(set(data["sensor_id"].to_pylist())) <= 50
    for name, (lo, hi) in {"temperature": (-20, 50), "humidity": (0, 100)}.items():
        values = pc.min_max(data[name]).as_py()
        assert lo <= values["min"] and values["max"] <= hi
    assert 18 < pc.mean(data["temperature"]).as_py() < 24  # indoor temperatures, not uniform over [-20, 50]
    assert all(check.passed for check in result.checks)


# ---- problems ------------------------------------------------------------------------------------------


def test_broken_folder_reports_every_problem_at_once_with_file_and_line() -> None:
    assert problems_of(BROKEN) == [
        ("dataset.yaml", 3, "row_count", "row_count must be a whole number > 0 (got -5)"),
        ("schema.yaml", 7, "columns.claim_amount.type", "unknown type 'decimal'"),
        ("schema.yaml", 10, "columns.claim_amount.constraints.min", "min (100000) is greater than max (100)"),
        ("schema.yaml", 14, "columns.claim_type.nullabel", "unknown key 'nullabel'"),
        ("evolution.yaml", 1, "fraud_rate", "fraud_rate must be a number in [0, 1] (got 1.5)"),
        ("evolution.yaml", 3, "missingness.claim_type", "missingness of claim_type must be a number in [0, 1] "
         "(got 'lots')"),
        ("evolution.yaml", 4, "missingness.claim_amount", "column 'claim_amount' is declared nullable: false in "
         "schema.yaml (line 6) but has missingness"),
        ("evolution.yaml", 5, "missingness.claim_typo", "missingness names unknown column 'claim_typo'"),
    ]


def test_broken_folder_problems_carry_hints_and_full_paths() -> None:
    with pytest.raises(SpecError) as info:
        load_spec(BROKEN)
    by_path = {p.path: p for p in info.value.problems}
    assert by_path["columns.claim_type.nullabel"].hint == "did you mean 'nullable'?"
    assert by_path["missingness.claim_typo"].hint == "did you mean 'claim_type'?"
    assert "nullable: true" in by_path["missingness.claim_amount"].hint
    assert all(Path(p.file).parent == BROKEN for p in info.value.problems)
    assert f"{BROKEN / 'dataset.yaml'}:3: row_count:" in str(info.value)


def test_missingness_on_a_non_nullable_column_is_refused_and_nullable_true_fixes_it(tmp_path: Path) -> None:
    schema = """\
        columns:
          sale_id: {type: integer, nullable: false}
          sale_amount: {type: float, nullable: %s, constraints: {min: 0.5, max: 500}}
        """
    folder = write_folder(tmp_path / "retail_sales", "name: retail_sales\nrow_count: 400\n", schema % "false",
                          "missingness: {sale_amount: 0.05}\n")
    assert problems_of(folder) == [("evolution.yaml", 1, "missingness.sale_amount",
                                    "column 'sale_amount' is declared nullable: false in schema.yaml (line 3) "
                                    "but has missingness")]
    (folder / "schema.yaml").write_text(textwrap.dedent(schema % "true"), encoding="utf-8")
    assert library.table(folder, "retail_sales")["sale_amount"].null_count == 20


def test_fraud_column_without_a_fraud_rate_is_a_problem(tmp_path: Path) -> None:
    dataset = "name: payments\nrow_count: 100\n"
    schema = "columns:\n  payment_id: {type: integer}\n  is_fraud: {type: boolean}\n"
    folder = write_folder(tmp_path / "payments", dataset, schema, "missingness: {}\n")
    assert problems_of(folder) == [("evolution.yaml", 1, "",
                                    "column 'is_fraud' is a fraud flag but evolution.yaml gives no fraud rate")]
    (folder / "evolution.yaml").unlink()  # evolution.yaml is optional, but then there is no fraud rate either
    assert [p[3] for p in problems_of(folder)] == [
        "column 'is_fraud' is a fraud flag but evolution.yaml gives no fraud rate"]


def test_problems_of_all_three_files_come_together_even_with_a_yaml_syntax_error(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "mixed", "name: mixed\nrow_count: many\n",
                          "columns:\n  a: {type: integer\n", "fraud_rate: high\n")
    found = problems_of(folder)
    assert [(f, line) for f, line, *_ in found] == [("dataset.yaml", 2), ("schema.yaml", 3),
                                                    ("evolution.yaml", 1)]
    assert found[1][3].startswith("YAML syntax error")


def test_missing_files_and_non_mapping_files_are_reported(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert [(f, m) for f, _, _, m in problems_of(empty)] == [("dataset.yaml", "dataset.yaml is missing"),
                                                             ("schema.yaml", "schema.yaml is missing")]
    folder = write_folder(tmp_path / "lists", "- a\n- b\n", "columns: []\n")
    assert [(f, m) for f, _, _, m in problems_of(folder)] == [
        ("dataset.yaml", "dataset.yaml must be a mapping of keys"),
        ("schema.yaml", "columns must be a non-empty mapping (or list) of columns")]


def test_bad_values_in_every_place_are_reported(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "bad", "name: bad\nrow_count: 10\nrows: 20\nseed: -1\nas_of: soon\n",
        """\
        columns:
          "bad name": {type: string}
          flag: {type: boolean, nullable: maybe, constraints: {min: 0}}
          n: {type: integer, constraints: {min: low}}
          n: {type: integer}
        """,
        "weekly_changes: [{fraud_rate: -0.1}]\nmissingness: [a, b]\n")
    found = {(f, line, path): m for f, line, path, m in problems_of(folder)}
    assert found == {
        ("dataset.yaml", 3, "rows"): "rows (20) disagrees with row_count (10)",
        ("dataset.yaml", 4, "seed"): "seed must be a whole number >= 0 (got -1)",
        ("dataset.yaml", 5, "as_of"): "as_of must be a date YYYY-MM-DD (got 'soon')",
        # the duplicate column is a YAML error, reported on its own for schema.yaml
        ("schema.yaml", 5, "columns.n"): "duplicate key 'n' (also on line 4)",
        ("evolution.yaml", 1, "weekly_changes[0].fraud_rate"): "fraud_rate must be a number in [0, 1] (got -0.1)",
        ("evolution.yaml", 2, "missingness"): "missingness must be a mapping column -> ratio",
    }
    (folder / "schema.yaml").write_text(textwrap.dedent("""\
        columns:
          "bad name": {type: string}
          flag: {type: boolean, nullable: maybe, constraints: {min: 0}}
          n: {type: integer, constraints: {min: low}}
        """), encoding="utf-8")
    schema = {(line, path): m for f, line, path, m in problems_of(folder) if f == "schema.yaml"}
    assert schema == {
        (2, "columns.bad name"): "column name 'bad name' is not a valid name",
        (3, "columns.flag.nullable"): "nullable must be true or false (got 'maybe')",
        (3, "columns.flag.constraints"): "constraints apply to numeric and datetime columns, not boolean",
        (4, "columns.n.constraints.min"): "min must be a number (got 'low')",
    }


# ---- formats and options ---------------------------------------------------------------------------------


def test_legacy_list_form_schema_infers_types_from_names(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "legacy", "name: ecommerce_orders\nrows: 300\n", """\
        columns:
          - order_id
          - customer_id
          - {name: order_date, type: datetime}
          - {name: total_amount, type: float, nullable: false, constraints: {min: 5, max: 5000}}
          - status: {type: string}
          - notes
        """, "missingness: {status: 0.1}\n")
    spec = load_config_folder(folder)
    table = spec["tables"]["ecommerce_orders"]
    assert table["rows"] == 300  # rows is an alias of row_count
    assert table["primary_key"] == "order_id"
    columns = table["columns"]
    assert list(columns) == ["order_id", "customer_id", "order_date", "total_amount", "status", "notes"]
    assert [columns[c]["type"] for c in columns] == ["integer", "integer", "datetime", "number", "string",
                                                     "string"]
    data = library.table(folder, "ecommerce_orders")
    assert data.num_rows == 300
    assert data["status"].null_count == 30
    assert len(set(data["order_id"].to_pylist())) == 300
    assert set(data["status"].drop_null().to_pylist()) <= {"delivered", "shipped", "processing", "pending",
                                                            "cancelled", "returned"}
    assert all(5 <= v <= 5000 for v in data["total_amount"].to_pylist())


def test_fraud_rate_forms_and_precedence(tmp_path: Path) -> None:
    def rate(evolution: str) -> float:
        folder = write_folder(tmp_path / f"f{len(list(tmp_path.iterdir()))}", "name: t\nrow_count: 1000\n",
                              "columns: {id: {type: integer}, fraud: {type: boolean}}\n", evolution)
        return load_config_folder(folder)["tables"]["t"]["columns"]["fraud"]["rate"]

    assert rate("fraud_rate: 0.02\n") == 0.02
    assert rate("fraud: {rate: 0.05}\n") == 0.05
    assert rate("fraud_rate: 0.5\nweekly_changes: [{fraud_rate: 0.01}, {fraud_rate: 0.3}]\n") == 0.01
    assert rate("fraud_rate: 0.5\nfraud: {rate: 0.04}\n") == 0.04


def test_seed_as_of_and_names_can_be_given(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "x", "name: My Sales-2025\nrow_count: 50\nseed: 7\nas_of: 2024-06-30\n",
                          "columns: {sale_id: {type: integer}, sale_date: {type: datetime}}\n")
    spec = load_config_folder(folder)
    assert (spec["dataset"], spec["title"], spec["seed"], spec["as_of"]) == ("my_sales_2025", "My Sales-2025", 7,
                                                                              dt.date(2024, 6, 30))
    dates = library.table(folder, "my_sales_2025")["sale_date"].to_pylist()
    assert dt.datetime(2023, 6, 30) <= min(dates) and max(dates) < dt.datetime(2024, 7, 1)


@pytest.mark.parametrize(("name", "folder_type", "generator"), [
    ("transaction_id", "integer", "uniform_int"),  # not the key when built outside a folder's context
    ("is_fraud", "boolean", "flag"),
    ("amount", "float", "amount"),
    ("claim_amount", "float", "amount"),
    ("event_time", "datetime", "timestamp"),
    ("order_date", "datetime", "timestamp"),
    ("age", "integer", "normal"),
    ("score", "float", "normal"),
    ("quantity", "integer", "poisson"),
    ("merchant_category", "string", "choice"),
    ("symbol", "string", "choice"),
    ("gender", "string", "gender"),
    ("address", "string", "address"),
    ("origin", "string", "address"),
    ("content", "string", "template"),
    ("mystery", "integer", "uniform_int"),
    ("mystery", "float", "uniform"),
    ("mystery", "boolean", "flag"),
    ("mystery", "datetime", "timestamp"),
    ("mystery", "string", "pattern"),
    ("mystery", None, "pattern"),
])
def test_rules_table_picks_a_generator_by_name_and_type(name: str, folder_type: str | None, generator: str) -> None:
    from esdh.spec.config_folder import Col

    rule = rule_for(name, folder_type)
    built = rule.build(Col(name, folder_type or rule.types[0], None, None, 1000, False, 0.1, {}, frozenset()))
    assert built["generator"] == generator
    assert RULES[-1].pattern == ".*"  # the fallbacks close the table


def test_origins_point_later_problems_at_the_folder_files(tmp_path: Path) -> None:
    source = FolderSourceMap(file="f", origins={("tables", "t", "columns", "a"): ("schema.yaml", 4, "columns.a")})
    problem = source.problem(("tables", "t", "columns", "a", "max"), "too small", "raise it")
    assert (problem.file, problem.line, problem.path) == ("schema.yaml", 4, "columns.a")
    assert "tables.t.columns.a.max" in problem.message
    assert source.problem(("dataset",), "x").file == "f"


# ---- the 13 datasets the platform shipped ----------------------------------------------------------------

NN = False
PLATFORM_DATASETS = {  # name: (columns as (type, nullable, min, max), evolution); from the "seeds" report, table 2.2
    "finance_transactions": ({"transaction_id": ("integer", NN), "account_id": ("integer", NN),
                              "amount": ("float", NN, 0.01, 10000), "timestamp": ("datetime", NN),
                              "is_fraud": ("boolean", NN), "merchant_category": ("string",)},
                             {"fraud_rate": 0.02, "missingness": {"merchant_category": 0.25}}),
    "market_time_series": ({"timestamp": ("datetime", NN), "symbol": ("string", NN), "price": ("float", NN, 0, 1e5),
                            "volume": ("integer", NN, 0)}, {"missingness": {"price": 0.01, "volume": 0.01}}),
    "saas_events": ({"event_id": ("integer", NN), "user_id": ("integer", NN), "event_time": ("datetime", NN),
                     "event_type": ("string", NN), "plan_tier": ("string",)}, {"missingness": {"plan_tier": 0.1}}),
    "ecommerce_orders": ({"order_id": ("integer", NN), "customer_id": ("integer", NN), "order_date": ("datetime", NN),
                          "total_amount": ("float", NN, 5, 5000), "status": ("string",)},
                         {"missingness": {"status": 0.07}}),
    "education_assessments": ({"student_id": ("integer",), "assessment_id": ("integer",), "subject": ("string",),
                               "score": ("float", True, 0, 100), "assessment_date": ("datetime",)},
                              {"missingness": {"score": 0.03}}),
    "energy_consumption": ({"meter_id": ("integer",), "timestamp": ("datetime",), "energy_kwh": ("float", True, 0, 100),
                            "building_type": ("string",)}, {"missingness": {"building_type": 0.12}}),
    "healthcare_patients": ({"patient_id": ("integer",), "age": ("integer", True, 0, 100), "gender": ("string",),
                             "diagnosis": ("string",), "admission_date": ("datetime",)},
                            {"missingness": {"diagnosis": 0.2}}),
    "insurance_claims": ({"claim_id": ("integer",), "policy_id": ("integer",), "claim_date": ("datetime",),
                          "claim_amount": ("float", True, 100, 100000), "claim_type": ("string",)},
                         {"missingness": {"claim_type": 0.18}}),
    "iot_sensor_readings": ({"sensor_id": ("integer",), "timestamp": ("datetime",),
                             "temperature": ("float", True, -20, 50), "humidity": ("float", True, 0, 100),
                             "occupancy": ("boolean",)}, {"missingness": {"occupancy": 0.15}}),
    "logistics_shipments": ({"shipment_id": ("integer",), "origin": ("string",), "destination": ("string",),
                             "ship_date": ("datetime",), "delivery_date": ("datetime",)},
                            {"missingness": {"delivery_date": 0.08}}),
    "real_estate_listings": ({"listing_id": ("integer",), "address": ("string",), "price": ("float", True, 1e4, 1e7),
                              "bedrooms": ("integer", True, 0, 10), "listing_date": ("datetime",)},
                             {"missingness": {"bedrooms": 0.09}}),
    "retail_sales": ({"sale_id": ("integer",), "store_id": ("integer",), "product_id": ("integer",),
                      "quantity": ("integer", True, 1, 20), "sale_amount": ("float", NN, 0.5, 500),
                      "sale_date": ("datetime",)}, {"missingness": {"sale_amount": 0.05}}),
    "social_media_posts": ({"post_id": ("integer",), "user_id": ("integer",), "post_time": ("datetime",),
                            "content": ("string",), "likes": ("integer", True, 0)}, {"missingness": {"likes": 0.1}}),
}
CONFLICTS = {"market_time_series": {"price", "volume"}, "retail_sales": {"sale_amount"}}  # NN + missingness
KEYS = {"finance_transactions": "transaction_id", "saas_events": "event_id", "ecommerce_orders": "order_id",
        "education_assessments": "assessment_id", "healthcare_patients": "patient_id", "insurance_claims": "claim_id",
        "logistics_shipments": "shipment_id", "real_estate_listings": "listing_id", "retail_sales": "sale_id",
        "social_media_posts": "post_id"}


def unpack(column: tuple) -> tuple[str, bool, float | None, float | None]:
    """(type, nullable, min, max) of a column of PLATFORM_DATASETS."""
    folder_type, nullable, lo, hi = (*column, True, None, None)[:4] if len(column) == 1 else (*column, None, None)[:4]
    return folder_type, nullable, lo, hi


def platform_folder(root: Path, name: str, rows: int, nullable_conflicts: bool = True) -> Path:
    columns, evolution = PLATFORM_DATASETS[name]
    schema = {}
    for column, value in columns.items():
        folder_type, nullable, lo, hi = unpack(value)
        if not nullable_conflicts and column in CONFLICTS.get(name, ()):
            nullable = True
        spec = {"type": folder_type, "nullable": nullable}
        bounds = {k: v for k, v in (("min", lo), ("max", hi)) if v is not None}
        if bounds:
            spec["constraints"] = bounds
        schema[column] = spec
    folder = root / name
    folder.mkdir(parents=True)
    dump = yaml.safe_dump
    (folder / "dataset.yaml").write_text(dump({"name": name, "domain": name.split("_")[0], "row_count": rows}))
    (folder / "schema.yaml").write_text(dump({"schema_version": 1.0, "columns": schema}, sort_keys=False))
    (folder / "evolution.yaml").write_text(dump(evolution))
    return folder


@pytest.mark.parametrize("name", sorted(PLATFORM_DATASETS))
def test_every_config_folder_dataset_generates_valid_typed_data(name: str, tmp_path: Path) -> None:
    """The platform's own validation failed 11 of its 13 datasets; here all pass their constraints and types."""
    if name in CONFLICTS:
        found = problems_of(platform_folder(tmp_path / "as_shipped", name, 400))
        assert {path.split(".")[-1] for _, _, path, _ in found} == CONFLICTS[name]
    folder = platform_folder(tmp_path, name, 400, nullable_conflicts=False)
    result = library.generate(folder, tmp_path / "out")
    assert all(check.passed for check in result.checks)
    data = pq.read_table(result.tables[0].files["parquet"])
    columns, evolution = PLATFORM_DATASETS[name]
    assert data.num_rows == 400
    assert data.column_names == [*columns, "synthetic_source"]
    expected = {"integer": "int64", "float": "double", "string": "string", "boolean": "bool",
                "datetime": "timestamp[ms]"}
    assert {c: str(data.schema.field(c).type) for c in columns} == {c: expected[v[0]] for c, v in columns.items()}
    for column, ratio in evolution.get("missingness", {}).items():
        assert data[column].null_count == round(ratio * 400), column
    for column, value in columns.items():
        _, _, lo, hi = unpack(value)
        values = [v for v in data[column].to_pylist() if v is not None]
        assert lo is None or min(values) >= lo, column
        assert hi is None or max(values) <= hi, column
        if data.schema.field(column).type == "string":
            assert not any(str(v).startswith("val_") for v in data[column].to_pylist()), column
    assert load_spec(folder).spec.tables[name].primary_key == KEYS.get(name)


def test_delivery_follows_shipping(tmp_path: Path) -> None:
    folder = platform_folder(tmp_path, "logistics_shipments", 500)
    data = library.table(folder, "logistics_shipments").to_pydict()
    pairs = [(s, d) for s, d in zip(data["ship_date"], data["delivery_date"], strict=True) if d is not None]
    assert len(pairs) == 460
    assert all(s.date() < d.date() <= s.date() + dt.timedelta(days=14) or d.date() == dt.date(2026, 1, 1)
               for s, d in pairs)


# ---- the command line ------------------------------------------------------------------------------------


def test_cli_generates_from_a_folder(tmp_path: Path) -> None:
    folder = shutil.copytree(FINANCE, tmp_path / "finance_transactions")
    runner = CliRunner()
    check = runner.invoke(cli, ["spec", "check", str(folder)])
    assert check.exit_code == 0, check.output
    assert check.output.startswith("ok: finance_transactions")
    result = runner.invoke(cli, ["generate", str(folder), "--out", str(tmp_path / "out"), "--quiet",
                                 "--rows", "finance_transactions=300"])
    assert result.exit_code == 0, result.output
    table = pq.read_table(tmp_path / "out" / "finance_transactions.parquet")
    assert table.num_rows == 300
    assert pc.sum(table["is_fraud"]).as_py() == 6


def test_cli_reports_a_broken_folder_with_exit_code_2() -> None:
    result = CliRunner().invoke(cli, ["spec", "check", str(BROKEN)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: 8 problems in spec:\n")
    assert f"{BROKEN / 'evolution.yaml'}:5: missingness.claim_typo:" in result.stderr


def test_docs_show_the_real_output_for_the_broken_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(__file__).resolve().parent.parent
    text = (root / "docs" / "spec.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Config folders\n"):]
    command = "$ esdh spec check tests/fixtures/config_folders/broken\n"
    shown = section[section.index(command) + len(command):].split("```", 1)[0]
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["spec", "check", "tests/fixtures/config_folders/broken"])
    assert result.stderr == shown


def test_edge_cases_tiny_tables_datetime_bounds_and_fractional_integer_bounds(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tiny", "name: tiny_events\nrow_count: 3\n", """\
        columns:
          event_id: {type: string, nullable: false}
          account_id: {type: integer}
          fraud: {type: integer}
          created_at: {type: datetime, constraints: {min: 2024-01-01, max: "2024-06-30"}}
          resolved_at: {type: datetime}
          qty: {type: integer, constraints: {min: 0.5, max: 3.5}}
        """, "fraud: {rate: 0.5}\n")
    result = library.generate(folder, tmp_path / "out", rows={"tiny_events": 2000})  # the platform crashed below 10
    assert all(check.passed for check in result.checks)
    data = pq.read_table(result.tables[0].files["parquet"]).to_pydict()
    assert data["event_id"][:3] == ["1", "2", "3"]
    assert set(data["account_id"]) == {100000}  # pools are sized from row_count
    assert sum(data["fraud"]) == 1000
    assert dt.datetime(2024, 1, 1) <= min(data["created_at"]) and max(data["created_at"]) < dt.datetime(2024, 6, 30)
    assert all(c < r for c, r in zip(data["created_at"], data["resolved_at"], strict=True))
    assert set(data["qty"]) <= {1, 2, 3}
    (folder / "schema.yaml").write_text("columns:\n  weird: {type: integer, constraints: {min: 0.2, max: 0.8}}\n",
                                        encoding="utf-8")
    assert problems_of(folder) == [("schema.yaml", 2, "columns.weird", "no whole number lies within [0.2, 0.8]")]
