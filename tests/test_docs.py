"""The documentation cannot fall behind the code.

- every ```yaml spec block of docs/spec.md loads, generates and passes its own output checks;
- every generator example of the generator reference generates;
- every error output shown in docs/spec.md is what the CLI really prints for the spec shown with it;
- every registered generator has a heading and every expression function a row in docs/spec.md;
- every command of ``esdh --help`` (and of its sub-groups) has a section in docs/cli.md.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli
from esdh.expr.functions import FUNCTIONS
from esdh.generators.base import registry

DOCS = Path(__file__).resolve().parent.parent / "docs"
SPEC_MD = (DOCS / "spec.md").read_text(encoding="utf-8")
CLI_MD = (DOCS / "cli.md").read_text(encoding="utf-8")

# A fenced block: ```info ... ``` with the fences at the start of a line.
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def fenced(text: str, info: str) -> list[tuple[int, str]]:
    """(start offset, body) of every fenced block whose info string is exactly ``info``."""
    return [(m.start(), m.group(2)) for m in FENCE.finditer(text) if m.group(1).strip() == info]


def section(text: str, heading: str) -> str:
    """The text of a level-2 section, up to the next level-2 heading."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


SPEC_BLOCKS = [body for _, body in fenced(SPEC_MD, "yaml spec")]
SPEC_NAMES = [yaml.safe_load(body)["dataset"] for body in SPEC_BLOCKS]


def test_spec_blocks_exist_and_have_distinct_dataset_names() -> None:
    assert len(SPEC_BLOCKS) >= 15
    assert [name for name, n in Counter(SPEC_NAMES).items() if n > 1] == []


def test_info_strings_are_only_yaml_spec_or_known_languages() -> None:
    infos = {m.group(1).strip() for m in FENCE.finditer(SPEC_MD)}
    assert infos <= {"yaml spec", "yaml", "text", "console"}, infos


@pytest.mark.parametrize("text", SPEC_BLOCKS, ids=SPEC_NAMES)
def test_spec_block_generates_and_passes_its_checks(text: str, tmp_path: Path) -> None:
    dataset = library.load(text)
    name = dataset.spec.dataset
    result = library.generate(text, tmp_path / name, formats=["parquet"])
    assert [t.name for t in result.tables] == dataset.order  # every table written
    assert (result.folder / "datapackage.json").is_file()
    assert all(check.passed for check in result.checks)  # generate raises if one fails
    for written in result.tables:
        table = pq.read_table(written.files["parquet"])
        assert table.num_rows == written.rows > 0, written.name
        model = dataset.tables[written.name]
        assert table.column_names == model.visible_columns
        assert table.column_names[-1] == "synthetic_source"
        assert set(table.column("synthetic_source").to_pylist()) == {dataset.spec.marker}


def _spec(name: str) -> str:
    return SPEC_BLOCKS[SPEC_NAMES.index(name)]


def test_exact_rate_example_is_exact() -> None:
    table = library.table(_spec("payments"), "payments").to_pydict()
    assert sum(table["fraud"]) == 200
    assert Counter(table["channel"]) == {"web": 6000, "app": 3000, "phone": 1000}
    assert table["coupon"].count(None) == 7500


def test_scale_false_example_keeps_its_rows() -> None:
    plan = library.plan(_spec("catalog"), scale=100)
    assert plan.rows == {"branches": 12, "customers": 100_000}


def test_conditional_choice_example_follows_its_cases() -> None:
    table = library.table(_spec("risk"), "customers").to_pydict()
    vip_levels = {level for vip, level in zip(table["vip"], table["service_level"], strict=True) if vip}
    assert vip_levels == {"gold", "platinum"}


def test_choose_examples_pick_the_right_rows() -> None:
    banking = _spec("banking")
    accounts = library.table(banking, "accounts").to_pydict()
    owner = dict(zip(accounts["account_id"], accounts["customer_id"], strict=True))
    first = {}
    for account, customer in zip(accounts["account_id"], accounts["customer_id"], strict=True):
        first.setdefault(customer, account)
    cards = library.table(banking, "cards").to_pydict()
    for customer, main, other in zip(cards["customer_id"], cards["main_account"], cards["any_account"],
                                     strict=True):
        assert main == first[customer]
        assert owner[other] == customer


# ---- generator reference: every example fragment is a working set of columns ----------------------

REFERENCE = section(SPEC_MD, "Generator reference")
HEADING = re.compile(r"^#{3,4} `([a-z_0-9]+)`$", re.MULTILINE)


