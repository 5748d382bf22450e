"""Option values read the same way by every interface: one parser for ``TABLE=N`` row counts."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from esdh.cli.main import cli
from esdh.errors import UsageError
from esdh.options import BadOptionValue, parse_rows

MALFORMED = ["persons", "=5", " =5", "persons=", "persons=-1", "persons=+1", "persons=1.5", "persons=1e3",
             "persons=²", "persons=١٢", "persons=" + "9" * 19]


def test_row_counts_are_table_equals_digits() -> None:
    assert parse_rows([]) == {}
    assert parse_rows(["persons=10", " products = 0 ", "persons=7", "persons=" + "9" * 18]) == {
        "persons": 10 ** 18 - 1, "products": 0}


@pytest.mark.parametrize("item", MALFORMED)
def test_a_malformed_row_count_is_a_usage_error_naming_the_item(item: str) -> None:
    with pytest.raises(BadOptionValue) as caught:
        parse_rows(["persons=5", item])
    assert isinstance(caught.value, UsageError) and caught.value.value == item
    assert str(caught.value).startswith(f"'{item}' is not TABLE=N")


@pytest.mark.parametrize("item", ["persons=-1", "persons=²", "=5"])
def test_the_cli_reports_a_malformed_row_count_in_one_line(runner: CliRunner, item: str) -> None:
    result = runner.invoke(cli, ["plan", "insurance", "--rows", item])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith(f"Error: Invalid value for --rows: '{item}' is not TABLE=N")
