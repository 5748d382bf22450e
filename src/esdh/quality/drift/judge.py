"""Turning metric values into a verdict with reasons, and metric values into JSON-ready numbers."""

from __future__ import annotations

import math
from typing import Any

from esdh.quality.drift.thresholds import worst


def num(value: Any) -> Any:
    """A JSON-ready number: 6 significant digits, NaN and infinity as null."""
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return 0.0 if value == 0 else float(f"{value:.6g}")


class Judge:
    """Collects the verdict and reasons of one column or table."""

    def __init__(self) -> None:
        self.verdicts: list[str] = []
        self.reasons: list[str] = []
        self.notes: list[str] = []  # information that decides nothing

    def above(self, metric: dict[str, Any], label: str, value: float | None, warn: float, fail: float,
              detail: str = "") -> None:
        """Judge a distance: at or above ``warn`` warns, at or above ``fail`` fails."""
        verdict = "pass" if value is None else "fail" if value >= fail else "warn" if value >= warn else "pass"
        metric["verdict"] = verdict
        if verdict != "pass":
            limit = fail if verdict == "fail" else warn
            self.reasons.append(f"{label} {num(value)} >= {verdict} threshold {limit}{detail}")
        self.verdicts.append(verdict)

    def below(self, metric: dict[str, Any], label: str, value: float | None, warn: float, fail: float) -> None:
        """Judge a p-value: below ``warn`` warns, below ``fail`` fails."""
        verdict = "pass" if value is None else "fail" if value < fail else "warn" if value < warn else "pass"
        metric["verdict"] = verdict
        if verdict != "pass":
            limit = fail if verdict == "fail" else warn
            self.reasons.append(f"{label} {num(value)} < {verdict} threshold {limit} (small sample)")
        self.verdicts.append(verdict)

    def flag(self, verdict: str, reason: str) -> None:
        self.verdicts.append(verdict)
        self.reasons.append(reason)

    @property
    def verdict(self) -> str:
        return worst(self.verdicts)
