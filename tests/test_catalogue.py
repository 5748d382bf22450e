"""The config-folder platform's entity datasets as built-in packs: ecommerce_orders,
education_assessments, healthcare_patients, insurance_claims, logistics_shipments, real_estate_listings,
retail_sales and social_media_posts.

Each pack is generated once at scale 1 (library.generate runs the spec's own checks and rules and
raises if the data breaks them) and then read back from the written Parquet files: the config-folder
platform's row counts, column types and constraints, the exact missingness of its evolution settings,
real timestamps instead of the platform's 60, keys and foreign keys, and the semantics of each dataset.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

import esdh.packs
from esdh import library
from esdh.cli.main import cli
from tests.parquet_folder import read, sql

AS_OF = dt.date(2026, 1, 1)
END = dt.datetime(2026, 1, 2)  # timestamps are on or before as_of: before this instant
ZIPS = Path(esdh.packs.__file__).parent / "vocab" / "us_zips.csv"

# pack -> (main table, platform row count, {platform column: Arrow type}, {nullable platform column: missingness})
PLATFORM = {
    "ecommerce_orders": ("orders", 27000, {
        "order_id": pa.int64(), "customer_id": pa.int64(), "order_date": pa.timestamp("ms"),
        "total_amount": pa.float64(), "status": pa.string()}, {"status": 0.07}),
    "education_assessments": ("assessments", 12000, {
        "student_id": pa.int64(), "assessment_id": pa.int64(), "subject": pa.string(),
        "score": pa.float64(), "assessment_date": pa.timestamp("ms")}, {"score": 0.03}),
    "healthcare_patients": ("patients", 15000, {
        "patient_id": pa.int64(), "age": pa.int64(), "gender": pa.string(), "diagnosis": pa.string(),
        "admission_date": pa.timestamp("ms")}, {"diagnosis": 0.2}),
    "insurance_claims": ("claims", 16000, {
        "claim_id": pa.int64(), "policy_id": pa.int64(), "claim_date": pa.timestamp("ms"),
        "claim_amount": pa.float64(), "claim_type": pa.string()}, {"claim_type": 0.18}),
    "logistics_shipments": ("shipments", 22000, {
        "shipment_id": pa.int64(), "origin": pa.string(), "destination": pa.string(),
        "ship_date": pa.timestamp("ms"), "delivery_date": pa.timestamp("ms")}, {"delivery_date": 0.08}),
    "real_estate_listings": ("listings", 14000, {
        "listing_id": pa.int64(), "address": pa.string(), "price": pa.float64(), "bedrooms": pa.int64(),
        "listing_date": pa.timestamp("ms")}, {"bedrooms": 0.09}),
    "retail_sales": ("sales", 30000, {
        "sale_id": pa.int64(), "store_id": pa.int64(), "product_id": pa.int64(), "quantity": pa.int64(),
        "sale_amount": pa.float64(), "sale_date": pa.timestamp("ms")}, {"sale_amount": 0.05}),
    "social_media_posts": ("posts", 25000, {
        "post_id": pa.int64(), "user_id": pa.int64(), "post_time": pa.timestamp("ms"), "content": pa.string(),
        "likes": pa.int64()}, {"likes": 0.1}),
}
PACKS = list(PLATFORM)
TIMESTAMP = {"ecommerce_orders": "order_date", "education_assessments": "assessment_date",
             "healthcare_patients": "admission_date", "insurance_claims": "claim_date",
             "logistics_shipments": "ship_date", "real_estate_listings": "listing_date",
             "retail_sales": "sale_date", "social_media_posts": "post_time"}
# the config-folder platform's constraints: pack -> [(column, min, max)]
RANGES = {
    "ecommerce_orders": [("total_amount", 5, 5000)],
    "education_assessments": [("score", 0, 100)],
    "healthcare_patients": [("age", 0, 100)],
    "insurance_claims": [("claim_amount", 100, 100000)],
    "real_estate_listings": [("price", 1e4, 1e7), ("bedrooms", 0, 10)],
    "retail_sales": [("quantity", 1, 20), ("sale_amount", 0.5, 500)],
    "social_media_posts": [("likes", 0, None)],
}
# (pack, table, key columns)
KEYS = [
    ("ecommerce_orders", "customers", "customer_id"), ("ecommerce_orders", "products", "product_id"),
    ("ecommerce_orders", "orders", "order_id"), ("ecommerce_orders", "order_lines", "order_id, line_no"),
    ("ecommerce_orders", "order_lines", "order_id, product_id"),
    ("education_assessments", "students", "student_id"), ("education_assessments", "assessments", "assessment_id"),
    ("healthcare_patients", "patients", "patient_id"),
    ("insurance_claims", "policies", "policy_id"), ("insurance_claims", "policies", "policy_number"),
    ("insurance_claims", "claims", "claim_id"),
    ("logistics_shipments", "hubs", "hub_id"), ("logistics_shipments", "shipments", "shipment_id"),
    ("logistics_shipments", "shipments", "tracking_number"),
    ("real_estate_listings", "listings", "listing_id"),
    ("retail_sales", "stores", "store_id"), ("retail_sales", "products", "product_id"),
    ("retail_sales", "sales", "sale_id"),
    ("social_media_posts", "users", "user_id"), ("social_media_posts", "posts", "post_id"),
]
# (pack, child table, column, parent table, parent column)
FOREIGN_KEYS = [
    ("ecommerce_orders", "orders", "customer_id", "customers", "customer_id"),
    ("ecommerce_orders", "order_lines", "order_id", "orders", "order_id"),
    ("ecommerce_orders", "order_lines", "product_id", "products", "product_id"),
    ("education_assessments", "assessments", "student_id", "students", "student_id"),
    ("insurance_claims", "claims", "policy_id", "policies", "policy_id"),
    ("logistics_shipments", "shipments", "hub_id", "hubs", "hub_id"),
    ("retail_sales", "sales", "store_id", "stores", "store_id"),
    ("retail_sales", "sales", "product_id", "products", "product_id"),
    ("social_media_posts", "posts", "user_id", "users", "user_id"),
]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every pack generated once at scale 1 (library.generate raises if the data breaks its spec)."""
    root = tmp_path_factory.mktemp("catalogue")
    folders = {}
    for name in PACKS:
        result = library.generate(name, root / name, formats=["parquet"])
        assert all(c.failed == 0 for c in result.checks), name
        folders[name] = root / name
    return folders


