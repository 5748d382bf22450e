"""Identity generators: person names, gender, e-mail, phone, US postal address and driver licence.

Data comes from the bundled vocabularies (``esdh/packs/vocab``, see ``SOURCES.md`` there): name
frequencies from faker's en_US lists (SSA baby names, US Census surnames), ZIP codes from the
``zipcodes`` package, state populations from the 2020 Census.

Coherence works through groups: generators of one group in one table draw from one stream, so
``first_name`` and ``gender`` (group ``person_name``) agree on the sex of a row, and every ``address``
field (group ``address``) of a row comes from the same ZIP record. A table with two people or two
addresses gives the second set of columns another ``group`` parameter.

Strings are assembled without per-row Python: pieces are indices into a small vocabulary array,
one Arrow ``take`` lays every row's pieces out back to back, and the row strings are that buffer
with every k-th offset (``_join``); fixed-width codes are byte matrices (``_to_strings``).
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
_DIGITS = b"0123456789"
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = _DIGITS + _LETTERS


# --------------------------------------------------------------------------------------------------
# vectorised string and number helpers


def _to_strings(matrix: np.ndarray) -> pa.Array:
    """A (rows, width) uint8 matrix of ASCII codes as fixed-width strings (zero-copy)."""
    n, width = matrix.shape
    data = np.ascontiguousarray(matrix, dtype=np.uint8).reshape(-1)
    offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _validity(valid: np.ndarray | None, n: int) -> tuple[pa.Buffer | None, int]:
    if valid is None:
        return None, 0
    return pa.array(valid).buffers()[1], n - int(np.count_nonzero(valid))


def _join(vocab: pa.Array, pieces: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Row i is the concatenation of ``vocab[pieces[i, 0]], vocab[pieces[i, 1]], ...``.

    One ``take`` writes all pieces in row order into one buffer; the joined strings are that buffer
    read with every k-th offset, so no per-piece concatenation is needed. ``vocab`` has no nulls.
    """
    n, k = pieces.shape
    if n == 0:
        return pa.array([], _STRING)
    taken = vocab.take(pa.array(pieces.reshape(-1)))
    offsets = np.frombuffer(taken.buffers()[1], dtype=np.int32, count=n * k + 1)
    data = taken.buffers()[2] or pa.py_buffer(b"")
    validity, nulls = _validity(valid, n)
    return pa.StringArray.from_buffers(n, pa.py_buffer(np.ascontiguousarray(offsets[::k])), data,
                                       validity, nulls)


def _divmod(values: np.ndarray, divisor: int) -> tuple[np.ndarray, np.ndarray]:
    """``divmod`` for int64 values in [0, 2**53): float quotient plus an exact correction.

    Several times faster than numpy's integer division, which is not vectorised.
    """
    q = np.floor(values / divisor).astype(np.int64)
    r = values - q * divisor
    low = r < 0
    q[low] -= 1
    r[low] += divisor
    high = r >= divisor
    q[high] += 1
    r[high] -= divisor
    return q, r


@functools.cache
def _code_table(alphabet: bytes, width: int) -> np.ndarray:
    """Every ``width``-character code over ``alphabet`` in counting order, as ``S<width>`` items."""
    symbols = np.frombuffer(alphabet, dtype=np.uint8)
    radix = len(symbols)
    n = np.arange(radix**width, dtype=np.int64)
    table = np.empty((len(n), width), dtype=np.uint8)
    for i in range(width - 1, -1, -1):
        table[:, i] = symbols[n % radix]
        n //= radix
    return table.view(f"S{width}").reshape(-1)


def _write_code(matrix: np.ndarray, column: int, values: np.ndarray, alphabet: bytes, width: int) -> None:
    """Write ``values`` (< len(alphabet) ** width) as fixed-width codes into ``matrix[:, column:]``."""
    radix = len(alphabet)
    group = max(1, int(np.log(50_000) / np.log(radix)))  # characters per table lookup
    v = np.asarray(values, dtype=np.int64)
    end = column + width
    while end > column:
        g = min(group, end - column)
        if end - g > column:
            v, r = _divmod(v, radix**g)
        else:
            r = v
        matrix[:, end - g:end] = _code_table(alphabet, g)[r].view(np.uint8).reshape(-1, g)
        end -= g


