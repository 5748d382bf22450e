"""The identity vocabularies (names, ZIP codes, streets, states), prepared once per process."""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.generators.identity.sampling import _InverseCdf, _sampler, _uniform_index
from esdh.generators.identity.text import _STRING, _append, _as_strings, _fixed_width_bytes, _numbers, _take
from esdh.rng import Stream
from esdh.vocab import load_vocab


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
        self._samplers: dict[tuple[tuple[str, ...] | None, str], tuple[np.ndarray, _InverseCdf | None]] = {}

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
        result: np.ndarray = candidates[_uniform_index(u, len(candidates)) if sampler is None else sampler(u)]
        return result

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
    result: np.ndarray = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return result
