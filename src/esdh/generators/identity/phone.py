"""NANP phone numbers, optionally with an area code that serves the row's ZIP."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa

from esdh.generators.base import Context, Generator, Params, register
from esdh.generators.identity.sampling import _bijection
from esdh.generators.identity.text import _DIGITS, _STRING, _divmod, _to_strings, _write_code
from esdh.generators.identity.vocabularies import _zips

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
