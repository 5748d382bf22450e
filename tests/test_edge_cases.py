"""Edge cases of the spec language that once failed or misbehaved."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli
from esdh.errors import EsdhError, SpecError


def spec(tables: str) -> str:
    return "dataset: edge\nseed: 5\nas_of: 2026-01-01\ntables:\n" + textwrap.indent(textwrap.dedent(tables), "  ")


def test_hidden_unique_column_generates(tmp_path: Path) -> None:
    text = spec("""\
        t:
          rows: 500
          columns:
            n: {generator: uniform_int, min: 1, max: 1000, unique: true, hidden: true}
            code: {expr: "concat('N', n)"}
        """)
    result = library.generate(text, tmp_path / "o")
    assert result.tables[0].rows == 500
    assert len(set(library.table(text, "t").column("code").to_pylist())) == 500


def test_driver_licence_unique_alone_is_refused_with_a_hint() -> None:
    with pytest.raises(SpecError, match=r"unique per state: declare unique: \[\[state_column"):
        library.load(spec("""\
            t:
              rows: 5
              columns:
                state: {generator: address, field: state}
                dl: {generator: driver_license, state_column: state, unique: true}
            """))


def test_vehicle_fields_other_than_vin_cannot_be_unique() -> None:
    with pytest.raises(SpecError, match="'vehicle' cannot guarantee unique values"):
        library.load(spec("t:\n  rows: 5\n  columns:\n    make: {generator: vehicle, field: make, unique: true}\n"))


def test_null_foreign_key_makes_lookups_null() -> None:
    text = spec("""\
        p:
          rows: 50
          columns:
            id: {generator: uuid}
            name: {generator: first_name}
        c:
          rows: 1000
          columns:
            p_id: {ref: p.id, null_rate: 0.3}
            p_name: {lookup: p.name}
        """)
    rows = library.table(text, "c").to_pylist()
    assert sum(r["p_id"] is None for r in rows) == 300
    assert all((r["p_id"] is None) == (r["p_name"] is None) for r in rows)


def test_composite_primary_key_does_not_force_each_column_unique(tmp_path: Path) -> None:
    text = spec("""\
        t:
          rows: 100
          primary_key: [region, num]
          columns:
            region: {generator: sequence}
            num: {generator: uniform_int, min: 1, max: 60}
        """)
    assert library.generate(text, tmp_path / "o").tables[0].rows == 100


def test_business_hours_hold_when_bounds_come_from_columns() -> None:
    text = spec("""\
        t:
          rows: 5000
          columns:
            start: {generator: date, min: -2y, max: -1y}
            seen: {generator: timestamp, min: start, max: "add_days(start, 30)", business_hours: true}
            sale: {generator: date, min: start, max: "add_days(start, 400)", month_weights: [0,0,0,0,0,0,0,0,0,0,0,1]}
        """)
    for row in library.table(text, "t").to_pylist():
        assert row["seen"].weekday() < 5 and 9 <= row["seen"].hour < 17
        assert row["start"] <= row["seen"].date()
        assert row["sale"].month == 12


def test_boolean_case_keys_match_boolean_columns() -> None:
    text = spec("""\
        t:
          rows: 2000
          columns:
            vip: {generator: flag, rate: 0.5}
            tier:
              generator: choice
              values: [none]
              when: vip
              cases:
                true: {values: [gold]}
                false: {values: [basic]}
        """)
    rows = library.table(text, "t").to_pylist()
    assert all(r["tier"] == ("gold" if r["vip"] else "basic") for r in rows)


def test_literal_only_arguments_give_a_clear_error(tmp_path: Path) -> None:
    text = spec("t:\n  rows: 3\n  columns:\n    n: {generator: uniform_int}\n    s: {expr: \"substr('abc', n)\"}\n")
    result = CliRunner().invoke(cli, ["generate", _write(tmp_path, text), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "substr(): start must be a literal value, not a column" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "edge.yaml"
    path.write_text(text)
    return str(path)


def test_declared_type_that_does_not_fit_is_a_clear_error() -> None:
    text = spec("t:\n  rows: 10\n  columns:\n    x: {generator: uniform, min: 0, max: 1, type: integer}\n")
    with pytest.raises(EsdhError, match="do not fit the declared type integer"):
        library.table(text, "t")


def test_weighted_choice_needs_numbers() -> None:
    text = spec("""\
        p:
          rows: 5
          columns:
            id: {generator: uuid}
            w: {value: heavy}
        c:
          rows: 10
          columns:
            p_id: {ref: p.id, choose: weighted, weight_by: w}
        """)
    with pytest.raises(EsdhError, match="weighted needs a numeric weight_by column"):
        library.table(text, "c")


def test_empirical_child_counts() -> None:
    text = spec("""\
        p:
          rows: 2000
          columns: {id: {generator: uuid}}
        c:
          rows: {per: p, count: {distribution: empirical, edges: [0, 1.5, 4.5], weights: [1, 1], min: 1, max: 4}}
          columns: {p_id: {ref: p.id}}
        """)
    counts = library.table(text, "c").group_by("p_id").aggregate([("p_id", "count")]).column(1).to_pylist()
    assert min(counts) >= 1 and max(counts) <= 4
    assert 1.9 < sum(counts) / 2000 < 2.1  # half round to 1, half to 2, 3 or 4 (mean 3): 2.0


def test_long_unique_patterns() -> None:
    text = spec("t:\n  rows: 20000\n  columns:\n    code: {generator: pattern, pattern: \"#########################\","
                " unique: true}\n")
    codes = library.table(text, "t").column("code").to_pylist()
    assert len(set(codes)) == 20000 and all(len(c) == 25 for c in codes)


def test_null_date_bound_gives_a_null_date_and_checks_on_hidden_columns_hold(tmp_path: Path) -> None:
    text = spec("""\
        t:
          rows: 1000
          columns:
            start: {generator: date, min: -1y, null_rate: 0.25}
            end: {generator: date, min: start, max: "add_days(start, 10)"}
            secret: {generator: uniform_int, min: 1, max: 9, hidden: true, check: {max: 5}}
        """)
    rows = library.table(text, "t").to_pylist()
    assert all((r["start"] is None) == (r["end"] is None) for r in rows)
    from esdh.checks.results import CheckFailed

    with pytest.raises(CheckFailed, match=r"t.secret: max"):
        library.generate(text, tmp_path / "o")
    assert not (tmp_path / "o").exists()
