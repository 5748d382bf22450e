"""The drift report as one self-contained HTML page, built from the report's JSON dict alone."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from html import escape
from typing import Any

from esdh.quality.drift.queries import DAYS
from esdh.quality.html.charts import category_bars, correlation_heatmap, fmt, histogram
from esdh.quality.html.page import page, verdict_badge

SKIPPED = {"bins", "edges", "verdict", "p_value_verdict", "binning"}


def _badge(verdict: str | None) -> str:
    if verdict in ("pass", "warn", "fail"):
        return verdict_badge(verdict)
    return f'<span class="meta">{escape(verdict or "")}</span>'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt(value)
    if isinstance(value, dict):
        return ", ".join(f"{escape(str(k))}: {_value(v)}" for k, v in value.items())
    return escape("n/a" if value is None else str(value))


def _metrics_table(metrics: Mapping[str, Any]) -> str:
    rows = []
    for name, metric in metrics.items():
        if isinstance(metric, dict):
            shown = {k: v for k, v in metric.items() if k not in SKIPPED}
            cells = "; ".join(f"{escape(k)} {_value(v)}" for k, v in shown.items())
            verdict = metric.get("verdict")
        else:
            cells, verdict = _value(metric), None
        rows.append(f"<tr><th>{escape(name)}</th><td>{cells}</td><td>{_badge(verdict)}</td></tr>")
    return "<table><tr><th>metric</th><th>values</th><th>verdict</th></tr>" + "".join(rows) + "</table>"


def _day(days: float) -> str:
    """Days since 1970-01-01 as a date (the unit dates and timestamps are compared in)."""
    try:
        return (dt.date(1970, 1, 1) + dt.timedelta(days=math.floor(days))).isoformat()
    except (OverflowError, ValueError):
        return fmt(days)


def _chart(name: str, chart: Mapping[str, Any] | None) -> str:
    if not chart:
        return ""
    if chart["type"] == "histogram":
        axis = _day if chart.get("unit") == DAYS else fmt
        svg = histogram(chart["edges"], chart["reference"], chart["current"], title=f"{name}: distribution",
                        axis=axis)
        caption = f"Shares of each sample per bin; {chart.get('note', '')}"
    else:
        svg = category_bars(chart["labels"], chart["reference"], chart["current"], title=f"{name}: categories")
        caption = "Share of each category among non-null values (reference / current)"
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _identity(data: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{role}</th><td><code>{escape(str(side.get('folder')))}</code></td>"
        f"<td>{escape(str(side.get('dataset')))}</td><td>{escape(str(side.get('version')))}</td>"
        f"<td>{escape(str(side.get('seed')))}</td></tr>"
        for role, side in (("current", data["current"]), ("reference", data["reference"])))
    return ("<table><tr><th></th><th>folder</th><th>dataset</th><th>version</th><th>seed</th></tr>"
            f"{rows}</table>")


def _tables(data: Mapping[str, Any]) -> str:
    rows, maps = [], []
    for name, table in data["tables"].items():
        r = table["rows"]
        corr = table.get("correlation") or {}
        rows.append(f"<tr><td>{escape(name)}</td><td>{escape(table['status'])}</td>"
                    f'<td class="num">{_value(r["reference"])}</td><td class="num">{_value(r["current"])}</td>'
                    f'<td class="num">{_value(r["change"])}</td><td class="num">{_value(corr.get("max_change"))}</td>'
                    f"<td>{_badge(table['verdict'])}</td><td>{escape('; '.join(table['reasons']))}</td></tr>")
        if corr.get("reference_matrix"):
            ref, cur = corr["reference_matrix"], corr["current_matrix"]
            change = [[None if a is None or b is None else b - a for a, b in zip(ra, rc, strict=True)]
                      for ra, rc in zip(ref, cur, strict=True)]
            svg = correlation_heatmap(corr["columns"], [("reference", ref), ("current", cur),
                                                        ("change", change)], title=f"{name}: correlations")
            maps.append(f"<figure>{svg}<figcaption>{escape(name)}: Pearson correlations of the numeric columns "
                        f"(largest change {_value(corr.get('max_change'))})</figcaption></figure>")
    head = ("<table><tr><th>table</th><th>status</th><th>reference rows</th><th>current rows</th>"
            "<th>row change</th><th>max correlation change</th><th>verdict</th><th>reasons</th></tr>")
    return head + "".join(rows) + "</table>" + "".join(maps)


def _column_section(name: str, column: Mapping[str, Any]) -> str:
    kind = column.get("kind") or column["status"]
    reasons = "".join(f"<li>{escape(r)}</li>" for r in column["reasons"])
    anchor = "col-" + "".join(ch if ch.isalnum() else "-" for ch in name)
    return (f'<section class="column" id="{escape(anchor)}" data-column="{escape(name)}">'
            f"<h3>{escape(name)} {_badge(column['verdict'])}</h3>"
            f'<p class="meta">{escape(kind)} · {escape(column["status"])}</p>'
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + "".join(f'<p class="meta">{escape(n)}</p>' for n in column.get("notes", []))
            + (_metrics_table(column["metrics"]) if column["metrics"] else "")
            + _chart(name, column.get("chart")) + "</section>")


def render_drift_html(report: Any) -> str:
    """The page of a drift report (a DriftReport or its ``as_dict()``)."""
    data: Mapping[str, Any] = report.as_dict() if hasattr(report, "as_dict") else report
    summary = data["summary"]
    cur, ref = data["current"], data["reference"]
    index = "".join(
        f"<tr><td><a href=\"#{escape('col-' + ''.join(ch if ch.isalnum() else '-' for ch in name))}\">"
        f"{escape(name)}</a></td><td>{escape(str(c.get('kind') or c['status']))}</td><td>{_badge(c['verdict'])}</td>"
        f"<td>{escape('; '.join(c['reasons']))}</td></tr>"
        for name, c in data["columns"].items())
    thresholds = "".join(f"<tr><th>{escape(k)}</th><td class=\"num\">{_value(v)}</td></tr>"
                         for k, v in data["thresholds"].items())
    body = (f"<p>Overall verdict {_badge(data['verdict'])} &nbsp; {summary['columns']} columns: "
            f"{summary['pass']} pass, {summary['warn']} warn, {summary['fail']} fail</p>"
            + _identity(data)
            + "<h2>Tables</h2>" + _tables(data)
            + "<h2>Columns</h2><table><tr><th>column</th><th>kind</th><th>verdict</th><th>reasons</th></tr>"
            + index + "</table>"
            + "".join(_column_section(name, c) for name, c in data["columns"].items())
            + "<h2>Thresholds</h2><details><summary>Values used</summary><table>" + thresholds
            + "</table></details>")
    subtitle = (f"current {cur.get('dataset')} {cur.get('version')} (seed {cur.get('seed')}) against "
                f"reference {ref.get('dataset')} {ref.get('version')} (seed {ref.get('seed')})")
    return page("Drift report", body, subtitle)
