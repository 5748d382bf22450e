"""The config-folder platform's sequence datasets as built-in packs: market_time_series, saas_events,
iot_sensor_readings, energy_consumption and finance_transactions.

Each pack is generated (its own checks and rules run while it is written) and then read back from the
written Parquet files: the exact rates of the config-folder platform's evolution settings, the per-entity
sequences (a random walk per symbol, ordered event streams per user, daily cycles per sensor and meter) and the
evolution of finance_transactions from 1.0.0 to 1.1.0 and 1.2.0.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli
from tests.parquet_folder import read, sql

AS_OF = dt.datetime(2026, 1, 1)
PACKS = ["market_time_series", "saas_events", "iot_sensor_readings", "energy_consumption", "finance_transactions"]
MAIN = {"market_time_series": "prices", "saas_events": "events", "iot_sensor_readings": "readings",
        "energy_consumption": "consumption", "finance_transactions": "transactions"}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every pack generated once at scale 1 (library.generate raises if the data breaks its spec)."""
    root = tmp_path_factory.mktemp("catalogue")
    folders = {}
    for name in PACKS:
        result = library.generate(name, root / name, formats=["parquet"])
        assert all(c.failed == 0 for c in result.checks)
        folders[name] = root / name
    return folders


def nulls(table: pa.Table, column: str) -> int:
    return table.column(column).null_count


# ---- row counts and rates ------------------------------------------------------------------------


def test_scale_one_row_counts_follow_the_config_folder_platform() -> None:
    exact = {"market_time_series": 5000, "iot_sensor_readings": 20000, "energy_consumption": 18000,
             "finance_transactions": 500000}
    for name, rows in exact.items():
        assert library.plan(name).rows[MAIN[name]] == rows, name
    events = library.plan("saas_events").rows["events"]
    assert abs(events - 8000) <= 400  # events follow the users: about 10 per user
    assert library.plan("finance_transactions").rows["accounts"] == 50000  # rows / 10


def test_exact_missingness_and_fraud(out: dict[str, Path]) -> None:
    prices = read(out["market_time_series"], "prices")
    assert nulls(prices, "price") == nulls(prices, "volume") == round(0.01 * prices.num_rows) == 50
    events = read(out["saas_events"], "events")
    assert nulls(events, "plan_tier") == round(0.1 * events.num_rows)
    readings = read(out["iot_sensor_readings"], "readings")
    assert nulls(readings, "occupancy") == round(0.15 * readings.num_rows) == 3000
    consumption = read(out["energy_consumption"], "consumption")
    assert nulls(consumption, "building_type") == round(0.12 * consumption.num_rows) == 2160
    tx = read(out["finance_transactions"], "transactions")
    assert pc.sum(tx.column("is_fraud")).as_py() == round(0.02 * tx.num_rows) == 10000
    assert nulls(tx, "merchant_category") == round(0.25 * tx.num_rows) == 125000
    for table, keep in ((prices, {"price", "volume"}), (events, {"plan_tier"}), (readings, {"occupancy"}),
                        (consumption, {"building_type"}), (tx, {"merchant_category"})):
        assert {c for c in table.column_names if table.column(c).null_count} == keep


def test_many_distinct_timestamps(out: dict[str, Path]) -> None:
    columns = {"market_time_series": ("prices", "timestamp", 250), "saas_events": ("events", "event_time", 7000),
               "iot_sensor_readings": ("readings", "timestamp", 15000),
               "energy_consumption": ("consumption", "timestamp", 720),
               "finance_transactions": ("transactions", "timestamp", 400000)}
    for name, (table, column, least) in columns.items():
        values = read(out[name], table).column(column)
        assert pa.types.is_timestamp(values.type), name
        assert len(pc.unique(values)) >= least, name
        assert pc.max(values).as_py() < AS_OF, name


# ---- market_time_series: a random walk per symbol ------------------------------------------------


