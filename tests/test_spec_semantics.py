"""A spec that generate would refuse, or that would generate nonsense, is refused by `esdh spec check` with one
located error (file:line, path, hint) and exit code 2, never a traceback (issue 13, point 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from esdh.cli.main import cli
from esdh.errors import SpecError

HEAD = "dataset: t\nas_of: 2024-01-01\ntables:\n"  # the spec's tables start on line 4
PEOPLE = """\
  people:
    rows: 10
    primary_key: id
    columns:
      id: {generator: sequence}
"""

# case -> (spec after HEAD, the line the error names, the words the message holds)
CASES: dict[str, tuple[str, int, list[str]]] = {
    "nan_parameter": (PEOPLE + "      x: {generator: normal, mean: .nan}\n", 9,
                      ["tables.people.columns.x.mean", "must be a finite number", "hint: write a plain number"]),
    "infinite_parameter": (PEOPLE + "      x: {generator: uniform, min: 0, max: .inf}\n", 9,
                           ["tables.people.columns.x.max", "not .nan or .inf"]),
    "int_beyond_int64": (PEOPLE + "      x: {generator: uniform_int, min: 0, max: 100000000000000000000}\n", 9,
                         ["tables.people.columns.x.max", "beyond the whole numbers"]),
    "weights_nan": (PEOPLE + "      x: {generator: choice, values: [a, b], weights: [.nan, 1]}\n", 9,
                    ["tables.people.columns.x.weights", "finite"]),
    "weights_negative": (PEOPLE + "      x: {generator: choice, values: [a, b], weights: [-1, 2]}\n", 9,
                         ["tables.people.columns.x.weights", "must not be negative", "hint: give every value"]),
    "weights_all_zero": (PEOPLE + "      x: {generator: choice, values: [a, b], weights: [0, 0]}\n", 9,
                         ["tables.people.columns.x.weights", "must not all be zero"]),
    "weights_length": (PEOPLE + "      x: {generator: choice, values: [a, b], weights: [1]}\n", 9,
                       ["tables.people.columns.x", "weights has 1 entries but values has 2"]),
    "count_weights_negative": (PEOPLE + "  kids:\n    rows: {per: people, count: {distribution: weights, "
                               "weights: [-1, 2], min: 0, max: 1}}\n    columns:\n      k: {value: 1}\n", 10,
                               ["tables.kids.rows.count.weights", "must not be negative"]),
    "numeric_range_inverted": (PEOPLE + "      x: {generator: uniform, min: 5, max: 1}\n", 9,
                               ["tables.people.columns.x", "min (5.0) is greater than max (1.0)", "hint: swap"]),
    "date_range_inverted": (PEOPLE + "      d: {generator: date, min: 2024-01-01, max: 2020-01-01}\n", 9,
                            ["tables.people.columns.d", "min (2024-01-01) is after max (2020-01-01)",
                             "hint: swap min and max"]),
    "date_outside_calendar": (PEOPLE + "      d: {generator: date, min: '-99999y'}\n", 9,
                              ["tables.people.columns.d", "outside the calendar"]),
    "check_min_over_max": (PEOPLE + "      x: {generator: uniform_int, min: 1, max: 4, check: {min: 5, max: 1}}\n",
                           9, ["tables.people.columns.x.check.min", "no value can pass", "hint: swap min and max"]),
    "check_lengths_inverted": (PEOPLE + "      x: {value: a, check: {min_length: 5, max_length: 1}}\n", 9,
                               ["check.min_length", "min_length (5) is greater than max_length (1)"]),
    "check_nan_bound": (PEOPLE + "      x: {generator: uniform_int, check: {min: .nan}}\n", 9,
                        ["tables.people.columns.x.check.min", "finite"]),
    "check_pattern_not_re2": (PEOPLE + "      x: {value: a, check: {pattern: 'a(?=b)'}}\n", 9,
                              ["tables.people.columns.x.check.pattern", "invalid regular expression",
                               "hint: patterns use RE2 syntax"]),
    "matches_bad_regex": (PEOPLE + "      x: {value: a}\n    rules:\n      - {name: r, check: \"matches(x, 'a(')\"}\n",
                          11, ["tables.people.rules[0].check", "matches(): invalid regular expression 'a('"]),
    "primary_key_repeated": (PEOPLE.replace("primary_key: id", "primary_key: [id, id]"), 6,
                             ["tables.people.primary_key", "names column 'id' more than once",
                              "hint: list each column of a key once"]),
    "primary_key_missing_column": (PEOPLE.replace("primary_key: id", "primary_key: [idd]"), 6,
                                   ["tables.people.primary_key", "primary key column 'idd' is not a column",
                                    "did you mean 'id'?"]),
    "weight_by_with_distinct": (PEOPLE + "      w: {generator: uniform_int, min: 1, max: 5}\n  orders:\n    rows: 3\n"
                                "    primary_key: id\n    columns:\n      id: {generator: sequence}\n  lines:\n"
                                "    rows: {per: orders, count: 2}\n    columns:\n      o: {ref: orders.id}\n"
                                "      p: {ref: people.id, choose: distinct, weight_by: w}\n", 19,
                                ["tables.lines.columns.p.weight_by", "weight_by has no effect with choose: distinct",
                                 "hint: remove weight_by"]),
    "weight_by_text": (PEOPLE + "      w: {generator: choice, values: [a, b]}\n  orders:\n    rows: 3\n    columns:\n"
                       "      p: {ref: people.id, choose: weighted, weight_by: w}\n", 13,
                       ["tables.orders.columns.p.weight_by", "needs a numeric weight_by column"]),
    "weight_by_negative": (PEOPLE + "      w: {generator: uniform_int, min: -5, max: 5}\n  orders:\n    rows: 3\n"
                           "    columns:\n      p: {ref: people.id, choose: weighted, weight_by: w}\n", 13,
                           ["tables.orders.columns.p.weight_by", "can be negative (down to -5)"]),
    "choice_text_as_integer": (PEOPLE + "      x: {generator: choice, values: {'1': 1, x: 1}, type: integer}\n", 9,
                               ["tables.people.columns.x.type", "values such as 'x'",
                                "do not fit the declared type integer", "hint: change the type"]),
    "float_as_integer": (PEOPLE + "      x: {generator: normal, type: integer}\n", 9,
                         ["tables.people.columns.x.type", "do not fit the declared type integer", "round: 0"]),
    "lookup_of_a_date_as_integer": (PEOPLE + "      d: {generator: date}\n  cars:\n    rows: 3\n    columns:\n"
                                    "      o: {ref: people.id}\n      d: {lookup: people.d, type: integer}\n", 14,
                                    ["tables.cars.columns.d.type", "values of type date32[day] (copied from d)"]),
    "aggregate_of_a_date_as_boolean": (PEOPLE + "      last: {aggregate: last, of: visits.day, type: boolean}\n"
                                       "  visits:\n    rows: {per: people, count: 2}\n    columns:\n"
                                       "      day: {generator: date}\n", 9,
                                       ["tables.people.columns.last.type", "(copied from day)",
                                        "do not fit the declared type boolean"]),
    "unknown_table_lists_tables": (PEOPLE + "  cars:\n    rows: 3\n    columns:\n      o: {ref: peple.id}\n", 12,
                                   ["tables.cars.columns.o.ref", "unknown table 'peple'",
                                    "hint: did you mean 'people'? (tables: people, cars)"]),
    "two_way_reference": (PEOPLE + "      car: {ref: cars.id}\n  cars:\n    rows: 3\n    primary_key: id\n"
                          "    columns:\n      id: {generator: sequence}\n      owner: {ref: people.id}\n", 9,
                          ["tables.people.columns.car", "tables depend on each other in a cycle: people -> cars -> "
                           "people", "generated after the tables it reads", "hint: keep the foreign key on one side",
                           "link table"]),
    "version_empties_a_table": (PEOPLE + "versions:\n  '1.1.0':\n    changes:\n      tables.people.rows: 0\n", 12,
                                ["versions.1.1.0.changes.tables.people.rows", "version 1.1.0 makes "
                                 "tables.people.rows wrong: rows must be at least 1"]),
    "version_bad_type": (PEOPLE + "versions:\n  '1.1.0':\n    changes:\n      tables.people.columns.id.start: x\n",
                         12, ["versions.1.1.0.changes.tables.people.columns.id.start", "valid integer"]),
    "version_missing_table": (PEOPLE + "versions:\n  '1.1.0':\n    changes:\n      tables.peple.rows: 3\n", 12,
                              ["'tables.peple' does not exist in the spec", "did you mean 'people'?"]),
    "version_dangling_ref": (PEOPLE + "      x: {value: 1}\nversions:\n  '2.0.0':\n    changes:\n"
                             "      tables.people.columns.x: {ref: cars.id}\n", 13,
                             ["versions.2.0.0.changes.tables.people.columns.x", "unknown table 'cars'"]),
    "distinct_beyond_target_rows": (PEOPLE.replace("rows: 10", "rows: 2") + "  orders:\n    rows: 3\n"
                                    "    primary_key: id\n    columns:\n      id: {generator: sequence}\n"
                                    "  lines:\n    rows: {per: orders, count: 4}\n    columns:\n"
                                    "      o: {ref: orders.id}\n      p: {ref: people.id, choose: distinct}\n", 18,
                                    ["tables.lines.columns.p", "choose: distinct needs at most 2 rows per parent",
                                     "'orders' row has 4 children", "use --scale 1.8 or more",
                                     "--rows people=4"]),
    "reference_into_an_empty_table": (PEOPLE + "  kids:\n    rows: {per: people, count: 1, where: 'id > 100'}\n"
                                      "    primary_key: k\n    columns:\n      k: {generator: sequence}\n"
                                      "  toys:\n    rows: 3\n    columns:\n      kid: {ref: kids.k}\n", 17,
                                      ["tables.toys.columns.kid", "references 'kids', which has no rows in this plan",
                                       "loosen its where"]),
    "zipf_range_outside_ranks": (PEOPLE + "      x: {generator: zipf, n: 10, min: 20}\n", 9,
                                 ["tables.people.columns.x", "no rank 1..10", "hint: raise n"]),
    "sequence_overflows": (PEOPLE + "      x: {generator: sequence, start: 4611686018427387904, "
                           "step: 4611686018427387904}\n", 9, ["tables.people.columns.x", "beyond 64-bit integers"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_spec_check_refuses_with_one_located_error(name: str, tmp_path: Path) -> None:
    body, line, words = CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEAD + body)
    result = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert result.exit_code == SpecError.exit_code, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, AssertionError | TypeError)
    assert result.output.startswith("error: 1 problem in spec:"), result.output
    assert f"{path}:{line}: " in result.output, result.output
    for word in words:
        assert word in result.output, f"{word!r} not in {result.output}"


def test_tpch_at_a_tiny_scale_is_refused_by_plan_before_generate_prints(tmp_path: Path) -> None:
    for args in (["plan", "tpch", "--scale", "0.000001"],
                 ["generate", "tpch", "--scale", "0.000001", "--out", str(tmp_path / "o")]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == SpecError.exit_code, result.output
        assert "seed:" not in result.output and not (tmp_path / "o").exists()
        assert "tpch.yaml:555: tables.partsupp.columns.ps_suppkey: choose: distinct needs at most 1 rows per " \
               "parent" in result.output, result.output
        assert "use --scale 0.00035 or more" in result.output


def test_a_valid_version_still_loads_and_generates() -> None:
    from esdh import library

    text = HEAD + PEOPLE + "versions:\n  '1.1.0':\n    changes:\n      tables.people.rows: 4\n"
    assert library.table(text, "people", version="1.1.0").num_rows == 4
    assert library.table(text, "people").num_rows == 10


def test_spec_check_plans_every_declared_version(tmp_path: Path) -> None:
    """A version that leaves a `choose: distinct` fewer targets than it needs loads fine and fails only when
    planned: spec check plans each version, as generate --version would."""
    tables = ("  things:\n    rows: 10\n    primary_key: thing_id\n    columns:\n"
              "      thing_id: {generator: sequence}\n"
              "  kids:\n    rows: {per: people, count: 3}\n    columns:\n"
              "      pick: {ref: things.thing_id, choose: distinct}\n")
    spec = tmp_path / "s.yaml"
    spec.write_text(HEAD + PEOPLE + tables + "versions:\n  '1.1.0':\n    changes:\n      tables.things.rows: 2\n")
    result = CliRunner().invoke(cli, ["spec", "check", str(spec)])
    assert result.exit_code == 2, result.output
    assert "choose: distinct needs at most 2 rows per parent" in result.output
    spec.write_text(HEAD + PEOPLE + tables + "versions:\n  '1.1.0':\n    changes:\n      tables.things.rows: 5\n")
    assert CliRunner().invoke(cli, ["spec", "check", str(spec)]).exit_code == 0
