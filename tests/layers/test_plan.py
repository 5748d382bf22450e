"""Unit tests of the plan layer: row counts, partitions, and the column reader a `where` table needs."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from esdh import library
from esdh.engine.frame import columns_at
from esdh.errors import EsdhError, UsageError
from esdh.plan.partitions import BLOCK, Part, part_rows_option, partitions
from esdh.plan.planner import build_plan
from tests.conftest import SMALL_SPEC, WIDE_SPEC


@pytest.mark.parametrize(("given", "used"), [(1, BLOCK), (BLOCK, BLOCK), (BLOCK + 1, 2 * BLOCK), (None, None)])
def test_part_rows_are_whole_fingerprint_blocks(given: int | None, used: int | None) -> None:
    assert part_rows_option(given) == used


@pytest.mark.parametrize("bad", [0, -5, True, 1.5, "100"])
def test_part_rows_refuses_what_is_not_a_positive_whole_number(bad: object) -> None:
    with pytest.raises(UsageError, match="--part-rows must be a positive whole number"):
        part_rows_option(bad)  # type: ignore[arg-type]


def test_a_table_within_part_rows_is_one_unsplit_partition() -> None:
    plan = library.plan(SMALL_SPEC)
    assert partitions(plan, "customers", BLOCK) == [Part("customers", 0, 0, 2000, False)]
    assert partitions(plan, "customers", None) == [Part("customers", 0, 0, 2000, False)]


def test_partitions_cover_a_table_contiguously_in_row_order() -> None:
    plan = library.plan(WIDE_SPEC, rows={"people": 2 * BLOCK + 123})
    parts = partitions(plan, "people", BLOCK)
    assert [(p.start, p.stop) for p in parts] == [(0, BLOCK), (BLOCK, 2 * BLOCK), (2 * BLOCK, 2 * BLOCK + 123)]
    assert all(p.split for p in parts) and [p.key for p in parts] == [f"people.{i:05d}" for i in range(3)]
    assert sum(p.rows for p in parts) == plan.rows["people"]


def test_chunks_cover_every_row_once() -> None:
    plan = library.plan(SMALL_SPEC, chunk_size=333)
    chunks = plan.chunks("customers")
    assert chunks[0][0] == 0 and chunks[-1][1] == 2000
    assert all(a[1] == b[0] for a, b in pairwise(chunks))
    assert all(stop - start <= 333 for start, stop in chunks)


def test_children_follow_their_parents_counts() -> None:
    plan = library.plan(SMALL_SPEC, rows={"customers": 500})
    card = plan.cardinality["orders"]
    assert plan.rows["orders"] == card.total == int(card.count(np.arange(500)).sum())
    assert 500 <= plan.rows["orders"] <= 5 * 500  # 1 to 5 orders per customer


def test_a_where_table_needs_the_engine_s_column_reader() -> None:
    dataset = library.load("retail")
    with pytest.raises(EsdhError, match="needs a column reader"):
        build_plan(dataset)
    plan = build_plan(dataset, read_columns=columns_at)
    assert plan.rows == library.plan(dataset).rows


def test_scale_multiplies_roots_and_overrides_win() -> None:
    base = library.plan(SMALL_SPEC)
    scaled = library.plan(SMALL_SPEC, scale=2.5)
    assert scaled.rows["customers"] == 5000 == round(base.rows["customers"] * 2.5)
    assert library.plan(SMALL_SPEC, scale=2.5, rows={"customers": 10}).rows["customers"] == 10
