"""Checks a generator implies (quality/implied.py): what generated data always satisfies, so that validation
holds other data to it: a choice's values, uniform_int's and a truncated distribution's range, a date range
fixed relative to as_of. Generation checks the same bounds, on every row of every pack (test_validate)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from esdh import library
from esdh.checks.implied import effective_check, implied
from esdh.quality.validate import validate_data

SPEC = """
spec_version: 1
dataset: bounds
version: 1.0.0
as_of: 2026-01-01
seed: 3
tables:
  items:
    rows: 5000
    primary_key: item_id
    columns:
      item_id: {generator: sequence}
      colour: {generator: choice, values: {red: 5, green: 3, blue: 1}}
      size: {generator: choice, values: [1, 2, 3], when: colour, cases: {blue: {values: [4]}}}
      count: {generator: uniform_int, min: 3, max: 9}
      weight: {generator: normal, mean: 10, std: 4, min: 0.155, max: 20.004, round: 2}
      share: {generator: beta, a: 2, b: 5, low: 0, high: 0.5}
      waves: {generator: poisson, lam: 3, min: 1.5, max: 8.5}
      year: {generator: normal, mean: 1990.4, std: 10, min: 1950.5, max: 2020.5, round: 0, type: integer}
      label: {generator: uniform_int, min: 1, max: 9, type: string}
      bought: {generator: date, min: -18m, max: as_of}
      fixed: {generator: date, min: 2020-02-01, max: 2020-03-31}
      seen: {generator: timestamp, min: -7d, max: -1d}
      after: {generator: date, min: bought, max: as_of}
      capped: {generator: uniform_int, min: 0, max: 100, check: {max: 50}}
      secret: {generator: uniform_int, min: 0, max: 9, hidden: true}
      uses_secret: {expr: secret + 1}
