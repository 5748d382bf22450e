"""Bad input gets a clear message (file, line, path, hint), a non-zero exit and no files left behind."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli
from esdh.errors import SpecError

HEADER = "dataset: bad\nversion: 1.0.0\nseed: 1\nas_of: 2026-01-01\ntables:\n"


def _spec(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(HEADER + textwrap.indent(textwrap.dedent(body), "  "), encoding="utf-8")
    return path


def _generate(runner: CliRunner, spec: Path, out: Path) -> tuple[int, str]:
    result = runner.invoke(cli, ["generate", str(spec), "--out", str(out), "-q"])
    return result.exit_code, result.output


CASES = {
    "unknown_generator": (
        """\
          people:
            rows: 10
            columns:
              person_id: {generator: uuidd}
        """,
        ["bad.yaml:9:", "tables.people.columns.person_id.generator", "unknown generator 'uuidd'",
         "did you mean 'uuid'?"]),
    "wrong_parameter_type": (
        """\
          people:
            rows: 10
            columns:
              age: {generator: normal, mean: forty}
        """,
        ["bad.yaml:9:", "tables.people.columns.age.mean", "valid number", "'forty'"]),
    "boolean_for_a_number": (
        """\
          people:
            rows: 10
            columns:
              age: {generator: uniform_int, min: true, max: 90}
        """,
        ["tables.people.columns.age.min", "valid integer", "got True", "not true/false"]),
    "boolean_null_rate": (
        """\
          people:
            rows: 10
            columns:
              age: {generator: uniform_int, null_rate: true}
        """,
        ["tables.people.columns.age.null_rate", "got True"]),
    "zero_rows": (
        """\
          people:
            rows: 0
            columns:
              id: {generator: uuid}
        """,
        ["bad.yaml:7:", "tables.people.rows", "rows must be at least 1, got 0"]),
    "negative_rows": (
        """\
          people:
            rows: -5
            columns:
              id: {generator: uuid}
        """,
        ["tables.people.rows", "at least 1, got -5"]),
    "foreign_key_to_unknown_table": (
        """\
          people:
            rows: 10
            columns:
              id: {generator: uuid}
          cars:
            rows: 10
            columns:
              owner: {ref: peeple.id}
        """,
        ["bad.yaml:13:", "tables.cars.columns.owner.ref", "unknown table 'peeple'", "did you mean 'people'?"]),
    "foreign_key_to_unknown_column": (
        """\
          people:
            rows: 10
            columns:
              id: {generator: uuid}
          cars:
            rows: 10
            columns:
              owner: {ref: people.person_id}
        """,
        ["tables.cars.columns.owner.ref", "table 'people' has no column 'person_id'"]),
    "cycle_of_foreign_keys": (
        """\
          a:
            rows: 10
            columns:
              id: {generator: uuid}
              b_id: {ref: b.id}
          b:
            rows: 10
            columns:
              id: {generator: uuid}
              a_id: {ref: a.id}
        """,
        ["tables depend on each other in a cycle: a -> b -> a"]),
    "uniqueness_beyond_the_vocabulary": (
        """\
          people:
            rows: 500
            columns:
              code: {generator: pattern, pattern: "X##", unique: true}
        """,
        ["bad.yaml:9:", "tables.people.columns.code", "cannot be unique", "100 distinct values",
         "500 rows"]),
    "uniqueness_a_generator_cannot_give": (
        """\
          people:
            rows: 5
            columns:
              colour: {generator: choice, values: [red, blue], unique: true}
        """,
        ["tables.people.columns.colour.unique", "cannot guarantee unique values"]),
    "unknown_parameter": (
        """\
          people:
            rows: 5
            columns:
              age: {generator: normal, mean: 40, null_rat: 0.1}
        """,
        ["tables.people.columns.age.null_rat", "unknown parameter 'null_rat'", "did you mean 'null_rate'?"]),
    "expression_that_is_not_allowed": (
        """\
          people:
            rows: 5
            columns:
              x: {expr: "__import__('os').system('true')"}
        """,
        ["tables.people.columns.x.expr", "only named functions can be called"]),
    "expression_attribute_access": (
        """\
          people:
            rows: 5
            columns:
              y: {generator: uniform}
              x: {expr: "y.__class__"}
        """,
        ["tables.people.columns.x.expr", "'y.__class__' is not allowed in an expression"]),
    "expression_unknown_function": (
        """\
          people:
            rows: 5
            columns:
              x: {expr: "__import__('os')"}
        """,
        ["tables.people.columns.x.expr", "unknown function '__import__'"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_spec_gives_a_clear_error_and_writes_nothing(case: str, tmp_path: Path, runner: CliRunner) -> None:
    body, expected = CASES[case]
    spec = _spec(tmp_path, body)
    out = tmp_path / "out"
    code, output = _generate(runner, spec, out)
    assert code == 2, output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    assert "Traceback" not in output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    spec = _spec(tmp_path, """\
          people:
            rows: 0
            columns:
              id: {generator: uuidd}
              age: {generator: normal, std: -1}
              car: {ref: cars.id}
              full: {expr: "concat(first, ' ', last"}
        """)
    with pytest.raises(SpecError) as caught:
        library.load(spec)
    paths = [p.path for p in caught.value.problems]
    assert paths == ["tables.people.rows", "tables.people.columns.id.generator", "tables.people.columns.age.std",
                     "tables.people.columns.car.ref", "tables.people.columns.full.expr"]
    assert [p.line for p in caught.value.problems] == [7, 9, 10, 11, 12]
    assert all(p.file == str(spec) for p in caught.value.problems)


def test_yaml_syntax_error_names_the_line(tmp_path: Path, runner: CliRunner) -> None:
    spec = _spec(tmp_path, "  people:\n    rows: [1, 2\n    columns: {}\n")
    result = runner.invoke(cli, ["spec", "check", str(spec)])
    assert result.exit_code == 2
    assert "YAML syntax error" in result.output and "bad.yaml:" in result.output


def test_missing_keys_and_unknown_top_level_keys(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("dataset: x\ntabels: {}\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        library.load(path)
    text = str(caught.value)
    assert "missing required key 'as_of'" in text
    assert "unknown key 'tabels'" in text and "did you mean 'tables'?" in text


def test_output_folder_holding_another_dataset_is_refused(tmp_path: Path, small_spec: Path,
                                                          runner: CliRunner) -> None:
    out = tmp_path / "out"
    first = runner.invoke(cli, ["generate", "insurance", "--out", str(out), "-q"])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = runner.invoke(cli, ["generate", str(small_spec), "--out", str(out), "-q"])
    assert result.exit_code == 3
    assert "already holds the dataset 'insurance', not 'shop'" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "shop.yaml"]


def test_folder_with_foreign_files_is_never_overwritten(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = runner.invoke(cli, ["generate", "insurance", "--out", str(out), "-q"])
    assert result.exit_code == 3
    assert "holds no ESDH output" in result.output
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_same_dataset_is_replaced_atomically(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "out"
    assert runner.invoke(cli, ["generate", "insurance", "--out", str(out), "-q", "--seed", "1"]).exit_code == 0
    assert runner.invoke(cli, ["generate", "insurance", "--out", str(out), "-q", "--seed", "2"]).exit_code == 0
    manifest = json.loads((out / "datapackage.json").read_text())
    assert manifest["esdh"]["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failure_midway_keeps_the_earlier_output_and_can_be_resumed(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    library.generate("insurance", out, seed=1)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    from esdh.output import partition

    original = partition.write_partition

    def exploding(plan, part, *args, **kwargs):
        if part.table == "policies":
            raise RuntimeError("disk on fire")
        return original(plan, part, *args, **kwargs)

    monkeypatch.setattr(partition, "write_partition", exploding)
    with pytest.raises(RuntimeError, match="disk on fire"):
        library.generate("insurance", out, seed=2)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # the interrupted run is kept aside (hidden) for --resume, and nothing else
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.esdh-partial", "out"]
    monkeypatch.setattr(partition, "write_partition", original)
    resumed = library.generate("insurance", out, seed=2, resume=True)
    assert resumed.resumed
    fresh = library.generate("insurance", tmp_path / "fresh", seed=2)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "lineage_events.json"} == \
        {p.name: p.read_bytes() for p in fresh.folder.iterdir() if p.name != "lineage_events.json"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "out"]


def test_a_new_run_without_resume_starts_over(tmp_path: Path, monkeypatch) -> None:
    from esdh.output import partition

    def exploding(plan, part, *args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(partition, "write_partition", exploding)
    with pytest.raises(RuntimeError):
        library.generate("insurance", tmp_path / "out", seed=2)
    monkeypatch.undo()
    result = library.generate("insurance", tmp_path / "out", seed=3)
    assert not result.resumed and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(("args", "message"), [
    (["--rows", "persons=0"], "rows must be a positive whole number"),
    (["--rows", "vehicles=10"], "has rows per 'persons'"),
    (["--rows", "persns=10"], "did you mean 'persons'?"),
    (["--rows", "persons"], "is not TABLE=N"),
    (["--tables", "claimz"], "did you mean 'claims'?"),
    (["--format", "xlsx"], "unknown format(s) xlsx"),
    (["--seed", "1", "--randomize"], "not both"),
    (["--scale", "0"], "'--scale': 0 is out of range: it must be above 0"),
])
def test_bad_generate_options(tmp_path: Path, runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["generate", "insurance", "--out", str(tmp_path / "o"), "-q", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "o").exists()


def test_unknown_dataset_name_suggests_a_pack(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["generate", "insurence", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "did you mean 'insurance'?" in result.output


def test_a_spec_without_tables_is_refused(tmp_path: Path, runner: CliRunner) -> None:
    """`tables: {}` used to pass `spec check` and generate an output of nothing (exit 0)."""
    spec = tmp_path / "empty.yaml"
    spec.write_text("dataset: x\nas_of: 2026-01-01\ntables: {}\n", encoding="utf-8")
    for args in (["spec", "check", str(spec)], ["generate", str(spec), "--out", str(tmp_path / "out")]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert "empty.yaml:3: tables: Dictionary should have at least 1 item" in result.output
    assert not (tmp_path / "out").exists()
