"""Vectorised SHA-1 / UUIDv5 against hashlib and the uuid module."""

from __future__ import annotations

import hashlib
import random
import time
import uuid

import numpy as np
import pyarrow as pa
import pytest

from esdh.generators import hashing
from esdh.generators.hashing import (
    LONG_MESSAGE_BYTES,
    format_uuid_hex,
    sha1_batch,
    uuid5_bytes,
    uuid5_strings,
)

NAMESPACES = [uuid.NAMESPACE_DNS, uuid.NAMESPACE_URL, uuid.UUID("3f2d1c9e-8b7a-4c6d-9e0f-1a2b3c4d5e6f")]
ALPHABET = "abcXYZ019 -_.@/" + "éüßñ" + "Ωж" + "中文字" + "😀🚗"  # 1- to 4-byte UTF-8


def _random_names(rng: random.Random, count: int, max_len: int = 200) -> list[str]:
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, max_len))) for _ in range(count)]


def _boundary_names() -> list[str]:
    """ASCII names of every length 0..200; with the 16-byte namespace the padded message crosses
    the 1/2/3/4-block boundaries (total 55/56, 64, 119/120, 128, 183/184 bytes)."""
    return ["n" * k for k in range(201)] + [f"{k:03d}" + "x" * k for k in range(198)]


def _reference(ns: uuid.UUID, names: list[str | None]) -> list[str | None]:
    return [None if s is None else str(uuid.uuid5(ns, s)) for s in names]


def _hashlib_digests(messages: list[bytes]) -> np.ndarray:
    return np.array([list(hashlib.sha1(m).digest()) for m in messages], dtype=np.uint8).reshape(-1, 20)


# --------------------------------------------------------------------------- uuid5


@pytest.mark.parametrize("ns", NAMESPACES)
def test_uuid5_strings_match_uuid_module(ns):
    rng = random.Random(str(ns))
    names = _boundary_names() + _random_names(rng, 600) + ["", "a", "ß" * 30, "😀" * 27, "中" * 40]
    rng.shuffle(names)
    got = uuid5_strings(ns, pa.array(names, type=pa.string()))
    assert got.type == pa.string()
    assert got.null_count == 0
    assert got.to_pylist() == _reference(ns, names)


@pytest.mark.parametrize("typ", [pa.string(), pa.large_string(), pa.binary(), pa.large_binary(), "view"])
def test_uuid5_accepts_every_string_and_binary_layout(typ):
    names = _random_names(random.Random(7), 300)
    if typ == "view":
        if not hasattr(pa, "string_view"):
            pytest.skip("pyarrow without string_view")
        arr = pa.array(names, type=pa.string()).cast(pa.string_view())
    elif typ in (pa.binary(), pa.large_binary()):
        arr = pa.array([s.encode() for s in names], type=typ)
    else:
        arr = pa.array(names, type=typ)
    assert uuid5_strings(uuid.NAMESPACE_DNS, arr).to_pylist() == _reference(uuid.NAMESPACE_DNS, names)


def test_uuid5_sliced_and_chunked_arrays():
    names = _random_names(random.Random(11), 400)
    ns = uuid.NAMESPACE_URL
    full = pa.array(names)
    sliced = full.slice(37, 250)  # non-zero Arrow offset into the offsets/validity buffers
    assert uuid5_strings(ns, sliced).to_pylist() == _reference(ns, names[37:287])
    chunked = pa.chunked_array([full.slice(0, 100), full.slice(100, 1), full.slice(101)])
    assert uuid5_strings(ns, chunked).to_pylist() == _reference(ns, names)
    assert uuid5_strings(ns, pa.chunked_array([], type=pa.string())).to_pylist() == []


def test_uuid5_nulls_are_preserved():
    rng = random.Random(3)
    names: list[str | None] = _random_names(rng, 300)
    for i in rng.sample(range(len(names)), 60):
        names[i] = None
    names[0] = names[-1] = None
    ns = uuid.NAMESPACE_DNS
    arr = pa.array(names, type=pa.string())
    got = uuid5_strings(ns, arr)
    assert got.null_count == names.count(None)
    assert got.to_pylist() == _reference(ns, names)
    # a slice starting mid-bitmap keeps the right rows null
    assert uuid5_strings(ns, arr.slice(5, 200)).to_pylist() == _reference(ns, names[5:205])
    raw = uuid5_bytes(ns, arr)
    nulls = np.array([s is None for s in names])
    assert not raw[nulls].any()
    assert uuid5_strings(ns, pa.array([None, None], type=pa.string())).to_pylist() == [None, None]


def test_uuid5_bytes_version_and_variant():
    names = _random_names(random.Random(5), 500)
    ns = uuid.NAMESPACE_OID
    raw = uuid5_bytes(ns, pa.array(names))
    assert raw.shape == (500, 16)
    assert raw.dtype == np.uint8
    assert [bytes(r) for r in raw] == [uuid.uuid5(ns, s).bytes for s in names]
    assert ((raw[:, 6] >> 4) == 5).all()
    assert ((raw[:, 8] >> 6) == 0b10).all()


def test_uuid5_empty_input():
    assert uuid5_bytes(uuid.NAMESPACE_DNS, pa.array([], type=pa.string())).shape == (0, 16)
    out = uuid5_strings(uuid.NAMESPACE_DNS, pa.array([], type=pa.string()))
    assert out.type == pa.string()
    assert len(out) == 0


