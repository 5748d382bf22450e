"""Identifiers: formatted sequences, RFC 4122 random UUIDs (unique by construction), name-based UUIDs."""

from __future__ import annotations

import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from esdh.expr import evaluate, names, parse
from esdh.generators.base import Context, Generator, Params, register
from esdh.generators.hashing import format_uuid_hex, uuid5_strings
from esdh.limits import STRING_CHARS
from esdh.rng import Permutation, derive_key


class SequenceParams(Params):
    start: int = 1
    step: int = 1
    prefix: str = Field(default="", max_length=STRING_CHARS)
    suffix: str = Field(default="", max_length=STRING_CHARS)
    width: int = Field(default=0, ge=0, le=STRING_CHARS)  # zero-pad the number to this many digits


@register
class Sequence(Generator):
    """``start + row * step``, optionally formatted as ``prefix + zero-padded number + suffix``."""

    name = "sequence"
    Params = SequenceParams
    summary = "sequential numbers, optionally formatted (prefix, zero-padded width, suffix)"
    supports_unique = True

    @property
    def formatted(self) -> bool:
        return bool(self.p.prefix or self.p.suffix or self.p.width)

    def output_type(self) -> pa.DataType:
        return pa.string() if self.formatted else pa.int64()

    def row_problem(self, rows: int) -> str:
        last = self.p.start + max(rows - 1, 0) * self.p.step
        if not -(2**63) <= last < 2**63:
            return (f"sequence: the last of {rows:,} numbers ({self.p.start} + {rows - 1:,} x {self.p.step}) is "
                    "beyond 64-bit integers")
        return ""

    def generate(self, ctx: Context) -> pa.Array:
        numbers = pa.array(self.p.start + ctx.rows * self.p.step, pa.int64())
        if not self.formatted:
            return numbers
        text = pc.cast(numbers, pa.string())
        if self.p.width:
            text = pc.utf8_lpad(text, self.p.width, "0")
        return pc.binary_join_element_wise(self.p.prefix, text, self.p.suffix, "")


_UUID_ROWS_BITS = 60  # rows are mapped bijectively into 60 of the 122 random bits


@register
class Uuid4(Generator):
    """RFC 4122 version 4 UUIDs. 60 bits are a keyed bijection of the row index, so no two rows of a
    table can ever share a UUID; the other 62 bits are random."""

    name = "uuid"
    summary = "RFC 4122 version-4 UUIDs, unique by construction"
    supports_unique = True

    def output_type(self) -> pa.DataType:
        return pa.string()

    def generate(self, ctx: Context) -> pa.Array:
        key = derive_key(ctx.seed, ctx.table, ctx.stream_name, "uuid")
        unique = Permutation(key, 1 << _UUID_ROWS_BITS)(ctx.rows).astype(np.uint64)
        low_random = ctx.stream.sub("low").bits(ctx.rows)
        high = ((unique >> np.uint64(12)) << np.uint64(16)) | np.uint64(0x4000) | (unique & np.uint64(0xFFF))
        low = (low_random & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
        raw = np.empty((len(ctx.rows), 2), dtype=">u8")
        raw[:, 0] = high
        raw[:, 1] = low
        return format_uuid_hex(raw.view(np.uint8).reshape(-1, 16))


class Uuid5Params(Params):
    namespace: str = "6ba7b811-9dad-11d1-80b4-00c04fd430c8"  # RFC 4122 NAMESPACE_URL
    name: str  # an expression giving the name text, e.g. "concat(person_id, ':', vehicle_id)"


@register
class Uuid5(Generator):
    """RFC 4122 version 5 (name-based, SHA-1) UUIDs: the same name always gives the same UUID."""

    name = "uuid5"
    Params = Uuid5Params
    summary = "name-based (SHA-1) UUIDs of an expression over the row's columns"

    def __init__(self, params: Uuid5Params):
        super().__init__(params)
        try:
            self.namespace = uuid.UUID(params.namespace)
        except ValueError:
            self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, params.namespace)
        self.expression = parse(params.name)

    def dependencies(self) -> set[str]:
        return names(self.expression)

    def output_type(self) -> pa.DataType:
        return pa.string()

    def generate(self, ctx: Context) -> pa.Array:
        text = evaluate(self.expression, ctx.values)
        if isinstance(text, pa.Scalar):
            text = pa.array([text.as_py()] * ctx.size, text.type)  # a constant name may be a number: cast below
        return uuid5_strings(self.namespace, pc.cast(text, pa.string()))
