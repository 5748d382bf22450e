"""Vectorised SHA-1 and RFC 4122 name-based UUIDs (version 5) over whole Arrow arrays.

Everything here works on many messages at once: the messages are laid out as a
``(rows, blocks * 64)`` byte matrix (padding included) built with numpy gathers from
the Arrow data buffer, and the SHA-1 compression runs on ``uint32`` columns, one numpy
operation per step for all rows of a batch.  Python only loops over the 80 rounds, the
blocks of a batch and a handful of batches -- never over rows.

Rows are grouped by the number of 64-byte blocks their padded message needs; groups
too small to be worth a pass of their own are merged with a longer neighbour (a row
that needs fewer blocks than its batch simply has its digest taken after its last
block).  Messages longer than ``LONG_MESSAGE_BYTES`` -- far beyond any realistic
name -- are hashed with :mod:`hashlib` instead, because one lone long message would
otherwise cost a full numpy pass per block.

``uuid5_strings(ns, names)`` equals ``[str(uuid.uuid5(ns, s)) for s in names]``,
with nulls kept as nulls.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

__all__ = [
    "LONG_MESSAGE_BYTES",
    "format_uuid_hex",
    "sha1_batch",
    "uuid5_bytes",
    "uuid5_strings",
]

LONG_MESSAGE_BYTES = 1024
"""Messages longer than this are hashed one by one with hashlib (rare outliers only)."""

_CHUNK_ROWS = 8192  # rows per numpy pass: big enough to amortise call overhead, small enough for cache
_BUILD_ROWS = 1024  # rows per slab when laying out messages (keeps temporaries small)
_TRANSPOSE_ROWS = 1024  # rows per slab when transposing a block into the schedule
_PASS_COST_ROWS = 4096  # fixed cost of one pass (per block) in row-equivalents, for batch merging

_H0 = np.array([0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0], dtype=np.uint32)
_SHIFTS = tuple(np.array(v, dtype=np.uint32) for v in (1, 2, 5, 27, 30, 31))
_K = np.repeat(np.array([0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xCA62C1D6], dtype=np.uint32), 20)


def _is_view_type(typ: pa.DataType) -> bool:
    """string_view / binary_view (pyarrow >= 16)."""
    checks = (getattr(pa.types, "is_string_view", None), getattr(pa.types, "is_binary_view", None))
    return any(check is not None and check(typ) for check in checks)


_BINARY_TYPES = (pa.binary(), pa.large_binary())
_STRING_TYPES = (pa.string(), pa.large_string())


# --------------------------------------------------------------------------- Arrow input


class _Messages:
    """Messages as numpy views of an Arrow array: ``data[starts[i]:starts[i] + lengths[i]]``."""

    __slots__ = ("data", "lengths", "starts", "valid")

    def __init__(self, data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, valid: np.ndarray | None):
        self.data = data
        self.starts = starts
        self.lengths = lengths
        self.valid = valid  # bool per row, or None when there are no nulls

    @classmethod
    def from_arrow(cls, arr: pa.Array | pa.ChunkedArray) -> _Messages:
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks else pa.array([], type=arr.type)
        typ = arr.type
        if typ not in _BINARY_TYPES and typ not in _STRING_TYPES:
            if _is_view_type(typ):
                arr = arr.cast(pa.large_binary())
                typ = arr.type
            else:
                raise TypeError(f"expected a string or binary Arrow array, got {typ}")
        n = len(arr)
        buffers = arr.buffers()
        offset_type = np.int64 if typ in (pa.large_binary(), pa.large_string()) else np.int32
        if n == 0 or buffers[1] is None:
            offsets: np.ndarray = np.zeros(n + 1, dtype=np.int64)
        else:
            offsets = np.frombuffer(buffers[1], dtype=offset_type)[arr.offset : arr.offset + n + 1]
            offsets = offsets.astype(np.int64)
        data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
        starts = offsets[:-1]
        lengths = np.diff(offsets)
        valid = None
        if arr.null_count:
            valid = arr.is_valid().to_numpy(zero_copy_only=False)
            lengths = np.where(valid, lengths, 0)  # a null's slot may hold anything: hash it as empty
            starts = np.where(valid, starts, 0)
        return cls(data, starts, lengths, valid)

    @classmethod
    def from_any(cls, messages: pa.Array | pa.ChunkedArray | Iterable[bytes | str | None]) -> _Messages:
        if isinstance(messages, pa.Array | pa.ChunkedArray):
            return cls.from_arrow(messages)
        if isinstance(messages, np.ndarray) and messages.dtype.kind == "S":
            messages = messages.tolist()
        items = [m.encode("utf-8") if isinstance(m, str) else m for m in messages]
        return cls.from_arrow(pa.array(items, type=pa.large_binary()))


# --------------------------------------------------------------------------- SHA-1 core


def _blocks_needed(total_lengths: np.ndarray) -> np.ndarray:
    """64-byte blocks per message once padded (0x80, zeros, 8-byte bit length)."""
    return (total_lengths + 8) // 64 + 1


def _plan_batches(block_counts: np.ndarray, row_counts: np.ndarray) -> list[tuple[int, int]]:
    """Split the sorted distinct block counts into consecutive runs processed together.

    A run costs ``max_blocks * (rows + _PASS_COST_ROWS)``; dynamic programming picks the
    cheapest split, so tiny groups ride along with a neighbour instead of paying full
    numpy call overhead for a handful of rows.  Returns ``(first, last)`` index pairs.
    """
    g = len(block_counts)
    cum_rows = np.concatenate(([0], np.cumsum(row_counts)))
    best = [0.0] + [float("inf")] * g
    cut = [0] * (g + 1)
    for j in range(1, g + 1):  # loop over distinct block counts (a handful), not rows
        for i in range(j):
            cost = best[i] + float(block_counts[j - 1]) * (cum_rows[j] - cum_rows[i] + _PASS_COST_ROWS)
            if cost < best[j]:
                best[j], cut[j] = cost, i
    runs = []
    j = g
    while j > 0:
        runs.append((cut[j], j - 1))
        j = cut[j]
    return runs[::-1]


class _Windows:
    """Fixed-width byte windows of the data buffer starting at any offset, zero-filled past its end."""

    def __init__(self, data: np.ndarray, width: int):
        self.width = width
        # Windows that fit inside the buffer are read from it in place (no copy of the data);
        # those starting in its last ``width`` bytes come from a small zero-padded copy of the tail.
        self.cut = max(len(data) - width, 0)
        tail = np.zeros(len(data) - self.cut + width, dtype=np.uint8)
        tail[: len(data) - self.cut] = data[self.cut :]
        view = np.lib.stride_tricks.sliding_window_view
        self.inside = view(data, width) if len(data) >= width else None
        self.tail = view(tail, width)

    def gather(self, starts: np.ndarray) -> np.ndarray:
        if self.inside is None:
            result: np.ndarray = self.tail[starts]
            return result
        windows: np.ndarray = self.inside[np.minimum(starts, self.cut)]
        late = np.flatnonzero(starts > self.cut)
        if len(late):
            windows[late] = self.tail[starts[late] - self.cut]
        return windows


class _Sha1Pass:
    """Buffers for hashing up to ``capacity`` rows of ``width``-byte padded messages, reused per chunk.

    Reusing them matters: fresh multi-megabyte arrays per chunk cost more in page faults
    than the arithmetic does.
    """

    def __init__(self, capacity: int, width: int, prefix: np.ndarray, windows: _Windows):
        self.capacity = capacity
        self.width = width
        self.prefix = prefix
        self.windows = windows
        self.mat = np.empty((capacity, width), dtype=np.uint8)
        self.w = np.empty((80, capacity), dtype=np.uint32)
        self.x = np.empty((6, capacity), dtype=np.uint32)
        self.y = np.empty((6, capacity), dtype=np.uint32)
        self.h = np.empty((5, capacity), dtype=np.uint32)
        self.bufs = np.empty((7, capacity), dtype=np.uint32)
        body = width - len(prefix)
        ones_then_zeros = np.zeros(2 * body, dtype=np.uint8)
        ones_then_zeros[:body] = 0xFF
        self.masks = np.lib.stride_tricks.sliding_window_view(ones_then_zeros, body)  # masks[body - len]

    def build(self, starts: np.ndarray, lengths: np.ndarray, nblocks: np.ndarray) -> None:
        """Fill the first ``len(starts)`` rows of ``mat`` with padded ``prefix + message``."""
        p, width = len(self.prefix), self.width
        body = width - p
        mat = self.mat
        mat[: len(starts), :p] = self.prefix
        for s in range(0, len(starts), _BUILD_ROWS):  # slabs: small temporaries, recycled by malloc
            e = min(s + _BUILD_ROWS, len(starts))
            ln = lengths[s:e]
            np.bitwise_and(self.windows.gather(starts[s:e]), self.masks[body - ln], out=mat[s:e, p:])
            flat = mat[s:e].reshape(-1)
            row_base = np.arange(e - s, dtype=np.int64) * width
            flat[row_base + p + ln] = 0x80
            # The 64-bit big-endian bit length closes the row's last block (8-byte aligned).
            bit_lengths = ((ln + p) * 8).astype(">u8").view(np.uint64)
            flat.view(np.uint64)[(row_base + nblocks[s:e] * 64 - 8) // 8] = bit_lengths

    def compress(self, m: int, nblocks: np.ndarray) -> np.ndarray:
        """SHA-1 state (5, m) of the first ``m`` rows of ``mat``, taken after each row's last block."""
        # Plain ufunc calls with positional ``out``: at a few microseconds per call, call overhead counts.
        xor, band, add = np.bitwise_xor, np.bitwise_and, np.add
        shl, shr = np.left_shift, np.right_shift
        s1, s2, s5, s27, s30, s31 = _SHIFTS
        words = self.mat[:m].view(">u4")
        blocks = self.width // 64
        w, x, y = self.w[:, :m], self.x[:, :m], self.y[:, :m]
        wt = list(w)
        h = self.h[:, :m]
        h[:] = _H0[:, None]
        digest = np.empty((5, m), dtype=np.uint32) if blocks > 1 else h
        bufs = list(self.bufs[:, :m])
        for k in range(blocks):
            # Load the block transposed (rows become columns), a slab at a time to stay in cache.
            for s in range(0, m, _TRANSPOSE_ROWS):
                w[:16, s : s + _TRANSPOSE_ROWS] = words[s : s + _TRANSPOSE_ROWS, 16 * k : 16 * (k + 1)].T
            # Message schedule, several independent words per numpy call.
            for t in range(16, 32, 3):
                n = min(3, 32 - t)
                xv, yv, wv = x[:n], y[:n], w[t : t + n]
                xor(w[t - 3 : t - 3 + n], w[t - 8 : t - 8 + n], xv)
                xor(xv, w[t - 14 : t - 14 + n], xv)
                xor(xv, w[t - 16 : t - 16 + n], xv)
                shl(xv, s1, wv)
                shr(xv, s31, yv)
                add(wv, yv, wv)
            for t in range(32, 80, 6):  # equivalent recurrence w[t] = rotl2(w[t-6]^w[t-16]^w[t-28]^w[t-32])
                wv = w[t : t + 6]
                xor(w[t - 6 : t], w[t - 16 : t - 10], x)
                xor(x, w[t - 28 : t - 22], x)
                xor(x, w[t - 32 : t - 26], x)
                shl(x, s2, wv)
                shr(x, s30, y)
                add(wv, y, wv)
            add(w, _K[:, None], w)

            a, b, c, d, e, f, tmp = bufs
            a[:], b[:], c[:], d[:], e[:] = h
            for t in range(80):
                if t < 20:  # Ch(b, c, d) = d ^ (b & (c ^ d))
                    xor(c, d, f)
                    band(f, b, f)
                    xor(f, d, f)
                elif 40 <= t < 60:  # Maj(b, c, d) = (b & c) + (d & (b ^ c))  (the terms share no bits)
                    xor(b, c, f)
                    band(f, d, f)
                    band(b, c, tmp)
                    add(f, tmp, f)
                else:  # Parity
                    xor(b, c, f)
                    xor(f, d, f)
                # f = rotl5(a) + f + e + (K + w[t]); a rotation's halves share no bits, so + is |.
                shl(a, s5, tmp)
                add(f, tmp, f)
                shr(a, s27, tmp)
                add(f, tmp, f)
                add(f, e, f)
                add(f, wt[t], f)
                shl(b, s30, e)  # e's value is spent: it becomes the new c = rotl30(b)
                shr(b, s2, tmp)
                add(e, tmp, e)
                a, b, c, d, e, f = f, a, e, c, d, b
            for hv, v in zip(h, (a, b, c, d, e), strict=True):
                add(hv, v, hv)
            bufs = [a, b, c, d, e, f, tmp]
            if digest is not h:
                done = nblocks == k + 1
                if done.all():
                    digest[:] = h
                elif done.any():
                    digest[:, done] = h[:, done]
        return digest


