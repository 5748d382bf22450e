"""The built-in tpch dataset at scale factor 0.01 (lineitem about 60,000 rows), checked from the Parquet files.

Every TPC-H rule is re-derived here in DuckDB from the written files, independently of esdh's own checks
(which also run: the dataset is generated with ``check=True``, so a failing esdh check errors the fixture).
Row counts at scale factor 1 come from the plan, which does not generate anything.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from esdh import library

SF = 0.01
TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")
FIXED = {"region": 5, "nation": 25}
PER_SF = {"supplier": 10_000, "customer": 150_000, "part": 200_000, "partsupp": 800_000, "orders": 1_500_000}
LINEITEM_PER_SF = 6_000_000

REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
NATIONS = [  # (name, regionkey), by nationkey, as in TPC-H clause 4.2.3
    ("ALGERIA", 0), ("ARGENTINA", 1), ("BRAZIL", 1), ("CANADA", 1), ("EGYPT", 4), ("ETHIOPIA", 0),
    ("FRANCE", 3), ("GERMANY", 3), ("INDIA", 2), ("INDONESIA", 2), ("IRAN", 4), ("IRAQ", 4), ("JAPAN", 2),
    ("JORDAN", 4), ("KENYA", 0), ("MOROCCO", 0), ("MOZAMBIQUE", 0), ("PERU", 1), ("CHINA", 2),
    ("ROMANIA", 3), ("SAUDI ARABIA", 4), ("VIETNAM", 2), ("RUSSIA", 3), ("UNITED KINGDOM", 3),
    ("UNITED STATES", 1),
]
SEGMENTS = {"AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"}
PRIORITIES = {"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"}
INSTRUCTIONS = {"DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"}
MODES = {"REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"}
TYPE_SYLLABLES = (
    {"STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"},
    {"ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"},
    {"TIN", "NICKEL", "BRASS", "STEEL", "COPPER"},
)
CONTAINER_SYLLABLES = (
    {"SM", "LG", "MED", "JUMBO", "WRAP"},
    {"CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"},
)
COLOURS = {  # TPC-H's 92 P_NAME words
    "almond", "antique", "aquamarine", "azure", "beige", "bisque", "black", "blanched", "blue", "blush", "brown",
    "burlywood", "burnished", "chartreuse", "chiffon", "chocolate", "coral", "cornflower", "cornsilk", "cream",
    "cyan", "dark", "deep", "dim", "dodger", "drab", "firebrick", "floral", "forest", "frosted", "gainsboro",
    "ghost", "goldenrod", "green", "grey", "honeydew", "hot", "indian", "ivory", "khaki", "lace", "lavender",
    "lawn", "lemon", "light", "lime", "linen", "magenta", "maroon", "medium", "metallic", "midnight", "mint",
    "misty", "moccasin", "navajo", "navy", "olive", "orange", "orchid", "pale", "papaya", "peach", "peru", "pink",
    "plum", "powder", "puff", "purple", "red", "rose", "rosy", "royal", "saddle", "salmon", "sandy", "seashell",
    "sienna", "sky", "slate", "smoke", "snow", "spring", "steel", "tan", "thistle", "tomato", "turquoise",
    "violet", "wheat", "white", "yellow",
}
COMMENT_LENGTHS = {  # TPC-H clause 4.2.3: text of these lengths
    "region": ("r_comment", 31, 115), "nation": ("n_comment", 31, 114), "supplier": ("s_comment", 25, 100),
    "customer": ("c_comment", 29, 116), "part": ("p_comment", 5, 22), "partsupp": ("ps_comment", 49, 198),
    "orders": ("o_comment", 19, 78), "lineitem": ("l_comment", 10, 43),
}
CURRENT_DATE = "DATE '1995-06-17'"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    folder = tmp_path_factory.mktemp("tpch") / "sf001"
    library.generate("tpch", folder, scale=SF, formats=["parquet"])  # check=True: esdh's own checks pass
    con = duckdb.connect()
    for table in TABLES:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{Path(folder) / table}.parquet')")
    return con


def scalar(db: duckdb.DuckDBPyConnection, sql: str) -> object:
    return db.execute(sql).fetchone()[0]


def none_of(db: duckdb.DuckDBPyConnection, sql: str) -> None:
    """``sql`` selects offending rows: there must be none."""
    rows = db.execute(f"SELECT * FROM ({sql}) LIMIT 5").fetchall()
    count = scalar(db, f"SELECT count(*) FROM ({sql})")
    assert count == 0, f"{count} offending rows, e.g. {rows}"


# ---- row counts --------------------------------------------------------------------------------------

def test_row_counts_at_sf_001(db: duckdb.DuckDBPyConnection) -> None:
    counts = {t: scalar(db, f"SELECT count(*) FROM {t}") for t in TABLES}
    for table, rows in FIXED.items():
        assert counts[table] == rows
    for table, per_sf in PER_SF.items():
        assert counts[table] == round(per_sf * SF), table
    assert abs(counts["lineitem"] - LINEITEM_PER_SF * SF) <= 0.02 * LINEITEM_PER_SF * SF
    assert scalar(db, "SELECT min(n) = 1 AND max(n) = 7 FROM (SELECT count(*) n FROM lineitem GROUP BY l_orderkey)")


@pytest.mark.parametrize("scale", [1, 0.01])
def test_planned_row_counts(scale: float) -> None:
    rows = library.plan("tpch", scale=scale).rows
    assert {t: rows[t] for t in FIXED} == FIXED
    for table, per_sf in PER_SF.items():
        assert rows[table] == round(per_sf * scale), table
    assert abs(rows["lineitem"] - LINEITEM_PER_SF * scale) <= 0.01 * LINEITEM_PER_SF * scale


# ---- keys and relationships ---------------------------------------------------------------------------

@pytest.mark.parametrize(("table", "key"), [
    ("region", "r_regionkey"), ("nation", "n_nationkey"), ("supplier", "s_suppkey"), ("customer", "c_custkey"),
    ("part", "p_partkey"), ("partsupp", "ps_partkey, ps_suppkey"), ("orders", "o_orderkey"),
    ("lineitem", "l_orderkey, l_linenumber"),
])
def test_keys_unique_and_not_null(db: duckdb.DuckDBPyConnection, table: str, key: str) -> None:
    none_of(db, f"SELECT {key}, count(*) FROM {table} GROUP BY ALL HAVING count(*) > 1")
    nulls = " OR ".join(f"{c.strip()} IS NULL" for c in key.split(","))
    none_of(db, f"SELECT * FROM {table} WHERE {nulls}")


def test_dense_keys(db: duckdb.DuckDBPyConnection) -> None:
    for table, key, start in [("region", "r_regionkey", 0), ("nation", "n_nationkey", 0),
                              ("supplier", "s_suppkey", 1), ("customer", "c_custkey", 1), ("part", "p_partkey", 1)]:
        n = scalar(db, f"SELECT count(*) FROM {table}")
        assert scalar(db, f"SELECT min({key}) = {start} AND max({key}) = {start + n - 1} FROM {table}"), table


def test_order_keys_are_sparse_like_dbgen(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, "SELECT o_orderkey FROM orders WHERE (o_orderkey - 1) % 32 >= 8")
    last = scalar(db, "SELECT count(*) FROM orders") - 1  # the last row: keys 1-8, 33-40, 65-72, ...
    assert scalar(db, "SELECT max(o_orderkey) FROM orders") == last // 8 * 32 + last % 8 + 1


@pytest.mark.parametrize(("child", "column", "parent", "key"), [
    ("nation", "n_regionkey", "region", "r_regionkey"),
    ("supplier", "s_nationkey", "nation", "n_nationkey"),
    ("customer", "c_nationkey", "nation", "n_nationkey"),
    ("partsupp", "ps_partkey", "part", "p_partkey"),
    ("partsupp", "ps_suppkey", "supplier", "s_suppkey"),
    ("orders", "o_custkey", "customer", "c_custkey"),
    ("lineitem", "l_orderkey", "orders", "o_orderkey"),
    ("lineitem", "l_partkey", "part", "p_partkey"),
    ("lineitem", "l_suppkey", "supplier", "s_suppkey"),
])
def test_foreign_keys_resolve(db: duckdb.DuckDBPyConnection, child: str, column: str, parent: str,
                              key: str) -> None:
    none_of(db, f"SELECT {column} FROM {child} ANTI JOIN {parent} ON {column} = {key}")


def test_lineitem_part_supplier_pairs_exist_in_partsupp(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, "SELECT l_partkey, l_suppkey FROM lineitem ANTI JOIN partsupp "
                "ON l_partkey = ps_partkey AND l_suppkey = ps_suppkey")


def test_partsupp_four_distinct_suppliers_per_part(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, "SELECT ps_partkey FROM partsupp GROUP BY ps_partkey "
                "HAVING count(*) != 4 OR count(DISTINCT ps_suppkey) != 4")
    assert scalar(db, "SELECT count(DISTINCT ps_partkey) FROM partsupp") == scalar(db, "SELECT count(*) FROM part")


def test_every_order_has_lines_and_a_third_of_customers_never_order(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, "SELECT o_orderkey FROM orders ANTI JOIN lineitem ON o_orderkey = l_orderkey")
    none_of(db, "SELECT o_custkey FROM orders WHERE o_custkey % 3 = 0")
    ordering = scalar(db, "SELECT count(DISTINCT o_custkey) FROM orders")
    assert ordering > 0.9 * scalar(db, "SELECT count(*) FROM customer WHERE c_custkey % 3 != 0")


def test_line_numbers_are_consecutive(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, "SELECT l_orderkey FROM lineitem GROUP BY l_orderkey "
                "HAVING min(l_linenumber) != 1 OR max(l_linenumber) != count(*)")


# ---- dates and statuses --------------------------------------------------------------------------------

def test_order_dates(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, "SELECT o_orderdate FROM orders "
                "WHERE o_orderdate < DATE '1992-01-01' OR o_orderdate > DATE '1998-12-31' - INTERVAL 151 DAY")
    assert scalar(db, "SELECT min(o_orderdate) < DATE '1992-02-01' AND max(o_orderdate) > DATE '1998-07-01' "
                      "FROM orders")


def test_line_dates_follow_the_order_date(db: duckdb.DuckDBPyConnection) -> None:
    lines = "SELECT l.*, o_orderdate FROM lineitem l JOIN orders ON l_orderkey = o_orderkey"
    none_of(db, f"SELECT * FROM ({lines}) WHERE l_shipdate - o_orderdate NOT BETWEEN 1 AND 121")
    none_of(db, f"SELECT * FROM ({lines}) WHERE l_commitdate - o_orderdate NOT BETWEEN 30 AND 90")
    none_of(db, f"SELECT * FROM ({lines}) WHERE l_receiptdate - l_shipdate NOT BETWEEN 1 AND 30")
    spans = db.execute(f"SELECT min(l_shipdate - o_orderdate), max(l_shipdate - o_orderdate), "
                       f"min(l_commitdate - o_orderdate), max(l_commitdate - o_orderdate), "
                       f"min(l_receiptdate - l_shipdate), max(l_receiptdate - l_shipdate) FROM ({lines})").fetchone()
    assert spans == (1, 121, 30, 90, 1, 30)
    assert scalar(db, "SELECT max(l_receiptdate) FROM lineitem") <= __import__("datetime").date(1998, 12, 31)


def test_return_flag_and_line_status(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, f"SELECT * FROM lineitem WHERE l_receiptdate <= {CURRENT_DATE} AND l_returnflag NOT IN ('R', 'A')")
    none_of(db, f"SELECT * FROM lineitem WHERE l_receiptdate > {CURRENT_DATE} AND l_returnflag != 'N'")
    none_of(db, f"SELECT * FROM lineitem WHERE (l_shipdate > {CURRENT_DATE}) != (l_linestatus = 'O')")
    none_of(db, "SELECT * FROM lineitem WHERE l_linestatus NOT IN ('O', 'F')")
    flags = dict(db.execute("SELECT l_returnflag, count(*) FROM lineitem GROUP BY 1").fetchall())
    assert set(flags) == {"R", "A", "N"} and 0.8 < flags["R"] / flags["A"] < 1.25


def test_order_status_follows_line_status(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, "SELECT o_orderkey, o_orderstatus, expected FROM orders JOIN ("
                "  SELECT l_orderkey, CASE WHEN bool_and(l_linestatus = 'F') THEN 'F' "
                "                          WHEN bool_and(l_linestatus = 'O') THEN 'O' ELSE 'P' END expected "
                "  FROM lineitem GROUP BY l_orderkey) ON o_orderkey = l_orderkey "
                "WHERE o_orderstatus != expected")
    assert scalar(db, "SELECT count(DISTINCT o_orderstatus) FROM orders") == 3


# ---- prices ---------------------------------------------------------------------------------------------

def test_retail_price_formula(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, "SELECT p_partkey, p_retailprice FROM part WHERE abs(p_retailprice - "
                "(90000 + (p_partkey // 10) % 20001 + 100 * (p_partkey % 1000)) / 100.0) > 1e-6")


def test_extended_price_is_quantity_times_retail_price(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, "SELECT l_orderkey, l_linenumber, l_quantity, p_retailprice, l_extendedprice "
                "FROM lineitem JOIN part ON l_partkey = p_partkey "
                "WHERE abs(l_extendedprice - l_quantity * p_retailprice) > 0.005 + 1e-9")
    none_of(db, "SELECT * FROM lineitem WHERE l_quantity NOT BETWEEN 1 AND 50 OR l_quantity != round(l_quantity) "
                "OR l_discount NOT BETWEEN 0 AND 0.10 OR l_tax NOT BETWEEN 0 AND 0.08 "
                "OR round(l_discount, 2) != l_discount OR round(l_tax, 2) != l_tax")
    assert db.execute("SELECT count(DISTINCT l_discount), count(DISTINCT l_tax), count(DISTINCT l_quantity) "
                      "FROM lineitem").fetchone() == (11, 9, 50)


def test_total_price_is_the_sum_of_its_lines_to_the_cent(db: duckdb.DuckDBPyConnection) -> None:
    none_of(db, "SELECT o_orderkey, o_totalprice, total FROM orders JOIN ("
                "  SELECT l_orderkey, sum(l_extendedprice * (1 + l_tax) * (1 - l_discount)) total "
                "  FROM lineitem GROUP BY l_orderkey) ON o_orderkey = l_orderkey "
                "WHERE abs(o_totalprice - total) > 0.005 + 1e-6 OR round(o_totalprice, 2) != o_totalprice")


@pytest.mark.parametrize(("table", "column", "low", "high"), [
    ("supplier", "s_acctbal", -999.99, 9999.99), ("customer", "c_acctbal", -999.99, 9999.99),
    ("partsupp", "ps_supplycost", 1.0, 1000.0), ("partsupp", "ps_availqty", 1, 9999), ("part", "p_size", 1, 50),
    ("part", "p_retailprice", 900.0, 2099.0),
])
def test_numeric_ranges(db: duckdb.DuckDBPyConnection, table: str, column: str, low: float, high: float) -> None:
    none_of(db, f"SELECT {column} FROM {table} WHERE {column} NOT BETWEEN {low} AND {high} "
                f"OR round({column}, 2) != {column}")


# ---- value domains -------------------------------------------------------------------------------------

def test_regions_and_nations(db: duckdb.DuckDBPyConnection) -> None:
    assert db.execute("SELECT r_name FROM region ORDER BY r_regionkey").fetchall() == [(r,) for r in REGIONS]
    assert db.execute("SELECT n_name, n_regionkey FROM nation ORDER BY n_nationkey").fetchall() == NATIONS


@pytest.mark.parametrize(("table", "column", "allowed"), [
    ("customer", "c_mktsegment", SEGMENTS), ("orders", "o_orderpriority", PRIORITIES),
    ("lineitem", "l_shipinstruct", INSTRUCTIONS), ("lineitem", "l_shipmode", MODES),
    ("orders", "o_shippriority", {0}),
])
def test_categories(db: duckdb.DuckDBPyConnection, table: str, column: str, allowed: set) -> None:
    seen = {v for (v,) in db.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()}
    assert seen == allowed


def test_part_types_containers_brands_and_names(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute("SELECT p_name, p_mfgr, p_brand, p_type, p_container FROM part").fetchall()
    types, containers, first_words = set(), set(), set()
    for name, mfgr, brand, kind, container in rows:
        words = name.split(" ")
        assert len(words) == 5 and len(set(words)) == 5 and set(words) <= COLOURS, name
        first_words.add(words[0])
        assert re.fullmatch(r"Manufacturer#[1-5]", mfgr) and re.fullmatch(r"Brand#[1-5][1-5]", brand)
        assert brand[6] == mfgr[-1], (mfgr, brand)
        syllables = kind.split(" ")
        assert len(syllables) == 3 and all(s in allowed for s, allowed in zip(syllables, TYPE_SYLLABLES, strict=True))
        assert container.split(" ")[0] in CONTAINER_SYLLABLES[0] and container.split(" ")[1] in CONTAINER_SYLLABLES[1]
        types.add(kind)
        containers.add(container)
    assert len(types) == 150 and len(containers) == 40
    assert first_words == COLOURS  # every colour can start a name
    assert scalar(db, "SELECT count(DISTINCT p_brand) FROM part") == 25


@pytest.mark.parametrize(("table", "prefix"), [("supplier", "s"), ("customer", "c")])
def test_names_addresses_and_phones(db: duckdb.DuckDBPyConnection, table: str, prefix: str) -> None:
    key = "s_suppkey" if prefix == "s" else "c_custkey"
    label = "Supplier" if prefix == "s" else "Customer"
    none_of(db, f"SELECT {key}, {prefix}_name FROM {table} "
                f"WHERE {prefix}_name != '{label}#' || lpad({key}::VARCHAR, 9, '0')")
    none_of(db, f"SELECT {prefix}_address FROM {table} WHERE length({prefix}_address) NOT BETWEEN 10 AND 40 "
                f"OR NOT regexp_full_match({prefix}_address, '[A-Za-z0-9]+')")
    assert db.execute(f"SELECT min(length({prefix}_address)), max(length({prefix}_address)) FROM {table}"
                      ).fetchone() == (10, 40)
    phone = "[0-9]{2}-[1-9][0-9]{2}-[1-9][0-9]{2}-[1-9][0-9]{3}"
    none_of(db, f"SELECT {prefix}_phone, {prefix}_nationkey FROM {table} "
                f"WHERE NOT regexp_full_match({prefix}_phone, '{phone}') "
                f"OR {prefix}_phone[1:2]::INTEGER != {prefix}_nationkey + 10")


def test_clerks(db: duckdb.DuckDBPyConnection) -> None:
    clerks = round(1000 * SF)
    none_of(db, "SELECT o_clerk FROM orders WHERE NOT regexp_full_match(o_clerk, 'Clerk#[0-9]{9}') "
                f"OR o_clerk[7:]::INTEGER NOT BETWEEN 1 AND {clerks}")
    assert scalar(db, "SELECT count(DISTINCT o_clerk) FROM orders") == clerks


@pytest.mark.parametrize("table", TABLES)
def test_comment_lengths_and_words(db: duckdb.DuckDBPyConnection, table: str) -> None:
    column, low, high = COMMENT_LENGTHS[table]
    none_of(db, f"SELECT {column} FROM {table} WHERE length({column}) NOT BETWEEN {low} AND {high} "
                f"OR NOT regexp_full_match({column}, '[A-Za-z .,;:?!-]+')")
    if scalar(db, f"SELECT count(*) FROM {table}") >= 1000:  # the whole range is used
        assert db.execute(f"SELECT min(length({column})), max(length({column})) FROM {table}").fetchone() == (low, high)
        assert scalar(db, f"SELECT count(DISTINCT {column}) FROM {table}") > 0.95 * scalar(
            db, f"SELECT count(*) FROM {table}")