def one(folder: Path, query: str) -> object:
    return sql(folder, query)[0][0]


@pytest.fixture(scope="module")
def zips() -> set[tuple[str, str, str]]:
    """(ZIP, city, state) of every record of the bundled ZIP vocabulary."""
    with ZIPS.open(newline="", encoding="utf-8") as f:
        return {(row["postal_code"], row["city"], row["state"]) for row in csv.DictReader(f)}


# ---- the catalogue ---------------------------------------------------------------------------------


def test_esdh_packs_lists_all_eight() -> None:
    result = CliRunner().invoke(cli, ["packs"])
    assert result.exit_code == 0, result.output
    listed = {line.split(" ")[0] for line in result.output.splitlines() if not line.startswith(" ")}
    assert set(PACKS) <= listed
    for name in PACKS:
        assert PLATFORM[name][0] in library.load(name).tables


# ---- the config-folder platform's shape: rows, columns, types, missingness, ranges ---------------------------------


def test_main_tables_have_the_platform_rows_columns_and_types(out: dict[str, Path]) -> None:
    for name, (table, rows, columns, _) in PLATFORM.items():
        data = read(out[name], table)
        assert data.num_rows == rows, name
        assert library.plan(name).rows[table] == rows, name
        for column, type_ in columns.items():
            assert data.schema.field(column).type == type_, (name, column)


def test_missingness_is_exact_and_only_where_the_platform_asks(out: dict[str, Path]) -> None:
    for name, (table, rows, columns, missing) in PLATFORM.items():
        data = read(out[name], table)
        for column in columns:
            expected = round(missing.get(column, 0) * rows)
            assert data.column(column).null_count == expected, (name, column)


def test_platform_ranges_hold(out: dict[str, Path]) -> None:
    for name, checks in RANGES.items():
        table = PLATFORM[name][0]
        for column, low, high in checks:
            lo, hi = sql(out[name], f"SELECT min({column}), max({column}) FROM {table}")[0]
            assert lo >= low, (name, column, lo)
            if high is not None:
                assert hi <= high, (name, column, hi)


def test_timestamps_are_real_and_many(out: dict[str, Path]) -> None:
    for name, column in TIMESTAMP.items():
        table = PLATFORM[name][0]
        distinct, rows, latest = sql(out[name], f"SELECT count(DISTINCT {column}), count({column}), "
                                                f"max({column}) FROM {table}")[0]
        assert distinct > 0.95 * rows, (name, distinct)  # the platform had 60
        assert latest < END, name


def test_keys_are_unique(out: dict[str, Path]) -> None:
    for name, table, key in KEYS:
        rows, distinct = sql(out[name], f"SELECT count(*), count(DISTINCT ({key})) FROM {table}")[0]
        assert rows == distinct, (name, table, key)


