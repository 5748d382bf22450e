"""Drift of a table's correlations: the largest change of a Pearson coefficient between numeric columns."""

from __future__ import annotations

from typing import Any

import numpy as np

from esdh.quality.drift.judge import Judge, num
from esdh.quality.drift.thresholds import Thresholds

MAX_CORRELATION_COLUMNS = 30


def _matrix(names: list[str], sample: dict[str, np.ndarray]) -> list[list[float | None]]:
    """Pearson coefficients of every pair of columns, pairwise complete; None where undefined."""
    out: list[list[float | None]] = []
    for a in names:
        row: list[float | None] = []
        for b in names:
            x, y = sample[a], sample[b]
            keep = ~(np.isnan(x) | np.isnan(y))
            x, y = x[keep], y[keep]
            if len(x) < 3 or x.std() == 0 or y.std() == 0:
                row.append(None)
            else:
                row.append(num(np.corrcoef(x, y)[0, 1]))
        out.append(row)
    return out


def correlation(names: list[str], ref: dict[str, np.ndarray], cur: dict[str, np.ndarray], small: bool,
                th: Thresholds) -> dict[str, Any]:
    """Pearson coefficients of the numeric columns on each side's sample, pairwise complete."""
    entry: dict[str, Any] = {"columns": names, "max_change": None, "pair": None, "verdict": "pass", "reasons": []}
    if len(names) < 2:
        return entry
    ref_m, cur_m = _matrix(names, ref), _matrix(names, cur)
    best, pair = 0.0, None
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            r, c = ref_m[i][j], cur_m[i][j]
            if r is not None and c is not None and (pair is None or abs(c - r) > best):
                best, pair = abs(c - r), [a, names[j]]
    entry.update(max_change=num(best) if pair else None, pair=pair, reference_matrix=ref_m, current_matrix=cur_m)
    if small:
        entry["verdict"] = "info"
        return entry
    judge = Judge()
    judge.above(entry, "correlation change", entry["max_change"], th.correlation_warn, th.correlation_fail,
                f" ({pair[0]} ~ {pair[1]})" if pair else "")
    entry["reasons"] = judge.reasons
    return entry
