"""Drift of one numeric column: KS, normalised Wasserstein, PSI over quantile bins, and a histogram."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from esdh.quality.drift.judge import Judge, num
from esdh.quality.drift.psi import psi
from esdh.quality.drift.thresholds import Thresholds

PSI_BINS = 10  # quantile bins of the reference, for numeric PSI
HISTOGRAM_BINS = 30


def numeric_metrics(ref: np.ndarray, cur: np.ndarray, small: bool, th: Thresholds, judge: Judge,
                    metrics: dict[str, Any], extremes: tuple[tuple[Any, Any], ...]) -> dict[str, Any] | None:
    """KS, normalised Wasserstein, PSI over quantile bins of the reference; returns the histogram data."""
    from scipy.stats import ks_2samp, wasserstein_distance

    metrics["sample"] = {"reference": len(ref), "current": len(cur)}
    if not len(ref) or not len(cur):
        judge.flag("warn", "no non-null values on one side: distributions not compared")
        return None
    ks = ks_2samp(ref, cur)
    both = np.concatenate([ref, cur])
    scale, scale_name = float(np.std(ref)), "std"
    if scale == 0:
        q1, q3 = np.quantile(both, [0.25, 0.75])
        scale, scale_name = float(q3 - q1), "iqr"
    if scale == 0:
        scale, scale_name = float(both.max() - both.min()), "range"
    distance = float(wasserstein_distance(ref, cur))
    normalized = distance / scale if scale > 0 else 0.0
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    ref_bins = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1)
    cur_bins = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1)
    bounds = [-math.inf, *edges.tolist(), math.inf]
    labels = [f"({num(lo) if math.isfinite(lo) else '-inf'}, {num(hi) if math.isfinite(hi) else 'inf'}]"
              for lo, hi in itertools.pairwise(bounds)]
    metrics["ks"] = {"statistic": num(ks.statistic), "p_value": num(ks.pvalue)}
    metrics["wasserstein"] = {"distance": num(distance), "normalized": num(normalized), "scale": scale_name,
                              "scale_value": num(scale)}
    metrics["psi"] = {"value": num(psi(ref_bins, cur_bins)), "reference_n": len(ref), "current_n": len(cur),
                      "binning": f"{PSI_BINS} quantile bins of the reference", "edges": [num(e) for e in edges],
                      "bins": [{"bin": label, "reference": int(r), "current": int(c)}
                               for label, r, c in zip(labels, ref_bins, cur_bins, strict=True)]}
    metrics["summary"] = {side: {"min": num(low), "mean": num(v.mean()), "median": num(np.median(v)),
                                 "max": num(high), "std": num(v.std())}
                          for side, v, (low, high) in (("reference", ref, extremes[0]), ("current", cur, extremes[1]))}
    if small:
        judge.below(metrics["ks"], "KS p-value", ks.pvalue, th.p_value_warn, th.p_value_fail)
        for name in ("wasserstein", "psi"):
            metrics[name]["verdict"] = "info"
    else:
        metrics["ks"]["p_value_verdict"] = "info"
        judge.above(metrics["wasserstein"], "normalized Wasserstein distance", normalized, th.wasserstein_warn,
                    th.wasserstein_fail)
        judge.above(metrics["ks"], "KS statistic", float(ks.statistic), th.ks_warn, th.ks_fail)
        judge.above(metrics["psi"], "PSI", metrics["psi"]["value"], th.psi_warn, th.psi_fail)
    return _histogram(ref, cur)


def _histogram(ref: np.ndarray, cur: np.ndarray) -> dict[str, Any]:
    """Both sides over the same HISTOGRAM_BINS bins between the 0.5% and 99.5% quantiles."""
    lo = float(min(np.quantile(ref, 0.005), np.quantile(cur, 0.005)))
    hi = float(max(np.quantile(ref, 0.995), np.quantile(cur, 0.995)))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    hist_edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)
    return {"type": "histogram", "edges": [num(e) for e in hist_edges],
            "reference": np.histogram(np.clip(ref, lo, hi), hist_edges)[0].tolist(),
            "current": np.histogram(np.clip(cur, lo, hi), hist_edges)[0].tolist(),
            "note": "the outer bins hold the 0.5% tails on each side"}
