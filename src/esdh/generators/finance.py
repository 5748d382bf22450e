"""Finance: payment card numbers (with their brand), money amounts and account numbers.

- ``card_number``: Luhn-valid numbers with realistic IIN prefixes per brand, unique by construction;
  ``field: brand`` gives the brand of the same row's card (shared group ``card``).
- ``amount``: lognormal money amounts by inverse transform (truncated to ``[min, max]``), rounded.
- ``account_number``: fixed-length digit strings, unique by construction, optionally Luhn-checked.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator
from scipy.special import ndtr, ndtri

from esdh.generators.base import Context, Generator, Params, choice_from, register

__all__ = ["AccountNumberGenerator", "AmountGenerator", "CardNumberGenerator", "luhn_check_digits"]


# --- Luhn -------------------------------------------------------------------------------------------

def _block_sums(double_lowest: bool) -> np.ndarray:
    """Luhn contribution of each 3-digit block 000..999 (digits alternate doubled / plain)."""
    out = np.zeros(1000, dtype=np.int64)
    for value in range(1000):
        total = 0
        for k in range(3):
            digit = value // 10**k % 10
            if (k % 2 == 0) == double_lowest:
                digit *= 2
                digit -= 9 if digit > 9 else 0
            total += digit
        out[value] = total
    return out


_BLOCK_EVEN = _block_sums(True)  # block whose lowest digit is at an even position from the right
_BLOCK_ODD = _block_sums(False)


def luhn_check_digits(payload: np.ndarray) -> np.ndarray:
    """The Luhn check digit of each non-negative integer payload (int64, up to 18 digits).

    The digit right of the payload is the check digit, so the payload's last digit is doubled. Leading
    zeros add nothing, so one pass serves payloads of different lengths. Works on 3-digit blocks.
    """
    x = np.asarray(payload, dtype=np.int64).copy()
    total = np.zeros(len(x), dtype=np.int64)
    for block in range(6):
        lut = _BLOCK_EVEN if block % 2 == 0 else _BLOCK_ODD  # block k starts at digit position 3k
        rest = x // 1000
        total += lut[x - rest * 1000]
        x = rest
    return (10 - total % 10) % 10


def _luhn_scalar_sum(digits: str, offset: int) -> int:
    """Luhn contribution of a digit string whose last digit sits ``offset`` places left of the check digit
    (offset >= 1; offset 1 is doubled)."""
    total = 0
    for k, ch in enumerate(reversed(digits)):
        digit = int(ch)
        if (k + offset) % 2 == 1:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return total


def _digit_strings(values: np.ndarray, prefix: str = "") -> pa.Array:
    """Non-negative int64 values as decimal strings, optionally behind a constant prefix."""
    out = pa.array(values, pa.int64()).cast(pa.string())
    if prefix:
        out = pc.binary_join_element_wise(pa.scalar(prefix), out, "")
    return out


# --- card numbers -----------------------------------------------------------------------------------

Brand = Literal["visa", "mastercard", "amex", "discover"]
_BRANDS: tuple[str, ...] = ("visa", "mastercard", "amex", "discover")
_BRAND_NAMES = pa.array(["Visa", "Mastercard", "American Express", "Discover"], pa.string())
_BRAND_SHARE = {"visa": 0.52, "mastercard": 0.28, "amex": 0.12, "discover": 0.08}  # US cards in use, roughly

# IIN ranges: brand, first prefix, number of consecutive prefixes, prefix digits, card length, share in brand.
_IIN_RANGES: tuple[tuple[str, int, int, int, int, float], ...] = (
    ("visa", 4, 1, 1, 16, 1.0),
    ("mastercard", 51, 5, 2, 16, 0.8),  # 51-55
    ("mastercard", 2221, 500, 4, 16, 0.2),  # 2221-2720
    ("amex", 34, 1, 2, 15, 0.35),
    ("amex", 37, 1, 2, 15, 0.65),
    ("discover", 6011, 1, 4, 16, 0.55),
    ("discover", 644, 6, 3, 16, 0.10),  # 644-649
    ("discover", 65, 1, 2, 16, 0.35),
)
_IIN_BRAND = np.array([_BRANDS.index(r[0]) for r in _IIN_RANGES], dtype=np.int64)
_IIN_START = np.array([r[1] for r in _IIN_RANGES], dtype=np.int64)
_IIN_COUNT = np.array([r[2] for r in _IIN_RANGES], dtype=np.int64)
_IIN_BODY_DIGITS = np.array([r[4] - 1 - r[3] for r in _IIN_RANGES], dtype=np.int64)  # between IIN and check

# The last 11 body digits carry a keyed permutation of the row over 2**36 values (an even power of two:
# no cycle walking), spread over 0..10**11-1 by the strictly increasing map u -> floor(u * 10**11 / 2**36)
# = (u * 5**11) >> 25. Distinct rows get distinct last-11 digits: unique whatever their prefix.
CARD_CAPACITY = 2**36
_UNIQUE_DIGITS = 11
assert int(_IIN_BODY_DIGITS.min()) >= _UNIQUE_DIGITS
assert (CARD_CAPACITY - 1) * 5**11 < 2**63


class CardParams(Params):
    field: Literal["number", "brand"] = "number"
    brand: Literal["visa", "mastercard", "amex", "discover", "any"] = "any"
    group: str | None = None  # stream shared by coherent fields (default "card")


@register
class CardNumberGenerator(Generator):
    """Luhn-valid payment card numbers (16 digits, American Express 15) with realistic IIN prefixes.

    ``field: brand`` gives the card's brand ("Visa", "Mastercard", "American Express", "Discover");
    give both columns the same ``brand`` parameter so they describe the same card.
    """

    name: ClassVar[str] = "card_number"
    Params = CardParams
    summary: ClassVar[str] = "payment card numbers (Luhn-valid, realistic IINs, unique) and their brand"
    supports_unique: ClassVar[bool] = True
    group: ClassVar[str | None] = "card"

    def output_type(self) -> pa.DataType:
        return pa.string()

    def can_be_unique(self) -> bool:
        result: bool = self.p.field == "number"
        return result

    def capacity(self) -> int | None:
        if self.p.field == "brand":
            return len(_BRANDS) if self.p.brand == "any" else 1
        return CARD_CAPACITY

    def _iin_cdf(self) -> np.ndarray:
        weights = np.array([r[5] * _BRAND_SHARE[r[0]] if self.p.brand in ("any", r[0]) else 0.0
                            for r in _IIN_RANGES])
        return np.cumsum(weights)

    def generate(self, ctx: Context) -> pa.Array:
        rows = ctx.rows
        stream = ctx.stream
        iin = choice_from(self._iin_cdf(), stream.sub("iin").uniform(rows))
        if self.p.field == "brand":
            return _BRAND_NAMES.take(pa.array(_IIN_BRAND[iin]))
        if len(rows) and int(rows.max()) >= CARD_CAPACITY:
            raise ValueError(f"card_number: more than {CARD_CAPACITY} rows cannot have unique numbers")
        prefix = _IIN_START[iin] + stream.sub("prefix").integers(rows, _IIN_COUNT[iin])
        unique = (ctx.permutation(CARD_CAPACITY, "number")(rows) * 5**11) >> 25
        free = 10 ** (_IIN_BODY_DIGITS[iin] - _UNIQUE_DIGITS)  # random digits above the unique ones
        high = stream.sub("body").integers(rows, free)
        payload = (prefix * 10 ** _IIN_BODY_DIGITS[iin]) + high * 10**_UNIQUE_DIGITS + unique
        return _digit_strings(payload * 10 + luhn_check_digits(payload))


# --- amounts ----------------------------------------------------------------------------------------

class AmountParams(Params):
    median: float = Field(gt=0)
    sigma: float = Field(default=1.0, ge=0)
    min: float | None = None
    max: float | None = None
    precision: int = Field(default=2, ge=0, le=9)

    @model_validator(mode="after")
    def _check(self) -> AmountParams:
        for value in (self.median, self.sigma, self.min, self.max):
            if value is not None and not math.isfinite(value):
                raise ValueError("amount parameters must be finite")
        if self.max is not None and self.max <= 0:
            raise ValueError("amount max must be positive (amounts are lognormal)")
        if self.min is not None and self.max is not None:
            lo, hi = _rounded_bounds(self.min, self.max, self.precision)
            if lo > hi:
                raise ValueError(f"no amount with {self.precision} decimals lies in [{self.min}, {self.max}]")
        return self


def _rounded_bounds(lo: float | None, hi: float | None, precision: int) -> tuple[float, float]:
    """The smallest and largest values with ``precision`` decimals inside ``[lo, hi]``."""
    scale = 10.0**precision
    low = -math.inf if lo is None else math.ceil(round(lo * scale, 6)) / scale
    high = math.inf if hi is None else math.floor(round(hi * scale, 6)) / scale
    return low, high


@register
class AmountGenerator(Generator):
    """Money amounts: lognormal with the given median and log-scale ``sigma``, truncated to
    ``[min, max]`` (inverse transform within the bounds, so no pile-up at them), rounded to ``precision``
    decimals."""

    name: ClassVar[str] = "amount"
    Params = AmountParams
    summary: ClassVar[str] = "money amounts from a truncated lognormal, rounded to a precision"

    def output_type(self) -> pa.DataType:
        return pa.float64()

    def generate(self, ctx: Context) -> pa.Array:
        p = self.p
        u = ctx.stream.uniform(ctx.rows)
        if p.sigma == 0:
            z = np.zeros(len(u))
        else:
            za = -np.inf if p.min is None or p.min <= 0 else math.log(p.min / p.median) / p.sigma
            zb = np.inf if p.max is None else math.log(p.max / p.median) / p.sigma
            if za > 0:  # the window is in the upper tail: invert the survival function for precision
                sa, sb = ndtr(-za), ndtr(-zb)
                z = -ndtri(sa - u * (sa - sb))
            else:
                fa, fb = ndtr(za), ndtr(zb)
                z = ndtri(fa + u * (fb - fa))
        values = np.round(p.median * np.exp(p.sigma * z), p.precision)
        lo, hi = _rounded_bounds(p.min, p.max, p.precision)
        return pa.array(np.clip(values, lo, hi), pa.float64())


# --- account numbers --------------------------------------------------------------------------------

class AccountNumberParams(Params):
    digits: int = Field(default=10, ge=4, le=18)  # digits after the prefix, the check digit included
    prefix: str = Field(default="", pattern=r"^[0-9]*$", max_length=12)
    luhn: bool = False  # last digit a Luhn check digit over prefix and number


@register
class AccountNumberGenerator(Generator):
    """Account numbers: ``prefix`` then ``digits`` digits (no leading zero), unique by construction."""

    name: ClassVar[str] = "account_number"
    Params = AccountNumberParams
    summary: ClassVar[str] = "unique fixed-length account numbers, optionally Luhn-checked"
    supports_unique: ClassVar[bool] = True

    def _body_digits(self) -> int:
        result: int = self.p.digits - (1 if self.p.luhn else 0)
        return result

    def capacity(self) -> int:
        result: int = 9 * 10 ** (self._body_digits() - 1)
        return result

    def output_type(self) -> pa.DataType:
        return pa.string()

    def generate(self, ctx: Context) -> pa.Array:
        size = self.capacity()
        rows = ctx.rows
        if len(rows) and int(rows.max()) >= size:
            raise ValueError(f"account_number: {self.p.digits} digits allow only {size} unique numbers")
        body_digits = self._body_digits()
        values = 10 ** (body_digits - 1) + ctx.permutation(size, "number")(rows)
        if self.p.luhn:
            prefix_sum = _luhn_scalar_sum(self.p.prefix, body_digits + 1)
            check = luhn_check_digits(values)
            # luhn_check_digits gives (10 - s) % 10 for the body alone; add the prefix's contribution.
            check = (check - prefix_sum) % 10
            values = values * 10 + check
        return _digit_strings(values, self.p.prefix)
