"""Every built-in dataset plans at any scale and generates, passing its own checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from esdh import library
from esdh.packs import pack_names

PACKS = pack_names()


def test_the_catalogue_is_complete() -> None:
    expected = {"insurance", "retail", "tpch", "finance_transactions", "market_time_series", "saas_events",
                "ecommerce_orders", "education_assessments", "energy_consumption", "healthcare_patients",
                "insurance_claims", "iot_sensor_readings", "logistics_shipments", "real_estate_listings",
                "retail_sales", "social_media_posts"}
    assert expected <= set(PACKS)


@pytest.mark.parametrize("name", PACKS)
def test_scale_multiplies_rows_except_fixed_tables(name: str) -> None:
    one, three = library.plan(name).rows, library.plan(name, scale=3).rows
    dataset = library.load(name)
    for table, rows in one.items():
        model = dataset.tables[table]
        if model.parent is None and model.spec.scale:
            assert three[table] == max(1, round(model.spec.rows * 3)), table
        elif model.parent is None:
            assert three[table] == rows, table
    assert sum(three.values()) > sum(one.values())


# Small scales keep the suite fast; retail needs at least 100 products for 100 distinct per store.
SMALL = {"tpch": 0.002, "retail": 0.1}


@pytest.mark.parametrize("name", PACKS)
def test_pack_generates_and_passes_its_checks(name: str, tmp_path: Path) -> None:
    result = library.generate(name, tmp_path / name, scale=SMALL.get(name, 0.02))
    assert result.checks and all(check.passed for check in result.checks)
    assert all(table.rows > 0 for table in result.tables)