def _reference_examples() -> list[tuple[str, str]]:
    """(generator heading above it, body) of every plain yaml block of the generator reference."""
    out = []
    for start, body in fenced(REFERENCE, "yaml"):
        headings = HEADING.findall(REFERENCE[:start])
        out.append((headings[-1] if headings else "intro", body))
    return out


EXAMPLES = _reference_examples()


@pytest.mark.parametrize(("heading", "body"), EXAMPLES, ids=[h for h, _ in EXAMPLES])
def test_generator_reference_example_generates(heading: str, body: str, tmp_path: Path) -> None:
    columns = yaml.safe_load(body)
    assert isinstance(columns, dict)
    spec = {"dataset": f"example_{heading}", "as_of": "2026-01-01",
            "tables": {"t": {"rows": 200, "columns": columns}}}
    result = library.generate(spec, tmp_path / heading, formats=["parquet"])
    assert result.tables[0].rows == 200
    assert all(check.passed for check in result.checks)


def test_every_generator_has_a_heading_and_an_example() -> None:
    documented = set(HEADING.findall(REFERENCE))
    names = set(registry())
    assert names - documented == set(), "generators without a heading in docs/spec.md"
    assert documented - names == set(), "headings of generators that do not exist"
    used = set()
    for _, body in EXAMPLES:
        used |= {column.get("generator") for column in yaml.safe_load(body).values()}
    assert names - used == set(), "generators without an example in their section"


def test_every_expression_function_is_documented() -> None:
    functions = section(SPEC_MD, "Derived columns and the expression language")
    rows = set(re.findall(r"^\| `([a-z_]+)\(", functions, re.MULTILINE))
    assert set(FUNCTIONS) - rows == set(), "functions missing from the table in docs/spec.md"
    assert rows - set(FUNCTIONS) == set(), "documented functions that do not exist"


# ---- error outputs shown in the docs are real ---------------------------------------------------------

COMMAND = re.compile(r"`esdh (spec check|generate) (\w+\.yaml)[^`]*`")


def _error_examples() -> list[tuple[str, str, str, str]]:
    """(command, file name, spec, expected stderr) for every ```text block that starts with 'error:'
    and follows a ```yaml block, with the command named between them."""
    blocks = sorted([(start, "yaml", body) for start, body in fenced(SPEC_MD, "yaml")] +
                    [(start, "text", body) for start, body in fenced(SPEC_MD, "text")])
    out = []
    for (start, kind, body), (next_start, next_kind, next_body) in pairwise(blocks):
        if kind == "yaml" and next_kind == "text" and next_body.startswith("error:"):
            match = COMMAND.search(SPEC_MD, start, next_start)
            assert match, f"no esdh command between the spec and the output at offset {start}"
            out.append((match.group(1), match.group(2), body, next_body))
    return out


ERRORS = _error_examples()


def test_docs_show_error_examples() -> None:
    assert {command for command, *_ in ERRORS} == {"spec check", "generate"}


@pytest.mark.parametrize(("command", "file", "spec", "expected"), ERRORS, ids=[e[1] for e in ERRORS])
def test_error_output_is_real(command: str, file: str, spec: str, expected: str, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path(file).write_text(spec, encoding="utf-8")
    args = ["spec", "check", file] if command == "spec check" else ["generate", file, "--out", "out"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == (2 if command == "spec check" else 1)
    assert result.stderr == expected
    assert not Path("out").exists()


# ---- the CLI reference ---------------------------------------------------------------------------------


def _commands(args: list[str]) -> list[str]:
    """The command names listed in the 'Commands:' part of ``esdh <args> --help``."""
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0
    listing = result.output.split("Commands:\n", 1)[1]
    return re.findall(r"^  ([a-z][a-z-]*)(?: {2,}|$)", listing, re.MULTILINE)  # not wrapped descriptions


def _all_commands() -> list[str]:
    found = []
    for name in _commands([]):
        found.append(name)
        result = CliRunner().invoke(cli, [name, "--help"])
        if "Commands:\n" in result.output:
            found += [f"{name} {sub}" for sub in _commands([name])]
    return found


def test_every_cli_command_has_a_section_in_cli_md() -> None:
    commands = _all_commands()
    assert {"generate", "spec", "spec check"} <= set(commands)
    headings = set(re.findall(r"^#{2,4} `esdh ([a-z -]+)`", CLI_MD, re.MULTILINE))
    assert set(commands) - headings == set(), "commands without a section in docs/cli.md"


def test_every_cli_option_is_documented() -> None:
    for command in _all_commands():
        result = CliRunner().invoke(cli, [*command.split(), "--help"])
        for option in re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", result.output, re.MULTILINE):
            if option != "--help":
                assert f"`{option}" in CLI_MD, f"esdh {command} {option} is not in docs/cli.md"