"""


@pytest.fixture(scope="module")
def dataset():
    return library.load(SPEC)


def bounds(dataset, column: str) -> dict:
    return implied(dataset.tables["items"].columns[column], dataset.spec.as_of)


def test_each_generator_implies_what_it_guarantees(dataset) -> None:
    assert bounds(dataset, "colour") == {"enum": ["red", "green", "blue"]}
    assert bounds(dataset, "size") == {"enum": [1, 2, 3, 4]}  # conditional cases add their values
    assert bounds(dataset, "count") == {"min": 3, "max": 9}
    assert bounds(dataset, "weight") == {"min": 0.15, "max": 20.01}  # outward to the rounding: 0.155 -> 0.15
    assert bounds(dataset, "share") == {"min": 0, "max": 0.5}  # beta's low and high
    assert bounds(dataset, "waves") == {"min": 2, "max": 8}  # a discrete distribution: whole bounds inward
    assert bounds(dataset, "year") == {"min": 1950, "max": 2021}  # cast to integer: whole bounds outward
    assert bounds(dataset, "label") == {}  # cast to text: numbers no longer compare as numbers
    assert bounds(dataset, "bought") == {"min": dt.date(2024, 7, 1), "max": dt.date(2026, 1, 1)}
    assert bounds(dataset, "fixed") == {"min": dt.date(2020, 2, 1), "max": dt.date(2020, 3, 31)}
    assert bounds(dataset, "seen") == {"min": dt.date(2025, 12, 25), "max": dt.datetime(2025, 12, 31, 23, 59, 59)}
    assert bounds(dataset, "after") == {"max": dt.date(2026, 1, 1)}  # a bound read from a column: per row
    assert bounds(dataset, "secret") == {}  # hidden: never written, nothing to hold data to
    assert bounds(dataset, "item_id") == {}


def test_a_declared_check_wins_field_by_field(dataset) -> None:
    check = effective_check(dataset.tables["items"].columns["capped"], dataset.spec.as_of)
    assert (check.min, check.max) == (0, 50)
    # as_of moves offsets: bounds are computed for the plan's as_of
    assert implied(dataset.tables["items"].columns["bought"], dt.date(2030, 6, 15))["min"] == dt.date(2028, 12, 15)


def test_generation_honours_every_implied_bound(dataset, tmp_path: Path) -> None:
    """With capped's declared max below its generator's, generation fails that check and no other."""
    result = library.generate(dataset, tmp_path / "out", check=False)
    report = validate_data(tmp_path / "out", dataset)
    failed = {(c.column, c.check) for c in report.checks if c.failed}
    assert failed == {("capped", "max")}
    evaluated = {(c.column, c.check) for c in report.checks}
    assert {("colour", "enum"), ("size", "enum"), ("count", "max"), ("weight", "min"), ("seen", "max"),
            ("bought", "min"), ("year", "min")} <= evaluated
    assert ("after", "max") in evaluated and ("after", "min") not in evaluated
    assert not any(column in ("label", "secret") and check in ("min", "max", "enum") for column, check in evaluated)
    seen = pq.read_table(tmp_path / "out" / "items.parquet", columns=["seen"])["seen"]
    assert pc.max(seen).as_py() > dt.datetime(2025, 12, 31)  # the last day's afternoons are inside the bound
    assert result.plan.rows["items"] == 5000


def test_external_data_outside_the_generator_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "insurance"
    library.generate("insurance", folder, rows={"persons": 300})
    claims = pq.read_table(folder / "claims.parquet")
    status = claims["status"].to_pylist()
    status[4] = "Lost in the post"
    claims = claims.set_column(claims.schema.get_field_index("status"), "status", pa.array(status))
    pq.write_table(claims, folder / "claims.parquet")
    policies = pq.read_table(folder / "policies.parquet")
    effective = policies["effective_date"].to_pylist()
    effective[7] = dt.date(2019, 5, 1)  # the spec makes policies from 18 months before as_of
    policies = policies.set_column(policies.schema.get_field_index("effective_date"), "effective_date",
                                   pa.array(effective, pa.date32()))
    pq.write_table(policies, folder / "policies.parquet")
    report = validate_data(folder, library.load("insurance"))
    failed = {(c.table, c.column, c.check): c for c in report.checks if c.failed}
    assert failed["claims", "status", "enum"].samples == [{"row": 4, "value": "Lost in the post"}]
    assert failed["policies", "effective_date", "min"].samples == [{"row": 7, "value": "2019-05-01"}]
    assert not report.ok
    # the report says what was expected, and that the spec's generator, not a check: block, implies it
    status = failed["claims", "status", "enum"].as_dict()
    assert (status["expected"], status["implied"]) == (["Open", "Closed", "Denied", "Under Review"], True)
    assert (failed["policies", "effective_date", "min"].as_dict()["expected"]) == "2024-07-01"
    declared = next(c for c in report.checks if (c.table, c.column, c.check) == ("persons", "date_of_birth", "max"))
    assert (declared.as_dict()["expected"], declared.as_dict()["implied"]) == ("2010-01-01", False)
    assert ("claims.status: enum (one of ['Open', 'Closed', 'Denied', 'Under Review'], implied by the generator): "
            "1 of") in report.text()
    report.write(tmp_path / "report")
    page = (tmp_path / "report" / "validation.html").read_text(encoding="utf-8")
    assert "(at least 2024-07-01, implied by the generator)" in page


def test_generation_failure_names_the_bound(tmp_path: Path) -> None:
    from esdh.checks.results import CheckFailed

    spec = SPEC.replace("capped: {generator: uniform_int, min: 0, max: 100, check: {max: 50}}",
                        "capped: {generator: uniform_int, min: 0, max: 100, check: {max: 50}}\n"
                        "      worded: {generator: choice, values: [a, b], check: {enum: [a]}}")
    with pytest.raises(CheckFailed) as failed:
        library.generate(library.load(spec), tmp_path / "out", rows={"items": 500})
    message = str(failed.value)
    assert "items.capped: max (at most 50): " in message and "items.worded: enum (one of ['a']): " in message
