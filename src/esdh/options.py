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