@functools.cache
def _numbers(limit: int, suffix: str = "") -> pa.Array:
    """``str(i) + suffix`` for i in [0, limit): index i holds number i."""
    return pc.binary_join_element_wise(pc.cast(pa.array(np.arange(limit)), _STRING), suffix, "")


def _append(values: pa.Array, suffix: str) -> pa.Array:
    return pc.binary_join_element_wise(values, suffix, "") if suffix else values


def _constant(value: str, n: int) -> pa.Array:
    return pa.array([value], _STRING).take(pa.array(np.zeros(n, dtype=np.int32)))


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


def _fixed_width_bytes(values: pa.Array, width: int) -> np.ndarray | None:
    """The bytes of a string array whose values all have exactly ``width`` bytes, else None."""
    if values.null_count or len(values) == 0:
        return None
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32, count=len(values) + 1,
                            offset=4 * values.offset)
    if offsets[-1] - offsets[0] != width * len(values) or not np.all(np.diff(offsets) == width):
        return None
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    return data[offsets[0]:offsets[-1]].reshape(-1, width)


# --------------------------------------------------------------------------------------------------
# inverse-CDF sampling


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


# --------------------------------------------------------------------------------------------------
# vocabularies, prepared once per process


@functools.cache
def _first_names() -> tuple[pa.Array, _InverseCdf]:
    """Female then male names and one sampler over both.

    The female names fill exactly [0, 0.5) of the CDF and the male names [0.5, 1), so the uniform
    of the ``gender`` draw (F when below 0.5) picks a name of the matching sex.
    """
    table = load_vocab("first_names")
    names, cdfs = [], []
    for i, gender in enumerate(("F", "M")):
        sub = table.filter(pc.equal(table["gender"], gender))
        w = sub["weight"].to_numpy().astype(np.float64)
        cdf = 0.5 * i + np.minimum(np.cumsum(w) / w.sum() * 0.5, 0.5)
        cdf[-1] = 0.5 * (i + 1)
        names.append(sub["name"].combine_chunks())
        cdfs.append(cdf)
    return pa.concat_arrays(names), _InverseCdf(np.concatenate(cdfs))


@functools.cache
def _last_names() -> tuple[pa.Array, _InverseCdf]:
    table = load_vocab("last_names")
    return table["name"].combine_chunks(), _sampler(table["weight"].to_numpy())


@functools.cache
def _states() -> dict[str, tuple[str, int]]:
    """State code -> (name, 2020 population) for the 50 states and DC."""
    table = load_vocab("us_states")
    return {s: (n, p) for s, n, p in zip(table["state"].to_pylist(), table["state_name"].to_pylist(),
                                          table["population"].to_pylist(), strict=True)}