def test_market_random_walk_per_symbol(out: dict[str, Path]) -> None:
    folder = out["market_time_series"]
    prices = read(folder, "prices")
    assert pc.min(prices.column("price")).as_py() > 0
    assert pc.max(prices.column("price")).as_py() <= 100000
    assert pa.types.is_integer(prices.column("volume").type)
    assert pc.min(prices.column("volume")).as_py() > 0
    per_symbol = sql(folder, """
        WITH r AS (
          SELECT symbol, price / lag(price) OVER (PARTITION BY symbol ORDER BY timestamp) - 1 AS ret
          FROM prices)
        SELECT symbol, count(ret), avg(ret), stddev(ret) FROM r GROUP BY symbol""")
    assert len(per_symbol) == 20
    for symbol, count, mean, std in per_symbol:
        assert count >= 230, symbol  # 249 steps, fewer where a price is missing
        assert 0.005 < std < 0.06, symbol  # not constant, plausible daily volatility
        assert abs(mean) < 4 * std / math.sqrt(count) + 0.002, symbol  # no built-in trend beyond a small drift
    (overall,) = sql(folder, """
        SELECT avg(ret) FROM (SELECT price / lag(price) OVER (PARTITION BY symbol ORDER BY timestamp) - 1 AS ret
                              FROM prices)""")
    assert abs(overall[0]) < 0.002
    # the walk starts near the symbol's start price and wanders away from it
    (start,) = sql(folder, """
        SELECT max(abs(p.price / s.start_price - 1)) FROM prices p JOIN symbols s USING (symbol)
        WHERE p.timestamp = (SELECT min(timestamp) FROM prices) AND p.price IS NOT NULL""")
    assert start[0] < 0.2
    (spread,) = sql(folder, "SELECT min(r) FROM (SELECT max(price) / min(price) AS r FROM prices GROUP BY symbol)")
    assert spread[0] > 1.05
    # trading days only, one row per symbol and day
    assert sql(folder, "SELECT count(*) FROM prices WHERE isodow(timestamp) > 5") == [(0,)]
    assert sql(folder, "SELECT count(DISTINCT (symbol, timestamp)) FROM prices") == [(5000,)]
    # volume rises with the size of the move
    (corr,) = sql(folder, """
        SELECT corr(abs(ret), volume / base_volume) FROM (
          SELECT p.volume, s.base_volume,
                 p.price / lag(p.price) OVER (PARTITION BY p.symbol ORDER BY p.timestamp) - 1 AS ret
          FROM prices p JOIN symbols s USING (symbol))""")
    assert corr[0] > 0.2


# ---- saas_events: ordered event streams per user ---------------------------------------------------


def test_saas_streams_start_with_signup_and_increase(out: dict[str, Path]) -> None:
    folder = out["saas_events"]
    firsts = sql(folder, """
        SELECT e.event_type, e.event_time = u.signup_at FROM events e JOIN users u USING (user_id)
        QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY event_time) = 1""")
    assert len(firsts) == 800
    assert set(firsts) == {("signup", True)}
    assert sql(folder, "SELECT count(*) FROM events WHERE event_type = 'signup'") == [(800,)]
    (not_increasing,) = sql(folder, """
        SELECT count(*) FROM (SELECT event_time - lag(event_time) OVER (PARTITION BY user_id ORDER BY event_id) AS d
                              FROM events) WHERE d <= INTERVAL 0 SECOND""")
    assert not_increasing[0] == 0
    # events are stored per user in time order, and the summary on users agrees
    assert sql(folder, """
        SELECT count(*) FROM users u JOIN (SELECT user_id, count(*) n, max(event_time) last FROM events GROUP BY 1) e
        USING (user_id) WHERE u.event_count != e.n OR u.last_event_at != e.last""") == [(0,)]
    types = dict(sql(folder, "SELECT event_type, count(*) FROM events GROUP BY 1"))
    assert {"signup", "login", "page_view", "plan_upgrade"} <= set(types)
    assert types["page_view"] > types["support_ticket"]


def test_saas_plan_tiers_never_go_down(out: dict[str, Path]) -> None:
    folder = out["saas_events"]
    (down,) = sql(folder, """
        WITH t AS (SELECT user_id, event_time,
                          CASE plan_tier WHEN 'free' THEN 0 WHEN 'pro' THEN 1 WHEN 'enterprise' THEN 2 END AS level
                   FROM events WHERE plan_tier IS NOT NULL)
        SELECT count(*) FROM (SELECT level - lag(level) OVER (PARTITION BY user_id ORDER BY event_time) AS d FROM t)
        WHERE d < 0""")
    assert down[0] == 0
    # tiers do move up, and never below the signup plan
    assert sql(folder, """
        SELECT count(*) FROM events e JOIN users u USING (user_id)
        WHERE (u.signup_plan = 'pro' AND e.plan_tier = 'free')
           OR (u.signup_plan = 'enterprise' AND e.plan_tier != 'enterprise')""") == [(0,)]
    (upgraded,) = sql(folder, "SELECT count(*) FROM users WHERE current_plan != signup_plan")
    assert upgraded[0] > 20


