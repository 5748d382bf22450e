"""E-mail addresses derived from the row's names, on RFC 2606 example domains."""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from esdh.generators.base import Context, Generator, Params, register
from esdh.generators.identity.sampling import _bijection, _sampler, _uniform_fields, _uniform_index
from esdh.generators.identity.text import _STRING, _append, _as_strings, _join

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
        halves: tuple[tuple[int, Literal[0, 1], str | None], ...] = ((0, 0, None), (1, 1, "." if unique else ""))
        for col, part, tail in halves:
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
