"""Principle 1: every value is a pure function of (seed, table, column, row)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esdh import library
from esdh.rng import Permutation, Stream
from tests.conftest import SMALL_SPEC


def _digest(folder: Path) -> dict[str, str]:
    """Every file's hash but the run's OpenLineage events (a run id and times: run metadata, not data)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.name != "lineage_events.json"}


def test_two_runs_give_identical_bytes_in_every_format(tmp_path: Path) -> None:
    formats = ["parquet", "csv", "json", "ndjson"]
    first = library.generate("insurance", tmp_path / "a", formats=formats, rows={"persons": 3000})
    second = library.generate("insurance", tmp_path / "b", formats=formats, rows={"persons": 3000})
    assert _digest(first.folder) == _digest(second.folder)
    assert len(_digest(first.folder)) == 5 * 4 + 3  # + datapackage.json, schema_metadata.json, lineage yaml


@pytest.mark.parametrize("chunk_size", [7, 97, 1000, 1_000_000])
def test_chunk_size_changes_no_byte_of_csv_or_json(tmp_path: Path, chunk_size: int) -> None:
    reference = library.generate("insurance", tmp_path / "ref", formats=["csv", "ndjson"], rows={"persons": 300})
    other = library.generate("insurance", tmp_path / "other", formats=["csv", "ndjson"], rows={"persons": 300},
                             chunk_size=chunk_size)
    assert _digest(reference.folder) == _digest(other.folder)


def test_fingerprint_is_independent_of_format_and_chunking(tmp_path: Path) -> None:
    a = library.generate(SMALL_SPEC, tmp_path / "a", formats=["parquet"])
    b = library.generate(SMALL_SPEC, tmp_path / "b", formats=["csv"], chunk_size=333)
    fingerprints = [{r["name"].split("-")[0]: r["esdh:fingerprint"] for r in m.manifest["resources"]
                     if r.get("type") == "table"} for m in (a, b)]
    assert fingerprints[0] == fingerprints[1]


@settings(max_examples=25, deadline=None)
@given(start=st.integers(0, 1900), length=st.integers(1, 100), seed=st.integers(0, 2**31))
def test_any_row_range_gives_the_same_values_as_the_whole_table(start: int, length: int, seed: int) -> None:
    plan = library.plan(SMALL_SPEC, seed=seed)
    whole = library.table(plan, "orders").slice(0, 2000)
    from esdh.engine.frame import Frame

    stop = min(start + length, 2000)
    rows = np.arange(start, stop, dtype=np.int64)
    columns = plan.dataset.tables["orders"].visible_columns
    part = Frame(plan, "orders", rows).batch(columns)
    assert pa.Table.from_batches([part]).equals(whole.slice(start, stop - start))


def test_rows_can_be_computed_out_of_order() -> None:
    plan = library.plan(SMALL_SPEC)
    from esdh.engine.frame import Frame

    columns = plan.dataset.tables["orders"].visible_columns
    rows = np.array([1500, 3, 999, 3, 0], dtype=np.int64)
    scattered = Frame(plan, "orders", rows).batch(columns).to_pylist()
    whole = library.table(plan, "orders").to_pylist()
    assert scattered == [whole[i] for i in rows]


def _with_extra_column(text: str) -> str:
    head = "  customers:\n    rows: 2000\n    primary_key: customer_id\n    columns:\n"
    return text.replace(head, head + "      extra: {generator: uniform, min: 0, max: 1}\n")


def _with_extra_table(text: str) -> str:
    return text.replace("tables:\n", "tables:\n  stores:\n    rows: 10\n    columns:\n"
                                       "      store_id: {generator: uuid}\n")


@pytest.mark.parametrize("change", [_with_extra_column, _with_extra_table])
def test_adding_a_column_or_table_leaves_every_other_value_unchanged(change) -> None:
    before = {t: library.table(SMALL_SPEC, t) for t in ("customers", "orders")}
    after_text = change(SMALL_SPEC)
    assert after_text != SMALL_SPEC
    for table, data in before.items():
        changed = library.table(after_text, table)
        for name in data.column_names:
            assert changed.column(name).equals(data.column(name)), f"{table}.{name} changed"


def test_another_seed_gives_other_values() -> None:
    a = library.table(SMALL_SPEC, "customers", seed=1)
    b = library.table(SMALL_SPEC, "customers", seed=2)
    for name in ("uid", "age", "segment", "joined", "code"):
        same = np.mean(np.array(a.column(name).to_pylist()) == np.array(b.column(name).to_pylist()))
        assert same < 0.8, name
    assert a.column("customer_id").equals(b.column("customer_id"))  # a sequence is not random


def test_randomize_reports_a_seed_that_replays_the_run() -> None:
    plan = library.plan(SMALL_SPEC, randomize=True)
    assert plan.randomized
    replay = library.table(SMALL_SPEC, "customers", seed=plan.seed)
    assert library.table(plan, "customers").equals(replay)


@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 5000), key=st.integers(0, 2**64 - 1))
def test_permutation_is_a_bijection(size: int, key: int) -> None:
    values = Permutation(key, size)(np.arange(size))
    assert sorted(values.tolist()) == list(range(size))


def test_stream_values_depend_only_on_key_and_row() -> None:
    stream = Stream.of(1, "t", "c")
    rows = np.arange(10_000)
    full = stream.uniform(rows)
    assert np.array_equal(full[5000:], stream.uniform(rows[5000:]))
    assert full.min() > 0 and full.max() < 1
    assert abs(full.mean() - 0.5) < 0.01
    assert not np.array_equal(full, Stream.of(1, "t", "other").uniform(rows))