class _Zips:
    """The ZIP table as flat arrays, ZIP samplers and lookups."""

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
        # area codes with the population weight of the ZIPs they serve (first area code of a ZIP)
        self.area_code = self.columns["area_code"].cast(pa.int64()).to_numpy()
        self.area_codes, area_of_zip = np.unique(self.area_code, return_inverse=True)
        self.area_sampler = _sampler(np.bincount(area_of_zip, weights=self.population_weight))
        # dense ZIP -> row lookup
        self.by_zip = np.full(100_000, -1, dtype=np.int64)
        self.by_zip[self.columns["postal_code"].cast(pa.int64()).to_numpy()] = np.arange(self.size)
        self._samplers: dict[tuple, tuple[np.ndarray, _InverseCdf | None]] = {}

    def sampler(self, states: tuple[str, ...] | None,
                weighting: str) -> tuple[np.ndarray, _InverseCdf | None]:
        """Candidate ZIP rows and their sampler (None: uniform) for a state restriction; cached."""
        key = (states, weighting)
        if key not in self._samplers:
            rows = np.arange(self.size) if states is None else \
                np.nonzero(np.isin(self.state_code, np.array(states)))[0]
            self._samplers[key] = (rows, None if weighting == "uniform"
                                   else _sampler(self.population_weight[rows]))
        return self._samplers[key]

    def draw(self, stream: Stream, rows: np.ndarray, states: tuple[str, ...] | None,
             weighting: str) -> np.ndarray:
        """A ZIP row per table row (one draw shared by every field of the group)."""
        candidates, sampler = self.sampler(states, weighting)
        u = stream.sub("zip").uniform(rows)
        return candidates[_uniform_index(u, len(candidates)) if sampler is None else sampler(u)]

    def rows_of(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Row of each ZIP code (-1: null, malformed or unknown). Accepts ZIP+4 and integers."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_integer(values.type):
            code = pc.fill_null(values.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
        else:
            values = _as_strings(values)
            raw = _fixed_width_bytes(values, 5)
            if raw is not None and len(raw) and ((raw >= 48) & (raw <= 57)).all():
                code = (raw.astype(np.int64) - 48) @ np.array([10_000, 1_000, 100, 10, 1])
            else:
                text = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(values), 0, 5)
                ok = pc.fill_null(pc.match_substring_regex(text, "^[0-9]{5}$"), False)
                code = pc.if_else(ok, text, "-1").cast(pa.int64()).to_numpy(zero_copy_only=False)
        valid = (code >= 0) & (code < 100_000)
        return np.where(valid, self.by_zip[np.where(valid, code, 0)], -1)


@functools.cache
def _zips() -> _Zips:
    return _Zips()


@functools.cache
def _street_vocab(abbreviate: bool) -> tuple[pa.Array, int, int, _InverseCdf, _InverseCdf]:
    """[house numbers 0..99999 + ' '] + [street names + ' '] + [suffixes], with the two offsets."""
    names = load_vocab("street_names")
    suffixes = load_vocab("street_suffixes")
    name_col = names["name"].combine_chunks()
    suffix_col = suffixes["abbreviation" if abbreviate else "name"].combine_chunks()
    numbers = _numbers(100_000, " ")
    vocab = pa.concat_arrays([numbers, _append(name_col, " "), suffix_col])
    return (vocab, len(numbers), len(numbers) + len(name_col), _sampler(names["weight"].to_numpy()),
            _sampler(suffixes["weight"].to_numpy()))


def _state_index(values: pa.Array | pa.ChunkedArray, states: list[str]) -> np.ndarray:
    """Position of each value in ``states`` (2-letter codes, case-insensitive); -1 if absent."""
    values = _as_strings(values)
    raw = _fixed_width_bytes(values, 2)
    if raw is not None:  # fast path: every value has two bytes
        letters = (raw & 0xDF).astype(np.int64) - 65  # ASCII upper case
        ok = ((letters >= 0) & (letters < 26)).all(axis=1)
        lookup = np.full(26 * 26, -1, dtype=np.int64)
        for i, s in enumerate(states):
            lookup[(ord(s[0]) - 65) * 26 + ord(s[1]) - 65] = i
        return np.where(ok, lookup[np.where(ok, letters[:, 0] * 26 + letters[:, 1], 0)], -1)
    codes = pc.utf8_upper(pc.utf8_trim_whitespace(values))
    found = pc.index_in(codes, value_set=pa.array(states, _STRING))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


# --------------------------------------------------------------------------------------------------
# names and gender


def _gender_uniform(stream: Stream, rows: np.ndarray) -> np.ndarray:
    """The shared draw of the ``person_name`` group: female below 0.5, and it also picks the name."""
    return stream.sub("gender").uniform(rows)


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
        return _take(labels, (_gender_uniform(ctx.stream, ctx.rows) < 0.5).astype(np.int8))


class FirstNameParams(Params):
    gender: Literal["any", "female", "male"] = "any"
    gender_column: str | None = None  # a column of F/M (or female/male) values to follow
    group: str | None = None


@register
class FirstName(Generator):
    """US first names with SSA frequencies; a female name exactly when ``gender`` gives F.

    Sex comes from ``gender`` if fixed, else from ``gender_column`` where that holds F/M (or any
    word starting with f/m), else from the group's gender draw.
    """

    name = "first_name"
    Params = FirstNameParams
    summary = "US first name (SSA frequencies), coherent with gender"
    group = "person_name"

    def output_type(self) -> pa.DataType:
        return _STRING

    def dependencies(self) -> set[str]:
        return {self.p.gender_column} if self.p.gender_column else set()

    def generate(self, ctx: Context) -> pa.Array:
        names, pick = _first_names()
        u = _gender_uniform(ctx.stream, ctx.rows)
        if self.p.gender != "any" or self.p.gender_column:
            if self.p.gender != "any":
                female = np.full(ctx.size, self.p.gender == "female")
            else:
                first = pc.utf8_upper(pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(
                    _as_strings(ctx.values(self.p.gender_column))), 0, 1))
                is_f = pc.fill_null(pc.equal(first, "F"), False).to_numpy(zero_copy_only=False)
                is_m = pc.fill_null(pc.equal(first, "M"), False).to_numpy(zero_copy_only=False)
                female = ((u < 0.5) & ~is_m) | is_f
            # keep the position within the half, move to the half of the wanted sex
            half = np.fmod(u, 0.5)
            u = np.where(female, half, 0.5 + half)
        return _take(names, pick(u))


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

