"""A frame: the columns of one table at a set of row indices, computed lazily and cached.

Because every value is a pure function of (seed, table, column, row), a frame can be built for any
rows: a contiguous chunk to write, or the scattered parent rows a child table looks up. Parent
attributes are therefore read by random access, without joins and without materialising the parent.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.engine.sequences import aggregate_children, window_over_siblings
from esdh.errors import EsdhError
from esdh.expr import evaluate
from esdh.generators.base import Context
from esdh.generators.numeric import zipf_cdf
from esdh.plan.planner import Plan, Resolver
from esdh.rng import Permutation, Stream, derive_key
from esdh.spec.columns import Compiled

WEIGHT_BLOCK = 65_536  # rows of a weighted target summed at once (fixed: float sums must not depend on chunking)


class Frame:
    def __init__(self, plan: Plan, table: str, rows: np.ndarray):
        self.plan = plan
        self.table = table
        self.model = plan.dataset.tables[table]
        self.rows = np.asarray(rows, dtype=np.int64)
        self._values: dict[str, pa.Array] = {}
        self._parent_rows: dict[str, np.ndarray] = {}  # FK column -> parent row (-1 where null)
        self._parent_frames: dict[str, Frame] = {}

    def __len__(self) -> int:
        return len(self.rows)

    # ---- values ---------------------------------------------------------------------------------
    def values(self, column: str) -> pa.Array:
        """The values of one column (or of row_index, ordinal, siblings) at this frame's rows."""
        cached = self._values.get(column)
        if cached is None:
            col = self.model.columns.get(column)
            cached = self._special(column) if col is None else self._compute(col)
            self._values[column] = cached
        return cached

    def resolve(self, name: str) -> pa.Array | pa.Scalar:
        if name == "as_of" and name not in self.model.columns:
            return pa.scalar(self.plan.as_of, pa.date32())
        return self.values(name)

    def _special(self, name: str) -> pa.Array:
        if name == "row_index":
            return pa.array(self.rows, pa.int64())
        card = self.plan.cardinality[self.table]
        parents = card.parent_of(self.rows)
        if name == "ordinal":
            return pa.array(self.rows - card.first_child(parents), pa.int64())
        if name == "siblings":
            return pa.array(card.count(parents), pa.int64())
        raise KeyError(name)

    def batch(self, columns: list[str]) -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays([self.values(c) for c in columns], names=columns)

    def _compute(self, col: Compiled) -> pa.Array:
        n = len(self.rows)
        if col.kind == "value":
            if col.value is None:
                out = pa.nulls(n, col.declared_type or pa.string())
            else:
                out = pa.repeat(pa.scalar(col.value), n)
        elif col.kind == "expr":
            assert col.expression is not None  # the compiler sets the field its kind needs
            out = evaluate(col.expression, self.resolve)
            if isinstance(out, pa.Scalar):
                out = pa.array([out.as_py()] * n, out.type)
        elif col.kind == "generator":
            assert col.generator is not None
            out = col.generator.generate(self._context(col))
        elif col.kind == "aggregate":
            out = aggregate_children(self.plan, self.table, self.rows, col, self._values_at)
        elif col.kind == "window":
            out = window_over_siblings(self.plan, self.table, self.rows, col, self._values_at)
        else:  # ref or lookup: read the target column at the chosen parent rows
            via = col.name if col.kind == "ref" else col.via
            assert via is not None and col.target_column is not None
            parents = self.parent_rows(via)
            missing = parents < 0
            frame = self.parent_frame(via, np.where(missing, 0, parents))
            out = frame.values(col.target_column)
            if missing.any():
                out = pc.if_else(pa.array(~missing), out, pa.scalar(None, out.type))
        if isinstance(out, pa.ChunkedArray):
            out = out.combine_chunks()
        if col.declared_type is not None and out.type != col.declared_type:
            try:
                out = pc.cast(out, col.declared_type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise EsdhError(f"{self.table}.{col.name}: values of type {out.type} do not fit the declared type "
                                f"{col.spec.type} ({exc}); round them in an expression or change the type") from None
        if col.null_rate > 0:
            out = pc.if_else(pa.array(self._null_mask(col)), pa.scalar(None, out.type), out)
        return out

    def _values_at(self, table: str, rows: np.ndarray, column: str) -> pa.Array:
        return Frame(self.plan, table, rows).values(column)

    def _context(self, col: Compiled) -> Context:
        gen = col.generator
        assert gen is not None
        return Context(seed=self.plan.seed, table=self.table, column=col.name, rows=self.rows,
                       total_rows=self.plan.rows[self.table], as_of=self.plan.as_of,
                       unique=self.model.unique_mode(col.name),
                       source=self, stream_name=gen.stream_name(col.name))

    def _null_mask(self, col: Compiled) -> np.ndarray:
        """Exactly round(rate * rows) nulls over the whole table, chosen by a keyed permutation."""
        total = self.plan.rows[self.table]
        hits = round(col.null_rate * total)
        key = derive_key(self.plan.seed, self.table, col.name, "nulls")
        return Permutation(key, max(total, 1))(self.rows) < hits

    # ---- relations ------------------------------------------------------------------------------
    def parent_rows(self, fk_column: str) -> np.ndarray:
        """Row indices in the referenced table chosen by a foreign-key column (-1 for none)."""
        cached = self._parent_rows.get(fk_column)
        if cached is None:
            col = self.model.columns[fk_column]
            cached = self._choose(col)
            if col.null_rate > 0:  # a null key leads nowhere: lookups through it are null too
                cached = np.where(self._null_mask(col), -1, cached)
            self._parent_rows[fk_column] = cached
        return cached

    def parent_frame(self, fk_column: str, rows: np.ndarray) -> Frame:
        frame = self._parent_frames.get(fk_column)
        if frame is None:
            target = self.model.columns[fk_column].target_table
            assert target is not None  # a ref or lookup column
            frame = Frame(self.plan, target, rows)
            self._parent_frames[fk_column] = frame
        return frame

    def _weight_cdf(self, col: Compiled, target: str, size: int) -> np.ndarray:
        """The cumulative weights of the target's rows, computed once per plan (8 bytes per target row;
        targets of weighted references are dimension tables), summed in fixed blocks of rows so that
        neither the memory nor the float rounding depends on the chunk size."""
        weight_by = col.spec.weight_by
        assert weight_by is not None  # choose: weighted requires it
        key = ("weight_cdf", target, weight_by)
        cdf = self.plan.cache.get(key)
        if cdf is None:
            cdf = np.empty(size, dtype=np.float64)
            running = 0.0
            for start in range(0, size, WEIGHT_BLOCK):
                rows = np.arange(start, min(start + WEIGHT_BLOCK, size), dtype=np.int64)
                weights = Frame(self.plan, target, rows).values(weight_by)
                if not (pa.types.is_integer(weights.type) or pa.types.is_floating(weights.type)):
                    raise EsdhError(f"{self.table}.{col.name}: choose: weighted needs a numeric weight_by column, "
                                    f"but {target}.{weight_by} is {weights.type}")
                block = np.cumsum(pc.fill_null(weights, 0).to_numpy(zero_copy_only=False).astype(np.float64))
                cdf[start:start + len(rows)] = block + running
                running += block[-1]
            self.plan.cache[key] = cdf
        return cdf

    def _choose(self, col: Compiled) -> np.ndarray:
        target = col.target_table
        assert target is not None  # a ref column
        size = self.plan.rows[target]
        stream = Stream.of(self.plan.seed, self.table, col.name, "ref")
        if col.choose == "parent":
            return self.plan.cardinality[self.table].parent_of(self.rows)
        if col.choose == "earlier":  # a self-reference to a row before this one: a forest, never a cycle
            earlier = np.floor(stream.uniform(self.rows) * self.rows).astype(np.int64)
            return np.where(self.rows > 0, earlier, -1)
        if col.choose == "distinct":
            # a keyed bijection of the target's rows, entered at a per-parent offset: siblings (distinct
            # ordinals below the target size) always get distinct rows
            card = self.plan.cardinality[self.table]
            parents = card.parent_of(self.rows)
            ordinal = self.rows - card.first_child(parents)
            if len(ordinal) and int(ordinal.max()) >= size:
                raise EsdhError(f"{self.table}.{col.name}: choose: distinct needs at most {size:,} rows per parent "
                                f"(the size of '{target}'), but a parent has more")
            offset = Stream.of(self.plan.seed, self.table, col.name, "offset").integers(parents, size)
            return Permutation(derive_key(self.plan.seed, self.table, col.name, "distinct"), size)(
                (ordinal + offset) % size)
        if col.choose in ("first_of_parent", "random_of_parent"):
            parents = self.plan.cardinality[self.table].parent_of(self.rows)
            siblings = self.plan.cardinality[target]
            first, count = siblings.first_child(parents), siblings.count(parents)
            nth = 0 if col.choose == "first_of_parent" else stream.integers(self.rows, np.maximum(count, 1))
            return np.where(count > 0, first + nth, -1)
        if col.choose == "zipf":
            cdf = zipf_cdf(1.1, size)
            ranks = np.minimum(np.searchsorted(cdf, stream.uniform(self.rows), side="left"), size - 1)
            shuffle = Permutation(derive_key(self.plan.seed, target, "popularity"), size)
            return shuffle(ranks)
        if col.choose == "weighted":
            cdf = self._weight_cdf(col, target, size)
            picks = np.searchsorted(cdf, stream.uniform(self.rows) * cdf[-1], side="right")
            result: np.ndarray = np.minimum(picks, size - 1)
            return result
        return stream.integers(self.rows, size)


def columns_at(plan: Plan, table: str, rows: np.ndarray) -> Resolver:
    """The planner's column reader (see :data:`esdh.plan.planner.ColumnReader`): a table's values at some
    rows, by column name."""
    return Frame(plan, table, rows).resolve
