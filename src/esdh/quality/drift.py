"""Quality and drift between two versions of a dataset: per column, per table and overall pass/warn/fail.

Two output folders (each with a ``datapackage.json``) are compared table by table and column by column,
the *current* one against the *reference* one (Evidently's vocabulary). Exact counts (rows, nulls,
distinct values, category frequencies) come from DuckDB over the files, so memory stays bounded whatever
the size. Distribution metrics of numeric columns and correlations use a systematic sample of each table:
every k-th row in file order, at most ``SAMPLE_ROWS`` rows (all rows of a smaller table). File order is
fixed, so the same folders always give the same sample and the same JSON bytes.

Which metrics decide follows Evidently. On samples larger than ``small_sample`` values, effect sizes
decide (normalised Wasserstein distance, KS statistic, Jensen-Shannon distance, PSI, the largest
significant change of one category's share) and p-values are reported as information only: with millions
of rows a KS p-value is ~0 for a shift nobody would notice. On small samples distances are mostly noise,
so the KS and chi-square p-values decide instead and the distances are information. Null rates,
cardinality, row counts and correlations are judged the same way at any size (correlations only above
``small_sample`` rows).
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from esdh.errors import UsageError
from esdh.quality.checks import file_relation

VERDICTS = ("pass", "warn", "fail")
FORMAT_VERSION = 1
SAMPLE_ROWS = 100_000  # rows sampled per table for numeric distributions and correlations
MAX_CATEGORIES = 20  # categories compared (and charted) per column; the rest are pooled as "other"
OTHER = "other"
PSI_BINS = 10  # quantile bins of the reference, for numeric PSI
PSI_FLOOR = 1e-4  # share given to an empty bin (Evidently's floor) so that PSI stays finite
HISTOGRAM_BINS = 30
FREQUENCY_LIMIT = 200  # categories fetched per side; a column with fewer has an exact distinct count
HIGH_CARDINALITY = 100_000  # strings with more distinct values get no category frequencies
MIN_SHARE = 0.005  # a category rarer than this on both sides is not judged by its share change
MAX_CORRELATION_COLUMNS = 30
MARKER = "synthetic_source"  # ESDH's constant marker column; its text names the version, so not judged
FORMAT_PREFERENCE = ("parquet", "csv", "ndjson", "json")
MANIFEST = "datapackage.json"
NUMERIC_FAMILIES = ("integer", "number", "date", "datetime")
DAYS = "days since 1970-01-01"  # the unit dates and timestamps are compared in


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


def _num(value: Any) -> Any:
    """A JSON-ready number: 6 significant digits, NaN and infinity as null."""
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return 0.0 if value == 0 else float(f"{value:.6g}")


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class _Table:
    relation: str
    format: str


@dataclass
class _Folder:
    path: Path
    manifest: dict[str, Any]
    tables: dict[str, _Table]

    def identity(self) -> dict[str, Any]:
        esdh = self.manifest.get("esdh") or {}
        return {"folder": str(self.path), "dataset": esdh.get("dataset") or self.manifest.get("name"),
                "version": self.manifest.get("version"), "seed": esdh.get("seed")}


_CSV_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE",
              "datetime": "TIMESTAMP"}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_relation(paths: list[Path], schema_fields: list[dict[str, Any]], typed: bool) -> str:
    """With ``typed``, declared Table Schema types are imposed (a zip code stays a string) and undeclared
    ones (``any``) are left to DuckDB's type detection; without, DuckDB detects every type."""
    listed = ", ".join(_literal(str(p)) for p in paths)
    files = listed if len(paths) == 1 else f"[{listed}]"
    types = {f["name"]: _CSV_TYPES[f["type"]] for f in schema_fields if f.get("type") in _CSV_TYPES}
    option = ""
    if typed and types:
        option = ", types={" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in types.items()) + "}"
    return f"read_csv({files}, header=true{option})"


def _resource_format(resource: dict[str, Any]) -> str:
    fmt = str(resource.get("format") or "").lower()
    if not fmt:
        path = resource["path"] if isinstance(resource["path"], str) else resource["path"][0]
        fmt = Path(path).suffix.lstrip(".").lower()
    return fmt


