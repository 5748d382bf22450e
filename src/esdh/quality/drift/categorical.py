"""Drift of one categorical column: the top categories, Jensen-Shannon, chi-square, PSI and share change."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from esdh.quality.drift.judge import Judge, num
from esdh.quality.drift.psi import psi
from esdh.quality.drift.queries import FREQUENCY_LIMIT, frequencies
from esdh.quality.drift.thresholds import Thresholds

MAX_CATEGORIES = 20  # categories compared (and charted) per column; the rest are pooled as "other"
OTHER = "other"
MIN_SHARE = 0.005  # a category rarer than this on both sides is not judged by its share change


def categories(con: Any, ref_rel: str, cur_rel: str, column: str, ref_freq: list[tuple[str, int]],
               cur_freq: list[tuple[str, int]], n_ref: int, n_cur: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The MAX_CATEGORIES categories with the largest combined share, and each side's exact counts of
    them plus "other"."""
    ref_counts, cur_counts = dict(ref_freq), dict(cur_freq)
    candidates = sorted(set(ref_counts) | set(cur_counts),
                        key=lambda v: (-(ref_counts.get(v, 0) / max(n_ref, 1) + cur_counts.get(v, 0) / max(n_cur, 1)),
                                       v))
    chosen = candidates[:MAX_CATEGORIES]
    for counts, freq, relation in ((ref_counts, ref_freq, ref_rel), (cur_counts, cur_freq, cur_rel)):
        missing = [v for v in chosen if v not in counts]
        if missing and len(freq) > FREQUENCY_LIMIT:  # a truncated list: count the rest exactly
            counts.update(frequencies(con, relation, column, only=missing))
    ref = np.array([ref_counts.get(v, 0) for v in chosen] + [0], dtype=np.int64)
    cur = np.array([cur_counts.get(v, 0) for v in chosen] + [0], dtype=np.int64)
    ref[-1], cur[-1] = n_ref - ref.sum(), n_cur - cur.sum()
    return [*chosen, OTHER], ref, cur


def _share_change(labels: list[str], ref: np.ndarray, cur: np.ndarray, th: Thresholds) -> dict[str, Any]:
    """The largest 1 - min/max of one category's share among the changes a two-proportion z-test finds
    significant: big for 2% -> 5% fraud (0.6), ~0 for sampling noise at any size."""
    n_ref, n_cur = int(ref.sum()), int(cur.sum())
    best: dict[str, Any] = {"value": 0.0, "category": None}
    for label, r, c in zip(labels[:-1], ref[:-1], cur[:-1], strict=True):
        p_ref, p_cur = r / n_ref, c / n_cur
        if max(p_ref, p_cur) < MIN_SHARE:
            continue
        pooled = (r + c) / (n_ref + n_cur)
        spread = math.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
        p_value = 1.0 if spread == 0 else math.erfc(abs(p_ref - p_cur) / spread / math.sqrt(2))
        change = 1 - min(p_ref, p_cur) / max(p_ref, p_cur)
        if p_value < th.share_p_value and change > best["value"]:
            best = {"value": num(change), "category": label, "reference_share": num(p_ref),
                    "current_share": num(p_cur), "p_value": num(p_value)}
    return best


def categorical_metrics(labels: list[str], ref: np.ndarray, cur: np.ndarray, small: bool, th: Thresholds,
                        judge: Judge, metrics: dict[str, Any]) -> dict[str, Any] | None:
    """Jensen-Shannon distance, chi-square, PSI and share change over the categories plus "other"."""
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    n_ref, n_cur = int(ref.sum()), int(cur.sum())
    if not n_ref or not n_cur:
        judge.flag("warn", "no non-null values on one side: distributions not compared")
        return None
    js = float(jensenshannon(ref / n_ref, cur / n_cur, base=2))
    table = np.array([ref, cur])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        chi: dict[str, Any] = {"statistic": 0.0, "p_value": 1.0, "dof": 0}
    else:
        result = chi2_contingency(table, correction=False)
        chi = {"statistic": num(result.statistic), "p_value": num(result.pvalue), "dof": int(result.dof)}
    metrics["jensenshannon"] = {"distance": num(js)}
    metrics["chi_square"] = chi
    metrics["psi"] = {"value": num(psi(ref, cur)), "reference_n": n_ref, "current_n": n_cur,
                      "binning": f"one bin per category (top {MAX_CATEGORIES}) plus '{OTHER}'",
                      "bins": [{"bin": label, "reference": int(r), "current": int(c)}
                               for label, r, c in zip(labels, ref, cur, strict=True)]}
    share = metrics["share_change"] = _share_change(labels, ref, cur, th)
    detail = (f" (share of '{share['category']}' {share['reference_share']} -> {share['current_share']})"
              if share["category"] is not None else "")
    judge.above(share, "category share change", share["value"], th.share_warn, th.share_fail, detail)
    if small:
        judge.below(chi, "chi-square p-value", chi["p_value"], th.p_value_warn, th.p_value_fail)
        for name in ("jensenshannon", "psi"):
            metrics[name]["verdict"] = "info"
    else:
        chi["verdict"] = "info"
        judge.above(metrics["jensenshannon"], "Jensen-Shannon distance", js, th.jensenshannon_warn,
                    th.jensenshannon_fail)
        judge.above(metrics["psi"], "PSI", metrics["psi"]["value"], th.psi_warn, th.psi_fail)
    return {"type": "bars", "labels": labels, "reference": ref.tolist(), "current": cur.tolist()}
