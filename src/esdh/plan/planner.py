"""Resolve a checked spec into a plan: seed, row counts per table, parent/child mappings, chunks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.defaults import DEFAULT_CHUNK_SIZE
from esdh.errors import EsdhError, SpecError, SpecProblem, UsageError
from esdh.expr import Node, evaluate
from esdh.relational.cardinality import Cardinality, CountFn, count_function
from esdh.spec.compile import Dataset, suggest
from esdh.spec.load import spec_hash


@dataclass
class Plan:
    dataset: Dataset
    seed: int
    rows: dict[str, int]
    cardinality: dict[str, Cardinality]
    tables: list[str]  # the tables to write, in dependency order
    chunk_size: int = DEFAULT_CHUNK_SIZE
    scale: float = 1.0
    randomized: bool = False
    notes: list[str] = field(default_factory=list)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)  # derived facts, e.g. layouts

    @property
    def as_of(self) -> dt.date:
        return self.dataset.spec.as_of

    @property
    def spec_hash(self) -> str:
        return spec_hash(self.dataset.spec)

    def chunks(self, table: str) -> list[tuple[int, int]]:
        """Row ranges [start, stop) of one table, in order."""
        total = self.rows[table]
        return [(start, min(start + self.chunk_size, total)) for start in range(0, total, self.chunk_size)]


# The values of a table's columns at some rows, by name, as the engine computes them. The planner is given
# one because a child table with ``where`` has children only for parents where the condition holds, so its
# row count depends on its parent's values (the parent is planned first, so they can be computed).
Resolver = Callable[[str], pa.Array | pa.Scalar]
ColumnReader = Callable[["Plan", str, np.ndarray], Resolver]


def build_plan(dataset: Dataset, *, seed: int | None = None, scale: float = 1.0,
               rows: dict[str, int] | None = None, tables: list[str] | None = None,
               chunk_size: int = DEFAULT_CHUNK_SIZE, randomized: bool = False,
               read_columns: ColumnReader | None = None) -> Plan:
    """Row counts for every table (scaled, overridden), checked against uniqueness capacities.
    ``read_columns`` computes parent values for the row counts of ``where`` children (see ColumnReader)."""
    spec = dataset.spec
    overrides = dict(rows or {})
    if scale <= 0:
        raise UsageError(f"--scale must be positive, got {scale}")
    if chunk_size < 1:
        raise UsageError(f"--chunk-size must be at least 1, got {chunk_size}")
    for name, count in overrides.items():
        if name not in dataset.tables:
            hint = suggest(name, set(dataset.tables)) or f"tables: {', '.join(dataset.tables)}"
            raise UsageError(f"--rows names unknown table '{name}' ({hint})")
        if dataset.tables[name].parent is not None:
            raise UsageError(f"--rows cannot set '{name}': it has rows per '{dataset.tables[name].parent}'; "
                             "set the parent's rows instead")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise UsageError(f"--rows {name}={count}: rows must be a positive whole number")
    selected = list(dataset.order)
    if tables:
        for name in tables:
            if name not in dataset.tables:
                hint = suggest(name, set(dataset.tables)) or f"tables: {', '.join(dataset.tables)}"
                raise UsageError(f"--tables names unknown table '{name}' ({hint})")
        selected = [t for t in dataset.order if t in tables]
    effective_seed = spec.seed if seed is None else seed
    plan = Plan(dataset, effective_seed, {}, {}, selected, chunk_size, scale, randomized)
    for name in dataset.order:  # parents first: a child's count reads its parent's rows (and columns)
        model = dataset.tables[name]
        if model.parent is None:
            base = overrides.get(name, model.spec.rows)
            assert isinstance(base, int)  # rows per parent row only on a table with a parent
            plan.rows[name] = base if name in overrides or not model.spec.scale else max(1, round(base * scale))
        else:
            assert model.count is not None  # the compiler gives every child table its count
            per_parent = count_function(effective_seed, name, model.count)
            if model.where is not None:
                if read_columns is None:
                    raise EsdhError(f"planning '{name}' (children only where a condition holds) needs a column "
                                    "reader; call esdh.plan() rather than build_plan()")
                per_parent = _only_where(plan, model.parent, model.where, per_parent, read_columns)
            card = Cardinality(plan.rows[model.parent], per_parent)
            plan.cardinality[name] = card
            plan.rows[name] = card.total
    _check_capacity(dataset, plan.rows)
    return plan


def _only_where(plan: Plan, parent: str, where: Node, count: CountFn, read_columns: ColumnReader) -> CountFn:
    """Children only for parents where the condition holds (read from the parent's columns)."""

    def counted(parents: np.ndarray) -> np.ndarray:
        holds = evaluate(where, read_columns(plan, parent, parents))
        if isinstance(holds, pa.Scalar):
            return count(parents) if holds.as_py() else np.zeros(len(parents), dtype=np.int64)
        mask = pc.fill_null(holds, False).to_numpy(zero_copy_only=False)
        return np.where(mask, count(parents), 0)

    return counted


def _check_capacity(dataset: Dataset, counts: dict[str, int]) -> None:
    problems: list[SpecProblem] = []
    for name, model in dataset.tables.items():
        for col in model.columns.values():
            gen = col.generator
            if gen is None or not model.unique_mode(col.name):
                continue
            capacity = gen.capacity()
            if capacity is not None and capacity < counts[name]:
                path = ("tables", name, "columns", col.name)
                problems.append(dataset.source.problem(
                    path, f"cannot be unique: generator '{type(gen).name}' has {capacity:,} distinct values "
                    f"but the table has {counts[name]:,} rows",
                    "widen the vocabulary or range, or lower the row count"))
    if problems:
        raise SpecError(problems)