def _open_folder(con: Any, folder: Path) -> _Folder:
    import duckdb

    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{folder} has no {MANIFEST}: it is not an ESDH output folder") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{folder / MANIFEST} cannot be read: {exc}") from None
    resources = [r for r in manifest.get("resources", []) if r.get("type") == "table" and r.get("path")]
    names = {r["name"] for r in resources}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:  # a table written in several formats: "orders", "orders-csv", ...
        name, fmt = resource["name"], _resource_format(resource)
        base = name[: -len(fmt) - 1]
        grouped.setdefault(base if name.endswith("-" + fmt) and base in names else name, []).append(resource)
    # An ingested external file's schema was itself detected by DuckDB: read it the same way.
    ingested = (manifest.get("esdh") or {}).get("source") == "ingested"
    tables = {}
    for name, group in grouped.items():
        readable = [r for r in group if _resource_format(r) in FORMAT_PREFERENCE]
        if not readable:
            continue
        resource = min(readable, key=lambda r: FORMAT_PREFERENCE.index(_resource_format(r)))
        fmt = _resource_format(resource)
        listed = resource["path"] if isinstance(resource["path"], list) else [resource["path"]]
        paths = [folder / p for p in listed]
        if fmt != "csv":
            tables[name] = _Table(file_relation(paths), fmt)
            continue
        schema_fields = (resource.get("schema") or {}).get("fields") or []
        relation = _csv_relation(paths, schema_fields, typed=not ingested)
        try:
            con.execute(f"DESCRIBE SELECT * FROM {relation}")
        except duckdb.Error:  # declared types the file does not follow: let DuckDB detect them
            relation = _csv_relation(paths, schema_fields, typed=False)
        tables[name] = _Table(relation, fmt)
    return _Folder(folder, manifest, tables)