# local-part patterns (left part, right part, weight); "first."/"last." include the separator
_EMAIL_PATTERNS = [
    ("first.", "last", 34), ("first", "last", 14), ("first_", "last", 8), ("f", "last", 16),
    ("first", "l", 6), ("last.", "first", 6), ("last", "f", 6), ("first", "", 10),
]
_EMAIL_STYLE = _sampler([w for *_, w in _EMAIL_PATTERNS])
_EMAIL_SOURCES = ("first", "last", "")  # which name column a part's index comes from
# a non-unique address gets a number with this probability (always for the first-name-only pattern)
_EMAIL_NUMBER_RATE = 0.35
_EMAIL_YEARS = (1950, 2006)


def _email_names(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Distinct names cleaned for an address (lower case, accents folded, only [a-z0-9]; 'user' if
    nothing is left or the name is null) and each row's index into them. O(distinct) string work."""
    encoded = pc.dictionary_encode(_as_strings(values))
    clean = pc.replace_substring_regex(pc.utf8_lower(pc.utf8_normalize(encoded.dictionary, "NFKD")),
                                       "[^a-z0-9]", "")
    clean = pc.if_else(pc.equal(pc.utf8_length(clean), 0), "user", clean)
    clean = pa.concat_arrays([clean.cast(_STRING), pa.array(["user"], _STRING)])
    idx = pc.fill_null(encoded.indices, len(clean) - 1).to_numpy(zero_copy_only=False).astype(np.int64)
    return clean, idx


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

    With ``unique`` every address ends in ``.<n>`` before the ``@``, ``n`` being a keyed bijection
    of the row index over the table's rows: names are cleaned to [a-z0-9], so ``n`` can be read
    back from the address and no two rows share one. Without it 35% of the addresses get a number
    (1-99 or a year), which makes collisions rare but possible.
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
        stream, rows, n = ctx.stream, ctx.rows, ctx.size
        if n == 0:
            return pa.array([], _STRING)
        first, fi = _email_names(ctx.values(self.p.first))
        last, li = _email_names(ctx.values(self.p.last))
        names = {"first": (first, "first"), "last": (last, "last"),
                 "f": (pc.utf8_slice_codeunits(first, 0, 1), "first"),
                 "l": (pc.utf8_slice_codeunits(last, 0, 1), "last"), "": (pa.array([""], _STRING), "")}
        blocks: list[pa.Array] = []

        def add(values: pa.Array) -> int:
            blocks.append(values.cast(_STRING))
            return sum(len(b) for b in blocks) - len(values)

        u_style, u_domain, u_number = _uniform_fields(stream.sub("email"), rows, 3)
        style = _EMAIL_STYLE(u_style)
        unique = ctx.unique
        pieces = np.zeros((n, 4 if unique else 3), dtype=np.int64)
        # left part "first." etc.: the name block plus its separator; with unique the right part
        # ends with the dot that comes before the number
        for col, part, tail in ((0, 0, None), (1, 1, "." if unique else "")):
            offset, source = {}, {}
            for key in sorted({p[part] for p in _EMAIL_PATTERNS}):
                base = key.rstrip("._")
                values, source[key] = names[base]
                offset[key] = add(_append(values, key[len(base):] if tail is None else tail))
            at = np.array([offset[p[part]] for p in _EMAIL_PATTERNS], dtype=np.int64)[style]
            use = np.array([_EMAIL_SOURCES.index(source[p[part]]) for p in _EMAIL_PATTERNS])[style]
            pieces[:, col] = at + np.where(use == 0, fi, np.where(use == 1, li, 0))
        domains = self.p.domains
        domain = _uniform_index(u_domain, len(domains))
        if unique:
            pieces[:, 2] = add(pc.cast(pa.array(_bijection(ctx, ctx.total_rows, "email", rows)), _STRING)) \
                + np.arange(n)
            pieces[:, 3] = add(pa.array([f"@{d}" for d in domains], _STRING)) + domain
        else:
            # number (none, 1-99 or a year) and domain as one piece
            u_which, u_small, u_year = _uniform_fields(stream.sub("email_number"), rows, 3)
            small = 1 + _uniform_index(u_small, 99)
            year = 100 + _uniform_index(u_year, _EMAIL_YEARS[1] - _EMAIL_YEARS[0])
            with_number = (u_number < _EMAIL_NUMBER_RATE) | (style == len(_EMAIL_PATTERNS) - 1)
            number = np.where(with_number, np.where(u_which < 0.5, small, year), 0)
            pieces[:, 2] = add(_email_tails(tuple(domains))) + number * len(domains) + domain
        return _join(pa.concat_arrays(blocks), pieces)


@functools.lru_cache(maxsize=64)
def _email_tails(domains: tuple[str, ...]) -> pa.Array:
    """Every "<number>@<domain>" of a non-unique address: number "", 1-99, then the years."""
    numbers = ["", *map(str, range(1, 100)), *map(str, range(*_EMAIL_YEARS))]
    return pa.array([f"{x}@{d}" for x in numbers for d in domains], _STRING)


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
    (unknown or null ZIPs fall back), else one drawn with the population of the ZIPs it serves.
    The exchange is 200-999 without N11 and 555. The 7-digit subscriber part is a keyed bijection
    of the row index, so numbers are unique for up to 7,910,000 rows (the capacity); rows past that
    draw at random.
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

    def generate(self, ctx: Context) -> pa.Array:
        n, rows = ctx.size, ctx.rows
        zips = _zips()
        area = zips.area_codes[zips.area_sampler(ctx.stream.sub("area_code").uniform(rows))]
        if self.p.area_code_from:
            given = zips.rows_of(ctx.values(self.p.area_code_from))
            area = np.where(given >= 0, zips.area_code[np.maximum(given, 0)], area)
        subscriber = np.empty(n, dtype=np.int64)
        inside = rows < _SUBSCRIBERS
        subscriber[inside] = _bijection(ctx, _SUBSCRIBERS, "subscriber", rows[inside])
        if not inside.all():
            bits = ctx.stream.sub("subscriber").bits(rows[~inside])
            subscriber[~inside] = (bits % np.uint64(_SUBSCRIBERS)).astype(np.int64)
        exchange, line = _divmod(subscriber, 10_000)
        exchange = _EXCHANGES[exchange]
        if self.p.format == "national":
            m = np.empty((n, 14), dtype=np.uint8)
            m[:, 0], m[:, 4], m[:, 5], m[:, 9] = ord("("), ord(")"), ord(" "), ord("-")
            at = (1, 6, 10)
        else:
            start = 2 if self.p.format == "e164" else 0
            m = np.empty((n, 10 + start), dtype=np.uint8)
            if start:
                m[:, 0], m[:, 1] = ord("+"), ord("1")
            at = (start, start + 3, start + 6)
        _write_code(m, at[0], area, _DIGITS, 3)
        _write_code(m, at[1], exchange, _DIGITS, 3)
        _write_code(m, at[2], line, _DIGITS, 4)
        return _to_strings(m)


# --------------------------------------------------------------------------------------------------
# address

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


# --------------------------------------------------------------------------------------------------
# driver licence

# Per-state licence number formats, modelled on published AAMVA-style formats (the most common
# current format of each state, taking its longest published variant where that was needed for a
# capacity of at least 10^8). '#' is a digit, '@' a letter, '*' a letter or digit; any other
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
_CLASS_ALPHABET = {"#": _DIGITS, "@": _LETTERS, "*": _ALNUM}
_DL_STATES = sorted(DRIVER_LICENSE_FORMATS)


@functools.cache
def _format_runs(fmt: str) -> list[tuple[int, int, bytes | None, str]]:
    """(start, width, alphabet or None for a literal, text) for each run of one character class."""
    runs: list[tuple[int, int, bytes | None, str]] = []
    for i, c in enumerate(fmt):
        alphabet = _CLASS_ALPHABET.get(c)
        if runs and runs[-1][2] == alphabet:
            start, width, _, text = runs[-1]
            runs[-1] = (start, width + 1, alphabet, text + c)
        else:
            runs.append((i, 1, alphabet, c))
    return runs


def _format_capacity(fmt: str) -> int:
    capacity = 1
    for c in fmt:
        capacity *= len(_CLASS_ALPHABET.get(c, b"x"))
    return capacity


class DriverLicenseParams(Params):
    state_column: str  # a column of 2-letter state codes
    group: str | None = None


@register
class DriverLicense(Generator):
    """A driver licence number in the format of the row's state (null for an unknown state).

    The number encodes a keyed bijection (one per state) of the row index over the format's
    capacity, so (state, number) is unique in every table of at most ``capacity()`` rows (10^8,
    the smallest format); rows beyond a format's capacity draw at random.
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
        state = _state_index(ctx.values(self.p.state_column), _DL_STATES)
        known = state >= 0
        key = np.where(known, state, len(_DL_STATES)).astype(np.uint8)
        order = np.argsort(key, kind="stable")  # radix sort on uint8
        bounds = np.searchsorted(key[order], np.arange(len(_DL_STATES) + 1))
        parts = []  # the rows of each state in turn, then the nulls of unknown states
        for s, code in enumerate(_DL_STATES):
            if bounds[s] < bounds[s + 1]:
                parts.append(_to_strings(self._encode(ctx, code, ctx.rows[order[bounds[s]:bounds[s + 1]]])))
        parts.append(pa.nulls(n - int(bounds[-1]), _STRING))
        position = np.empty(n, dtype=np.int64)
        position[order] = np.arange(n)
        return _take(pa.concat_arrays(parts), position)

    @staticmethod
    def _encode(ctx: Context, code: str, rows: np.ndarray) -> np.ndarray:
        fmt = DRIVER_LICENSE_FORMATS[code]
        size = _format_capacity(fmt)
        inside = rows < size
        value = np.empty(len(rows), dtype=np.int64)
        value[inside] = _bijection(ctx, size, f"license:{code}", rows[inside])
        if not inside.all():
            bits = ctx.stream.sub(f"license:{code}").bits(rows[~inside])
            value[~inside] = (bits % np.uint64(size)).astype(np.int64)
        out = np.empty((len(rows), len(fmt)), dtype=np.uint8)
        runs = _format_runs(fmt)
        leftmost = min(i for i, run in enumerate(runs) if run[2] is not None)
        for i in range(len(runs) - 1, -1, -1):  # least significant run last in the string
            start, width, alphabet, text = runs[i]
            if alphabet is None:
                out[:, start:start + width] = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
                continue
            part = value
            if i > leftmost:
                value, part = _divmod(value, len(alphabet) ** width)
            _write_code(out, start, part, alphabet, width)
        return out
