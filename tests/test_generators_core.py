"""Core generators and relational constructs, checked on many rows."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
import uuid

import numpy as np
import pyarrow.compute as pc
import pytest

from esdh import library
from tests.generators.helpers import run_generator

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _spec(columns: str, rows: int = 10_000, extra_tables: str = "") -> str:
    return (f"dataset: t\nseed: 3\nas_of: 2026-01-01\ntables:\n  t:\n    rows: {rows}\n    columns:\n"
            + textwrap.indent(textwrap.dedent(columns), "      ") + extra_tables)


def test_uuid4_is_rfc4122_and_unique_by_construction() -> None:
    values = run_generator("uuid", rows=200_000).to_pylist()
    assert all(UUID4.match(v) for v in values)
    assert len(set(values)) == len(values)
    assert all(uuid.UUID(v).version == 4 for v in values[:1000])


def test_uuid5_matches_python() -> None:
    names = __import__("pyarrow").array([f"name-{i}" for i in range(5000)])
    ns = "ca92fd9b-5368-4924-8db6-bb1f56766c2b"
    values = run_generator("uuid5", {"namespace": ns, "name": "n"}, rows=5000, columns={"n": names})
    assert values.to_pylist() == [str(uuid.uuid5(uuid.UUID(ns), f"name-{i}")) for i in range(5000)]


def test_sequence_formats() -> None:
    values = run_generator("sequence", {"start": 7, "step": 3, "prefix": "POL-", "width": 6}, rows=4).to_pylist()
    assert values == ["POL-000007", "POL-000010", "POL-000013", "POL-000016"]
    assert run_generator("sequence", {}, rows=3).to_pylist() == [1, 2, 3]


@pytest.mark.parametrize("rate", [0.0, 0.02, 0.1, 0.333, 1.0])
def test_null_rate_is_exact(rate: float) -> None:
    table = library.table(_spec(f"x: {{generator: uniform, null_rate: {rate}}}\n", rows=12_345), "t")
    assert table.column("x").null_count == round(rate * 12_345)


def test_flag_rate_is_exact_to_the_row_and_choice_can_be_exact() -> None:
    table = library.table(_spec("""\
        fraud: {generator: flag, rate: 0.02}
        tier: {generator: choice, values: {gold: 0.1, silver: 0.3, bronze: 0.6}, exact: true}
        """, rows=54_321), "t")
    assert pc.sum(table.column("fraud")).as_py() == round(0.02 * 54_321)
    counts = dict(zip(*np.unique(table.column("tier").to_numpy(zero_copy_only=False), return_counts=True),
                      strict=True))
    assert counts == {"gold": 5432, "silver": 16296, "bronze": 32593}


def test_conditional_choice_follows_its_column() -> None:
    table = library.table(_spec("""\
        kind: {generator: choice, values: [car, truck]}
        body:
          generator: choice
          values: [other]
          when: kind
          cases:
            car: {values: [sedan, coupe]}
            truck: {values: {pickup: 0.9, flatbed: 0.1}}
        """), "t").to_pylist()
    for row in table:
        assert row["body"] in ({"sedan", "coupe"} if row["kind"] == "car" else {"pickup", "flatbed"})
    trucks = [r["body"] for r in table if r["kind"] == "truck"]
    assert 0.87 < trucks.count("pickup") / len(trucks) < 0.93


@pytest.mark.parametrize(("params", "low", "high", "mean"), [
    ({"generator": "normal", "mean": 50, "std": 10}, None, None, 50),
    ({"generator": "normal", "mean": 50, "std": 10, "min": 45, "max": 80}, 45, 80, None),
    ({"generator": "lognormal", "median": 100, "sigma": 0.5}, 0, None, 100 * np.exp(0.125)),
    ({"generator": "exponential", "mean": 3}, 0, None, 3),
    ({"generator": "gamma", "shape": 2, "scale": 3}, 0, None, 6),
    ({"generator": "beta", "a": 2, "b": 5, "low": 10, "high": 20}, 10, 20, 10 + 10 * 2 / 7),
    ({"generator": "poisson", "lam": 4}, 0, None, 4),
    ({"generator": "poisson", "lam": 4, "min": 1, "max": 6}, 1, 6, None),
    ({"generator": "zipf", "s": 1.2, "n": 50}, 1, 50, None),
    ({"generator": "uniform_int", "min": -5, "max": 5}, -5, 5, 0),
    ({"generator": "empirical", "edges": [0, 10, 20], "weights": [3, 1]}, 0, 20, 7.5),
])
def test_distributions_respect_bounds_and_moments(params: dict, low: float | None, high: float | None,
                                                  mean: float | None) -> None:
    name = params.pop("generator")
    values = run_generator(name, params, rows=100_000).to_numpy(zero_copy_only=False)
    if low is not None:
        assert values.min() >= low
    if high is not None:
        assert values.max() <= high
    if mean is not None:
        assert abs(values.mean() - mean) < 0.02 * max(abs(mean), 1) + 0.05


def test_unique_int_and_pattern_never_repeat() -> None:
    ints = run_generator("uniform_int", {"min": 1, "max": 100_000}, rows=100_000, unique=True)
    assert sorted(ints.to_pylist()) == list(range(1, 100_001))
    codes = run_generator("pattern", {"pattern": "AB-####-?"}, rows=50_000, unique=True).to_pylist()
    assert len(set(codes)) == 50_000 and all(re.fullmatch(r"AB-\d{4}-[A-Z]", c) for c in codes)


def test_dates_relative_to_as_of_and_to_other_columns() -> None:
    table = library.table(_spec("""\
        born: {generator: date, min: -90y, max: -18y}
        joined: {generator: date, min: "add_years(born, 18)", max: as_of}
        seen: {generator: timestamp, min: -30d, max: as_of, business_hours: true}
        sale: {generator: date, min: 2025-01-01, max: 2025-12-31, month_weights: [1,1,1,1,1,1,1,1,1,1,5,10]}
        """, rows=50_000), "t").to_pylist()
    as_of = dt.date(2026, 1, 1)
    for row in table:
        assert dt.date(1935, 12, 31) <= row["born"] <= dt.date(2008, 1, 1)
        born = row["born"]
        eighteen = dt.date(born.year + 18, born.month, min(born.day, 28 if born.month == 2 else 31))
        assert row["joined"] >= eighteen
        assert row["joined"] <= as_of
        assert row["seen"].weekday() < 5 and 9 <= row["seen"].hour < 17
        assert dt.date(2025, 1, 1) <= row["sale"] <= dt.date(2025, 12, 31)
    december = sum(r["sale"].month == 12 for r in table) / len(table)
    assert 0.39 < december < 0.42  # 31 days x 10 of 764 day-weights = 0.406


def test_template_and_expressions() -> None:
    table = library.table(_spec("""\
        a: {generator: uniform_int, min: 1, max: 9}
        b: {value: x}
        t: {generator: template, template: "{b}-{a}!"}
        e: {expr: "case(a < 3, 'low', a < 7, 'mid', 'high')"}
        """, rows=1000), "t").to_pylist()
    for row in table:
        assert row["t"] == f"x-{row['a']}!"
        assert row["e"] == ("low" if row["a"] < 3 else "mid" if row["a"] < 7 else "high")


RELATIONS = """\
dataset: rel
seed: 9
as_of: 2026-01-01
tables:
  shops:
    rows: 200
    primary_key: shop_id
    columns:
      shop_id: {generator: sequence, prefix: S, width: 4}
      size: {generator: uniform_int, min: 1, max: 10}
  customers:
    rows: 2000
    primary_key: customer_id
    columns:
      customer_id: {generator: sequence}
      favourite_shop: {ref: shops.shop_id, choose: zipf}
      big_shop: {ref: shops.shop_id, choose: weighted, weight_by: size}
      referrer: {ref: customers.customer_id}
  orders:
    rows: {per: customers, count: {distribution: uniform_int, min: 0, max: 4}}
    columns:
      order_id: {generator: uuid}
      customer_id: {ref: customers.customer_id}
      shop_size: {lookup: shops.size, via: shop}
      shop: {ref: shops.shop_id}
  reviews:
    rows: {per: customers, count: 1}
    columns:
      customer_id: {ref: customers.customer_id}
      first_order: {ref: orders.order_id, choose: first_of_parent}
      any_order: {ref: orders.order_id, choose: random_of_parent}
