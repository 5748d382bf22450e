"""Driver's licence numbers in a per-state format, unique per state by construction."""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from esdh.generators.base import Context, Generator, Params, register
from esdh.generators.identity.sampling import _bijection
from esdh.generators.identity.text import _ALNUM, _DIGITS, _LETTERS, _STRING, _divmod, _take, _to_strings, _write_code
from esdh.generators.identity.vocabularies import _state_index

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
    summary = "US driver licence number in the format of the row's state, unique per state"
    # Unique per state by construction, not across states (formats overlap): declare the table-level
    # unique key [state, number] instead of unique: true on the column.

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