def _sha1_messages(msgs: _Messages, prefix: bytes = b"", chunk_rows: int = _CHUNK_ROWS) -> np.ndarray:
    """(n, 20) uint8 SHA-1 digests of ``prefix + message`` for every message."""
    n = len(msgs.lengths)
    digests = np.zeros((n, 5), dtype=np.uint32)
    pre = np.frombuffer(prefix, dtype=np.uint8)
    totals = msgs.lengths + len(pre)
    long_rows = np.flatnonzero(totals > LONG_MESSAGE_BYTES)
    for i in long_rows:  # outliers only (see LONG_MESSAGE_BYTES)
        s, ln = int(msgs.starts[i]), int(msgs.lengths[i])
        digest = hashlib.sha1(prefix + msgs.data[s : s + ln].tobytes()).digest()
        digests[i] = np.frombuffer(digest, dtype=">u4")

    nblocks = _blocks_needed(totals)
    vec_rows = np.flatnonzero(totals <= LONG_MESSAGE_BYTES) if len(long_rows) else None
    block_counts = nblocks if vec_rows is None else nblocks[vec_rows]
    if len(block_counts) == 0:
        return digests.astype(">u4").view(np.uint8).reshape(n, 20)
    if block_counts.min() == block_counts.max():  # common case: no sorting needed
        order = np.arange(n) if vec_rows is None else vec_rows
        counts, first, sizes = block_counts[:1], np.array([0]), np.array([len(order)])
    else:
        order = np.argsort(block_counts, kind="stable")
        if vec_rows is not None:
            order = vec_rows[order]
        counts, first = np.unique(nblocks[order], return_index=True)
        sizes = np.diff(np.append(first, len(order)))
    for lo, hi in _plan_batches(counts, sizes):
        batch = order[first[lo] : first[hi] + sizes[hi]]
        width = int(counts[hi]) * 64
        work = _Sha1Pass(min(chunk_rows, len(batch)), width, pre, _Windows(msgs.data, width - len(pre)))
        for c0 in range(0, len(batch), chunk_rows):
            rows = batch[c0 : c0 + chunk_rows]
            nb = nblocks[rows]
            work.build(msgs.starts[rows], msgs.lengths[rows], nb)
            digests[rows] = work.compress(len(rows), nb).T
    return digests.astype(">u4").view(np.uint8).reshape(n, 20)


