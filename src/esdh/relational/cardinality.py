"""Children per parent, with random access in both directions and bounded memory.

A child table follows its parent: parent row ``p`` has ``count(p)`` children, a pure function of the
seed and ``p``. Children are contiguous and in parent order, so the children of ``p`` are the rows
``[first(p), first(p) + count(p))``. Only the total per block of parents is kept (prefix sums per
block); positions inside a block are recomputed on demand. Memory is O(parents / block), not O(rows).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from esdh.generators.numeric import DISTRIBUTIONS, UniformInt
from esdh.rng import Stream
from esdh.spec.model import Count

BLOCK = 1 << 16
CountFn = Callable[[np.ndarray], np.ndarray]


def most_children(count: int | Count | None) -> float:
    """The most rows a child table can have per parent row (a bound known from the spec alone)."""
    if isinstance(count, int):
        return count
    if count is None:
        return 1
    if count.distribution == "weights":
        return float(count.min + max(0, len(count.params.get("weights", [])) - 1))
    return float(max(count.min, count.max))


def count_function(seed: int, child: str, count: int | Count) -> CountFn:
    """Children per parent row as a vectorised function of parent row indices."""
    if isinstance(count, int):
        return lambda parents: np.full(len(parents), count, dtype=np.int64)
    stream = Stream.of(seed, child, "__count__")
    if count.distribution == "weights":
        weights = np.asarray(count.params["weights"], dtype=np.float64)
        cdf = np.cumsum(weights) / weights.sum()
        return lambda parents: count.min + np.minimum(
            np.searchsorted(cdf, stream.uniform(parents), side="right"), len(cdf) - 1).astype(np.int64)
    cls = DISTRIBUTIONS[count.distribution]
    bounded = "min" in cls.Params.model_fields  # the histogram has its own range: clip it afterwards
    params = {**count.params, "min": count.min, "max": count.max} if bounded else dict(count.params)
    generator = cls(cls.Params(**params))
    if isinstance(generator, UniformInt):
        return lambda parents: generator.sample(stream.uniform(parents)).astype(np.int64)

    def draw(parents: np.ndarray) -> np.ndarray:
        values = np.rint(generator.sample(stream.uniform(parents)))
        result: np.ndarray = np.clip(values, count.min, count.max).astype(np.int64)
        return result

    return draw


class Cardinality:
    """The parent/child row mapping of one child table."""

    def __init__(self, parent_rows: int, count: CountFn):
        self.parent_rows = parent_rows
        self.count = count
        blocks = (parent_rows + BLOCK - 1) // BLOCK
        totals = np.zeros(blocks, dtype=np.int64)
        self.most = 0  # the most children any parent has (a plan checks choose: distinct against it)
        for b in range(blocks):  # one vectorised pass per block of 65,536 parents
            start = b * BLOCK
            counts = self.count(np.arange(start, min(start + BLOCK, parent_rows), dtype=np.int64))
            totals[b] = counts.sum()
            if len(counts):
                self.most = max(self.most, int(counts.max()))
        self.block_starts = np.concatenate([[0], np.cumsum(totals)])
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    @property
    def total(self) -> int:
        return int(self.block_starts[-1])

    def _offsets(self, block: int) -> np.ndarray:
        """Global first-child row of every parent in ``block`` (plus the end), cached LRU."""
        cached = self._cache.get(block)
        if cached is not None:
            self._cache.move_to_end(block)
            return cached
        start = block * BLOCK
        counts = self.count(np.arange(start, min(start + BLOCK, self.parent_rows), dtype=np.int64))
        offsets: np.ndarray = self.block_starts[block] + np.concatenate([[0], np.cumsum(counts)])
        self._cache[block] = offsets
        if len(self._cache) > 64:
            self._cache.popitem(last=False)
        return offsets

    def first_child(self, parents: np.ndarray) -> np.ndarray:
        """The first child row of each parent (for a parent without children: where it would be)."""
        parents = np.asarray(parents, dtype=np.int64)
        out = np.empty(len(parents), dtype=np.int64)
        blocks = parents // BLOCK
        for block in np.unique(blocks):
            mask = blocks == block
            out[mask] = self._offsets(int(block))[parents[mask] - block * BLOCK]
        return out

    def parent_of(self, children: np.ndarray) -> np.ndarray:
        """The parent row of each child row."""
        children = np.asarray(children, dtype=np.int64)
        out = np.empty(len(children), dtype=np.int64)
        blocks = np.searchsorted(self.block_starts, children, side="right") - 1
        for block in np.unique(blocks):
            mask = blocks == block
            offsets = self._offsets(int(block))
            out[mask] = block * BLOCK + np.searchsorted(offsets, children[mask], side="right") - 1
        return out

    def ordinal(self, children: np.ndarray) -> np.ndarray:
        """Position of each child among its siblings (0 for the first child)."""
        result: np.ndarray = children - self.first_child(self.parent_of(children))
        return result
