"""Resolve a checked spec into a plan: seed, row counts per table, parent/child mappings, chunks."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh import limits
from esdh.defaults import DEFAULT_CHUNK_SIZE
from esdh.errors import EsdhError, SpecError, SpecProblem, UsageError
from esdh.expr import Node, evaluate
from esdh.relational.cardinality import Cardinality, CountFn, count_function, most_children
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
    estimated: set[str] = field(default_factory=set)  # tables whose rows are extrapolated (build_plan(estimate=))
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)  # derived facts, e.g. layouts

    @property
    def as_of(self) -> dt.date:
        return self.dataset.spec.as_of

    def require_exact(self) -> None:
        """Refuse to generate from a plan that only estimates some row counts."""
        if self.estimated:
            raise UsageError(f"this plan only estimates the rows of {', '.join(sorted(self.estimated))}; "
                             "plan without estimate=True to generate")

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
EXACT_PARENTS = 1 << 22  # with estimate=True, children of larger parents are counted on a prefix and extrapolated
ESTIMATE_PARENTS = 1 << 20  # the prefix of parent rows whose children are counted then

Resolver = Callable[[str], pa.Array | pa.Scalar]
ColumnReader = Callable[["Plan", str, np.ndarray], Resolver]


def build_plan(dataset: Dataset, *, seed: int | None = None, scale: float = 1.0,
               rows: dict[str, int] | None = None, tables: list[str] | None = None,
               chunk_size: int = DEFAULT_CHUNK_SIZE, randomized: bool = False,
               read_columns: ColumnReader | None = None, estimate: bool = False) -> Plan:
    """Row counts for every table (scaled, overridden), checked against the size limits (before any child
    is counted) and uniqueness capacities. ``read_columns`` computes parent values for the row counts of
    ``where`` children (see ColumnReader). ``estimate`` counts the children of a parent larger than
    ``EXACT_PARENTS`` rows on its first ``ESTIMATE_PARENTS`` rows and extrapolates (``Plan.estimated``): such
    a plan describes, it cannot generate."""
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
    check_sizes(dataset, scale, overrides)
    prefix: dict[str, int] = {}  # of an estimated table: the rows its counted prefix has
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
            parent_rows = plan.rows[model.parent]
            if (estimate and parent_rows > EXACT_PARENTS) or model.parent in prefix:
                counted = min(ESTIMATE_PARENTS, prefix.get(model.parent, parent_rows))
                card = Cardinality(counted, per_parent)
                prefix[name] = card.total
                plan.rows[name] = round(card.total * parent_rows / counted) if counted else 0
                plan.estimated.add(name)
            else:
                card = Cardinality(parent_rows, per_parent)
                plan.rows[name] = card.total
            plan.cardinality[name] = card
    _check_capacity(dataset, plan.rows)
    _check_relations(plan)
    return plan


def sci(n: float) -> str:
    """A count in short scientific notation: ``1e15``, ``2.5e12``."""
    mantissa, exponent = f"{n:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def check_sizes(dataset: Dataset, scale: float, overrides: dict[str, int]) -> None:
    """Refuse a plan whose tables could exceed the row limits (``esdh.limits``), from the spec alone: a
    table's rows, or its parent's rows times the most children per parent, before any child is counted."""
    per_table, total_limit = limits.TABLE_ROWS, limits.TOTAL_ROWS
    bounds: dict[str, float] = {}
    total = 0.0
    for name in dataset.order:
        model = dataset.tables[name]
        if model.parent is None:
            base = overrides.get(name, model.spec.rows)
            assert isinstance(base, int)
            bound = float(base if name in overrides or not model.spec.scale else max(1, round(base * scale)))
            if name in overrides:
                what = f"--rows {name}={base}: {sci(bound)} rows"
            elif model.spec.scale and scale != 1:
                what = f"{name} at --scale {scale}: {sci(bound)} rows"
            else:
                what = f"{name}: {sci(bound)} rows"
        else:
            most = most_children(model.count)
            bound = bounds[model.parent] * most
            what = (f"{name}: up to {sci(bound)} rows ({sci(bounds[model.parent])} {model.parent} rows x up to "
                    f"{most:,.0f} each)")
        bounds[name] = bound
        total += bound
        if bound > per_table.value:
            raise UsageError(f"{what} is beyond what ESDH plans (at most {sci(per_table.value)} {per_table.what}); "
                             f"{per_table.hint()}")
    if total > total_limit.value:
        raise UsageError(f"this plan makes up to {sci(total)} rows in {len(bounds)} tables, beyond what ESDH plans "
                         f"(at most {sci(total_limit.value)} {total_limit.what}); {total_limit.hint()}")


def _only_where(plan: Plan, parent: str, where: Node, count: CountFn, read_columns: ColumnReader) -> CountFn:
    """Children only for parents where the condition holds (read from the parent's columns)."""

    def counted(parents: np.ndarray) -> np.ndarray:
        holds = evaluate(where, read_columns(plan, parent, parents))
        if isinstance(holds, pa.Scalar):
            return count(parents) if holds.as_py() else np.zeros(len(parents), dtype=np.int64)
        mask = pc.fill_null(holds, False).to_numpy(zero_copy_only=False)
        return np.where(mask, count(parents), 0)

    return counted


def _check_relations(plan: Plan) -> None:
    """Refuse a plan whose references cannot be drawn: a reference into a table that has no rows at this
    plan, or ``choose: distinct`` asked for more different rows per parent than its target has. Found here,
    before anything is computed or written, with the table, the column and a fix."""
    dataset = plan.dataset
    problems: list[SpecProblem] = []
    for name in dataset.order:
        model = dataset.tables[name]
        if not plan.rows.get(name):
            continue
        for col in model.columns.values():
            if col.kind != "ref" or col.target_table is None or col.choose in ("parent", "first_of_parent",
                                                                               "random_of_parent", "earlier"):
                continue  # these follow the rows of a parent (or of this table), always there
            target, path = col.target_table, ("tables", name, "columns", col.name)
            size = plan.rows[target]
            if size == 0 and col.null_rate < 1:
                problems.append(dataset.source.problem(
                    path, f"references '{target}', which has no rows in this plan, but '{name}' has "
                    f"{plan.rows[name]:,}", _empty_hint(plan, target)))
            elif col.choose == "distinct" and name in plan.cardinality:
                most = plan.cardinality[name].most
                if most > size:
                    problems.append(dataset.source.problem(
                        path, f"choose: distinct needs at most {size:,} rows per parent (the rows of '{target}' "
                        f"in this plan), but a '{model.parent}' row has {most:,} children",
                        _distinct_hint(plan, target, most)))
    if problems:
        raise SpecError(problems)


def _distinct_hint(plan: Plan, target: str, most: int) -> str:
    """How to give ``target`` at least ``most`` rows: the smallest --scale, or the row count to set."""
    model = plan.dataset.tables[target]
    if model.parent is None and isinstance(model.spec.rows, int) and model.spec.scale:
        base = model.spec.rows
        smallest = (most - 0.5) / base  # round(base * scale) >= most from here on
        step = 10.0 ** (math.floor(math.log10(smallest)) - 1)  # two significant digits, rounded up
        nice = math.ceil(smallest / step) * step
        nice = float(f"{nice:.2g}") if max(1, round(base * float(f"{nice:.2g}"))) >= most else nice
        return (f"'{target}' needs at least {most:,} rows: use --scale {nice:g} or more (or --rows "
                f"{target}={most}), or lower the children per parent")
    return f"give '{target}' at least {most:,} rows, or lower the children per parent"


def _empty_hint(plan: Plan, target: str) -> str:
    model = plan.dataset.tables[target]
    if model.parent is not None and plan.rows.get(model.parent):
        return (f"'{target}' has rows per '{model.parent}' and none came out: raise its count, loosen its where, "
                "or give this column a null_rate of 1")
    return f"give '{target}' rows, or make this column null (null_rate: 1)"


def _check_capacity(dataset: Dataset, counts: dict[str, int]) -> None:
    problems: list[SpecProblem] = []
    for name, model in dataset.tables.items():
        for col in model.columns.values():
            gen = col.generator
            if gen is not None and gen.row_problem(counts[name]):
                problems.append(dataset.source.problem(("tables", name, "columns", col.name),
                                                       gen.row_problem(counts[name]),
                                                       "lower the start or the step, or the row count"))
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