# --------------------------------------------------------------------------- public API


def sha1_batch(messages: pa.Array | pa.ChunkedArray | Iterable[bytes | str | None]) -> np.ndarray:
    """SHA-1 digests of many messages at once, as an ``(n, 20)`` uint8 array.

    ``messages`` is an Arrow binary/string array (any offset width) or a sequence of
    ``bytes``/``str`` (``str`` is hashed as UTF-8).  Null messages give all-zero rows.
    """
    msgs = _Messages.from_any(messages)
    digests = _sha1_messages(msgs)
    if msgs.valid is not None:
        digests[~msgs.valid] = 0
    return digests


def _uuid5(namespace: uuid.UUID, names: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray | None]:
    msgs = _Messages.from_any(names)
    raw = _sha1_messages(msgs, prefix=namespace.bytes)[:, :16]
    raw = np.ascontiguousarray(raw)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50  # version 5
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    if msgs.valid is not None:
        raw[~msgs.valid] = 0
    return raw, msgs.valid


def uuid5_bytes(namespace: uuid.UUID, names: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The ``uuid.uuid5(namespace, name).bytes`` of every name, as an ``(n, 16)`` uint8 array.

    Names are UTF-8 strings (or raw binary).  Rows whose name is null are all zeros.
    """
    return _uuid5(namespace, names)[0]


def uuid5_strings(namespace: uuid.UUID, names: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``str(uuid.uuid5(namespace, name))`` for every name; null names give null UUIDs."""
    raw, valid = _uuid5(namespace, names)
    return format_uuid_hex(raw, valid)


# Hex text of every byte value, two ASCII digits packed in one uint16 (memory order = text order).
_HEX_PAIRS = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint16)
# (text columns, raw bytes) of the five dash-separated groups of the canonical form.
_GROUPS = ((0, 0, 4), (9, 4, 6), (14, 6, 8), (19, 8, 10), (24, 10, 16))
_FORMAT_ROWS = 4096


