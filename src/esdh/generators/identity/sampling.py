"""Sampling helpers: fast inverse CDF, packed uniforms, bijections over any size."""

from __future__ import annotations

import functools

import numpy as np

from esdh.generators.base import Context, choice_from
from esdh.rng import Stream


class _InverseCdf:
    """``choice_from(cdf, u)`` with identical results, several times faster.

    ``u`` falls in one of K equal buckets; a bucket whose neighbourhood (itself and one bucket on
    each side) holds no CDF boundary has one answer for all its ``u`` and is answered from a table.
    Rows in the other buckets (about ``3 n / K`` of them) fall back to ``choice_from``.
    """

    def __init__(self, cdf: np.ndarray):
        self.cdf = np.asarray(cdf, dtype=np.float64)
        n = len(self.cdf)
        self.buckets = 1 << min(20, max(10, int(64 * n - 1).bit_length()))
        k = self.buckets
        edges = np.arange(k + 2, dtype=np.float64) * (float(self.cdf[-1]) / k)
        count = np.minimum(np.searchsorted(self.cdf, edges, side="right"), n - 1)
        j = np.arange(k + 1)
        clean = count[np.maximum(j - 1, 0)] == count[np.minimum(j + 2, k + 1)]
        self.table = np.where(clean, count[: k + 1], -1).astype(np.int32)

    def __len__(self) -> int:
        return len(self.cdf)

    def __call__(self, uniforms: np.ndarray) -> np.ndarray:
        idx = self.table[(uniforms * self.buckets).astype(np.int64)].astype(np.int64)
        bad = idx < 0
        if bad.any():
            idx[bad] = choice_from(self.cdf, uniforms[bad])
        return idx


def _sampler(weights: np.ndarray | list[float]) -> _InverseCdf:
    """Inverse-CDF sampling of indices with the given relative weights."""
    return _InverseCdf(np.cumsum(np.asarray(weights, dtype=np.float64)))


def _uniform_index(u: np.ndarray, n: int) -> np.ndarray:
    return np.minimum((u * n).astype(np.int64), n - 1)


_FIELD_BITS = 21


def _uniform_fields(stream: Stream, rows: np.ndarray, count: int) -> list[np.ndarray]:
    """Up to three independent uniforms in (0, 1) per row from one 64-bit draw, 21 bits each.

    Enough resolution for small choices (patterns, suffixes, house numbers); names use full uniforms.
    """
    bits = stream.bits(rows)
    mask = np.uint64((1 << _FIELD_BITS) - 1)
    scale = 1.0 / (1 << _FIELD_BITS)
    return [(((bits >> np.uint64(_FIELD_BITS * i)) & mask).astype(np.float64) + 0.5) * scale
            for i in range(count)]


# --------------------------------------------------------------------------------------------------
# bijections


@functools.cache
def _power_of_four_blocks(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts and lengths of a split of [0, size) into power-of-4 blocks, largest first."""
    starts, lengths, start = [], [], 0
    while start < size:
        length = 4 ** ((size - start).bit_length() - 1 >> 1)
        starts.append(start)
        lengths.append(length)
        start += length
    return np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int64)


def _bijection(ctx: Context, size: int, name: str, rows: np.ndarray) -> np.ndarray:
    """A keyed bijection of [0, size) at ``rows`` (each < size), as int64.

    ``ctx.permutation`` over a size that is not a power of 4 cycle-walks (up to 4 passes; 2-3 for
    the sizes used here). This splits [0, size) into power-of-4 blocks, permutes each block with
    ``ctx.permutation`` (no walking), then spreads the blocks over the whole range with an affine
    map ``(a * v + c) mod size`` (``gcd(a, size) = 1``), keyed like everything else.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= size):
        raise ValueError(f"row index outside [0, {size}) for the '{name}' bijection")
    if size <= 1 or len(rows) == 0:
        return np.zeros(len(rows), dtype=np.int64)
    starts, lengths = _power_of_four_blocks(size)
    if int(rows.max()) < lengths[0]:
        value = ctx.permutation(int(lengths[0]), f"{name}:0")(rows)
    else:
        block = (np.searchsorted(starts, rows, side="right") - 1).astype(np.uint8)
        order = np.argsort(block, kind="stable")
        bounds = np.searchsorted(block[order], np.arange(len(starts) + 1))
        value = np.empty(len(rows), dtype=np.int64)
        for b in range(len(starts)):
            if bounds[b] < bounds[b + 1]:
                at = order[bounds[b]:bounds[b + 1]]
                perm = ctx.permutation(int(lengths[b]), f"{name}:{b}")
                value[at] = perm(rows[at] - starts[b]) + starts[b]
    key_a, key_c = (int(x) for x in ctx.stream.sub(f"{name}:affine").bits(np.arange(2)))
    high = min(1 << 20, (1 << 62) // size)  # a * size stays below 2**62
    a = high // 2 + key_a % max(1, high // 2)
    while np.gcd(a, size) != 1:
        a += 1
    return (value * a + key_c % size) % size
