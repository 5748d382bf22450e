"""Unit tests of the engine layer: the chunk loop, tasks on engines, and recipes that rebuild a plan."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pytest

from esdh import library
from esdh.engine import chunks
from esdh.engine.executors import LocalEngine, ProcessEngine, engine_for
from esdh.engine.recipe import Recipe
from esdh.errors import UsageError
from esdh.plan.partitions import Part, partitions
from esdh.plan.planner import Plan
from tests.conftest import SMALL_SPEC, WIDE_SPEC


@pytest.mark.parametrize("step", [1, 7, 333, 2000, 10_000])
def test_frames_cover_the_asked_rows_in_order_whatever_the_step(step: int) -> None:
    plan = library.plan(SMALL_SPEC)
    rows = np.concatenate([f.rows for f in chunks.frames(plan, "customers", 10, 1010, step=step)])
    assert np.array_equal(rows, np.arange(10, 1010))


def test_batches_are_the_same_values_whatever_the_chunk_size() -> None:
    whole = pa.Table.from_batches(list(chunks.batches(library.plan(SMALL_SPEC, chunk_size=1_000_000), "orders")))
    small = pa.Table.from_batches(list(chunks.batches(library.plan(SMALL_SPEC, chunk_size=97), "orders")))
    assert whole.equals(small) and whole.num_rows > 2000


def test_batches_take_a_schema_and_a_step() -> None:
    plan = library.plan(SMALL_SPEC)
    schema = chunks.schema(plan, "customers")
    got = list(chunks.batches(plan, "customers", schema=schema, step=500))
    assert [b.num_rows for b in got] == [500] * 4 and all(b.schema == schema for b in got)


def test_the_sample_of_an_empty_table_still_has_its_columns() -> None:
    plan = library.plan(SMALL_SPEC)
    plan.rows["customers"] = 0
    assert chunks.sample(plan, "customers").schema.names == plan.dataset.tables["customers"].visible_columns


@dataclass(frozen=True)
class RowSum:
    """A picklable task: the sum of one column over a partition."""

    column: str

    def __call__(self, plan: Plan, part: Part, progress: object = None) -> tuple[str, int]:
        total = 0
        for frame in chunks.frames(plan, part.table, part.start, part.stop):
            total += int(np.asarray(frame.values(self.column)).sum())
        return part.key, total


def test_every_engine_runs_any_task_and_gets_the_same_results() -> None:
    plan = library.plan(WIDE_SPEC, rows={"people": 200_000})
    parts = partitions(plan, "people", 65_536)
    local = dict(LocalEngine().run(plan, RowSum("age"), parts))
    in_processes = dict(ProcessEngine(workers=2).run(plan, RowSum("age"), parts))
    assert local == in_processes and len(local) == 4


def test_a_recipe_pickles_and_rebuilds_the_same_plan() -> None:
    plan = library.plan("retail", seed=11, scale=0.1)  # retail has a `where` table: the rebuild reads columns
    rebuilt = pickle.loads(pickle.dumps(Recipe.of(plan))).plan()
    assert rebuilt.rows == plan.rows and rebuilt.spec_hash == plan.spec_hash and rebuilt.seed == 11


def test_engine_options_are_checked() -> None:
    with pytest.raises(UsageError, match="unknown engine 'gpu'"):
        engine_for("gpu")
    with pytest.raises(UsageError, match="--workers must be at least 1"):
        engine_for("processes", workers=0)
    with pytest.raises(UsageError, match="--cluster is for --engine dask"):
        engine_for("local", cluster="tcp://x:1")


@dataclass(frozen=True)
class WorkerPid:
    """A picklable task: which process ran the partition."""

    def __call__(self, plan: Plan, part: Part, progress: object = None) -> int:
        import os
        import time

        time.sleep(0.05)  # long enough that the pool's processes all take partitions
        return os.getpid()


def test_a_pool_never_starts_more_processes_than_the_cpus_it_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--workers 64` on a small machine used to start 64 processes: 5x slower and every one's memory."""
    import os

    from esdh.engine import executors

    monkeypatch.setattr(executors, "usable_cpus", lambda: 2)
    plan = library.plan(WIDE_SPEC, rows={"people": 20 * 65_536})
    pids = set(ProcessEngine(workers=64).run(plan, WorkerPid(), partitions(plan, "people", 65_536)))
    assert len(pids) == 2 and os.getpid() not in pids
