"""Sizes (issue 13, point 3): a request beyond the limits is refused, fast, with its estimate and the limit,
before any row or child count is computed; numbers are ASCII digits; names and widths are bounded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli
from esdh.errors import SpecError, UsageError
from esdh.options import BadOptionValue, parse_rows

HUGE = "persons=1000000000000000"  # 1e15 in digits


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_rows_beyond_the_table_limit_are_refused_fast() -> None:
    start = time.perf_counter()
    code, out = run("plan", "insurance", "--rows", HUGE)
    assert time.perf_counter() - start < 5
    assert code == 2
    assert f"--rows {HUGE}: 1e15 rows is beyond what ESDH plans (at most 1e12 rows per table)" in out
    assert "ESDH_MAX_TABLE_ROWS" in out
    code, out = run("generate", "insurance", "-o", "never", "--rows", HUGE)
    assert code == 2 and "1e15 rows" in out and not Path("never").exists()


def test_a_child_bound_is_refused_before_its_children_are_counted() -> None:
    # 4e11 persons are allowed; their vehicles (up to 3 each) are not, and are never summed
    start = time.perf_counter()
    with pytest.raises(UsageError, match=r"vehicles: up to 1.2e12 rows \(4e11 persons rows x up to 3 each\)"):
        library.plan("insurance", rows={"persons": 400_000_000_000})
    assert time.perf_counter() - start < 5


def test_scale_and_the_total_are_limited(monkeypatch) -> None:
    with pytest.raises(UsageError, match=r"persons at --scale 10000000000000.0: 2e15 rows"):
        library.plan("insurance", scale=1e13)
    monkeypatch.setenv("ESDH_MAX_TOTAL_ROWS", "1000")
    with pytest.raises(UsageError, match=r"this plan makes up to .* rows in 5 tables.*at most 1e3 rows per dataset"):
        library.plan("insurance")


def test_rows_are_ascii_digits() -> None:
    for item in ("persons=1e15", "persons=١٠", "persons=１０", "persons=²", "persons=1_000"):
        with pytest.raises(BadOptionValue):
            parse_rows([item])
        code, out = run("plan", "insurance", "--rows", item)
        assert code == 2 and "is not TABLE=N" in out
    assert parse_rows(["persons=1000000000000000"]) == {"persons": 10**15}


def test_big_but_allowed_sizes_are_estimated_without_counting_every_child() -> None:
    start = time.perf_counter()
    code, out = run("plan", "insurance", "--rows", "persons=100000000")
    assert time.perf_counter() - start < 5
    assert code == 0, out
    assert "persons: 100,000,000 rows" in out and "vehicles: about " in out
    the_plan = library.plan("insurance", rows={"persons": 10_000_000}, estimate=True)
    assert the_plan.estimated
    with pytest.raises(UsageError, match="only estimates"):
        library.generate(the_plan, "never")


def test_a_chunk_size_beyond_the_memory_limit_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("ESDH_MAX_CHUNK_BYTES", "1000000")
    code, out = run("plan", "insurance", "--rows", "persons=300000", "--chunk-size", "300000")
    assert code == 2
    assert "--chunk-size 300000: a chunk of persons needs about" in out and "chunk memory limit of 976.6 KB" in out
    code, out = run("plan", "insurance", "--chunk-size", "100000")  # a chunk is at most the table: fits
    assert code == 0, out
    assert "of memory per chunk of 100,000 rows" in out


def test_plan_json_estimates_chunk_memory() -> None:
    info = library.describe.describe_plan(library.plan("insurance"))
    assert info["estimated_chunk_bytes"] > 0
    assert not any(t["estimated_rows"] for t in info["tables"])


SPEC = """spec_version: 1
dataset: sizes
version: 1.0.0
as_of: 2026-01-01
tables:
  {table}:
    rows: 10
    columns:
      id: {{generator: sequence, width: {width}}}
"""


@pytest.mark.parametrize(("table", "width", "line", "message"), [
    ("t" * 300, 3, 6, "at most 100 characters"),
    ("t", 1_000_000_000, 9, "less than or equal to 1000"),
])
def test_spec_check_refuses_long_names_and_wide_strings(tmp_path: Path, table: str, width: int, line: int,
                                                         message: str) -> None:
    spec = tmp_path / "sizes.yaml"
    spec.write_text(SPEC.format(table=table, width=width))
    code, out = run("spec", "check", str(spec))
    assert code == 2
    assert f"{spec}:{line}:" in out and message in out
    with pytest.raises(SpecError):
        library.load(spec)


def test_the_api_refuses_the_same_requests() -> None:
    pytest.importorskip("fastapi")
    from esdh.api import ApiSettings
    from tests.api_server import client, running_server

    with running_server(ApiSettings(rate_limit=100_000)) as url, client(url) as http:
        for params in ({"rows": HUGE}, {"rows": "persons=1e15"}, {"rows": "persons=١٠"}, {"seed": "١٠"},
                       {"scale": "1e13"}):
            response = http.get("/v1/datasets/insurance/generate", params=params)
            assert response.status_code == 422, (params, response.text)


def test_wide_rows_are_refused_at_the_default_chunk_size_with_one_that_fits(tmp_path: Path) -> None:
    """20 columns of 900 characters: a default chunk of 262,144 rows is 13 GB (the run used to peak at 5.6 GB)."""
    columns = "\n".join(f"      c{i}: {{generator: pattern, pattern: '{'#' * 900}'}}" for i in range(20))
    spec = tmp_path / "wide.yaml"
    spec.write_text(f"dataset: wide\nversion: '1.0'\nseed: 1\nas_of: 2026-01-01\ntables:\n  t:\n    rows: 300000\n"
                    f"    primary_key: id\n    columns:\n      id: {{generator: sequence}}\n{columns}\n")
    started = time.perf_counter()
    code, out = run("generate", str(spec), "-o", str(tmp_path / "out"))
    assert code == 2 and time.perf_counter() - started < 20
    assert "--chunk-size 262144: a chunk of t needs about 13." in out and "limit of 2.0 GB" in out
    fits = int(out.split("use --chunk-size ")[1].split()[0])
    assert 30_000 < fits < 50_000 and not (tmp_path / "out").exists()
    assert run("plan", str(spec), "--chunk-size", str(fits))[0] == 0
