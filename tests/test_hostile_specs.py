"""Spec loading cannot be knocked over: hostile specs give one located error, never a traceback, a hang or a
RecursionError (issue 13, point 1). The corpus is tests/fixtures/hostile_specs/, one file per case."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esdh import library
from esdh.cli.main import cli
from esdh.errors import EsdhError, SpecError, UsageError

HOSTILE = Path(__file__).parent / "fixtures" / "hostile_specs"

# file -> (the line the error names, or None when no line is meaningful; words the message holds)
EXPECTED: dict[str, tuple[int | None, str]] = {
    "billion_laughs.yaml": (6, "YAML alias expansion limit is 100,000 nodes"),
    "recursive_alias.yaml": (10, "an alias refers to its own anchor"),
    "deep_nesting_flow.yaml": (10, "YAML nesting depth limit is 64 levels"),
    "deep_nesting_block.yaml": (70, "YAML nesting depth limit is 64 levels"),
    "not_utf8.yaml": (10, "not UTF-8: byte 0xe9 at byte offset 161"),
    "nul_byte.yaml": (10, "U+0000 (NUL) at column 23"),
    "control_character.yaml": (10, "U+001B (ESC) at column 23"),
    "complex_key_list.yaml": (10, "a key must be a plain word or number, not a list"),
    "complex_key_mapping.yaml": (10, "a key must be a plain word or number, not a mapping"),
    "mapping_where_scalar_belongs.yaml": (1, "dataset: Input should be a valid string"),
    "list_where_scalar_belongs.yaml": (7, "tables.people.rows: Input should be a valid integer"),
    "mapping_as_generator_name.yaml": (9, "person_id.generator: Input should be a valid string"),
    "duplicate_key.yaml": (10, "duplicate key 'person_id' (also on line 9)"),
    "yaml_syntax_error.yaml": (11, "YAML syntax error"),
    "empty.yaml": (1, "a spec must be a mapping"),
    "only_a_comment.yaml": (1, "a spec must be a mapping"),
    "top_level_list.yaml": (1, "a spec must be a mapping"),
    "top_level_scalar.yaml": (1, "a spec must be a mapping"),
    "tab_indentation.yaml": (10, "YAML does not allow tabs for indentation"),
    "undefined_alias.yaml": (10, "undefined alias 'nowhere'"),
    "python_object_tag.yaml": (10, "tables.people.columns.name"),
    "impossible_date.yaml": (4, "as_of: cannot read the value '2026-13-45'"),
    "expression_too_long.yaml": (10, "expression length limit is 10,000 characters"),
    "expression_deep_parentheses.yaml": (10, "too many nested parentheses"),
    "expression_unary_chain.yaml": (10, "expression nesting depth limit is 100 levels"),
    "expression_long_chain.yaml": (10, "expression nesting depth limit is 100 levels"),
    "expression_not_chain.yaml": (10, "expression nesting depth limit is 100 levels"),
    "rule_deep_and_chain.yaml": (11, "expression length limit is 10,000 characters"),
    "nan_parameter.yaml": (10, "tables.people.columns.height.mean: must be a finite number"),
    "version_breaks_the_spec.yaml": (13, "version 1.1.0 makes tables.people.rows wrong"),
}


def test_the_corpus_and_the_expectations_name_the_same_files() -> None:
    assert sorted(p.name for p in HOSTILE.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_hostile_spec_gives_one_located_error(name: str) -> None:
    line, words = EXPECTED[name]
    path = HOSTILE / name
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["spec", "check", str(path)])
    assert time.perf_counter() - started < 5, "a hostile spec must fail fast"
    assert result.exit_code == SpecError.exit_code, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, RecursionError | MemoryError)
    lines = result.output.splitlines()
    assert lines[0].startswith("error: ") and sum(x.startswith("error:") for x in lines) == 1, result.output
    assert f"{path}:{line}: " in result.output if line else str(path) in result.output, result.output
    assert words in result.output, result.output
    assert "1 problem in spec" in lines[0], result.output


def test_the_billion_laughs_fail_fast() -> None:
    started = time.perf_counter()
    with pytest.raises(SpecError, match="YAML alias expansion"):
        library.load(HOSTILE / "billion_laughs.yaml")
    assert time.perf_counter() - started < 2


def test_a_few_aliases_are_fine_and_the_alias_limit_can_be_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (HOSTILE / "billion_laughs.yaml").read_text(encoding="utf-8")
    short = "\n".join(line for line in text.splitlines() if not line.startswith(("lol5", "lol6", "lol7", "lol8",
                                                                                 "lol9")))
    with pytest.raises(SpecError) as caught:  # 9**5 = 59,049 copies, within the limit: read, then checked
        library.load(short)
    assert "unknown key 'lol4'" in str(caught.value) and "alias" not in str(caught.value)
    monkeypatch.setenv("ESDH_MAX_YAML_ALIAS_NODES", "1000")
    with pytest.raises(SpecError, match="ESDH_MAX_YAML_ALIAS_NODES"):
        library.load(short)


def test_the_size_limit_applies_to_files_and_text_and_can_be_raised(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "big.yaml"
    text = (HOSTILE / "duplicate_key.yaml").read_text(encoding="utf-8").rsplit("\n", 2)[0] + "\n"
    spec.write_text(text + "# " + "x" * 500 + "\n", encoding="utf-8")
    assert library.load(spec).spec.dataset == "hostile"
    monkeypatch.setenv("ESDH_MAX_SPEC_BYTES", "400")
    for source in (spec, spec.read_text(encoding="utf-8")):
        with pytest.raises(SpecError, match="spec file size limit is 400 bytes") as caught:
            library.load(source)
        assert "ESDH_MAX_SPEC_BYTES" in caught.value.problems[0].hint
    monkeypatch.setenv("ESDH_MAX_SPEC_BYTES", "many")
    with pytest.raises(UsageError, match="ESDH_MAX_SPEC_BYTES must be a whole number"):
        library.load(spec)


def test_the_expression_length_limit_can_be_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESDH_MAX_EXPRESSION_CHARS", "20000")
    with pytest.raises(SpecError, match="nesting depth limit") as caught:  # 1,200 terms: now too deep instead
        library.load(HOSTILE / "expression_too_long.yaml")
    assert "length limit" not in str(caught.value)


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    spec = tmp_path / "bom.yaml"
    text = (HOSTILE / "duplicate_key.yaml").read_text(encoding="utf-8").rsplit("\n", 2)[0] + "\n"
    spec.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert library.load(spec).spec.dataset == "hostile"


def test_a_folder_or_an_unreadable_file_is_a_located_error(tmp_path: Path) -> None:
    folder = tmp_path / "not_a_spec"
    folder.mkdir()
    with pytest.raises(SpecError, match=r"dataset\.yaml is missing"):
        library.load(folder)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return  # root reads any file
    spec = tmp_path / "secret.yaml"
    spec.write_text("dataset: x\n", encoding="utf-8")
    spec.chmod(0)
    with pytest.raises(SpecError, match="cannot read spec"):
        library.load(spec)


def test_a_config_folder_has_the_same_limits(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "dataset.yaml").write_text("name: laughs\nrow_count: 10\n", encoding="utf-8")
    (folder / "schema.yaml").write_bytes((HOSTILE / "billion_laughs.yaml").read_bytes())
    (folder / "evolution.yaml").write_bytes(b"fraud_rate: 0.1\x00\n")
    with pytest.raises(SpecError) as caught:
        library.load(folder)
    found = {(Path(p.file).name, p.line): p.message for p in caught.value.problems}
    assert any(k == ("schema.yaml", 6) and "alias expansion" in m for k, m in found.items()), found
    assert any(k == ("evolution.yaml", 1) and "U+0000" in m for k, m in found.items()), found


# -- property tests: the loader raises nothing but ESDH's own errors -------------------------------------

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


def _load(source: str) -> None:
    with contextlib.suppress(EsdhError):
        library.load(source if "\n" in source else source + "\n")  # text, never a name or a path


@SETTINGS
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_arbitrary_text_raises_only_esdh_errors(text: str) -> None:
    _load(text)


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.dates()
keys = st.sampled_from(["dataset", "version", "seed", "as_of", "tables", "rows", "per", "count", "columns",
                        "generator", "params", "expr", "value", "rules", "check", "name", "unique", "where",
                        "null_rate", "people", "orders", "id"]) | st.text(max_size=6)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner,
                                                                                              max_size=5),
                         max_leaves=30)
TEMPLATE = {"dataset": "x", "version": "1.0.0", "seed": 1, "as_of": "2026-01-01",
            "tables": {"people": {"rows": 3, "columns": {"id": {"generator": "uuid"}}}}}


@SETTINGS
@given(documents)
def test_arbitrary_yaml_structures_raise_only_esdh_errors(document: object) -> None:
    _load(yaml.safe_dump(document))


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["dataset", "as_of", "tables", "people", "rows", "columns", "id",
                                           "generator"]), documents), max_size=4))
def test_a_valid_spec_with_parts_replaced_raises_only_esdh_errors(changes: list[tuple[str, object]]) -> None:
    spec: dict[str, object] = yaml.safe_load(yaml.safe_dump(TEMPLATE))
    for key, value in changes:
        target: dict[str, object] = spec
        for part in ("tables", "people", "columns", "id"):
            if key in target or not isinstance(target.get(part), dict):
                break
            target = target[part]  # type: ignore[assignment]
        target[key] = value
    _load(yaml.safe_dump(spec))


@SETTINGS
@given(st.integers(0, 400), st.integers(0, 3), st.text(alphabet="&*[]{}:-?!|>'\"#\t\x00 \nab1", max_size=8))
def test_mutated_yaml_raises_only_esdh_errors(at: int, cut: int, insert: str) -> None:
    text = yaml.safe_dump(TEMPLATE)
    at = at % (len(text) + 1)
    _load(text[:at] + insert + text[at + cut:])


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    """Opening a FIFO blocks until a writer comes: the reader of every YAML file refuses it unopened."""
    from esdh.spec.yamlsource import read_yaml

    fifo = tmp_path / "schema.yaml"
    os.mkfifo(fifo)
    started = time.perf_counter()
    with pytest.raises(SpecError, match="not a regular file"):
        read_yaml(fifo)
    assert time.perf_counter() - started < 5