def test_foreign_keys_resolve(out: dict[str, Path]) -> None:
    for name, child, column, parent, key in FOREIGN_KEYS:
        orphans = one(out[name], f"SELECT count(*) FROM {child} c LEFT JOIN {parent} p ON c.{column} = p.{key} "
                                 f"WHERE c.{column} IS NOT NULL AND p.{key} IS NULL")
        assert orphans == 0, (name, child, column)


# ---- semantics, dataset by dataset ----------------------------------------------------------------


def test_orders_totals_status_and_dates(out: dict[str, Path]) -> None:
    folder = out["ecommerce_orders"]
    # total_amount = sum of the lines (quantity x price) + shipping (5.99 under 35 USD), to the cent
    assert one(folder, """
        SELECT count(*) FROM orders o JOIN (
            SELECT order_id, sum(line_total) AS lines, count(*) AS n FROM order_lines GROUP BY order_id) l
          USING (order_id)
        WHERE abs(o.total_amount - round(l.lines + o.shipping_fee, 2)) > 0.005 OR o.item_count != l.n
           OR o.shipping_fee != CASE WHEN l.lines >= 35 THEN 0 ELSE 5.99 END""") == 0
    assert one(folder, "SELECT count(*) FROM order_lines "
                       "WHERE abs(line_total - round(quantity * unit_price, 2)) > 0.005") == 0
    assert one(folder, "SELECT count(*) FROM order_lines l JOIN products p USING (product_id) "
                       "WHERE l.unit_price != p.price") == 0
    statuses = dict(sql(folder, "SELECT status, count(*) FROM orders GROUP BY status"))
    assert set(statuses) == {None, "pending", "processing", "shipped", "delivered", "cancelled", "returned"}
    assert statuses["delivered"] > 0.7 * 27000
    # status follows the order's age: delivered and returned orders are at least a week old
    assert one(folder, "SELECT count(*) FROM orders WHERE status IN ('delivered', 'returned') "
                       "AND order_date > TIMESTAMP '2026-01-02' - INTERVAL 7 DAY") == 0
    assert one(folder, "SELECT count(*) FROM orders WHERE status = 'pending' "
                       "AND order_date < TIMESTAMP '2025-12-31'") == 0
    # ordered on or after the customer signed up, not after as_of
    assert one(folder, "SELECT count(*) FROM orders o JOIN customers c USING (customer_id) "
                       "WHERE CAST(o.order_date AS DATE) < c.signup_date") == 0
    # repeat buyers: some customers order many times
    assert one(folder, "SELECT max(n) FROM (SELECT count(*) AS n FROM orders GROUP BY customer_id)") >= 15


def test_assessments_scores_by_subject_on_school_days(out: dict[str, Path]) -> None:
    folder = out["education_assessments"]
    means = dict(sql(folder, "SELECT subject, avg(score) FROM assessments GROUP BY subject"))
    assert set(means) == {"Mathematics", "Reading", "Science", "History", "Writing"}
    assert min(means, key=means.__getitem__) == "Mathematics"
    assert max(means, key=means.__getitem__) == "Reading"
    mean, std, skew = sql(folder, "SELECT avg(score), stddev(score), skewness(score) FROM assessments")[0]
    assert 65 < mean < 75 and 7 < std < 15 and skew < 0  # normal-ish, a longer tail of low scores
    # Monday to Friday, school hours, inside a term, after enrolment
    assert one(folder, "SELECT count(*) FROM assessments WHERE isodow(assessment_date) > 5") == 0
    assert one(folder, "SELECT count(*) FROM assessments WHERE hour(assessment_date) NOT BETWEEN 8 AND 15") == 0
    assert one(folder, """
        SELECT count(*) FROM assessments WHERE NOT (
            (term = 'Fall 2024' AND CAST(assessment_date AS DATE) BETWEEN DATE '2024-09-03' AND DATE '2024-12-20')
         OR (term = 'Spring 2025' AND CAST(assessment_date AS DATE) BETWEEN DATE '2025-01-06' AND DATE '2025-06-13')
         OR (term = 'Fall 2025' AND CAST(assessment_date AS DATE) BETWEEN DATE '2025-09-02' AND DATE '2025-12-19'))
        """) == 0
    assert one(folder, "SELECT count(*) FROM assessments WHERE month(assessment_date) IN (7, 8)") == 0
    assert one(folder, "SELECT count(*) FROM assessments a JOIN students s USING (student_id) "
                       "WHERE CAST(a.assessment_date AS DATE) <= s.enrollment_date") == 0
    assert one(folder, "SELECT count(*) FROM assessments WHERE (score IS NULL) != (letter_grade IS NULL)") == 0


