"""Option values that every interface (the command line, the HTTP API) reads the same way.

Parsing only, with one set of rules; each interface turns :class:`BadOptionValue` (a
:class:`~esdh.errors.UsageError`) into its own kind of error (a click usage error, an HTTP 422). What a value
means for a dataset (an unknown table, a row count below 1) is checked where it is used, by the planner.
"""

from __future__ import annotations

from collections.abc import Iterable

from esdh.errors import UsageError

MAX_ROW_DIGITS = 18  # a row count below 10**18 fits a 64-bit integer with room to add


class BadOptionValue(UsageError):
    """A malformed option value; ``value`` is the item as given, for an interface to point at."""

    def __init__(self, message: str, value: str):
        super().__init__(message)
        self.value = value


def parse_rows(items: Iterable[str]) -> dict[str, int]:
    """``TABLE=N`` items (``--rows``, the API's ``rows``) as a mapping; a later item for the same table wins.

    TABLE is not empty and N is written in ASCII digits only (no sign, point or exponent), at most
    ``MAX_ROW_DIGITS`` of them; spaces around either are ignored."""
    rows: dict[str, int] = {}
    for item in items:
        table, sep, count = item.partition("=")
        table, count = table.strip(), count.strip()
        if not sep or not table or not (count.isascii() and count.isdigit()) or len(count) > MAX_ROW_DIGITS:
            raise BadOptionValue(f"'{item}' is not TABLE=N (N a whole number of rows: digits only, at most "
                                 f"{MAX_ROW_DIGITS})", item)
        rows[table] = int(count)
    return rows


MAX_NUMBER_CHARS = 40  # longer text is no number an option takes; it is refused before it is converted


def parse_whole_number(text: str, minimum: int = 0, maximum: int | None = None, what: str = "value") -> int:
    """A whole number written in ASCII digits only (``١٠٠`` and ``１０`` are refused, as are a sign, a point, an
    exponent, ``_`` and ``0x``), at least ``minimum`` and at most ``maximum``; spaces around it are ignored."""
    digits = text.strip()
    if not digits or len(digits) > MAX_NUMBER_CHARS or not (digits.isascii() and digits.isdigit()):
        shown = text if len(text) <= MAX_NUMBER_CHARS else text[:MAX_NUMBER_CHARS] + "..."
        raise BadOptionValue(f"{what} {shown!r} is not a whole number (digits 0-9 only)", text)
    number = int(digits)
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"from {minimum:,} to {maximum:,}" if maximum is not None else f"at least {minimum:,}"
        raise BadOptionValue(f"{what} {digits} is out of range: it must be {bound}", text)
    return number


def parse_positive_number(text: str, maximum: float | None = None, what: str = "value") -> float:
    """A finite number above 0 written in ASCII (``0.5``, ``2``, ``1e3``): not ``nan``, ``inf``, other scripts'
    digits or ``_``; at most ``maximum``."""
    value = text.strip()
    shown = text if len(text) <= MAX_NUMBER_CHARS else text[:MAX_NUMBER_CHARS] + "..."
    number: float | None = None
    if value and len(value) <= MAX_NUMBER_CHARS and value.isascii() and "_" not in value:
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise BadOptionValue(f"{what} {shown!r} is not a finite number", text)
    if number <= 0 or (maximum is not None and number > maximum):
        bound = f"above 0 and at most {maximum:g}" if maximum is not None else "above 0"
        raise BadOptionValue(f"{what} {value} is out of range: it must be {bound}", text)
    return number