# ---- iot_sensor_readings: regular readings with a daily cycle ----------------------------------------


def test_iot_daily_cycle_per_sensor(out: dict[str, Path]) -> None:
    folder = out["iot_sensor_readings"]
    ranges = sql(folder, """
        SELECT sensor_id, max(t) - min(t) FROM (
          SELECT sensor_id, hour(timestamp) AS h, avg(temperature) AS t FROM readings GROUP BY 1, 2)
        GROUP BY 1""")
    assert len(ranges) == 50
    assert min(r for _, r in ranges) > 1.0  # every sensor swings by at least 2 x its amplitude (>= 1 degree)
    hottest, coldest = sql(folder, """
        SELECT arg_max(h, t), arg_min(h, t) FROM (
          SELECT hour(timestamp) AS h, avg(temperature - s.base_temperature) AS t
          FROM readings JOIN sensors s USING (sensor_id) GROUP BY 1)""")[0]
    assert 13 <= hottest <= 17 and (coldest <= 5 or coldest >= 23)
    low, high = sql(folder, "SELECT min(temperature), max(temperature) FROM readings")[0]
    assert low >= -20 and high <= 50
    (corr,) = sql(folder, "SELECT corr(temperature, humidity) FROM readings")
    assert corr[0] < -0.5
    assert sql(folder, "SELECT count(*) FROM readings WHERE humidity < 0 OR humidity > 100") == [(0,)]


def test_iot_regular_intervals_and_occupancy(out: dict[str, Path]) -> None:
    folder = out["iot_sensor_readings"]
    assert sql(folder, """
        SELECT count(*) FROM (
          SELECT r.timestamp - lag(r.timestamp) OVER (PARTITION BY sensor_id ORDER BY r.timestamp) AS d,
                 s.interval_minutes
          FROM readings r JOIN sensors s USING (sensor_id))
        WHERE d IS NOT NULL AND d != to_minutes(interval_minutes)""") == [(0,)]
    assert sql(folder, """
        SELECT count(*) FROM readings r JOIN sensors s USING (sensor_id)
        WHERE r.timestamp = s.first_reading_at""") == [(50,)]
    work, night = sql(folder, """
        SELECT avg(occupancy::INT) FILTER (WHERE isodow(timestamp) <= 5 AND hour(timestamp) BETWEEN 9 AND 16),
               avg(occupancy::INT) FILTER (WHERE hour(timestamp) < 6)
        FROM readings""")[0]
    assert work > 0.6 and night < 0.1


# ---- energy_consumption: hourly series with daily and weekly patterns -------------------------------


def test_energy_daily_and_weekly_pattern(out: dict[str, Path]) -> None:
    folder = out["energy_consumption"]
    low, high = sql(folder, "SELECT min(energy_kwh), max(energy_kwh) FROM consumption")[0]
    assert low >= 0 and high <= 100
    assert sql(folder, "SELECT count(DISTINCT timestamp), count(DISTINCT meter_id) FROM consumption") == [(720, 25)]
    assert sql(folder, """
        SELECT count(*) FROM (
          SELECT timestamp - lag(timestamp) OVER (PARTITION BY meter_id ORDER BY timestamp) AS d FROM consumption)
        WHERE d != INTERVAL 1 HOUR""") == [(0,)]
    share = dict(((kind, slot), value) for kind, slot, value in sql(folder, """
        SELECT m.building_type,
               CASE WHEN isodow(timestamp) <= 5 AND hour(timestamp) BETWEEN 10 AND 14 THEN 'workday'
                    WHEN isodow(timestamp) > 5 AND hour(timestamp) BETWEEN 10 AND 14 THEN 'weekend'
                    WHEN hour(timestamp) BETWEEN 18 AND 21 THEN 'evening'
                    WHEN hour(timestamp) < 5 THEN 'night' ELSE 'other' END AS slot,
               avg(energy_kwh / m.peak_kwh)
        FROM consumption c JOIN meters m USING (meter_id) GROUP BY 1, 2"""))
    kinds = {kind for kind, _ in share}
    for kind in kinds & {"office", "school"}:
        assert share[kind, "workday"] > 3 * share[kind, "night"], kind
        assert share[kind, "workday"] > 3 * share[kind, "weekend"], kind  # the weekly pattern
    if "residential" in kinds:
        assert share["residential", "evening"] > 2.5 * share["residential", "night"]
    # the reading's building_type, where present, is its meter's
    assert sql(folder, """
        SELECT count(*) FROM consumption c JOIN meters m USING (meter_id)
        WHERE c.building_type IS NOT NULL AND c.building_type != m.building_type""") == [(0,)]


