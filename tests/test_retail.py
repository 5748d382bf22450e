"""The built-in retail warehouse, checked independently from the written Parquet files.

Every business rule of the pack is re-derived here with pyarrow, Python and DuckDB from the files, the
datapackage.json and the vocabulary CSVs; nothing relies on esdh's own checks. The dataset is generated
with ``check=False`` so that a rule broken by the generator shows up as a failing test below (with
offending rows) rather than as an unpublished output folder that would make every test error out.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli

TABLES = ("customers", "products", "stores", "promotions", "dates", "orders", "transactions", "inventory", "returns")
# the original retail design's row counts at scale 1, for the tables whose size is fixed
FIXED_ROWS = {"customers": 10_000, "products": 1_000, "stores": 100, "promotions": 100, "dates": 365,
              "orders": 10_000}
# the original design's columns (section 3.2 of the "seeds" report); the pack may add more
ORIGINAL_COLUMNS = {
    "customers": ["customer_id", "first_name", "last_name", "email", "phone", "address", "city", "state",
                  "zip_code", "loyalty_status"],
    "products": ["product_id", "product_name", "category", "sub_category", "price", "cost"],
    "stores": ["store_id", "store_name", "address", "city", "state", "zip_code", "region"],
    "promotions": ["promo_id", "promo_name", "discount_rate", "start_date", "end_date"],
    "dates": ["date_id", "full_date", "day", "month", "year", "weekday"],
    "orders": ["order_id", "order_date", "customer_id", "store_id", "order_total", "order_status"],
    "transactions": ["transaction_id", "order_id", "product_id", "quantity", "price", "promo_id"],
    "inventory": ["store_id", "product_id", "inventory_date", "stock_quantity"],
    "returns": ["return_id", "order_id", "product_id", "return_date", "return_reason"],
}
PRIMARY_KEYS = {"customers": ["customer_id"], "products": ["product_id"], "stores": ["store_id"],
                "promotions": ["promo_id"], "dates": ["date_id"], "orders": ["order_id"],
                "transactions": ["transaction_id"], "inventory": ["store_id", "product_id"],
                "returns": ["return_id"]}
# (table, column, referenced table, referenced column): the original design's nine plus the keys the pack adds
FOREIGN_KEYS = [
    ("orders", "customer_id", "customers", "customer_id"),
    ("orders", "store_id", "stores", "store_id"),
    ("orders", "date_id", "dates", "date_id"),
    ("orders", "promo_id", "promotions", "promo_id"),
    ("transactions", "order_id", "orders", "order_id"),
    ("transactions", "product_id", "products", "product_id"),
    ("transactions", "promo_id", "promotions", "promo_id"),
    ("inventory", "store_id", "stores", "store_id"),
    ("inventory", "product_id", "products", "product_id"),
    ("returns", "order_id", "orders", "order_id"),
    ("returns", "product_id", "products", "product_id"),
    ("returns", "transaction_id", "transactions", "transaction_id"),
]
SUB_CATEGORIES = {
    "Electronics": {"Mobile", "Laptop", "Camera"},
    "Clothing": {"Men", "Women", "Kids"},
    "Home": {"Furniture", "Kitchen", "Decor"},
    "Sports": {"Fitness", "Outdoor", "Team"},
    "Toys": {"Educational", "Action", "Puzzle"},
}
REGIONS = {
    "West": {"WA", "OR", "CA", "NV", "ID", "MT", "WY", "UT", "CO", "AZ", "NM", "AK", "HI"},
    "North": {"ND", "SD", "NE", "KS", "MN", "IA", "MO", "WI", "IL", "IN", "MI", "OH"},
    "East": {"ME", "NH", "VT", "MA", "RI", "CT", "NY", "NJ", "PA", "DE", "MD", "DC"},
}
PHONE = re.compile(r"\(([2-9][0-9]{2})\) [2-9][0-9]{2}-[0-9]{4}")
CENT = 0.005 + 1e-6  # half a cent, plus float noise


@dataclass(frozen=True)
class Retail:
    folder: Path
    package: dict
    as_of: dt.date
    tables: dict[str, pa.Table]
    db: duckdb.DuckDBPyConnection

    def violations(self, sql: str, limit: int = 5) -> tuple[int, list[tuple]]:
        """How many rows ``sql`` returns, and the first few of them (for failure messages)."""
        count = self.scalar(f"SELECT count(*) FROM ({sql})")
        return count, self.db.sql(f"{sql} LIMIT {limit}").fetchall()

    def scalar(self, sql: str) -> object:
        return self.db.sql(sql).fetchall()[0][0]

    def column(self, table: str, column: str) -> list:
        return self.tables[table].column(column).to_pylist()


def _assert_none(data: Retail, sql: str, what: str) -> None:
    count, sample = data.violations(sql)
    assert count == 0, f"{count} {what}, e.g. {sample}"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Retail]:
    out = tmp_path_factory.mktemp("retail") / "out"
    library.generate("retail", out, formats=["parquet"], check=False)
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    tables = {name: pq.read_table(out / f"{name}.parquet") for name in TABLES}
    db = duckdb.connect()
    for name, table in tables.items():
        db.register(name, table)
    yield Retail(out, package, dt.date.fromisoformat(package["esdh"]["as_of"]), tables, db)
    db.close()


@pytest.fixture(scope="module")
def zips() -> dict[str, dict[str, str]]:
    text = resources.files("esdh.packs").joinpath("vocab/us_zips.csv").read_text(encoding="utf-8")
    return {row["postal_code"]: row for row in csv.DictReader(text.splitlines())}


def _resource(data: Retail, table: str) -> dict:
    return next(r for r in data.package["resources"] if r["name"] == table)


# --------------------------------------------------------------------------------------------------
# shape: tables, columns, row counts, descriptions, keys


def test_row_counts_are_the_seeds(data: Retail) -> None:
    assert data.as_of == dt.date(2026, 1, 1)
    rows = {name: table.num_rows for name, table in data.tables.items()}
    for table, expected in FIXED_ROWS.items():
        assert rows[table] == expected, table
    assert 27_000 <= rows["transactions"] <= 33_000  # 1 to 5 lines per order, about 3 on average
    assert rows["inventory"] == 100 * rows["stores"]
    assert 800 <= rows["returns"] <= 1_200  # about 10% of the orders
    assert data.package["esdh"]["row_counts"] == rows


def test_tables_have_the_original_columns_and_every_column_is_described(data: Retail) -> None:
    for table in TABLES:
        names = data.tables[table].column_names
        missing = [c for c in ORIGINAL_COLUMNS[table] if c not in names]
        assert not missing, f"{table} lacks {missing}"
        resource = _resource(data, table)
        assert resource.get("description"), table
        undescribed = [f["name"] for f in resource["schema"]["fields"] if not f.get("description")]
        assert not undescribed, f"{table}: no description for {undescribed}"
    # the columns the rules need
    for table, column in [("orders", "date_id"), ("transactions", "unit_price"), ("transactions", "discount"),
                          ("returns", "quantity"), ("returns", "refund_amount")]:
        assert column in data.tables[table].column_names, f"{table}.{column}"


def test_key_columns_are_integers_not_floats(data: Retail) -> None:
    for table, column, _, _ in FOREIGN_KEYS:
        assert pa.types.is_integer(data.tables[table].schema.field(column).type), f"{table}.{column}"


@pytest.mark.parametrize("table", TABLES)
def test_primary_keys_are_unique_and_not_null(data: Retail, table: str) -> None:
    key = ", ".join(PRIMARY_KEYS[table])
    nulls = " OR ".join(f"{c} IS NULL" for c in PRIMARY_KEYS[table])
    assert data.scalar(f"SELECT count(*) FROM {table} WHERE {nulls}") == 0
    _assert_none(data, f"SELECT {key}, count(*) FROM {table} GROUP BY {key} HAVING count(*) > 1",
                 f"duplicate keys in {table}")
    assert _resource(data, table)["schema"]["primaryKey"] == PRIMARY_KEYS[table]


@pytest.mark.parametrize(("table", "column", "target", "target_column"), FOREIGN_KEYS,
                         ids=[f"{t}.{c}" for t, c, _, _ in FOREIGN_KEYS])
def test_foreign_keys_resolve_and_are_declared(data: Retail, table: str, column: str, target: str,
                                               target_column: str) -> None:
    _assert_none(data, f"SELECT t.{column} FROM {table} t ANTI JOIN {target} r ON t.{column} = r.{target_column} "
                 f"WHERE t.{column} IS NOT NULL", f"dangling {table}.{column}")
    declared = [fk for fk in _resource(data, table)["schema"].get("foreignKeys", [])
                if fk["fields"] == [column]]
    assert declared == [{"fields": [column], "reference": {"resource": target, "fields": [target_column]}}]


# --------------------------------------------------------------------------------------------------
# the calendar and the order date key


def test_dates_are_the_2025_calendar(data: Retail) -> None:
    days = data.column("dates", "full_date")
    assert days == [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    assert data.column("dates", "date_id") == [int(d.strftime("%Y%m%d")) for d in days]
    assert data.column("dates", "day") == [d.day for d in days]
    assert data.column("dates", "month") == [d.month for d in days]
    assert data.column("dates", "year") == [2025] * 365
    assert data.column("dates", "quarter") == [(d.month - 1) // 3 + 1 for d in days]
    assert data.column("dates", "weekday") == [d.strftime("%A") for d in days]
    assert data.column("dates", "is_weekend") == [d.weekday() >= 5 for d in days]


def test_order_date_key_points_at_its_day(data: Retail) -> None:
    _assert_none(data, "SELECT o.order_id, o.order_date, o.date_id, d.full_date FROM orders o "
                 "LEFT JOIN dates d USING (date_id) WHERE d.full_date IS DISTINCT FROM o.order_date",
                 "orders whose date_id is not their order_date")
    assert data.scalar("SELECT count(*) FROM orders WHERE year(order_date) <> 2025") == 0


# --------------------------------------------------------------------------------------------------
# promotions and discounts


def test_promotion_windows_lie_in_2025(data: Retail) -> None:
    _assert_none(data, "SELECT * FROM promotions WHERE NOT (DATE '2025-01-01' <= start_date AND start_date <= end_date "
                 "AND end_date <= DATE '2025-12-31')", "promotion windows outside 2025 or reversed")
    assert data.scalar("SELECT min(discount_rate) FROM promotions") >= 0.05
    assert data.scalar("SELECT max(discount_rate) FROM promotions") <= 0.5
    assert data.scalar("SELECT count(*) FROM promotions WHERE discount_rate <> round(discount_rate, 2)") == 0


def test_lines_with_a_promotion_fall_inside_its_window(data: Retail) -> None:
    _assert_none(data, "SELECT t.transaction_id, o.order_date, p.start_date, p.end_date FROM transactions t "
                 "JOIN orders o USING (order_id) JOIN promotions p ON p.promo_id = t.promo_id "
                 "WHERE NOT (p.start_date <= o.order_date AND o.order_date <= p.end_date)",
                 "promotion lines outside the promotion's window")
    _assert_none(data, "SELECT o.order_id FROM orders o JOIN promotions p USING (promo_id) "
                 "WHERE NOT (p.start_date <= o.order_date AND o.order_date <= p.end_date)",
                 "promotion orders outside the promotion's window")
    promo_lines = data.scalar("SELECT count(*) FROM transactions WHERE promo_id IS NOT NULL")
    assert 0.08 * data.tables["transactions"].num_rows < promo_lines < 0.3 * data.tables["transactions"].num_rows


def test_discount_is_the_promotions_rate(data: Retail) -> None:
    _assert_none(data, f"SELECT t.transaction_id, t.unit_price, t.quantity, p.discount_rate, t.discount "
                 f"FROM transactions t JOIN promotions p USING (promo_id) "
                 f"WHERE abs(t.discount - t.unit_price * t.quantity * p.discount_rate) > {CENT} "
                 f"OR t.discount <> round(t.discount, 2)",
                 "discounts that are not unit_price * quantity * discount_rate to the cent")
    _assert_none(data, "SELECT transaction_id, discount FROM transactions WHERE promo_id IS NULL AND discount <> 0",
                 "discounts without a promotion")


def test_a_line_has_its_orders_promotion_when_it_covers_the_product(data: Retail) -> None:
    _assert_none(data, "SELECT t.transaction_id, t.promo_id, o.promo_id, p.category, pr.category "
                 "FROM transactions t JOIN orders o USING (order_id) JOIN products pr USING (product_id) "
                 "LEFT JOIN promotions p ON p.promo_id = o.promo_id "
                 "WHERE t.promo_id IS DISTINCT FROM (CASE WHEN p.category IN ('All', pr.category) THEN o.promo_id END)",
                 "lines whose promotion is not the order's covering promotion")


# --------------------------------------------------------------------------------------------------
# prices and totals


def test_unit_price_is_the_products_price(data: Retail) -> None:
    _assert_none(data, "SELECT t.transaction_id, t.unit_price, p.price FROM transactions t "
                 "JOIN products p USING (product_id) WHERE t.unit_price <> p.price", "lines not at list price")


def test_line_price_is_amount_less_discount(data: Retail) -> None:
    _assert_none(data, f"SELECT transaction_id, unit_price, quantity, discount, price FROM transactions "
                 f"WHERE abs(price - (unit_price * quantity - discount)) > {CENT} OR price <> round(price, 2) "
                 f"OR price <= 0", "line prices that are not unit_price * quantity - discount")


def test_order_total_is_the_sum_of_its_lines_to_the_cent(data: Retail) -> None:
    _assert_none(data, f"SELECT o.order_id, o.order_total, s.total FROM orders o LEFT JOIN "
                 f"(SELECT order_id, sum(price) AS total FROM transactions GROUP BY order_id) s USING (order_id) "
                 f"WHERE s.total IS NULL OR abs(o.order_total - s.total) > {CENT} "
                 f"OR o.order_total <> round(o.order_total, 2)", "order totals that are not the sum of the lines")
    _assert_none(data, "SELECT o.order_id FROM orders o JOIN (SELECT order_id, sum(quantity) AS units "
                 "FROM transactions GROUP BY order_id) s USING (order_id) WHERE o.item_count <> s.units",
                 "item counts that are not the units of the lines")


def test_orders_have_one_to_five_lines_of_distinct_products(data: Retail) -> None:
    _assert_none(data, "SELECT order_id, count(*), count(DISTINCT product_id), min(line_number), max(line_number) "
                 "FROM transactions GROUP BY order_id HAVING count(*) NOT BETWEEN 1 AND 5 "
                 "OR count(DISTINCT product_id) <> count(*) OR min(line_number) <> 1 OR max(line_number) <> count(*) "
                 "OR count(DISTINCT line_number) <> count(*)",
                 "orders with a wrong number of lines, repeated products or gaps in line numbers")
    assert data.scalar("SELECT count(DISTINCT order_id) FROM transactions") == FIXED_ROWS["orders"]
    assert data.scalar("SELECT min(quantity) FROM transactions") >= 1
    assert data.scalar("SELECT max(quantity) FROM transactions") <= 5


# --------------------------------------------------------------------------------------------------
# returns


def test_returns_only_for_completed_orders(data: Retail) -> None:
    _assert_none(data, "SELECT r.return_id, o.order_status FROM returns r JOIN orders o USING (order_id) "
                 "WHERE o.order_status <> 'Completed'", "returns of orders that are not Completed")
    completed = data.scalar("SELECT count(*) FROM orders WHERE order_status = 'Completed'")
    returned = data.scalar("SELECT count(DISTINCT order_id) FROM returns")
    assert 0.09 < returned / completed < 0.16


def test_return_date_after_order_and_not_after_as_of(data: Retail) -> None:
    _assert_none(data, f"SELECT r.return_id, o.order_date, r.return_date FROM returns r JOIN orders o "
                 f"USING (order_id) WHERE NOT (r.return_date > o.order_date AND r.return_date <= DATE "
                 f"'{data.as_of}' AND r.return_date <= o.order_date + INTERVAL 30 DAY)",
                 "returns before the order, after as_of or later than 30 days")


def test_returned_product_is_one_of_the_orders_lines(data: Retail) -> None:
    _assert_none(data, "SELECT r.return_id, r.order_id, t.order_id, r.product_id, t.product_id FROM returns r "
                 "LEFT JOIN transactions t USING (transaction_id) "
                 "WHERE t.order_id IS DISTINCT FROM r.order_id OR t.product_id IS DISTINCT FROM r.product_id",
                 "returned products that are not a line of the returned order")


def test_returned_quantity_and_refund_within_the_line(data: Retail) -> None:
    _assert_none(data, "SELECT r.return_id, r.quantity, t.quantity, r.refund_amount, t.price FROM returns r "
                 "JOIN transactions t USING (transaction_id) WHERE NOT (1 <= r.quantity AND r.quantity <= t.quantity "
                 "AND 0 <= r.refund_amount AND r.refund_amount <= t.price) "
                 "OR r.refund_amount <> round(r.refund_amount, 2)",
                 "returns of more than was sold, or refunds above the line's price")
    # the refund is the returned share of the line (less 10% restocking for Customer Dissatisfaction)
    _assert_none(data, f"SELECT r.return_id FROM returns r JOIN transactions t USING (transaction_id) "
                 f"WHERE abs(r.refund_amount - t.price * r.quantity / t.quantity * CASE WHEN r.return_reason = "
                 f"'Customer Dissatisfaction' THEN 0.9 ELSE 1.0 END) > {CENT}", "refunds not of the documented rule")
    assert set(data.column("returns", "return_reason")) == {"Defective", "Wrong Item", "Customer Dissatisfaction"}


# --------------------------------------------------------------------------------------------------
# inventory


def test_inventory_is_unique_per_store_and_product(data: Retail) -> None:
    _assert_none(data, "SELECT store_id, product_id, count(*) FROM inventory GROUP BY ALL HAVING count(*) > 1",
                 "duplicate (store, product) inventory rows")
    _assert_none(data, "SELECT s.store_id, count(i.product_id) FROM stores s LEFT JOIN inventory i USING (store_id) "
                 "GROUP BY s.store_id HAVING count(i.product_id) <> 100", "stores without exactly 100 products")


def test_inventory_levels_are_consistent(data: Retail) -> None:
    _assert_none(data, "SELECT * FROM inventory WHERE NOT (0 <= stock_quantity AND stock_quantity <= max_stock "
                 "AND 0 < reorder_level AND reorder_level < max_stock) "
                 "OR needs_reorder <> (stock_quantity <= reorder_level)", "inconsistent inventory levels")
    _assert_none(data, f"SELECT * FROM inventory WHERE NOT (inventory_date BETWEEN DATE '{data.as_of}' - INTERVAL "
                 f"30 DAY AND DATE '{data.as_of}')", "stock counts outside the last 30 days")


# --------------------------------------------------------------------------------------------------
# customers, stores, products


@pytest.mark.parametrize("table", ["customers", "stores"])
def test_city_state_and_zip_agree(data: Retail, zips: dict[str, dict[str, str]], table: str) -> None:
    rows = zip(data.column(table, "city"), data.column(table, "state"), data.column(table, "zip_code"), strict=True)
    wrong = [(c, s, z) for c, s, z in rows if z not in zips or (zips[z]["city"], zips[z]["state"]) != (c, s)]
    assert not wrong, f"{len(wrong)} {table} whose city/state is not their ZIP's, e.g. {wrong[:5]}"


def test_store_region_follows_state(data: Retail) -> None:
    for state, region in zip(data.column("stores", "state"), data.column("stores", "region"), strict=True):
        expected = next((r for r, states in REGIONS.items() if state in states), "South")
        assert region == expected, (state, region)
    assert set(data.column("stores", "region")) == {"North", "South", "East", "West"}


def test_emails_are_unique(data: Retail) -> None:
    emails = data.column("customers", "email")
    assert None not in emails and len(set(emails)) == len(emails)
    assert all(len(e) <= 100 and re.fullmatch(r"[a-z0-9._]+@example\.(com|net|org)", e) for e in emails)


def test_phones_fit_their_declared_length(data: Retail, zips: dict[str, dict[str, str]]) -> None:
    phones = data.column("customers", "phone")
    bad = [p for p in phones if p is None or len(p) > 20 or not PHONE.fullmatch(p)]
    assert not bad, f"{len(bad)} phones not in (NXX) NXX-XXXX form, e.g. {bad[:5]}"
    local = sum(PHONE.fullmatch(p).group(1) == zips[z]["area_code"]
                for p, z in zip(phones, data.column("customers", "zip_code"), strict=True))
    assert local == len(phones)


def test_customer_value_sets(data: Retail) -> None:
    tiers = data.column("customers", "loyalty_status")
    assert set(tiers) == {"Bronze", "Silver", "Gold"}
    assert 0.55 < tiers.count("Bronze") / len(tiers) < 0.65 and 0.07 < tiers.count("Gold") / len(tiers) < 0.13


def test_products_sub_categories_prices_and_costs(data: Retail) -> None:
    pairs = set(zip(data.column("products", "category"), data.column("products", "sub_category"), strict=True))
    assert {c for c, _ in pairs} == set(SUB_CATEGORIES)
    assert all(sub in SUB_CATEGORIES[cat] for cat, sub in pairs), pairs
    _assert_none(data, "SELECT * FROM products WHERE NOT (0 < cost AND cost < price) OR price <> round(price, 2) "
                 "OR cost <> round(cost, 2)", "products with cost not below price")
    by_sub = dict(data.db.sql("SELECT sub_category, median(price) FROM products GROUP BY ALL").fetchall())
    assert by_sub["Laptop"] > 5 * by_sub["Puzzle"]  # price ranges depend on the sub-category


def test_order_value_sets_and_weights(data: Retail) -> None:
    status = dict(data.db.sql("SELECT order_status, count(*) / 10000 FROM orders GROUP BY ALL").fetchall())
    assert set(status) == {"Completed", "Pending", "Cancelled"}
    assert abs(status["Completed"] - 0.8) < 0.03 and abs(status["Pending"] - 0.15) < 0.03
    assert abs(status["Cancelled"] - 0.05) < 0.02
    _assert_none(data, "SELECT order_id FROM orders WHERE payment_method = 'Cash' AND channel <> 'In-Store'",
                 "cash payments outside a store")


# --------------------------------------------------------------------------------------------------
# scale


def test_scale_two_doubles_every_table_but_the_calendar(tmp_path: Path) -> None:
    out = tmp_path / "retail2"
    result = CliRunner().invoke(cli, ["generate", "retail", "--out", str(out), "--scale", "2", "-q"])
    assert result.exit_code == 0, result.output
    rows = {name: pq.read_metadata(out / f"{name}.parquet").num_rows for name in TABLES}
    assert rows["dates"] == 365
    for table, base in FIXED_ROWS.items():
        if table != "dates":
            assert rows[table] == 2 * base, table
    assert 54_000 <= rows["transactions"] <= 66_000
    assert rows["inventory"] == 100 * rows["stores"] == 20_000
    assert 1_600 <= rows["returns"] <= 2_400
