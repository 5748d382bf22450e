"""Drift thresholds (where a metric warns or fails) and how verdicts combine."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from esdh.errors import UsageError

VERDICTS = ("pass", "warn", "fail")


@dataclass(frozen=True)
class Thresholds:
    """Where a metric turns a column (or table) to warn or fail. A value at or above ``*_warn`` warns,
    at or above ``*_fail`` fails; p-values the other way round (below).

    ========================  =======  =======  ================================================================
    metric                    warn     fail     meaning
    ========================  =======  =======  ================================================================
    wasserstein               0.1      0.2      Wasserstein-1 / reference std (numeric; Evidently's 0.1)
    ks                        0.1      0.2      two-sample KS statistic D, an effect size (numeric)
    jensenshannon             0.05     0.1      Jensen-Shannon distance, base 2 (categorical)
    share                     0.2      0.5      largest 1 - min/max of one category's share, counted only when
                                                a two-proportion z-test gives p < share_p_value (0.001) and the
                                                share is >= 0.5% on one side: 2% -> 5% fraud is 0.6
    psi                       0.1      0.25     population stability index (Siddiqi's rule of thumb)
    null_rate                 0.01     0.05     absolute change of the share of nulls
    cardinality               0.1      0.25     relative change of the distinct count (categorical columns)
    distinct_ratio            0.05     0.1      absolute change of distinct/non-null (near-unique columns:
                                                reference ratio >= near_unique, 0.9), stable across scales
    correlation               0.1      0.2      largest absolute change of a Pearson coefficient (per table)
    row_count                 0.01     0.5      relative change of a table's rows; a deliberate re-run at
                                                another scale warns, halving or +50% fails
    p_value                   0.05     0.01     KS / chi-square p-value, only when a side has at most
                                                small_sample (1000) values; above it p-values are information
    ========================  =======  =======  ================================================================

    ``categorical_max_distinct`` (20): an integer column with at most this many distinct values in the
    reference is compared as categories. Strings and booleans always are; dates and timestamps are numbers
    (days since 1970-01-01).
    """

    wasserstein_warn: float = 0.1
    wasserstein_fail: float = 0.2
    ks_warn: float = 0.1
    ks_fail: float = 0.2
    jensenshannon_warn: float = 0.05
    jensenshannon_fail: float = 0.1
    share_warn: float = 0.2
    share_fail: float = 0.5
    share_p_value: float = 0.001
    psi_warn: float = 0.1
    psi_fail: float = 0.25
    null_rate_warn: float = 0.01
    null_rate_fail: float = 0.05
    cardinality_warn: float = 0.1
    cardinality_fail: float = 0.25
    distinct_ratio_warn: float = 0.05
    distinct_ratio_fail: float = 0.1
    near_unique: float = 0.9
    correlation_warn: float = 0.1
    correlation_fail: float = 0.2
    row_count_warn: float = 0.01
    row_count_fail: float = 0.5
    p_value_warn: float = 0.05
    p_value_fail: float = 0.01
    small_sample: int = 1000
    categorical_max_distinct: int = 20

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Thresholds:
        """Defaults overridden by ``mapping``; every unknown key and bad value is reported at once."""
        if not isinstance(mapping, Mapping):
            raise UsageError(f"drift thresholds must be a mapping of name to number, not {type(mapping).__name__}")
        known = {f.name: f for f in fields(cls)}
        problems = []
        values: dict[str, Any] = {}
        for key, value in mapping.items():
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(f"unknown drift threshold '{key}'{hint}; known: {', '.join(known)}")
                continue
            whole = key in ("small_sample", "categorical_max_distinct")
            if isinstance(value, bool) or not isinstance(value, int | float) or (whole and not isinstance(value, int)):
                kind = "a whole number" if whole else "a number"
                problems.append(f"drift threshold '{key}' must be {kind}, not {value!r}")
            elif not math.isfinite(value) or value < 0:
                problems.append(f"drift threshold '{key}' must be finite and >= 0, not {value!r}")
            elif (key.startswith("p_value") or key in ("share_p_value", "near_unique")) and value > 1:
                problems.append(f"drift threshold '{key}' must be between 0 and 1, not {value!r}")
            else:
                values[key] = value
        merged = cls(**values)
        for name in {f.name[: -len("_warn")] for f in fields(cls) if f.name.endswith("_warn")}:
            warn, fail = getattr(merged, f"{name}_warn"), getattr(merged, f"{name}_fail")
            if (fail > warn) if name == "p_value" else (warn > fail):
                relation = ">=" if name == "p_value" else "<="
                problems.append(f"drift threshold {name}_warn ({warn}) must be {relation} {name}_fail ({fail})")
        if problems:
            raise UsageError("bad drift thresholds:\n" + "\n".join(f"  {p}" for p in sorted(problems)))
        return merged

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def worst(verdicts: Iterable[str]) -> str:
    """The worst of some verdicts ("pass" when there are none)."""
    return max(verdicts, key=VERDICTS.index, default="pass")
