"""US postal addresses whose street, city, state and ZIP agree."""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np
import pyarrow as pa
from pydantic import Field, field_validator

from esdh.generators.base import Context, Generator, Params, register
from esdh.generators.identity.sampling import _bijection, _sampler, _uniform_fields
from esdh.generators.identity.text import _STRING, _constant, _join, _numbers, _take
from esdh.generators.identity.vocabularies import _states, _street_vocab, _zips
from esdh.rng import Stream

AddressField = Literal["street", "line1", "line2", "city", "state", "state_name", "postal_code", "county",
                       "country", "area_code", "latitude", "longitude"]

_COORDINATE_JITTER = 0.01  # degrees (about 1 km) around the ZIP centroid
_UNITS = [("Apt", 55), ("Unit", 25), ("Suite", 20)]
_UNIT_KIND = _sampler([w for _, w in _UNITS])
_BUILDING_DIGITS = _sampler([3, 17, 35, 35, 10])  # relative frequency of 1..5 digit house numbers


@functools.cache
def _unit_vocab() -> pa.Array:
    return pa.concat_arrays([pa.array([f"{k} " for k, _ in _UNITS], _STRING), _numbers(1000)])


class AddressParams(Params):
    field: AddressField
    states: list[str] | None = None  # restrict to these state codes
    weighting: Literal["population", "uniform"] = "population"
    line2_rate: float = Field(0.25, ge=0.0, le=1.0)
    abbreviate_suffix: bool = False  # "Maple Ave" instead of "Maple Avenue"
    group: str | None = None

    @field_validator("states")
    @classmethod
    def _check_states(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("states must not be empty")
        known = _states()
        codes = [s.strip().upper() for s in v]
        unknown = [s for s in codes if s not in known]
        if unknown:
            raise ValueError(f"unknown state codes {unknown}; use 2-letter codes of the 50 states and DC")
        return sorted(set(codes))


@register
class Address(Generator):
    """One field of a US postal address; all fields of a row come from one ZIP record.

    ZIP codes are the active STANDARD ZIPs of the 50 states and DC. With ``weighting: population``
    (the default) each state is drawn with its share of the 2020 population and ZIPs within a state
    uniformly; ``uniform`` draws every ZIP alike. All columns of one group must use the same
    ``states`` and ``weighting`` so the fields agree. ``line1`` is a house number, a street name and
    a suffix; ``line2`` (Apt/Unit/Suite) is set on exactly ``round(line2_rate * total_rows)`` rows
    picked by a permutation, and null elsewhere. Coordinates are the ZIP centroid +-0.01 degrees.
    """

    name = "address"
    Params = AddressParams
    summary = "US address field (street, line1, line2, city, state, postal_code, county, ...)"
    group = "address"

    def output_type(self) -> pa.DataType:
        return pa.float64() if self.p.field in ("latitude", "longitude") else _STRING

    def generate(self, ctx: Context) -> pa.Array:
        field = self.p.field
        stream, rows, n = ctx.stream, ctx.rows, ctx.size
        if field == "country":
            return _constant("US", n)
        if field in ("street", "line1"):
            return self._street(stream, rows, field == "line1")
        if field == "line2":
            return self._line2(ctx)
        zips = _zips()
        record = zips.draw(stream, rows, tuple(self.p.states) if self.p.states else None, self.p.weighting)
        if field in ("latitude", "longitude"):
            base = zips.latitude if field == "latitude" else zips.longitude
            jitter = (stream.sub(f"{field}_jitter").uniform(rows) * 2 - 1) * _COORDINATE_JITTER
            return pa.array(np.round(base[record] + jitter, 6))
        return _take(zips.columns[field], record)

    def _street(self, stream: Stream, rows: np.ndarray, with_number: bool) -> pa.Array:
        vocab, names_at, suffixes_at, name_pick, suffix_pick = _street_vocab(self.p.abbreviate_suffix)
        pieces = np.empty((len(rows), 3 if with_number else 2), dtype=np.int64)
        u_name, u_suffix = _uniform_fields(stream.sub("street"), rows, 2)
        pieces[:, -2] = names_at + name_pick(u_name)
        pieces[:, -1] = suffixes_at + suffix_pick(u_suffix)
        if with_number:
            u_digits, u_number = _uniform_fields(stream.sub("building"), rows, 2)
            low = 10 ** _BUILDING_DIGITS(u_digits)  # 1, 10, ... 10^4
            pieces[:, 0] = low + np.minimum((u_number * 9 * low).astype(np.int64), 9 * low - 1)
        return _join(vocab, pieces)

    def _line2(self, ctx: Context) -> pa.Array:
        stream, rows, n = ctx.stream, ctx.rows, ctx.size
        wanted = round(self.p.line2_rate * ctx.total_rows)
        if n == 0 or wanted == 0:
            return pa.nulls(n, _STRING)
        flagged = _bijection(ctx, ctx.total_rows, "line2", rows) < wanted
        u_kind, u = _uniform_fields(stream.sub("unit"), rows, 2)
        kind = _UNIT_KIND(u_kind)
        number = np.select([kind == 2, kind == 1],
                           [100 + 10 * (u * 90).astype(np.int64), 1 + (u * 60).astype(np.int64)],
                           np.floor(10 ** (u * 3)).astype(np.int64))  # Suite 100-990, Unit 1-60, Apt 1-999
        pieces = np.stack([kind, len(_UNITS) + number], axis=1)
        return _join(_unit_vocab(), pieces, valid=flagged)