def test_patients_ages_dates_and_diagnoses(out: dict[str, Path]) -> None:
    folder = out["healthcare_patients"]
    data = read(folder, "patients").to_pylist()
    for row in data:
        born, admitted = row["date_of_birth"], row["admission_date"]
        assert born <= admitted.date() <= AS_OF
        age = admitted.year - born.year - ((admitted.month, admitted.day) < (born.month, born.day))
        assert row["age"] == age
    assert {row["gender"] for row in data} == {"F", "M"}
    # one name per ICD-10-CM code, null together
    assert one(folder, "SELECT count(*) FROM patients WHERE (diagnosis IS NULL) != (diagnosis_code IS NULL)") == 0
    assert one(folder, "SELECT max(n) FROM (SELECT count(DISTINCT diagnosis) AS n FROM patients "
                       "WHERE diagnosis IS NOT NULL GROUP BY diagnosis_code)") == 1
    assert all(re.fullmatch(r"[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?", r["diagnosis_code"])
               for r in data if r["diagnosis_code"])
    codes = dict(sql(folder, "SELECT diagnosis_code, diagnosis FROM patients WHERE diagnosis IS NOT NULL "
                             "GROUP BY ALL"))
    assert codes["I50.9"] == "Heart failure, unspecified" and codes["O80"].startswith("Encounter for full-term")
    assert len(codes) >= 25
    # diagnoses fit age and sex
    assert one(folder, "SELECT count(*) FROM patients WHERE diagnosis_code = 'O80' "
                       "AND (gender != 'F' OR age NOT BETWEEN 12 AND 55)") == 0
    assert one(folder, "SELECT count(*) FROM patients WHERE diagnosis_code LIKE 'Z38%' AND "
                       "(date_of_birth != CAST(admission_date AS DATE) OR admission_type != 'Newborn')") == 0
    assert one(folder, "SELECT count(*) FROM patients WHERE diagnosis_code IN ('I50.9', 'J44.1', 'I48.91') "
                       "AND age < 45") == 0
    assert one(folder, "SELECT count(*) FROM patients WHERE discharge_date < CAST(admission_date AS DATE) "
                       "OR discharge_date > DATE '2026-01-01'") == 0


def test_claims_inside_policy_periods_with_amounts_by_type(out: dict[str, Path]) -> None:
    folder = out["insurance_claims"]
    assert one(folder, """
        SELECT count(*) FROM claims c JOIN policies p USING (policy_id)
        WHERE CAST(c.claim_date AS DATE) <= p.start_date OR CAST(c.claim_date AS DATE) >= p.end_date
           OR c.claim_date >= TIMESTAMP '2026-01-02'""") == 0
    medians = dict(sql(folder, "SELECT claim_type, median(claim_amount) FROM claims GROUP BY claim_type"))
    assert medians["Glass"] < medians["Comprehensive"] < medians["Collision"] < medians["Fire"]
    assert one(folder, "SELECT count(*) FROM claims WHERE policy_type = 'Auto' "
                       "AND claim_type IN ('Water Damage', 'Wind/Hail', 'Fire')") == 0
    assert one(folder, "SELECT count(*) FROM claims WHERE policy_type != 'Auto' "
                       "AND claim_type IN ('Collision', 'Comprehensive', 'Glass')") == 0
    assert one(folder, "SELECT count(*) FROM claims c JOIN policies p USING (policy_id) "
                       "WHERE c.policy_type != p.policy_type") == 0
    # most policies have no claim
    claimed = one(folder, "SELECT count(DISTINCT policy_id) FROM claims")
    assert claimed < 0.5 * 30000


def test_shipments_delivery_origin_destination(out: dict[str, Path], zips: set[tuple[str, str, str]]) -> None:
    folder = out["logistics_shipments"]
    assert one(folder, "SELECT count(*) FROM shipments WHERE delivery_date <= ship_date "
                       "OR delivery_date >= TIMESTAMP '2026-01-02'") == 0
    assert one(folder, "SELECT count(*) FROM shipments WHERE origin = destination") == 0
    # the undelivered are recent: their delivery falls after as_of, all shipped in the last two weeks
    assert one(folder, "SELECT count(*) FROM shipments WHERE delivery_date IS NULL "
                       "AND ship_date < TIMESTAMP '2025-12-18'") == 0
    assert one(folder, "SELECT count(*) FROM shipments WHERE (delivery_date IS NULL) != (status = 'In Transit')") == 0
    late, early = sql(folder, "SELECT avg(epoch(ship_date)) FILTER (WHERE delivery_date IS NULL), "
                              "avg(epoch(ship_date)) FILTER (WHERE delivery_date IS NOT NULL) FROM shipments")[0]
    assert late > early
    # real places: every destination and hub is a record of the ZIP vocabulary
    for city, state, zip_code, destination in sql(folder, "SELECT DISTINCT destination_city, destination_state, "
                                                          "destination_zip, destination FROM shipments"):
        assert (zip_code, city, state) in zips
        assert destination == f"{city}, {state}"
    for city, state, zip_code in sql(folder, "SELECT city, state, postal_code FROM hubs"):
        assert (zip_code, city, state) in zips
    assert one(folder, "SELECT count(*) FROM shipments s JOIN hubs h USING (hub_id) "
                       "WHERE s.origin != h.city || ', ' || h.state") == 0
    assert one(folder, "SELECT count(DISTINCT destination_state) FROM shipments") >= 45


