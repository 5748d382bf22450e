"""Counter-based randomness: the only place ESDH gets random numbers from.

Every random value is a pure function of a 64-bit key and a row index. Keys are derived from names
(seed, table, column, sub-stream), never from positions or call order, so:

- the same spec and seed give the same values whatever the chunk size, worker count or executor;
- any row can be computed on its own (a child reads a parent's attribute without materialising it);
- adding a table or a column leaves every other column's values unchanged.

The mixer is SplitMix64 (Steele, Lea and Flood, 2014) applied to ``key + (row + 1) * golden``, which
is exactly the SplitMix64 output stream of seed ``key``: fast in numpy and well tested statistically.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np

__all__ = ["Permutation", "Stream", "derive_key", "random_seed"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_53 = float(2**53)


def derive_key(seed: int, *names: str) -> int:
    """A 64-bit key from a seed and names; stable across Python versions and processes."""
    text = "\x1f".join([str(int(seed)), *names]).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def random_seed() -> int:
    """A fresh seed for ``--randomize``; the caller must report it so the run can be replayed."""
    return secrets.randbelow(2**31 - 1) + 1


def _mix(key: int, counters: np.ndarray) -> np.ndarray:
    """SplitMix64 of ``key`` at the given counters (uint64 array), vectorised."""
    with np.errstate(over="ignore"):
        z = counters.astype(np.uint64, copy=True)
        z += np.uint64(1)
        z *= _GOLDEN
        z += np.uint64(key)
        z ^= z >> np.uint64(30)
        z *= _MUL1
        z ^= z >> np.uint64(27)
        z *= _MUL2
        z ^= z >> np.uint64(31)
    return z


class Stream:
    """A named source of random values indexed by row; substreams are named, not numbered."""

    __slots__ = ("key",)

    def __init__(self, key: int):
        self.key = int(key) & 0xFFFFFFFFFFFFFFFF

    @classmethod
    def of(cls, seed: int, *names: str) -> Stream:
        return cls(derive_key(seed, *names))

    def sub(self, name: str) -> Stream:
        """An independent stream derived from this one by name."""
        return Stream(derive_key(self.key, name))

    def bits(self, rows: np.ndarray) -> np.ndarray:
        """64 random bits per row (uint64)."""
        return _mix(self.key, np.asarray(rows))

    def uniform(self, rows: np.ndarray) -> np.ndarray:
        """Uniform doubles in the open interval (0, 1), safe for inverse CDFs."""
        top = (self.bits(rows) >> np.uint64(11)).astype(np.float64)
        return (top + 0.5) / _TWO_POW_53

    def integers(self, rows: np.ndarray, high: int | np.ndarray) -> np.ndarray:
        """Integers in [0, high) per row; ``high`` may be a per-row array."""
        high_arr = np.asarray(high, dtype=np.float64)
        out = np.floor(self.uniform(rows) * high_arr).astype(np.int64)
        return np.minimum(out, np.asarray(high, dtype=np.int64) - 1)


class Permutation:
    """A keyed bijection of [0, size): a balanced Feistel network with cycle walking.

    Used for uniqueness by construction (distinct rows map to distinct values) and for exact rates
    (a row is flagged when its permuted position is below ``round(rate * rows)``).
    """

    __slots__ = ("_half_bits", "_keys", "_mask", "size")
    _ROUNDS = 4

    def __init__(self, key: int, size: int):
        if size < 1:
            raise ValueError("a permutation needs a positive size")
        self.size = int(size)
        bits = max(2, int(size - 1).bit_length())
        bits += bits % 2
        self._half_bits = np.uint64(bits // 2)
        self._mask = np.uint64((1 << (bits // 2)) - 1)
        self._keys = [derive_key(key, f"feistel{r}") for r in range(self._ROUNDS)]

    def _rounds(self, x: np.ndarray) -> np.ndarray:
        left = x >> self._half_bits
        right = x & self._mask
        for key in self._keys:
            left, right = right, left ^ (_mix(key, right) & self._mask)
        return (left << self._half_bits) | right

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """The permuted position of each row (int64)."""
        x = self._rounds(np.asarray(rows, dtype=np.uint64))
        limit = np.uint64(self.size)
        outside = x >= limit
        while outside.any():  # cycle walking: expected < 4 passes, shrinking geometrically
            x[outside] = self._rounds(x[outside])
            outside = x >= limit
        return x.astype(np.int64)
