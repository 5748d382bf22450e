"""Shared fixtures: small specs and a CLI runner."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

SMALL_SPEC = textwrap.dedent("""\
    dataset: shop
    version: 1.0.0
    seed: 7
    as_of: 2026-01-01
    tables:
      customers:
        rows: 2000
        primary_key: customer_id
        columns:
          customer_id: {generator: sequence, prefix: "C-", width: 6}
          uid: {generator: uuid}
          age: {generator: normal, mean: 40, std: 12, min: 18, max: 90, round: 0}
          segment: {generator: choice, values: {retail: 0.7, business: 0.3}}
          vip: {generator: flag, rate: 0.05}
          joined: {generator: date, min: -5y, max: as_of}
          code: {generator: pattern, pattern: "AB-#####", unique: true}
          note: {expr: "concat(segment, '-', age)", null_rate: 0.1}
      orders:
        rows: {per: customers, count: {distribution: poisson, lam: 2, min: 1, max: 5}}
        primary_key: order_id
        columns:
          order_id: {generator: uuid}
          customer_id: {ref: customers.customer_id}
          segment: {lookup: customers.segment}
          placed: {generator: timestamp, min: -1y, business_hours: true}
          amount: {generator: lognormal, median: 50, sigma: 0.8, round: 2}
    """)

# one table of one cheap column: for plans of a million rows or more in unit tests
WIDE_SPEC = textwrap.dedent("""\
    dataset: wide
    version: 1.0.0
    seed: 3
    as_of: 2026-01-01
    tables:
      people:
        rows: 1000
        columns:
          age: {generator: uniform_int, min: 18, max: 90}
    """)


@pytest.fixture
def small_spec(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SMALL_SPEC, encoding="utf-8")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