@dataclass
class _Stats:
    """Exact counts (and numeric extremes) of one table, from one pass over its files."""

    rows: int
    types: dict[str, str]
    non_null: dict[str, int]
    approx_distinct: dict[str, int]
    extremes: dict[str, tuple[float | None, float | None]]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _stats(con: Any, relation: str) -> _Stats:
    types = {row[0]: str(row[1]) for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    numeric = [c for c, t in types.items() if _family(t) in NUMERIC_FAMILIES]
    parts = ["count(*)"] + [f"count({_q(c)}), approx_count_distinct({_q(c)})" for c in types]
    parts += [f"min({_numeric_expr(c, _family(types[c]))}), max({_numeric_expr(c, _family(types[c]))})"
              for c in numeric]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {relation}").fetchone()
    names, base = list(types), 1 + 2 * len(types)
    return _Stats(int(row[0]), types, {c: int(row[1 + 2 * i]) for i, c in enumerate(names)},
                  {c: int(row[2 + 2 * i]) for i, c in enumerate(names)},
                  {c: (row[base + 2 * i], row[base + 2 * i + 1]) for i, c in enumerate(numeric)})


def _family(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t == "BOOLEAN":
        return "boolean"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT", "UHUGEINT"):
        return "integer"
    if t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "number"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    return "string" if t == "VARCHAR" else "other"


def _numeric_expr(column: str, family: str) -> str:
    if family == "date":
        return f"CAST(date_diff('day', DATE '1970-01-01', {_q(column)}) AS DOUBLE)"
    if family == "datetime":
        return f"epoch({_q(column)}) / 86400.0"
    return f"CAST({_q(column)} AS DOUBLE)"


def _frequencies(con: Any, relation: str, column: str, only: list[str] | None = None) -> list[tuple[str, int]]:
    """Non-null values of a column as text with their counts, most frequent first (ties by value)."""
    where = f"{_q(column)} IS NOT NULL"
    if only is not None:
        where += f" AND CAST({_q(column)} AS VARCHAR) IN ({', '.join(_literal(v) for v in only)})"
    query = (f"SELECT CAST({_q(column)} AS VARCHAR) AS v, count(*) AS n FROM {relation} WHERE {where} "
             f"GROUP BY v ORDER BY n DESC, v LIMIT {FREQUENCY_LIMIT + 1}")
    return [(str(v), int(n)) for v, n in con.execute(query).fetchall()]


def _sample(con: Any, relation: str, rows: int, exprs: dict[str, str]) -> dict[str, np.ndarray]:
    """Every k-th row (file order, which DuckDB preserves) of the numeric expressions: at most
    SAMPLE_ROWS rows, nulls as NaN, row-aligned across columns for correlations."""
    if not exprs:
        return {}
    step = max(1, math.ceil(rows / SAMPLE_ROWS))
    select = ", ".join(f"{expr} AS {_q(name)}" for name, expr in exprs.items())
    reader = con.sql(f"SELECT {select} FROM {relation}").to_arrow_reader(1 << 16)
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in exprs}
    offset = 0
    for batch in reader:
        take = np.arange((-offset) % step, batch.num_rows, step)
        offset += batch.num_rows
        picked = batch.take(take) if step > 1 else batch
        for name in exprs:
            values = picked.column(name).to_numpy(zero_copy_only=False)
            chunks[name].append(np.asarray(values, dtype=np.float64))
    return {name: np.concatenate(parts) if parts else np.empty(0) for name, parts in chunks.items()}


# ---------------------------------------------------------------------------------------------- judging


class _Judge:
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
            self.reasons.append(f"{label} {_num(value)} >= {verdict} threshold {limit}{detail}")
        self.verdicts.append(verdict)

    def below(self, metric: dict[str, Any], label: str, value: float | None, warn: float, fail: float) -> None:
        """Judge a p-value: below ``warn`` warns, below ``fail`` fails."""
        verdict = "pass" if value is None else "fail" if value < fail else "warn" if value < warn else "pass"
        metric["verdict"] = verdict
        if verdict != "pass":
            limit = fail if verdict == "fail" else warn
            self.reasons.append(f"{label} {_num(value)} < {verdict} threshold {limit} (small sample)")
        self.verdicts.append(verdict)

    def flag(self, verdict: str, reason: str) -> None:
        self.verdicts.append(verdict)
        self.reasons.append(reason)

    @property
    def verdict(self) -> str:
        return worst(self.verdicts)


def _psi(reference: np.ndarray, current: np.ndarray) -> float:
    ref = np.maximum(reference / max(reference.sum(), 1), PSI_FLOOR)
    cur = np.maximum(current / max(current.sum(), 1), PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _numeric_metrics(ref: np.ndarray, cur: np.ndarray, small: bool, th: Thresholds, judge: _Judge,
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
    labels = [f"({_num(lo) if math.isfinite(lo) else '-inf'}, {_num(hi) if math.isfinite(hi) else 'inf'}]"
              for lo, hi in itertools.pairwise(bounds)]
    metrics["ks"] = {"statistic": _num(ks.statistic), "p_value": _num(ks.pvalue)}
    metrics["wasserstein"] = {"distance": _num(distance), "normalized": _num(normalized), "scale": scale_name,
                              "scale_value": _num(scale)}
    metrics["psi"] = {"value": _num(_psi(ref_bins, cur_bins)), "reference_n": len(ref), "current_n": len(cur),
                      "binning": f"{PSI_BINS} quantile bins of the reference", "edges": [_num(e) for e in edges],
                      "bins": [{"bin": label, "reference": int(r), "current": int(c)}
                               for label, r, c in zip(labels, ref_bins, cur_bins, strict=True)]}
    metrics["summary"] = {side: {"min": _num(low), "mean": _num(v.mean()), "median": _num(np.median(v)),
                                 "max": _num(high), "std": _num(v.std())}
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
    lo = float(min(np.quantile(ref, 0.005), np.quantile(cur, 0.005)))
    hi = float(max(np.quantile(ref, 0.995), np.quantile(cur, 0.995)))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    hist_edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)
    return {"type": "histogram", "edges": [_num(e) for e in hist_edges],
            "reference": np.histogram(np.clip(ref, lo, hi), hist_edges)[0].tolist(),
            "current": np.histogram(np.clip(cur, lo, hi), hist_edges)[0].tolist(),
            "note": "the outer bins hold the 0.5% tails on each side"}


def _categories(con: Any, ref_rel: str, cur_rel: str, column: str, ref_freq: list[tuple[str, int]],
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
            counts.update(_frequencies(con, relation, column, only=missing))
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
            best = {"value": _num(change), "category": label, "reference_share": _num(p_ref),
                    "current_share": _num(p_cur), "p_value": _num(p_value)}
    return best


def _categorical_metrics(labels: list[str], ref: np.ndarray, cur: np.ndarray, small: bool, th: Thresholds,
                         judge: _Judge, metrics: dict[str, Any]) -> dict[str, Any] | None:
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
        chi = {"statistic": 0.0, "p_value": 1.0, "dof": 0}
    else:
        result = chi2_contingency(table, correction=False)
        chi = {"statistic": _num(result.statistic), "p_value": _num(result.pvalue), "dof": int(result.dof)}
    metrics["jensenshannon"] = {"distance": _num(js)}
    metrics["chi_square"] = chi
    metrics["psi"] = {"value": _num(_psi(ref, cur)), "reference_n": n_ref, "current_n": n_cur,
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


def _correlation(names: list[str], ref: dict[str, np.ndarray], cur: dict[str, np.ndarray], small: bool,
                 th: Thresholds) -> dict[str, Any]:
    """Pearson coefficients of the numeric columns on each side's sample, pairwise complete."""

    def matrix(sample: dict[str, np.ndarray]) -> list[list[float | None]]:
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
                    row.append(_num(np.corrcoef(x, y)[0, 1]))
            out.append(row)
        return out

    entry: dict[str, Any] = {"columns": names, "max_change": None, "pair": None, "verdict": "pass", "reasons": []}
    if len(names) < 2:
        return entry
    ref_m, cur_m = matrix(ref), matrix(cur)
    best, pair = 0.0, None
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            r, c = ref_m[i][j], cur_m[i][j]
            if r is not None and c is not None and (pair is None or abs(c - r) > best):
                best, pair = abs(c - r), [a, names[j]]
    entry.update(max_change=_num(best) if pair else None, pair=pair, reference_matrix=ref_m, current_matrix=cur_m)
    if small:
        entry["verdict"] = "info"
        return entry
    judge = _Judge()
    judge.above(entry, "correlation change", entry["max_change"], th.correlation_warn, th.correlation_fail,
                f" ({pair[0]} ~ {pair[1]})" if pair else "")
    entry["reasons"] = judge.reasons
    return entry


# ---------------------------------------------------------------------------------------------- comparing


def _rows_entry(ref_rows: int | None, cur_rows: int | None, th: Thresholds, judge: _Judge) -> dict[str, Any]:
    entry: dict[str, Any] = {"reference": ref_rows, "current": cur_rows, "change": None}
    if ref_rows is not None and cur_rows is not None:
        change = abs(cur_rows - ref_rows) / ref_rows if ref_rows else (0.0 if not cur_rows else 1.0)
        entry["change"] = _num(change)
        judge.above(entry, "row count change", change, th.row_count_warn, th.row_count_fail,
                    f" ({ref_rows:,} -> {cur_rows:,} rows)")
    return entry


@dataclass
class _Plan:
    """How one column shared by both sides is compared."""

    kind: str  # numeric, categorical or marker
    judge: _Judge
    ref_freq: list[tuple[str, int]] | None
    cur_freq: list[tuple[str, int]] | None
    exprs: tuple[str, str]  # the column as a number, per side
    temporal: bool


class _TablePair:
    """One table on both sides: exact counts first, then a plan per shared column, then its entry."""

    def __init__(self, con: Any, ref_t: _Table, cur_t: _Table, th: Thresholds):
        self.con, self.ref_t, self.cur_t, self.th = con, ref_t, cur_t, th
        self.ref, self.cur = _stats(con, ref_t.relation), _stats(con, cur_t.relation)

    def plan(self, column: str) -> _Plan:
        ref, cur, th = self.ref, self.cur, self.th
        fam_ref, fam_cur = _family(ref.types[column]), _family(cur.types[column])
        judge = _Judge()
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
            ref_freq = _frequencies(self.con, self.ref_t.relation, column)
        categorical = textual or (integer and ref_freq is not None and len(ref_freq) <= th.categorical_max_distinct)
        if categorical and ref_freq is not None:
            cur_freq = _frequencies(self.con, self.cur_t.relation, column)
        marker = column == MARKER and ref.approx_distinct[column] <= 1 and cur.approx_distinct[column] <= 1
        return _Plan("marker" if marker else "categorical" if categorical else "numeric", judge, ref_freq, cur_freq,
                     (_numeric_expr(column, fam_ref), _numeric_expr(column, fam_cur)),
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
                                   "null_rate": {"reference": _num(null_ref), "current": _num(null_cur),
                                                 "change": _num(abs(null_cur - null_ref))},
                                   "distinct": distinct}
        chart = None
        if plan.kind == "marker":
            judge.notes.append("ESDH's synthetic_source marker (its text names the version): not judged")
        else:
            judge.above(metrics["null_rate"], "null rate change", abs(null_cur - null_ref), th.null_rate_warn,
                        th.null_rate_fail, f" ({_num(null_ref)} -> {_num(null_cur)})")
            if n_ref > 1 and distinct["reference"] / n_ref >= th.near_unique:
                judge.above(distinct, "distinct ratio change", distinct["ratio_change"], th.distinct_ratio_warn,
                            th.distinct_ratio_fail, " (near-unique column)")
            elif plan.kind == "categorical":
                judge.above(distinct, "cardinality change", distinct["change"], th.cardinality_warn,
                            th.cardinality_fail, f" ({distinct['reference']} -> {distinct['current']} distinct)")
            if plan.kind == "numeric" and ref_values is not None and cur_values is not None:
                chart = _numeric_metrics(ref_values[~np.isnan(ref_values)], cur_values[~np.isnan(cur_values)],
                                         small, th, judge, metrics, (ref.extremes[column], cur.extremes[column]))
                if chart is not None and plan.temporal:
                    chart["unit"] = metrics["unit"] = DAYS
            elif plan.ref_freq is None or plan.cur_freq is None:
                judge.notes.append(f"more than {HIGH_CARDINALITY:,} distinct values: categories not compared")
            else:
                labels, ref_c, cur_c = _categories(self.con, self.ref_t.relation, self.cur_t.relation, column,
                                                   plan.ref_freq, plan.cur_freq, n_ref, n_cur)
                chart = _categorical_metrics(labels, ref_c, cur_c, small, th, judge, metrics)
        return {"status": "compared", "kind": plan.kind,
                "type": {"reference": ref.types[column], "current": cur.types[column]}, "small_sample": small,
                "metrics": metrics, "chart": chart, "verdict": judge.verdict, "reasons": judge.reasons,
                "notes": judge.notes}

    def compare(self, name: str, columns: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Add the table's column entries to ``columns`` (reference order, then added ones); return the
        table's own entry (rows and correlations)."""
        ref, cur, th = self.ref, self.cur, self.th
        table_judge = _Judge()
        rows = _rows_entry(ref.rows, cur.rows, th, table_judge)
        plans = {column: self.plan(column) for column in ref.types if column in cur.types}
        numeric = [c for c, p in plans.items() if p.kind == "numeric"]
        ref_sample = _sample(self.con, self.ref_t.relation, ref.rows, {c: plans[c].exprs[0] for c in numeric})
        cur_sample = _sample(self.con, self.cur_t.relation, cur.rows, {c: plans[c].exprs[1] for c in numeric})
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
        correlation = _correlation(numeric[:MAX_CORRELATION_COLUMNS], ref_sample, cur_sample, small, th)
        verdict = worst([table_judge.verdict, "pass" if correlation["verdict"] == "info" else correlation["verdict"]])
        return {"status": "compared", "format": {"reference": self.ref_t.format, "current": self.cur_t.format},
                "rows": rows, "correlation": correlation, "verdict": verdict,
                "reasons": table_judge.reasons + correlation["reasons"]}


def _distinct_entry(approx_ref: int, approx_cur: int, plan: _Plan, n_ref: int, n_cur: int) -> dict[str, Any]:
    """Distinct counts, exact when the frequency lists are complete, else DuckDB's HyperLogLog estimate."""
    ref_freq, cur_freq = plan.ref_freq, plan.cur_freq
    exact = ref_freq is not None and cur_freq is not None and max(len(ref_freq), len(cur_freq)) <= FREQUENCY_LIMIT
    d_ref = len(ref_freq) if exact else min(approx_ref, n_ref)
    d_cur = len(cur_freq) if exact else min(approx_cur, n_cur)
    ratio_ref = d_ref / n_ref if n_ref else 0.0
    ratio_cur = d_cur / n_cur if n_cur else 0.0
    return {"reference": d_ref, "current": d_cur, "exact": exact,
            "change": _num(abs(d_cur - d_ref) / d_ref if d_ref else (0.0 if not d_cur else 1.0)),
            "ratio_reference": _num(ratio_ref), "ratio_current": _num(ratio_cur),
            "ratio_change": _num(abs(ratio_cur - ratio_ref))}


@dataclass
class DriftReport:
    """The comparison of a current folder with a reference folder."""

    current: dict[str, Any]
    reference: dict[str, Any]
    thresholds: Thresholds
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return worst([t["verdict"] for t in self.tables.values()] + [c["verdict"] for c in self.columns.values()])

    def summary(self) -> dict[str, Any]:
        counts = {v: sum(c["verdict"] == v for c in self.columns.values()) for v in VERDICTS}
        tables = {v: sum(t["verdict"] == v for t in self.tables.values()) for v in VERDICTS}
        drifted = [name for name, c in self.columns.items() if c["verdict"] != "pass"]
        return {"columns": len(self.columns), **counts, "tables": tables, "drifted_columns": drifted}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the same folders give the same dict, and the HTML page is built from it alone."""
        return {"format_version": FORMAT_VERSION, "verdict": self.verdict, "current": self.current,
                "reference": self.reference, "thresholds": self.thresholds.as_dict(), "summary": self.summary(),
                "tables": self.tables, "columns": self.columns}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def write(self, folder: Path, prefix: str = "drift") -> list[Path]:
        """Write ``<prefix>.json`` and ``<prefix>.html`` into ``folder``; returns their paths."""
        from esdh.reports.drift_html import render_drift_html

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        json_path, html_path = folder / f"{prefix}.json", folder / f"{prefix}.html"
        json_path.write_text(self.to_json(), encoding="utf-8")
        html_path.write_text(render_drift_html(self.as_dict()), encoding="utf-8")
        return [json_path, html_path]


def compare_folders(current: Path, reference: Path, thresholds: Thresholds | None = None) -> DriftReport:
    """Quality and drift of the ``current`` output folder against the ``reference`` one."""
    import duckdb

    th = thresholds or Thresholds()
    con = duckdb.connect()
    try:
        cur_f, ref_f = _open_folder(con, Path(current)), _open_folder(con, Path(reference))
        report = DriftReport(cur_f.identity(), ref_f.identity(), th)
        names = list(ref_f.tables) + [t for t in cur_f.tables if t not in ref_f.tables]
        for name in names:
            ref_t, cur_t = ref_f.tables.get(name), cur_f.tables.get(name)
            if ref_t is not None and cur_t is not None:
                try:
                    report.tables[name] = _TablePair(con, ref_t, cur_t, th).compare(name, report.columns)
                except duckdb.Error as exc:
                    raise UsageError(f"table {name!r} cannot be read: {exc}") from None
                continue
            present = cur_t or ref_t
            assert present is not None
            count = int(con.execute(f"SELECT count(*) FROM {present.relation}").fetchone()[0])
            status, side = ("added", "current folder") if cur_t else ("removed", "reference")
            report.tables[name] = {"status": status, "format": {("current" if cur_t else "reference"): present.format},
                                   "rows": {"reference": None if cur_t else count, "current": count if cur_t else None,
                                            "change": None},
                                   "correlation": None, "verdict": "warn", "reasons": [f"table only in the {side}"]}
        return report
    finally:
        con.close()
