"""Vehicles: make, model, body style, model year, WMI and a check-digit-valid, unique 17-character VIN.

All fields of a row come from one catalogue draw on the shared ``vehicle`` stream, so separate columns
(``make``, ``model``, ``vin``...) on the same row agree. The catalogue is ``packs/vocab/vehicles.csv``.

VIN layout (ISO 3779 with the North American rules of 49 CFR 565):

====== ==================================================================================
1-3    the model's World Manufacturer Identifier (from the catalogue)
4-5    a fixed two-character line/series code per catalogue row (stable hash of the row)
6-8    three characters of the unique index (7 is a digit for model years before 2010 and a
       letter from 2010, as the NA rule that disambiguates the 30-year year-code cycle asks)
9      check digit (transliteration, weights 8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2, mod 11, 10 -> X)
10     model-year code (ABCDEFGHJKLMNPRSTVWXY123456789, 1980 = A, 2001 = 1, 2010 = A ...)
11     plant code (one of the catalogue row's plants)
12-17  six-digit serial: the low part of the unique index
====== ==================================================================================

The unique index is a keyed permutation of the row index over ``2**32`` values, and positions 6, 7, 8
and 12-17 encode it injectively, so distinct rows never share a VIN whatever their make or year:
uniqueness by construction, capacity 4,294,967,296 VINs per table.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from dataclasses import dataclass
from importlib import resources
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from pydantic import Field

from esdh.generators.base import Context, Generator, Params, register
from esdh.rng import derive_key

__all__ = ["VIN_CAPACITY", "Catalogue", "VehicleGenerator", "catalogue", "vin_check_digits"]

# Characters allowed in a VIN (no I, O, Q) and the ISO 3779 transliteration of each.
VIN_ALPHABET = b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_TRANSLIT = dict(zip(b"0123456789", range(10), strict=True))
_TRANSLIT.update(zip(b"ABCDEFGH", range(1, 9), strict=True))
_TRANSLIT.update(zip(b"JKLMN", range(1, 6), strict=True))
_TRANSLIT.update({ord("P"): 7, ord("R"): 9})
_TRANSLIT.update(zip(b"STUVWXYZ", range(2, 10), strict=True))
_TRANSLIT_LUT = np.zeros(256, dtype=np.int64)
for _char, _value in _TRANSLIT.items():
    _TRANSLIT_LUT[_char] = _value
_WEIGHTS = np.array([8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)
_CHECK_CHARS = np.frombuffer(b"0123456789X", dtype=np.uint8)
_WEIGHTED_LUT = (_WEIGHTS[:, None] * _TRANSLIT_LUT[None, :]).astype(np.int16)  # (17, 256)

YEAR_CODES = b"ABCDEFGHJKLMNPRSTVWXY123456789"  # 30-year cycle from 1980
FIRST_VIN_YEAR = 1981  # 17-character VINs are standard from model year 1981

_ALPHA = np.frombuffer(VIN_ALPHABET, dtype=np.uint8)  # 33 characters
_DIGITS = _ALPHA[:10]
_LETTERS = _ALPHA[10:]  # 23 letters
_YEAR_LUT = np.frombuffer(YEAR_CODES, dtype=np.uint8)

_SERIAL = 10**6
_HIGH_CODES = 33 * 10 * 33  # positions 6, 7 (its digit class) and 8
# The unique index runs over 2**32 values: a power of two with an even bit count lets the Feistel
# permutation skip cycle walking, and 2**32 / 10**6 high parts fit the 10890 codes of positions 6-8.
VIN_CAPACITY = 2**32
_HIGH_RANGE = -(-VIN_CAPACITY // _SERIAL)  # 4295
assert _HIGH_RANGE <= _HIGH_CODES
# Characters of positions 6, 7 and 8 for each high part h: h -> code = h * 10890 // 4295 (strictly
# increasing, so injective, and spread over all codes) -> mixed radix 33 (pos 6), 10 (pos 7), 33 (pos 8).
# Position 7 is the digit before model year 2010; from 2010 the letter at index digit + 10 * flip, a
# letter whose index mod 10 is still that digit.
_CODE = np.arange(_HIGH_RANGE) * _HIGH_CODES // _HIGH_RANGE
_POS6 = _ALPHA[_CODE % 33]
_POS7_DIGIT = _DIGITS[_CODE // 33 % 10]
_POS7_LETTER = np.concatenate([_LETTERS[_CODE // 33 % 10], _LETTERS[_CODE // 33 % 10 + 10]])  # by flip
_POS8 = _ALPHA[_CODE // 330]
# Digits of 0..999 as three rows of characters (row k: the k-th digit), for writing the serial.
_THREE_DIGITS = np.array([[ord(ch) for ch in f"{i:03d}"] for i in range(1000)], dtype=np.uint8).T.copy()

BODY_STYLES = ("Sedan", "SUV", "Truck", "Hatchback", "Coupe", "Minivan", "Wagon", "Convertible", "Van")


def vin_check_digits(vins: np.ndarray) -> np.ndarray:
    """The check-digit character (uint8) of each row of an (n, 17) uint8 VIN matrix (position 9 ignored)."""
    total = np.zeros(len(vins), dtype=np.int16)  # at most 9 * 89
    for pos, table in enumerate(_WEIGHTED_LUT):
        if _WEIGHTS[pos]:
            total += table[vins[:, pos]]
    return _CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class Catalogue:
    """The vehicle catalogue as columns (one entry per make/model/body-style/production-run row)."""

    make: pa.Array
    model: pa.Array
    body_style: pa.Array
    first_year: np.ndarray  # int64
    last_year: np.ndarray  # int64, 9999 for current models
    wmi: pa.Array
    wmi_bytes: np.ndarray  # (3, n) uint8: positions 1-3 of the VIN, one row per position
    series_bytes: np.ndarray  # (2, n) uint8: positions 4-5 of the VIN
    plant_bytes: np.ndarray  # (n, k) uint8, padded by repeating
    plant_count: np.ndarray  # int64
    plant_flat: np.ndarray  # plant_bytes raveled
    weight: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.first_year)


_CSV_TYPES = {"make": pa.string(), "model": pa.string(), "body_style": pa.string(), "first_year": pa.int64(),
              "last_year": pa.int64(), "wmi": pa.string(), "plants": pa.string(), "weight": pa.float64()}


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """Load and check ``packs/vocab/vehicles.csv`` once."""
    data = resources.files("esdh.packs").joinpath("vocab/vehicles.csv").read_bytes()
    table = pa_csv.read_csv(io.BytesIO(data), convert_options=pa_csv.ConvertOptions(
        column_types=_CSV_TYPES, include_columns=list(_CSV_TYPES)))
    if table.num_rows == 0:
        raise RuntimeError("vehicles.csv is empty")
    for name in _CSV_TYPES:
        if name != "last_year" and table[name].null_count:
            raise RuntimeError(f"vehicles.csv: column {name!r} has blanks")
    col = {name: table[name].to_pylist() for name in _CSV_TYPES}
    keys = list(zip(col["make"], col["model"], col["body_style"], col["first_year"], strict=True))
    if len(set(keys)) != len(keys):
        raise RuntimeError("vehicles.csv: duplicate make/model/body_style/first_year rows")
    checks = zip(keys, col["wmi"], col["plants"], col["weight"], strict=True)
    for key, wmi, plants, weight in checks:
        if key[2] not in BODY_STYLES:
            raise RuntimeError(f"vehicles.csv: unknown body style {key[2]!r}")
        if len(wmi) != 3 or not plants or any(ch not in VIN_ALPHABET for ch in (wmi + plants).encode()):
            raise RuntimeError(f"vehicles.csv: bad WMI {wmi!r} or plants {plants!r} in {key}")
        if not weight > 0:
            raise RuntimeError(f"vehicles.csv: weight must be positive in {key}")

    first = np.asarray(col["first_year"], dtype=np.int64)
    last = np.asarray([9999 if y is None else y for y in col["last_year"]], dtype=np.int64)
    if (last < first).any():
        raise RuntimeError("vehicles.csv: last_year before first_year")
    width = max(len(p) for p in col["plants"])
    plants = np.array([[ord(p[j % len(p)]) for j in range(width)] for p in col["plants"]], dtype=np.uint8)
    # Positions 4-5: a stable code per catalogue row (same model line -> same code), from a name hash.
    series = np.empty((2, table.num_rows), dtype=np.uint8)
    for i, (make, model, body, _) in enumerate(keys):
        h = derive_key(0, "vin-series", make, model, body)
        series[:, i] = (VIN_ALPHABET[h % 33], VIN_ALPHABET[(h // 33) % 33])
    return Catalogue(
        make=table["make"].combine_chunks(),
        model=table["model"].combine_chunks(),
        body_style=table["body_style"].combine_chunks(),
        first_year=first,
        last_year=last,
        wmi=table["wmi"].combine_chunks(),
        wmi_bytes=np.array([list(w.encode("ascii")) for w in col["wmi"]], dtype=np.uint8).T.copy(),
        series_bytes=series,
        plant_bytes=plants,
        plant_count=np.array([len(p) for p in col["plants"]], dtype=np.int64),
        plant_flat=plants.ravel(),
        weight=np.asarray(col["weight"], dtype=np.float64),
    )


def _choose(cdf: np.ndarray, uniforms: np.ndarray, buckets: int = 4096) -> np.ndarray:
    """Exactly ``choice_from(cdf, uniforms)``, several times faster: a guide table (Chen and Asau, 1974)
    gives each uniform a start index at or below its answer, then a few vectorised steps walk forward."""
    total = cdf[-1]
    targets = uniforms * total
    # Bucket starts computed a hair low, so rounding can never put a start past the answer.
    guide = np.searchsorted(cdf, np.arange(buckets) * (total / buckets) * (1 - 1e-9), side="right")
    idx = guide[np.minimum((uniforms * buckets).astype(np.int64), buckets - 1)]
    bounded = np.append(cdf, np.inf)
    while True:
        step = bounded[idx] <= targets
        if not step.any():
            break
        idx += step
    result: np.ndarray = np.minimum(idx, len(cdf) - 1)
    return result


def _fixed_width_strings(matrix: np.ndarray) -> pa.Array:
    """An (n, w) uint8 matrix as a string array over the matrix bytes (copied only if not C-ordered)."""
    n, width = matrix.shape
    data = np.ascontiguousarray(matrix)
    if n * width >= 2**31:
        raise ValueError("chunk too large for 32-bit string offsets")
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


class VehicleParams(Params):
    field: Literal["make", "model", "body_style", "model_year", "vin", "wmi"] = "vin"
    min_year: int | None = None  # earliest model year; replaces the max_age_years floor when given
    max_age_years: int = Field(default=25, ge=0)
    group: str | None = None  # stream shared by coherent fields (default "vehicle")


@register
class VehicleGenerator(Generator):
    """One catalogue vehicle per row (weighted by popularity) and its VIN."""

    name: ClassVar[str] = "vehicle"
    Params = VehicleParams
    summary: ClassVar[str] = "US vehicles: make, model, body_style, model_year, wmi and a valid unique VIN"
    supports_unique: ClassVar[bool] = True
    group: ClassVar[str | None] = "vehicle"

    def output_type(self) -> pa.DataType:
        return pa.int64() if self.p.field == "model_year" else pa.string()

    def capacity(self) -> int | None:
        return VIN_CAPACITY if self.p.field == "vin" else None

    def can_be_unique(self) -> bool:
        result: bool = self.p.field == "vin"
        return result

    def problem(self, as_of: dt.date) -> str:
        floor = self.p.min_year if self.p.min_year is not None else as_of.year - self.p.max_age_years
        cat = catalogue()
        lo = np.maximum(cat.first_year, max(floor, FIRST_VIN_YEAR))
        if not (np.minimum(cat.last_year, as_of.year + 1) >= lo).any():
            return (f"no catalogue model was produced in the model years {max(floor, FIRST_VIN_YEAR)}.."
                    f"{as_of.year + 1} (as_of {as_of})")
        return ""

    def _year_bounds(self, cat: Catalogue, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        floor = self.p.min_year if self.p.min_year is not None else ctx.as_of.year - self.p.max_age_years
        lo = np.maximum(cat.first_year, max(floor, FIRST_VIN_YEAR))
        hi = np.minimum(cat.last_year, ctx.as_of.year + 1)
        return lo, hi

    def generate(self, ctx: Context) -> pa.Array:
        cat = catalogue()
        rows = ctx.rows
        stream = ctx.stream
        lo, hi = self._year_bounds(cat, ctx)
        weight = np.where(hi >= lo, cat.weight, 0.0)
        if not weight.any():
            raise ValueError(f"vehicle: no catalogue model was produced within the model years "
                             f"{int(lo.min())}..{ctx.as_of.year + 1}")
        idx = _choose(np.cumsum(weight), stream.sub("model").uniform(rows))
        field = self.p.field
        if field in ("make", "model", "body_style", "wmi"):
            return getattr(cat, field).take(pa.array(idx))
        span = (hi - lo + 1)[idx]
        year = lo[idx] + stream.sub("year").integers(rows, span)
        if field == "model_year":
            return pa.array(year, pa.int64())
        return _fixed_width_strings(self._vins(ctx, cat, idx, year))

    def _vins(self, ctx: Context, cat: Catalogue, idx: np.ndarray, year: np.ndarray) -> np.ndarray:
        rows = ctx.rows
        if len(rows) and int(rows.max()) >= VIN_CAPACITY:
            raise ValueError(f"vehicle: more than {VIN_CAPACITY} rows cannot have unique VINs")
        stream = ctx.stream
        n = len(rows)
        # Filled position by position: a column-major (n, 17) matrix keeps every write contiguous.
        vins = np.empty((17, n), dtype=np.uint8).T
        for k in range(3):
            vins[:, k] = cat.wmi_bytes[k][idx]
        for k in range(2):
            vins[:, 3 + k] = cat.series_bytes[k][idx]

        unique = ctx.permutation(VIN_CAPACITY, "vin")(rows)
        high = unique // _SERIAL
        serial = unique - high * _SERIAL
        vins[:, 5] = _POS6[high]
        vins[:, 7] = _POS8[high]
        # One draw for the rest: bit 63 picks position 7's letter, the low 32 bits the plant.
        bits = stream.sub("vin").bits(rows)
        flip = (bits >> np.uint64(63)).astype(np.int64)
        vins[:, 6] = np.where(year >= 2010, _POS7_LETTER[high + flip * _HIGH_RANGE], _POS7_DIGIT[high])
        vins[:, 9] = _YEAR_LUT[(year - 1980) % 30]
        plant = (((bits & np.uint64(0xFFFFFFFF)) * cat.plant_count[idx].astype(np.uint64)) >> np.uint64(32))
        vins[:, 10] = cat.plant_flat[idx * cat.plant_bytes.shape[1] + plant.astype(np.int64)]
        upper = serial // 1000
        lower = serial - upper * 1000
        for k in range(3):
            vins[:, 11 + k] = _THREE_DIGITS[k][upper]
            vins[:, 14 + k] = _THREE_DIGITS[k][lower]
        vins[:, 8] = 0
        vins[:, 8] = vin_check_digits(vins)
        return vins
