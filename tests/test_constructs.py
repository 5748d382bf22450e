"""Aggregates, windows, positions, conditional children, distinct pairs, keys by value and versions."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from esdh import library
from esdh.errors import SpecError

SHOP = """\
dataset: shop
seed: 11
as_of: 2026-01-01
tables:
  products:
    rows: 40
    primary_key: product_id
    columns:
      product_id: {generator: sequence}
      price: {generator: uniform, min: 1, max: 100, round: 2}
  stores:
    rows: 12
    primary_key: store_id
    columns:
      store_id: {generator: sequence}
  inventory:
    rows: {per: stores, count: 40}
    unique: [[store_id, product_id]]
    columns:
      store_id: {ref: stores.store_id}
      product_id: {ref: products.product_id, choose: distinct}
  dates:
    rows: 365
    scale: false
    primary_key: date_id
    columns:
      day: {expr: "add_days(date('2025-01-01'), row_index)"}
      date_id: {expr: "year(day) * 10000 + month(day) * 100 + day(day)"}
  orders:
    rows: 3000
    primary_key: order_id
    columns:
      order_id: {generator: sequence}
      status: {generator: choice, values: {completed: 0.8, cancelled: 0.2}}
      placed: {generator: date, min: 2025-01-01, max: 2025-12-31}
      date_id: {expr: "year(placed) * 10000 + month(placed) * 100 + day(placed)", references: dates.date_id}
      total: {aggregate: sum, of: lines.line_total, round: 2}
      lines_n: {aggregate: count, of: lines.line_total}
      biggest: {aggregate: max, of: lines.line_total}
      first_product: {aggregate: first, of: lines.product_id}
  lines:
    rows: {per: orders, count: {distribution: uniform_int, min: 1, max: 6}}
    columns:
      line_id: {generator: uuid}
      order_id: {ref: orders.order_id}
      line_no: {expr: "ordinal + 1"}
      of_n: {expr: siblings}
      product_id: {ref: products.product_id}
      unit_price: {lookup: products.price}
      quantity: {generator: uniform_int, min: 1, max: 4}
      line_total: {expr: "round(unit_price * quantity, 2)"}
      running: {window: cumsum, of: line_total, round: 2}
      growth: {window: cumprod, of: quantity}
      high: {window: cummax, of: line_total}
      low: {window: cummin, of: line_total}
      previous: {window: lag, of: line_total}
      following: {window: lead, of: line_total}
      opener: {window: first, of: line_total}
      closer: {window: last, of: line_total}
  returns:
    rows: {per: orders, count: {distribution: weights, min: 0, max: 1, weights: [0.7, 0.3]},
           where: "status == 'completed'"}
    columns:
      order_id: {ref: orders.order_id}
      line_id: {ref: lines.line_id, choose: random_of_parent}
"""


@pytest.fixture(scope="module")
def shop() -> dict[str, list[dict]]:
    plan = library.plan(SHOP)
    return {name: library.table(plan, name).to_pylist() for name in plan.rows}


def test_aggregates_match_the_children(shop: dict[str, list[dict]]) -> None:
    by_order: dict[int, list[dict]] = collections.defaultdict(list)
    for line in shop["lines"]:
        by_order[line["order_id"]].append(line)
    for order in shop["orders"]:
        lines = by_order[order["order_id"]]
        assert order["total"] == round(sum(x["line_total"] for x in lines), 2)
        assert order["lines_n"] == len(lines)
        assert order["biggest"] == max(x["line_total"] for x in lines)
        assert order["first_product"] == lines[0]["product_id"]


def test_windows_and_positions(shop: dict[str, list[dict]]) -> None:
    by_order: dict[int, list[dict]] = collections.defaultdict(list)
    for line in shop["lines"]:
        by_order[line["order_id"]].append(line)
    for lines in by_order.values():
        totals = [x["line_total"] for x in lines]
        for i, line in enumerate(lines):
            assert line["line_no"] == i + 1 and line["of_n"] == len(lines)
            assert line["running"] == round(sum(totals[: i + 1]), 2)
            assert line["growth"] == np.prod([x["quantity"] for x in lines[: i + 1]])
            assert line["high"] == max(totals[: i + 1]) and line["low"] == min(totals[: i + 1])
            assert line["previous"] == (totals[i - 1] if i else None)
            assert line["following"] == (totals[i + 1] if i + 1 < len(lines) else None)
            assert line["opener"] == totals[0] and line["closer"] == totals[-1]


# Tiny chunks on fewer orders (one-row chunks of all 3,000 orders took a minute of the suite): every window
# and aggregate still spans many chunk boundaries.
@pytest.mark.parametrize(("chunk_size", "orders"), [(1, 300), (5, 600), (333, None)])
def test_windows_and_aggregates_do_not_depend_on_chunks(chunk_size: int, orders: int | None) -> None:
    rows = {"orders": orders} if orders else None
    reference = library.plan(SHOP, rows=rows)
    chunked = library.plan(SHOP, chunk_size=chunk_size, rows=rows)
    for table in ("orders", "lines", "returns", "inventory"):
        assert library.table(chunked, table).equals(library.table(reference, table)), table


def test_conditional_children_and_sibling_choice(shop: dict[str, list[dict]]) -> None:
    status = {o["order_id"]: o["status"] for o in shop["orders"]}
    line_order = {x["line_id"]: x["order_id"] for x in shop["lines"]}
    assert shop["returns"]
    for ret in shop["returns"]:
        assert status[ret["order_id"]] == "completed"
        assert line_order[ret["line_id"]] == ret["order_id"]
    completed = sum(s == "completed" for s in status.values())
    assert 0.25 < len(shop["returns"]) / completed < 0.35


def test_distinct_pairs(shop: dict[str, list[dict]]) -> None:
    pairs = [(x["store_id"], x["product_id"]) for x in shop["inventory"]]
    assert len(pairs) == len(set(pairs)) == 12 * 40  # every store lists every product once


def test_keys_by_value_are_checked_and_declared(tmp_path: Path) -> None:
    result = library.generate(SHOP, tmp_path / "o")
    assert "foreign_key:dates.date_id" in {c.check for c in result.checks}
    orders = next(r for r in result.manifest["resources"] if r["name"] == "orders")
    assert {"fields": ["date_id"], "reference": {"resource": "dates", "fields": ["date_id"]}} in \
        orders["schema"]["foreignKeys"]
    assert library.plan(SHOP, scale=3).rows["dates"] == 365


def test_distinct_refuses_more_children_than_rows() -> None:
    text = SHOP.replace("rows: {per: stores, count: 40}", "rows: {per: stores, count: 41}")
    from esdh.errors import EsdhError

    with pytest.raises(EsdhError, match="at most 40 rows per parent"):
        library.table(text, "inventory")


VERSIONED = """\
dataset: fin
seed: 3
as_of: 2026-01-01
tables:
  tx:
    rows: 20000
    columns:
      id: {generator: sequence}
      amount: {generator: lognormal, median: 40, round: 2}
      is_fraud: {generator: flag, rate: 0.02}
      merchant: {generator: choice, values: [food, travel, fuel], null_rate: 0.25}