def test_uuid5_long_names_and_mixed_block_counts():
    """Long names use more blocks (and past LONG_MESSAGE_BYTES the hashlib path); a few rare
    lengths get merged into a longer batch -- all must still agree with the uuid module."""
    rng = random.Random(13)
    names = ["k" * 10] * 500 + ["m" * rng.randint(100, 900) for _ in range(7)]
    names += ["z" * (LONG_MESSAGE_BYTES - 16), "z" * (LONG_MESSAGE_BYTES - 15), "q" * 5000]
    rng.shuffle(names)
    assert uuid5_strings(uuid.NAMESPACE_DNS, pa.array(names)).to_pylist() == _reference(
        uuid.NAMESPACE_DNS, names
    )


# --------------------------------------------------------------------------- sha1


def test_sha1_batch_matches_hashlib_across_block_boundaries():
    rng = random.Random(17)
    lengths = [*range(0, 300), 447, 448, 511, 512, 1000, 1023, 1024, 1025, 3000]
    messages = [rng.randbytes(k) for k in lengths]
    rng.shuffle(messages)
    got = sha1_batch(pa.array(messages, type=pa.binary()))
    assert got.shape == (len(messages), 20)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, _hashlib_digests(messages))


def test_sha1_batch_known_vectors_and_python_inputs():
    assert bytes(sha1_batch([b"abc"])[0]).hex() == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert bytes(sha1_batch([b""])[0]).hex() == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    abq = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"  # 56 bytes: two blocks
    assert bytes(sha1_batch([abq])[0]).hex() == "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
    mixed = ["héllo", b"\x00\xff" * 40, "😀"]
    expected = _hashlib_digests([m.encode() if isinstance(m, str) else m for m in mixed])
    np.testing.assert_array_equal(sha1_batch(mixed), expected)
    np.testing.assert_array_equal(sha1_batch(np.array([b"ab", b"cde"])), _hashlib_digests([b"ab", b"cde"]))
    assert sha1_batch([]).shape == (0, 20)


def test_sha1_batch_nulls_give_zero_rows():
    msgs = [b"x", None, b"y" * 70, None]
    got = sha1_batch(pa.array(msgs, type=pa.large_binary()))
    np.testing.assert_array_equal(got[[0, 2]], _hashlib_digests([b"x", b"y" * 70]))
    assert not got[[1, 3]].any()


def test_sha1_several_chunks_per_batch():
    """Chunking within a batch (tiny chunk size here) must not change any digest."""
    rng = random.Random(19)
    messages = [rng.randbytes(rng.randint(0, 150)) for _ in range(41)]
    msgs = hashing._Messages.from_any(messages)
    for chunk_rows in (4, 16):
        got = hashing._sha1_messages(msgs, chunk_rows=chunk_rows)
        np.testing.assert_array_equal(got, _hashlib_digests(messages))


def test_sha1_rejects_non_string_arrays():
    with pytest.raises(TypeError):
        sha1_batch(pa.array([1, 2, 3]))


# --------------------------------------------------------------------------- formatting


def test_format_uuid_hex_matches_uuid_str():
    raw = np.random.default_rng(23).integers(0, 256, size=(5000, 16), dtype=np.uint8)
    raw[0] = 0
    raw[1] = 255
    got = format_uuid_hex(raw)
    assert got.type == pa.string()
    assert got.to_pylist() == [str(uuid.UUID(bytes=bytes(r))) for r in raw]


def test_format_uuid_hex_validity_and_shape_errors():
    raw = np.arange(48, dtype=np.uint8).reshape(3, 16)
    got = format_uuid_hex(raw, np.array([True, False, True]))
    assert got.to_pylist() == [str(uuid.UUID(bytes=bytes(raw[0]))), None, str(uuid.UUID(bytes=bytes(raw[2])))]
    assert format_uuid_hex(np.zeros((0, 16), dtype=np.uint8)).to_pylist() == []
    with pytest.raises(ValueError):
        format_uuid_hex(np.zeros((3, 15), dtype=np.uint8))


# --------------------------------------------------------------------------- speed (printed, not asserted)


@pytest.mark.slow
def test_uuid5_speed_one_million_names(capsys):
    n = 1_000_000
    rng = np.random.default_rng(29)
    lengths = rng.integers(60, 81, size=n)  # ~70 characters
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = rng.integers(ord("a"), ord("z") + 1, size=int(offsets[-1]), dtype=np.uint8)
    names = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    ns = uuid.NAMESPACE_DNS

    start = time.perf_counter()
    out = uuid5_strings(ns, names)
    vectorised = time.perf_counter() - start

    sample = rng.choice(n, size=300, replace=False)
    expected = [str(uuid.uuid5(ns, names[int(i)].as_py())) for i in sample]
    assert [out[int(i)].as_py() for i in sample] == expected

    py_names = names.slice(0, 20_000).to_pylist()
    start = time.perf_counter()
    [str(uuid.uuid5(ns, s)) for s in py_names]
    per_row = (time.perf_counter() - start) / len(py_names)
    with capsys.disabled():
        print(
            f"\nuuid5_strings: {n:,} names (~70 chars) in {vectorised:.3f} s; "
            f"[str(uuid.uuid5(...)) for ...] ~{per_row * n:.2f} s (extrapolated from 20k) "
            f"-> {per_row * n / vectorised:.1f}x"
        )
