"""One table present in both folders: its row count, each shared column's entry, its correlations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from esdh.quality.drift.categorical import categorical_metrics, categories
from esdh.quality.drift.correlation import MAX_CORRELATION_COLUMNS, correlation
from esdh.quality.drift.judge import Judge, num
from esdh.quality.drift.numeric import numeric_metrics
from esdh.quality.drift.queries import DAYS, FREQUENCY_LIMIT, family, frequencies, numeric_expr, sample, stats
from esdh.quality.drift.sources import Table
from esdh.quality.drift.thresholds import Thresholds, worst

HIGH_CARDINALITY = 100_000  # strings with more distinct values get no category frequencies
MARKER = "synthetic_source"  # ESDH's constant marker column; its text names the version, so not judged


def _rows_entry(ref_rows: int | None, cur_rows: int | None, th: Thresholds, judge: Judge) -> dict[str, Any]:
    entry: dict[str, Any] = {"reference": ref_rows, "current": cur_rows, "change": None}
    if ref_rows is not None and cur_rows is not None:
        change = abs(cur_rows - ref_rows) / ref_rows if ref_rows else (0.0 if not cur_rows else 1.0)
        entry["change"] = num(change)
        judge.above(entry, "row count change", change, th.row_count_warn, th.row_count_fail,
                    f" ({ref_rows:,} -> {cur_rows:,} rows)")
    return entry


@dataclass
class _Plan:
    """How one column shared by both sides is compared."""

    kind: str  # numeric, categorical or marker
    judge: Judge
    ref_freq: list[tuple[str, int]] | None
    cur_freq: list[tuple[str, int]] | None
    exprs: tuple[str, str]  # the column as a number, per side
    temporal: bool


class TablePair:
    """One table on both sides: exact counts first, then a plan per shared column, then its entry."""

    def __init__(self, con: Any, ref_t: Table, cur_t: Table, th: Thresholds, sample_rows: int):
        self.con, self.ref_t, self.cur_t, self.th, self.sample_rows = con, ref_t, cur_t, th, sample_rows
        self.ref, self.cur = stats(con, ref_t.relation), stats(con, cur_t.relation)

    def plan(self, column: str) -> _Plan:
        ref, cur, th = self.ref, self.cur, self.th
        fam_ref, fam_cur = family(ref.types[column]), family(cur.types[column])
        judge = Judge()
        if fam_ref != fam_cur:
            change = f"type changed from {ref.types[column]} to {cur.types[column]}"
            if {fam_ref, fam_cur} in ({"integer", "number"}, {"date", "datetime"}):
                judge.notes.append(f"{change}: compared as numbers")
            else:
                judge.flag("warn", f"{change}: compared as text")
                fam_ref = fam_cur = "string"
        textual = fam_ref in ("string", "boolean", "other")
        integer = fam_ref == fam_cur == "integer"
        ref_freq = cur_freq = None
        if (textual and max(ref.approx_distinct[column], cur.approx_distinct[column]) <= HIGH_CARDINALITY) or (
                integer and ref.approx_distinct[column] <= FREQUENCY_LIMIT):
            ref_freq = frequencies(self.con, self.ref_t.relation, column)
        categorical = textual or (integer and ref_freq is not None and len(ref_freq) <= th.categorical_max_distinct)
        if categorical and ref_freq is not None:
            cur_freq = frequencies(self.con, self.cur_t.relation, column)
        marker = column == MARKER and ref.approx_distinct[column] <= 1 and cur.approx_distinct[column] <= 1
        return _Plan("marker" if marker else "categorical" if categorical else "numeric", judge, ref_freq, cur_freq,
                     (numeric_expr(column, fam_ref), numeric_expr(column, fam_cur)),
                     fam_ref in ("date", "datetime"))

    def entry(self, column: str, plan: _Plan, ref_values: np.ndarray | None,
              cur_values: np.ndarray | None) -> dict[str, Any]:
        """The metrics, chart data, verdict and reasons of one shared column."""
        ref, cur, th, judge = self.ref, self.cur, self.th, plan.judge
        n_ref, n_cur = ref.non_null[column], cur.non_null[column]
        small = min(n_ref, n_cur) <= th.small_sample
        if small and plan.kind != "marker" and n_ref and n_cur:
            judge.notes.append(f"at most {th.small_sample:,} values on a side: p-values decide, distances inform")
        null_ref = 1 - n_ref / ref.rows if ref.rows else 0.0
        null_cur = 1 - n_cur / cur.rows if cur.rows else 0.0
        distinct = _distinct_entry(ref.approx_distinct[column], cur.approx_distinct[column], plan, n_ref, n_cur)
        metrics: dict[str, Any] = {"count": {"reference": n_ref, "current": n_cur},
                                   "null_rate": {"reference": num(null_ref), "current": num(null_cur),
                                                 "change": num(abs(null_cur - null_ref))},
                                   "distinct": distinct}
        chart = None
        if plan.kind == "marker":
            judge.notes.append("ESDH's synthetic_source marker (its text names the version): not judged")
        else:
            judge.above(metrics["null_rate"], "null rate change", abs(null_cur - null_ref), th.null_rate_warn,
                        th.null_rate_fail, f" ({num(null_ref)} -> {num(null_cur)})")
            if n_ref > 1 and distinct["reference"] / n_ref >= th.near_unique:
                judge.above(distinct, "distinct ratio change", distinct["ratio_change"], th.distinct_ratio_warn,
                            th.distinct_ratio_fail, " (near-unique column)")
            elif plan.kind == "categorical":
                judge.above(distinct, "cardinality change", distinct["change"], th.cardinality_warn,
                            th.cardinality_fail, f" ({distinct['reference']} -> {distinct['current']} distinct)")
            if plan.kind == "numeric" and ref_values is not None and cur_values is not None:
                chart = numeric_metrics(ref_values[~np.isnan(ref_values)], cur_values[~np.isnan(cur_values)],
                                        small, th, judge, metrics, (ref.extremes[column], cur.extremes[column]))
                if chart is not None and plan.temporal:
                    chart["unit"] = metrics["unit"] = DAYS
            elif plan.ref_freq is None or plan.cur_freq is None:
                judge.notes.append(f"more than {HIGH_CARDINALITY:,} distinct values: categories not compared")
            else:
                labels, ref_c, cur_c = categories(self.con, self.ref_t.relation, self.cur_t.relation, column,
                                                  plan.ref_freq, plan.cur_freq, n_ref, n_cur)
                chart = categorical_metrics(labels, ref_c, cur_c, small, th, judge, metrics)
        return {"status": "compared", "kind": plan.kind,
                "type": {"reference": ref.types[column], "current": cur.types[column]}, "small_sample": small,
                "metrics": metrics, "chart": chart, "verdict": judge.verdict, "reasons": judge.reasons,
                "notes": judge.notes}

    def compare(self, name: str, columns: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Add the table's column entries to ``columns`` (reference order, then added ones); return the
        table's own entry (rows and correlations)."""
        ref, cur, th = self.ref, self.cur, self.th
        table_judge = Judge()
        rows = _rows_entry(ref.rows, cur.rows, th, table_judge)
        plans = {column: self.plan(column) for column in ref.types if column in cur.types}
        numeric = [c for c, p in plans.items() if p.kind == "numeric"]
        ref_sample = sample(self.con, self.ref_t.relation, ref.rows, {c: plans[c].exprs[0] for c in numeric},
                            self.sample_rows)
        cur_sample = sample(self.con, self.cur_t.relation, cur.rows, {c: plans[c].exprs[1] for c in numeric},
                            self.sample_rows)
        for column in ref.types:
            if column in plans:
                columns[f"{name}.{column}"] = self.entry(column, plans[column], ref_sample.get(column),
                                                         cur_sample.get(column))
            else:
                columns[f"{name}.{column}"] = {"status": "removed", "kind": None, "metrics": {}, "verdict": "warn",
                                               "reasons": ["column only in the reference (removed)"], "notes": []}
        for column in cur.types:
            if column not in ref.types:
                columns[f"{name}.{column}"] = {"status": "added", "kind": None, "metrics": {}, "verdict": "warn",
                                               "reasons": ["column only in the current folder (added)"], "notes": []}
        small = min(ref.rows, cur.rows) <= th.small_sample
        corr = correlation(numeric[:MAX_CORRELATION_COLUMNS], ref_sample, cur_sample, small, th)
        verdict = worst([table_judge.verdict, "pass" if corr["verdict"] == "info" else corr["verdict"]])
        return {"status": "compared", "format": {"reference": self.ref_t.format, "current": self.cur_t.format},
                "rows": rows, "correlation": corr, "verdict": verdict,
                "reasons": table_judge.reasons + corr["reasons"]}


def _distinct_entry(approx_ref: int, approx_cur: int, plan: _Plan, n_ref: int, n_cur: int) -> dict[str, Any]:
    """Distinct counts, exact when the frequency lists are complete, else DuckDB's HyperLogLog estimate."""
    ref_freq, cur_freq = plan.ref_freq, plan.cur_freq
    exact = ref_freq is not None and cur_freq is not None and max(len(ref_freq), len(cur_freq)) <= FREQUENCY_LIMIT
    d_ref = len(ref_freq) if exact and ref_freq is not None else min(approx_ref, n_ref)
    d_cur = len(cur_freq) if exact and cur_freq is not None else min(approx_cur, n_cur)
    ratio_ref = d_ref / n_ref if n_ref else 0.0
    ratio_cur = d_cur / n_cur if n_cur else 0.0
    return {"reference": d_ref, "current": d_cur, "exact": exact,
            "change": num(abs(d_cur - d_ref) / d_ref if d_ref else (0.0 if not d_cur else 1.0)),
            "ratio_reference": num(ratio_ref), "ratio_current": num(ratio_cur),
            "ratio_change": num(abs(ratio_cur - ratio_ref))}
