"""The outcome of a check: how many values it evaluated, how many failed, and samples of the failures."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from esdh.errors import EsdhError

SAMPLES = 5


@dataclass
class CheckResult:
    table: str
    check: str
    column: str | None = None
    evaluated: int = 0
    failed: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    expected: Any = None  # the bound, values or pattern of a column check
    implied: bool = False  # the bound comes from the column's generator, not from a declared check

    @property
    def passed(self) -> bool:
        return self.failed == 0

    @property
    def expectation(self) -> str:
        """What a column check asks for, in words: `` (at most 90)``, `` (one of [...], implied by the generator)``."""
        return f" ({expectation(self.check, self.expected, self.implied)})" if self.expected is not None else ""

    def state(self) -> dict[str, Any]:
        """Every field, as JSON (a partition's results travel between processes and into the resume journal)."""
        return {**asdict(self), "expected": plain(self.expected)}

    def as_dict(self) -> dict[str, Any]:
        rate = 100.0 if not self.evaluated else round(100.0 * (self.evaluated - self.failed) / self.evaluated, 4)
        found = {"table": self.table, "column": self.column, "check": self.check, "evaluated": self.evaluated,
                 "failed": self.failed, "success_percent": rate, "samples": self.samples}
        if self.expected is not None:
            found["expected"] = plain(self.expected)
            found["implied"] = self.implied
        return found


def expectation(check: str, expected: Any, implied: bool) -> str:
    """A column check's bound, values or pattern in words, and whether the generator implies it."""
    words = {"min": "at least {}", "max": "at most {}", "enum": "one of {}", "pattern": "matching {}",
             "min_length": "at least {} characters", "max_length": "at most {} characters"}
    return words.get(check, "{}").format(plain(expected)) + (", implied by the generator" if implied else "")


class CheckFailed(EsdhError):
    """Generated data broke its own spec; the output is not published."""

    def __init__(self, failures: list[CheckResult]):
        self.failures = failures
        lines = [f"  {f.table}.{f.column or '*'}: {f.check}{f.expectation}: {f.failed:,} of {f.evaluated:,} rows "
                 f"fail (e.g. {f.samples[:2]})" for f in failures]
        super().__init__("generated data does not satisfy its spec:\n" + "\n".join(lines))


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