versions:
  1.1.0:
    description: fraud rises to 5%
    changes:
      tables.tx.columns.is_fraud.rate: 0.05
  1.2.0:
    changes:
      tables.tx.columns.merchant.null_rate: 0.1
"""


def test_versions_change_only_what_they_name() -> None:
    base = library.table(VERSIONED, "tx")
    evolved = library.table(VERSIONED, "tx", version="1.1.0")
    for name in base.column_names:
        assert base.column(name).equals(evolved.column(name)) == (name != "is_fraud"), name
    assert pc.sum(base.column("is_fraud")).as_py() == 400
    assert pc.sum(evolved.column("is_fraud")).as_py() == 1000
    was = np.asarray(base.column("is_fraud")), np.asarray(evolved.column("is_fraud"))
    assert not (was[0] & ~was[1]).any()  # the 2% are among the 5%
    other = library.table(VERSIONED, "tx", version="1.2.0")
    assert other.column("merchant").null_count == 2000
    assert library.load(VERSIONED, version="1.2.0").spec.version == "1.2.0"


def test_unknown_version_and_bad_change_paths() -> None:
    with pytest.raises(SpecError, match=r"version '1\.3\.0' is not declared"):
        library.load(VERSIONED, version="1.3.0")
    bad = VERSIONED.replace("tables.tx.columns.is_fraud.rate", "tables.tz.columns.is_fraud.rate")
    with pytest.raises(SpecError, match=r"'tables\.tz' does not exist"):
        library.load(bad, version="1.1.0")


@pytest.mark.parametrize(("body", "message"), [
    ("  a:\n    rows: 5\n    columns:\n      x: {window: cumsum, of: y}\n      y: {generator: uniform}\n",
     "a window needs a table with rows per a parent"),
    ("  a:\n    rows: 5\n    columns:\n      x: {expr: ordinal}\n", "'ordinal' needs a table with rows per a parent"),
    ("  a:\n    rows: 5\n    columns:\n      t: {aggregate: sum, of: b.v}\n  b:\n    rows: 5\n    columns:\n"
     "      v: {generator: uniform}\n", "'b' is not a child of 'a'"),
    ("  a:\n    rows: 5\n    columns:\n      id: {generator: uuid}\n      t: {aggregate: sum, of: b.v}\n"
     "  b:\n    rows: {per: a, count: 2}\n    columns:\n      v: {lookup: a.t, via: a_id}\n"
     "      a_id: {ref: a.id}\n", "values depend on themselves"),
    ("  a:\n    rows: 5\n    columns:\n      id: {generator: uuid}\n  b:\n    rows: {per: a, where: \"nope > 1\"}\n"
     "    columns:\n      v: {generator: uniform}\n", "reads unknown column 'nope' of 'a'"),
])
def test_construct_errors(body: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        library.load("dataset: x\nas_of: 2026-01-01\ntables:\n" + body)


def test_self_reference_hierarchy_has_no_cycles() -> None:
    text = """\
dataset: org
as_of: 2026-01-01
tables:
  employees:
    rows: 5000
    primary_key: employee_id
    columns:
      employee_id: {generator: sequence, prefix: "E", width: 5}
      name: {generator: last_name}
      manager_id: {ref: employees.employee_id, choose: earlier}
      manager_name: {lookup: employees.name}
"""
    rows = library.table(text, "employees").to_pylist()
    manager = {r["employee_id"]: r["manager_id"] for r in rows}
    name = {r["employee_id"]: r["name"] for r in rows}
    assert rows[0]["manager_id"] is None and all(r["manager_id"] for r in rows[1:])
    for row in rows[1:]:
        assert row["manager_id"] < row["employee_id"]  # an earlier employee, never oneself
        assert row["manager_name"] == name[row["manager_id"]]
    for start in list(manager)[::250]:  # every chain reaches the top without looping
        seen, node = set(), start
        while node is not None:
            assert node not in seen
            seen.add(node)
            node = manager[node]
    with pytest.raises(SpecError, match="'earlier' picks an earlier row of the same table"):
        library.load(text.replace("choose: earlier}\n      manager_name", "choose: earlier}\n      x: "
                                  "{ref: other.id, choose: earlier}\n      manager_name") +
                     "  other:\n    rows: 3\n    columns:\n      id: {generator: uuid}\n")