def test_listings_addresses_prices_and_bedrooms(out: dict[str, Path], zips: set[tuple[str, str, str]]) -> None:
    folder = out["real_estate_listings"]
    rows = sql(folder, "SELECT address, street_address, city, state, zip_code FROM listings")
    for address, street, city, state, zip_code in rows:
        assert (zip_code, city, state) in zips
        assert address == f"{street}, {city}, {state} {zip_code}"
        assert re.fullmatch(r"[0-9]+ .+", street)
    by_bedrooms = dict(sql(folder, "SELECT bedrooms, median(price) FROM listings WHERE bedrooms IS NOT NULL "
                                   "GROUP BY bedrooms"))
    assert [by_bedrooms[b] for b in range(0, 7)] == sorted(by_bedrooms[b] for b in range(0, 7))
    dear, cheap = sql(folder, """
        SELECT median(price / (90000 + 75000 * bedrooms)) FILTER (WHERE state IN ('CA', 'HI', 'MA', 'DC')),
               median(price / (90000 + 75000 * bedrooms)) FILTER (WHERE state IN ('MS', 'WV', 'AR', 'OK'))
        FROM listings""")[0]
    assert dear > 2.5 * cheap
    assert one(folder, "SELECT count(*) FROM listings WHERE property_type = 'Condo' AND bedrooms > 3") == 0
    assert one(folder, "SELECT corr(square_feet, bedrooms) FROM listings") > 0.8


def test_retail_amount_is_quantity_times_price(out: dict[str, Path]) -> None:
    folder = out["retail_sales"]
    sales = read(folder, "sales").to_pylist()
    prices = {r["product_id"]: r["unit_price"] for r in read(folder, "products").to_pylist()}
    for row in sales:
        assert row["unit_price"] == prices[row["product_id"]]
        if row["sale_amount"] is not None:
            assert round(row["sale_amount"] * 100) == round(row["quantity"] * row["unit_price"] * 100)
    assert one(folder, "SELECT count(*) FROM sales s JOIN stores t USING (store_id) "
                       "WHERE CAST(s.sale_date AS DATE) < t.opened_date "
                       "OR s.sale_date < TIMESTAMP '2025-01-01'") == 0
    assert one(folder, "SELECT count(*) FROM sales WHERE hour(sale_date) NOT BETWEEN 8 AND 21") == 0
    quantities = dict(sql(folder, "SELECT quantity, count(*) FROM sales GROUP BY quantity"))
    assert quantities[1] > quantities[2] > quantities[5] and max(quantities) >= 15


def test_posts_after_signup_with_template_content_and_heavy_tailed_likes(out: dict[str, Path]) -> None:
    folder = out["social_media_posts"]
    assert one(folder, "SELECT count(*) FROM posts p JOIN users u USING (user_id) "
                       "WHERE p.post_time <= u.signup_at") == 0
    contents = [row[0] for row in sql(folder, "SELECT content FROM posts")]
    assert all(re.fullmatch(r"[A-Z][^.]*[a-z'] .+\. .+ #[a-z]+", text) for text in contents)
    assert len(set(contents)) < len(contents)  # a small vocabulary
    tags = {"food": {"foodie", "yum", "eats"}, "pets": {"pets", "dogsofinstagram", "catlife"}}
    for topic, content in sql(folder, "SELECT topic, content FROM posts WHERE topic IN ('food', 'pets')"):
        assert content.rsplit("#", 1)[1] in tags[topic]
    median, p99, top = sql(folder, "SELECT median(likes), quantile_cont(likes, 0.99), max(likes) FROM posts")[0]
    assert p99 > 20 * median and top > 200 * median  # heavy tail
    assert one(folder, "SELECT max(n) FROM (SELECT count(*) AS n FROM posts GROUP BY user_id)") > 50