"""


def test_relations_children_lookups_and_choices() -> None:
    plan = library.plan(RELATIONS)
    shops = library.table(plan, "shops").to_pylist()
    customers = library.table(plan, "customers").to_pylist()
    orders = library.table(plan, "orders").to_pylist()
    reviews = library.table(plan, "reviews").to_pylist()
    size = {s["shop_id"]: s["size"] for s in shops}
    assert all(o["shop_size"] == size[o["shop"]] for o in orders)
    by_customer: dict[int, list[str]] = {}
    for o in orders:
        by_customer.setdefault(o["customer_id"], []).append(o["order_id"])
    assert [o["customer_id"] for o in orders] == sorted(o["customer_id"] for o in orders)  # contiguous
    assert all(0 <= len(v) <= 4 for v in by_customer.values())
    assert len(reviews) == len(customers)
    for review in reviews:
        mine = by_customer.get(review["customer_id"], [])
        assert review["first_order"] == (mine[0] if mine else None)
        assert (review["any_order"] in mine) if mine else review["any_order"] is None
    ids = {c["customer_id"] for c in customers}
    assert all(c["referrer"] in ids for c in customers)
    zipf = np.unique([c["favourite_shop"] for c in customers], return_counts=True)[1]
    assert zipf.max() > 10 * np.median(zipf)  # popularity is skewed
    weighted = [size[c["big_shop"]] for c in customers]
    assert np.mean(weighted) > 6.5  # size-weighted mean of 1..10 is 7


def test_progress_is_reported_per_table(tmp_path) -> None:
    seen: dict[str, int] = {}
    library.generate(RELATIONS, tmp_path / "o", chunk_size=500, progress=lambda t, d, n: seen.__setitem__(t, d))
    plan = library.plan(RELATIONS)
    assert seen == plan.rows


def test_concurrent_first_callers_see_the_whole_generator_registry() -> None:
    """A new server's first requests arrive together: none may see a half-filled registry."""
    import json
    import subprocess
    import sys

    from esdh.generators.base import registry

    code = """
import threading
from esdh.generators.base import registry
start, sizes = threading.Barrier(16), []
def first_call():
    start.wait()
    sizes.append(len(registry()))
threads = [threading.Thread(target=first_call) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
import json; print(json.dumps(sorted(set(sizes))))
"""
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        sizes = json.loads(out)
        assert sizes == [len(registry())], sizes  # every thread saw all of them