# ---- finance_transactions: amounts, times and evolution ----------------------------------------------


def test_finance_amounts_and_times(out: dict[str, Path]) -> None:
    folder = out["finance_transactions"]
    low, high, median, accounts = sql(folder, """
        SELECT min(amount), max(amount), median(amount), count(DISTINCT account_id) FROM transactions""")[0]
    assert low >= 0.01 and high <= 10000 and 20 < median < 80
    assert accounts > 40000
    assert sql(folder, """
        SELECT count(*) FROM transactions t JOIN accounts a USING (account_id)
        WHERE t.timestamp::DATE < a.opened_on OR t.timestamp < TIMESTAMP '2025-01-01'
           OR t.timestamp >= TIMESTAMP '2026-01-01'""") == [(0,)]
    day, night = sql(folder, """
        SELECT count(*) FILTER (WHERE hour(timestamp) BETWEEN 9 AND 17),
               count(*) FILTER (WHERE hour(timestamp) BETWEEN 0 AND 5) FROM transactions""")[0]
    assert day > 10 * night
    travel, grocery = sql(folder, """
        SELECT median(amount) FILTER (WHERE merchant_category = 'Travel'),
               median(amount) FILTER (WHERE merchant_category = 'Grocery') FROM transactions""")[0]
    assert travel > 4 * grocery


def test_finance_evolution(out: dict[str, Path], tmp_path: Path) -> None:
    base = read(out["finance_transactions"], "transactions")
    evolved_folder = tmp_path / "v110"
    result = library.generate("finance_transactions", evolved_folder, formats=["parquet"], version="1.1.0")
    assert result.plan.dataset.spec.version == "1.1.0"
    evolved = read(evolved_folder, "transactions")
    assert evolved.num_rows == base.num_rows
    assert pc.sum(evolved.column("is_fraud")).as_py() == round(0.05 * base.num_rows) == 25000
    for column in base.column_names:
        if column != "is_fraud":
            assert evolved.column(column).equals(base.column(column)), column
    assert read(evolved_folder, "accounts").equals(read(out["finance_transactions"], "accounts"))
    was = base.column("is_fraud").to_numpy(zero_copy_only=False)
    now = evolved.column("is_fraud").to_numpy(zero_copy_only=False)
    assert not (was & ~now).any()  # every 1.0.0 fraud is still flagged in 1.1.0
    # 1.2.0: 5% fraud and 10% missing categories (scale-independent, so checked on fewer rows)
    rows = {"transactions": 20000, "accounts": 2000}
    small = library.table("finance_transactions", "transactions", version="1.2.0", rows=rows)
    assert pc.sum(small.column("is_fraud")).as_py() == 1000
    assert small.column("merchant_category").null_count == 2000
    small_base = library.table("finance_transactions", "transactions", rows=rows)
    assert small_base.column("merchant_category").null_count == 5000
    present = pc.is_valid(small_base.column("merchant_category"))
    kept = pc.filter(small.column("merchant_category"), present)
    assert kept.equals(pc.filter(small_base.column("merchant_category"), present))  # reported ones stay


# ---- the CLI ---------------------------------------------------------------------------------------


def test_cli_generates_a_pack_at_scale_2(tmp_path: Path) -> None:
    target = tmp_path / "saas"
    outcome = CliRunner().invoke(cli, ["generate", "saas_events", "--out", str(target), "--scale", "2", "-q"])
    assert outcome.exit_code == 0, outcome.output
    users = read(target, "users")
    events = read(target, "events")
    assert users.num_rows == 1600
    assert abs(events.num_rows - 16000) <= 800
    assert events.column("plan_tier").null_count == round(0.1 * events.num_rows)
    assert sql(target, "SELECT count(*) FROM events WHERE event_type = 'signup'") == [(1600,)]
