"""Identity generators: person names, gender, e-mail, phone, US postal address and driver licence.

Data comes from the bundled vocabularies (``esdh/packs/vocab``, see ``SOURCES.md`` there): name
frequencies from faker's en_US lists (SSA baby names, US Census surnames), ZIP codes from the
``zipcodes`` package, state populations from the 2020 Census.

Coherence works through groups: generators of one group in one table draw from one stream, so
``first_name`` and ``gender`` (group ``person_name``) agree on the sex of a row, and every ``address``
field (group ``address``) of a row comes from the same ZIP record. A table with two people or two
addresses gives the second set of columns another ``group`` parameter.
"""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from esdh.generators.base import Context, Generator, Params, choice_from, register
from esdh.rng import Stream
from esdh.vocab import load_vocab

__all__ = [
    "DRIVER_LICENSE_FORMATS",
    "Address",
    "DriverLicense",
    "Email",
    "FirstName",
    "Gender",
    "LastName",
    "Phone",
]

_STRING = pa.string()
_NULL_STRING = pa.scalar(None, pa.string())


# --------------------------------------------------------------------------------------------------
# helpers


def _to_bytes(matrix: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """A (rows, width) uint8 matrix of ASCII codes as a string array; trailing NUL bytes are dropped."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
    flat = matrix.view(f"S{matrix.shape[1]}").reshape(-1)
    return pa.array(flat, mask=mask).cast(_STRING)


def _digits_into(matrix: np.ndarray, column: int, values: np.ndarray, width: int) -> None:
    """Write ``values`` as zero-padded decimals of ``width`` characters starting at ``column``."""
    v = values.astype(np.int64, copy=True)
    for i in range(width - 1, -1, -1):
        matrix[:, column + i] = 48 + v % 10
        v //= 10


def _constant(value: str, n: int) -> pa.Array:
    return pa.array([value], _STRING).take(pa.array(np.zeros(n, dtype=np.int32)))


def _sampler(weights: np.ndarray | list[float]) -> _InverseCdf:
    """Inverse-CDF sampling of indices with the given relative weights."""
    return _InverseCdf(np.cumsum(np.asarray(weights, dtype=np.float64)))


class _InverseCdf:
    """``choice_from(cdf, u)`` with identical results, several times faster on large vocabularies.

    A guide table maps ``floor(x * K / total)`` to the answer at the bucket's start; a row whose answer
    that is not (checked exactly against the CDF: its bucket holds a boundary) falls back to
    ``choice_from``. With ``K >= 8 n`` buckets at most ~1/8 of the rows take the fallback.
    """

    def __init__(self, cdf: np.ndarray):
        self.cdf = np.asarray(cdf, dtype=np.float64)
        self.total = float(self.cdf[-1])
        self.last = len(self.cdf) - 1
        self.buckets = 1 << max(10, int(8 * len(self.cdf) - 1).bit_length())
        starts = np.arange(self.buckets + 1, dtype=np.float64) * (self.total / self.buckets)
        self.guide = np.minimum(np.searchsorted(self.cdf, starts, side="right"), self.last)

    def __len__(self) -> int:
        return len(self.cdf)

    def __call__(self, uniforms: np.ndarray) -> np.ndarray:
        x = uniforms * self.total
        bucket = np.minimum((x * (self.buckets / self.total)).astype(np.int64), self.buckets)
        idx = self.guide[bucket]
        cdf = self.cdf
        ok = ((idx == 0) | (cdf[np.maximum(idx - 1, 0)] <= x)) & ((idx == self.last) | (cdf[idx] > x))
        if not ok.all():
            bad = ~ok
            idx[bad] = choice_from(cdf, uniforms[bad])
        return idx


def _take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    return values.take(pa.array(idx))


def _as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Any column as a plain string array (dictionary and chunked arrays flattened)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if values.type != _STRING:
        values = values.cast(_STRING)
    return values


# --------------------------------------------------------------------------------------------------
# vocabularies, prepared once per process


@functools.lru_cache(maxsize=None)
def _first_names() -> dict[str, tuple[pa.Array, _InverseCdf]]:
    table = load_vocab("first_names")
    out = {}
    for gender in ("F", "M"):
        sub = table.filter(pc.equal(table["gender"], gender))
        out[gender] = (sub["name"].combine_chunks(), _sampler(sub["weight"].to_numpy()))
    return out


@functools.lru_cache(maxsize=None)
def _last_names() -> tuple[pa.Array, _InverseCdf]:
    table = load_vocab("last_names")
    return table["name"].combine_chunks(), _sampler(table["weight"].to_numpy())


@functools.lru_cache(maxsize=None)
def _states() -> dict[str, tuple[str, int]]:
    table = load_vocab("us_states")
    return {s: (n, p) for s, n, p in zip(table["state"].to_pylist(), table["state_name"].to_pylist(),
                                          table["population"].to_pylist(), strict=True)}


class _Zips:
    """The ZIP table as flat arrays plus lookups."""

    def __init__(self) -> None:
        table = load_vocab("us_zips")
        self.columns = {name: table[name].combine_chunks() for name in table.column_names}
        self.size = table.num_rows
        states = _states()
        self.state_code = self.columns["state"].to_numpy(zero_copy_only=False).astype("U2")
        codes, inverse, counts = np.unique(self.state_code, return_inverse=True, return_counts=True)
        self.columns["state_name"] = _take(pa.array([states[c][0] for c in codes], _STRING), inverse)
        self.latitude = self.columns["latitude"].to_numpy()
        self.longitude = self.columns["longitude"].to_numpy()
        # population weighting: each state gets its 2020 population, shared evenly by its ZIP codes
        population = np.array([states[c][1] for c in codes], dtype=np.float64)
        self.population_weight = (population / counts)[inverse]
        # dense ZIP -> row lookup for phone area codes
        self.by_zip = np.full(100_000, -1, dtype=np.int32)
        self.by_zip[self.columns["postal_code"].cast(pa.int32()).to_numpy()] = np.arange(self.size)
        self.area_code = self.columns["area_code"].cast(pa.int32()).to_numpy()
        self._samplers: dict[tuple, tuple[np.ndarray, _InverseCdf | None]] = {}

    def sampler(self, states: tuple[str, ...] | None, weighting: str) -> tuple[np.ndarray, _InverseCdf | None]:
        """Candidate ZIP rows and their CDF (None: uniform) for a state restriction; cached."""
        key = (states, weighting)
        if key not in self._samplers:
            self._samplers[key] = self._sampler(states, weighting)
        return self._samplers[key]

    def _sampler(self, states: tuple[str, ...] | None, weighting: str) -> tuple[np.ndarray, _InverseCdf | None]:
        if states is None:
            rows = np.arange(self.size)
        else:
            rows = np.nonzero(np.isin(self.state_code, np.array(states)))[0]
        if weighting == "uniform":
            return rows, None
        return rows, _sampler(self.population_weight[rows])

    def draw(self, stream: Stream, rows: np.ndarray, states: tuple[str, ...] | None,
             weighting: str) -> np.ndarray:
        candidates, sampler = self.sampler(states, weighting)
        u = stream.sub("zip").uniform(rows)
        if sampler is None:
            return candidates[np.minimum((u * len(candidates)).astype(np.int64), len(candidates) - 1)]
        return candidates[sampler(u)]


@functools.lru_cache(maxsize=None)
def _zips() -> _Zips:
    return _Zips()


@functools.lru_cache(maxsize=None)
def _streets() -> tuple[pa.Array, _InverseCdf, pa.Array, pa.Array, _InverseCdf]:
    names = load_vocab("street_names")
    suffixes = load_vocab("street_suffixes")
    return (names["name"].combine_chunks(), _sampler(names["weight"].to_numpy()),
            suffixes["name"].combine_chunks(), suffixes["abbreviation"].combine_chunks(),
            _sampler(suffixes["weight"].to_numpy()))


# --------------------------------------------------------------------------------------------------
# names and gender


def _female_draw(stream: Stream, rows: np.ndarray) -> np.ndarray:
    """The shared sex draw of the ``person_name`` group: True for female (probability 1/2)."""
    return stream.sub("gender").uniform(rows) < 0.5


class GenderParams(Params):
    female: str = "F"
    male: str = "M"
    group: str | None = None


@register
class Gender(Generator):
    """Sex as 'F'/'M' (50/50); agrees with ``first_name`` of the same group."""

    name = "gender"
    Params = GenderParams
    summary = "Sex code F/M, coherent with first_name in the person_name group"
    group = "person_name"

    def output_type(self) -> pa.DataType:
        return _STRING

    def generate(self, ctx: Context) -> pa.Array:
        labels = pa.array([self.p.male, self.p.female], _STRING)
        return _take(labels, _female_draw(ctx.stream, ctx.rows).astype(np.int8))

    def capacity(self) -> int | None:
        return 2


class FirstNameParams(Params):
    gender: Literal["any", "female", "male"] = "any"
    gender_column: str | None = None  # a column of F/M (or female/male) values to follow
    group: str | None = None


@register
class FirstName(Generator):
    """US first names with SSA frequencies; female names on rows whose ``gender`` is F."""

    name = "first_name"
    Params = FirstNameParams
    summary = "US first name (SSA frequencies), coherent with gender"
    group = "person_name"

    def output_type(self) -> pa.DataType:
        return _STRING

    def dependencies(self) -> set[str]:
        return {self.p.gender_column} if self.p.gender_column else set()

    def _female(self, ctx: Context) -> np.ndarray:
        if self.p.gender == "female":
            return np.ones(ctx.size, dtype=bool)
        if self.p.gender == "male":
            return np.zeros(ctx.size, dtype=bool)
        female = _female_draw(ctx.stream, ctx.rows)
        if self.p.gender_column:
            first = pc.utf8_upper(pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(
                _as_strings(ctx.values(self.p.gender_column))), 0, 1))
            is_f = pc.fill_null(pc.equal(first, "F"), False).to_numpy(zero_copy_only=False)
            is_m = pc.fill_null(pc.equal(first, "M"), False).to_numpy(zero_copy_only=False)
            female = (female & ~is_m) | is_f
        return female

    def generate(self, ctx: Context) -> pa.Array:
        female = self._female(ctx)
        u = ctx.stream.sub("first_name").uniform(ctx.rows)
        (f_names, f_pick), (m_names, m_pick) = _first_names()["F"], _first_names()["M"]
        idx = np.empty(ctx.size, dtype=np.int64)
        idx[female] = f_pick(u[female])
        idx[~female] = m_pick(u[~female]) + len(f_names)
        return _take(pa.concat_arrays([f_names, m_names]), idx)


class LastNameParams(Params):
    group: str | None = None


@register
class LastName(Generator):
    """US surnames with US Census frequencies (top 1000)."""

    name = "last_name"
    Params = LastNameParams
    summary = "US surname (Census frequencies)"

    def output_type(self) -> pa.DataType:
        return _STRING

    def generate(self, ctx: Context) -> pa.Array:
        names, pick = _last_names()
        return _take(names, pick(ctx.stream.sub("last_name").uniform(ctx.rows)))


# --------------------------------------------------------------------------------------------------
# e-mail

_SAFE_DOMAINS = ["example.com", "example.net", "example.org"]  # RFC 2606: never a real mailbox

# local-part patterns: (left part, separator, right part, weight); parts: first, last, f, l, ""
_EMAIL_PATTERNS = [
    ("first", ".", "last", 34), ("first", "", "last", 14), ("first", "_", "last", 8),
    ("f", "", "last", 16), ("first", "", "l", 6), ("last", ".", "first", 6), ("last", "", "f", 6),
    ("first", "", "", 10),
]
_EMAIL_PART = {"first": 0, "last": 1, "f": 2, "l": 3, "": 4}
_EMAIL_STYLE = _sampler([w for *_, w in _EMAIL_PATTERNS])


def _email_part(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Names lower-cased, accents folded, everything but [a-z0-9] removed; empty/null -> 'user'.

    The clean-up runs on the distinct values only (dictionary encoding), so it costs O(distinct).
    """
    encoded = pc.dictionary_encode(_as_strings(values))
    clean = pc.replace_substring_regex(pc.utf8_lower(pc.utf8_normalize(encoded.dictionary, "NFKD")),
                                       "[^a-z0-9]", "")
    clean = pc.if_else(pc.equal(pc.utf8_length(clean), 0), "user", clean)
    return pc.fill_null(clean.take(encoded.indices), "user")


class EmailParams(Params):
    first: str  # column holding the first name
    last: str  # column holding the last name
    domains: list[str] = Field(default_factory=lambda: list(_SAFE_DOMAINS), min_length=1)
    group: str | None = None

    @field_validator("domains")
    @classmethod
    def _check_domains(cls, v: list[str]) -> list[str]:
        for d in v:
            if not d or any(not (c.isascii() and (c.isalnum() or c in ".-")) for c in d):
                raise ValueError(f"'{d}' is not a plain domain name")
        return [d.lower() for d in v]


@register
class Email(Generator):
    """E-mail addresses built from the row's names, e.g. ``jane.doe@example.com``.

    With ``unique`` every address ends in ``.<n>`` where ``n`` is a bijection of the row index over
    the table's rows: names contain no dots, so ``n`` (and the row) can be read back from the
    address and no two rows share one. Without it some addresses get a small number or a year.
    """

    name = "email"
    Params = EmailParams
    summary = "E-mail from first/last name columns on RFC 2606 example domains"
    supports_unique = True

    def output_type(self) -> pa.DataType:
        return _STRING

    def dependencies(self) -> set[str]:
        return {self.p.first, self.p.last}

    def generate(self, ctx: Context) -> pa.Array:
        if ctx.size == 0:
            return pa.array([], _STRING)
        stream, rows, n = ctx.stream, ctx.rows, ctx.size
        first = _email_part(ctx.values(self.p.first))
        last = _email_part(ctx.values(self.p.last))
        parts = [first, last, pc.utf8_slice_codeunits(first, 0, 1), pc.utf8_slice_codeunits(last, 0, 1),
                 _constant("", n)]
        style = _EMAIL_STYLE(stream.sub("email_style").uniform(rows))
        left = np.array([_EMAIL_PART[p[0]] for p in _EMAIL_PATTERNS], dtype=np.int8)[style]
        right = np.array([_EMAIL_PART[p[2]] for p in _EMAIL_PATTERNS], dtype=np.int8)[style]
        seps = pa.array([p[1] for p in _EMAIL_PATTERNS], _STRING)
        local_left = pc.choose(pa.array(left), *parts)
        local_right = pc.choose(pa.array(right), *parts)
        if ctx.unique:
            number = ctx.permutation(max(ctx.total_rows, 1), "email")(rows)
            suffix = pc.binary_join_element_wise(".", pc.cast(pa.array(number), _STRING), "")
        else:
            # 35% get a number (always for the first-name-only pattern): 1-99 or a birth year
            u = stream.sub("email_number").uniform(rows)
            alone = right == _EMAIL_PART[""]
            small = 1 + stream.sub("email_small").integers(rows, 99)
            year = 1950 + stream.sub("email_year").integers(rows, 56)
            number = np.where(u < 0.175, small, year)
            with_number = (u < 0.35) | alone
            suffix = pc.if_else(pa.array(with_number), pc.cast(pa.array(number), _STRING), "")
        domains = pa.array(self.p.domains, _STRING)
        domain = _take(domains, stream.sub("email_domain").integers(rows, len(domains)))
        return pc.binary_join_element_wise(local_left, _take(seps, style), local_right, suffix, "@", domain,
                                           "")


# --------------------------------------------------------------------------------------------------
# phone

# NANP central office codes: 200-999, not N11 (service codes), not 555 (directory / fictional)
_EXCHANGES = np.array([x for x in range(200, 1000) if x % 100 != 11 and x != 555], dtype=np.int64)
_SUBSCRIBERS = len(_EXCHANGES) * 10_000  # 7,910,000 exchange+line combinations per area code


class PhoneParams(Params):
    format: Literal["national", "e164", "digits"] = "national"
    area_code_from: str | None = None  # a column holding a ZIP code; its area code is used
    group: str | None = None


@register
class Phone(Generator):
    """US (NANP) phone numbers: ``(415) 362-0134``, ``+14153620134`` or ``4153620134``.

    The area code is a real one: that of the row's ZIP when ``area_code_from`` names a ZIP column
    (unknown ZIPs fall back), else that of a ZIP drawn with population weights. The exchange is
    200-999 without N11 and 555. The 7-digit subscriber part is a bijection of the row index, so
    numbers are unique for up to 7,910,000 rows (the capacity); rows past that draw at random.
    """

    name = "phone"
    Params = PhoneParams
    summary = "US NANP phone number, area code optionally from a ZIP column"
    supports_unique = True

    def output_type(self) -> pa.DataType:
        return _STRING

    def dependencies(self) -> set[str]:
        return {self.p.area_code_from} if self.p.area_code_from else set()

    def capacity(self) -> int | None:
        return _SUBSCRIBERS

    def _area_codes(self, ctx: Context) -> np.ndarray:
        zips = _zips()
        rows = zips.draw(ctx.stream.sub("area_code"), ctx.rows, None, "population")
        if self.p.area_code_from:
            given = _zip_rows(ctx.values(self.p.area_code_from), zips)
            rows = np.where(given >= 0, given, rows)
        return zips.area_code[rows]

    def generate(self, ctx: Context) -> pa.Array:
        n = ctx.size
        area = self._area_codes(ctx)
        subscriber = np.empty(n, dtype=np.int64)
        inside = ctx.rows < _SUBSCRIBERS
        if inside.any():
            subscriber[inside] = ctx.permutation(_SUBSCRIBERS, "subscriber")(ctx.rows[inside])
        if not inside.all():
            bits = ctx.stream.sub("subscriber").bits(ctx.rows[~inside])
            subscriber[~inside] = (bits % np.uint64(_SUBSCRIBERS)).astype(np.int64)
        exchange = _EXCHANGES[subscriber // 10_000]
        line = subscriber % 10_000
        if self.p.format == "national":
            m = np.empty((n, 14), dtype=np.uint8)
            m[:, 0], m[:, 4], m[:, 5], m[:, 9] = ord("("), ord(")"), ord(" "), ord("-")
            _digits_into(m, 1, area, 3)
            _digits_into(m, 6, exchange, 3)
            _digits_into(m, 10, line, 4)
        else:
            offset = 2 if self.p.format == "e164" else 0
            m = np.empty((n, 10 + offset), dtype=np.uint8)
            if offset:
                m[:, 0], m[:, 1] = ord("+"), ord("1")
            _digits_into(m, offset, area, 3)
            _digits_into(m, offset + 3, exchange, 3)
            _digits_into(m, offset + 6, line, 4)
        return _to_bytes(m)


def _zip_rows(values: pa.Array | pa.ChunkedArray, zips: _Zips) -> np.ndarray:
    """Row of each ZIP in the vocabulary (-1: null, malformed or unknown). Accepts ZIP+4 and ints."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_integer(values.type):
        code = pc.fill_null(values.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
    else:
        text = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(_as_strings(values)), 0, 5)
        ok = pc.fill_null(pc.match_substring_regex(text, "^[0-9]{5}$"), False)
        code = pc.if_else(ok, text, "-1").cast(pa.int64()).to_numpy(zero_copy_only=False)
    valid = (code >= 0) & (code < 100_000)
    return np.where(valid, zips.by_zip[np.where(valid, code, 0)], -1)


# --------------------------------------------------------------------------------------------------
# address

AddressField = Literal["street", "line1", "line2", "city", "state", "state_name", "postal_code", "county",
                       "country", "area_code", "latitude", "longitude"]

_COORDINATE_JITTER = 0.01  # degrees (about 1 km) around the ZIP centroid
_UNITS = [("Apt", 55), ("Unit", 25), ("Suite", 20)]
_UNIT_KIND = _sampler([w for _, w in _UNITS])
_BUILDING_DIGITS = _sampler([3, 17, 35, 35, 10])  # relative frequency of 1..5 digit house numbers


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
    uniformly; ``uniform`` draws every ZIP alike. Every column of one group must use the same
    ``states`` and ``weighting`` so the fields agree. ``line2`` is set on exactly
    ``round(line2_rate * total_rows)`` rows (a permutation picks them) and null elsewhere.
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
        states = tuple(self.p.states) if self.p.states else None
        record = zips.draw(stream, rows, states, self.p.weighting)
        if field in ("latitude", "longitude"):
            base = zips.latitude if field == "latitude" else zips.longitude
            jitter = (stream.sub(f"{field}_jitter").uniform(rows) * 2 - 1) * _COORDINATE_JITTER
            return pa.array(np.round(base[record] + jitter, 6))
        return _take(zips.columns[field], record)

    def _street(self, stream: Stream, rows: np.ndarray, with_number: bool) -> pa.Array:
        names, name_pick, suffixes, abbreviations, suffix_pick = _streets()
        name = _take(names, name_pick(stream.sub("street_name").uniform(rows)))
        suffix = _take(abbreviations if self.p.abbreviate_suffix else suffixes,
                       suffix_pick(stream.sub("street_suffix").uniform(rows)))
        if not with_number:
            return pc.binary_join_element_wise(name, suffix, " ")
        digits = 1 + _BUILDING_DIGITS(stream.sub("building_digits").uniform(rows))
        low = 10 ** (digits - 1)
        number = low + np.minimum((stream.sub("building_number").uniform(rows) * 9 * low).astype(np.int64),
                                  9 * low - 1)
        return pc.binary_join_element_wise(pc.cast(pa.array(number), _STRING), name, suffix, " ")

    def _line2(self, ctx: Context) -> pa.Array:
        stream, rows, n = ctx.stream, ctx.rows, ctx.size
        wanted = round(self.p.line2_rate * ctx.total_rows)
        if n == 0 or wanted == 0:
            return pa.nulls(n, _STRING)
        flagged = ctx.permutation(ctx.total_rows, "line2")(rows) < wanted
        unit = _UNIT_KIND(stream.sub("unit_kind").uniform(rows))
        u = stream.sub("unit_number").uniform(rows)
        number = np.select([unit == 2, unit == 1], [100 + 10 * (u * 90).astype(np.int64),
                                                    1 + (u * 60).astype(np.int64)],
                           np.floor(10 ** (u * 3)).astype(np.int64))
        labels = _take(pa.array([k for k, _ in _UNITS], _STRING), unit)
        text = pc.binary_join_element_wise(labels, pc.cast(pa.array(number), _STRING), " ")
        return pc.if_else(pa.array(flagged), text, _NULL_STRING)


# --------------------------------------------------------------------------------------------------
# driver licence

# Per-state licence number formats, modelled on published AAMVA-style formats (the most common
# current format of each state, lengthened to its longest published variant where that was needed
# for a capacity of at least 10^8). '#' is a digit, '@' a letter, '*' a letter or digit; any other
# character is literal.
DRIVER_LICENSE_FORMATS: dict[str, str] = {
    "AL": "########", "AK": "########", "AZ": "@########", "AR": "#########", "CA": "@#######",
    "CO": "#########", "CT": "#########", "DE": "########", "DC": "#########", "FL": "@############",
    "GA": "#########", "HI": "H########", "ID": "@@######@", "IL": "@###########", "IN": "##########",
    "IA": "###@@####", "KS": "K########", "KY": "@########", "LA": "#########", "ME": "#######@",
    "MD": "@############", "MA": "S########", "MI": "@############", "MN": "@############",
    "MS": "#########", "MO": "@#########", "MT": "#############", "NE": "@########", "NV": "##########",
    "NH": "##@@@#####", "NJ": "@##############", "NM": "#########", "NY": "#########",
    "NC": "############", "ND": "@@@######", "OH": "@@######", "OK": "@#########", "OR": "#########",
    "PA": "########", "RI": "########", "SC": "##########", "SD": "########", "TN": "#########",
    "TX": "########", "UT": "#########", "VT": "########", "VA": "@########", "WA": "WDL*********",
    "WV": "@#######", "WI": "@#############", "WY": "#########",
}
_RADIX = {"#": 10, "@": 26, "*": 36}
_ALPHABET = {"#": np.frombuffer(b"0123456789", np.uint8), "@": np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8),
             "*": np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8)}
_DL_STATES = sorted(DRIVER_LICENSE_FORMATS)
_DL_WIDTH = max(len(f) for f in DRIVER_LICENSE_FORMATS.values())


def _format_capacity(fmt: str) -> int:
    return int(np.prod([_RADIX.get(c, 1) for c in fmt], dtype=object))


class DriverLicenseParams(Params):
    state_column: str  # a column of 2-letter state codes
    group: str | None = None


@register
class DriverLicense(Generator):
    """A driver licence number in the format of the row's state (null for an unknown state).

    The number encodes a keyed bijection of the row index over the format's capacity, so
    (state, number) is unique for every table of at most ``capacity()`` rows (10^8, the smallest
    format); rows beyond a format's capacity draw at random.
    """

    name = "driver_license"
    Params = DriverLicenseParams
    summary = "US driver licence number in the format of the row's state"
    supports_unique = True

    def output_type(self) -> pa.DataType:
        return _STRING

    def dependencies(self) -> set[str]:
        return {self.p.state_column}

    def capacity(self) -> int | None:
        return min(_format_capacity(f) for f in DRIVER_LICENSE_FORMATS.values())

    def generate(self, ctx: Context) -> pa.Array:
        n = ctx.size
        codes = pc.utf8_upper(pc.utf8_trim_whitespace(_as_strings(ctx.values(self.p.state_column))))
        state = pc.index_in(codes, value_set=pa.array(_DL_STATES, _STRING))
        unknown = state.is_null().to_numpy(zero_copy_only=False)
        state = pc.fill_null(state, len(_DL_STATES)).to_numpy(zero_copy_only=False).astype(np.int64)
        order = np.argsort(state, kind="stable")
        bounds = np.searchsorted(state[order], np.arange(len(_DL_STATES) + 1))
        m = np.zeros((n, _DL_WIDTH), dtype=np.uint8)
        for s, code in enumerate(_DL_STATES):
            if bounds[s] == bounds[s + 1]:
                continue
            at = order[bounds[s]:bounds[s + 1]]
            m[at, : len(DRIVER_LICENSE_FORMATS[code])] = self._encode(ctx, code, ctx.rows[at])
        return _to_bytes(m, mask=unknown if unknown.any() else None)

    @staticmethod
    def _encode(ctx: Context, code: str, rows: np.ndarray) -> np.ndarray:
        fmt = DRIVER_LICENSE_FORMATS[code]
        size = _format_capacity(fmt)
        value = np.empty(len(rows), dtype=np.uint64)
        inside = rows < size
        if inside.any():
            value[inside] = ctx.permutation(size, f"license:{code}")(rows[inside]).astype(np.uint64)
        if not inside.all():
            value[~inside] = ctx.stream.sub(f"license:{code}").bits(rows[~inside]) % np.uint64(size)
        out = np.empty((len(rows), len(fmt)), dtype=np.uint8)
        for i in range(len(fmt) - 1, -1, -1):
            c = fmt[i]
            if c in _RADIX:
                radix = np.uint64(_RADIX[c])
                out[:, i] = _ALPHABET[c][(value % radix).astype(np.intp)]
                value //= radix
            else:
                out[:, i] = ord(c)
        return out