def format_uuid_hex(raw: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Canonical ``8-4-4-4-12`` lowercase UUID strings for an ``(n, 16)`` uint8 array.

    The text is made as one ``(n, 36)`` byte matrix (a 256-entry table of hex pairs,
    dashes at fixed columns) that becomes the Arrow data buffer as is.  ``valid``
    (bool per row) marks rows to keep; the others are null.  The result is
    ``pa.string()``, or ``pa.large_string()`` past 2 GiB of text (~59.6 M rows).
    """
    raw = np.asarray(raw, dtype=np.uint8)
    if raw.ndim != 2 or raw.shape[1] != 16:
        raise ValueError(f"expected an (n, 16) uint8 array, got shape {raw.shape}")
    n = raw.shape[0]
    text = np.empty((n, 36), dtype=np.uint8)
    pairs = np.empty((min(n, _FORMAT_ROWS), 16), dtype=np.uint16)
    for s in range(0, n, _FORMAT_ROWS):  # slabs: the table lookup's index temporaries stay small
        e = min(s + _FORMAT_ROWS, n)
        digits = _HEX_PAIRS.take(raw[s:e], out=pairs[: e - s]).view(np.uint8)  # (rows, 32) hex digits
        for col, lo, hi in _GROUPS:
            text[s:e, col : col + 2 * (hi - lo)] = digits[:, 2 * lo : 2 * hi]
            if col:
                text[s:e, col - 1] = ord("-")
    large = n * 36 > np.iinfo(np.int32).max
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int64 if large else np.int32)
    validity = None
    null_count = 0
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        null_count = int(n - np.count_nonzero(valid))
        if null_count:
            validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.large_string() if large else pa.string(),
        n,
        [validity, pa.py_buffer(offsets), pa.py_buffer(text)],
        null_count=null_count,
    )
