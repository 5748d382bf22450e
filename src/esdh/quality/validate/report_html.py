"""The HTML page of a validation report: the verdict, every check (failures first), sample failing rows,
the rules that could not be evaluated and why. Self-contained, like every report page."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from esdh.checks.results import expectation
from esdh.quality.html.page import page, verdict_badge

ORDER = ("row", "file", "line", "value", "first_row", "count")  # sample keys, in this order where present
TITLES = {"row": "Row index", "file": "File", "line": "Line", "value": "Value", "first_row": "First row with this key",
          "count": "Rows with this key"}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value, default=str, ensure_ascii=False))


def _number(value: Any) -> str:
    return f'<td class="num">{escape(f"{value:,}" if isinstance(value, int) else str(value))}</td>'


def _checks(checks: list[dict[str, Any]]) -> str:
    rows = []
    for check in sorted(checks, key=lambda c: c["failed"] == 0):  # failures first, otherwise as run
        verdict = "pass" if check["failed"] == 0 else "fail"
        rows.append(f'<tr class="check {verdict}" data-check="{escape(check["check"])}">'
                    f'<td>{escape(check["table"])}</td><td>{escape(check.get("column") or "")}</td>'
                    f'<td><code>{escape(check["check"])}</code></td>{_number(check["evaluated"])}'
                    f'{_number(check["failed"])}{_number(check["success_percent"])}'
                    f"<td>{verdict_badge(verdict)}</td></tr>")
    return ('<table id="checks"><thead><tr><th>Table</th><th>Column</th><th>Check</th><th>Evaluated</th>'
            "<th>Failed</th><th>Success %</th><th>Verdict</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _samples(check: dict[str, Any]) -> str:
    samples = check.get("samples") or []
    where = f"{check['table']}.{check.get('column') or '*'}"
    wanted = (f' <span class="expected">({escape(expectation(check["check"], check["expected"], check["implied"]))})'
              "</span>" if check.get("expected") is not None else "")
    head = (f'<h3>{escape(where)}: <code>{escape(check["check"])}</code>{wanted} — {check["failed"]:,} of '
            f'{check["evaluated"]:,} fail</h3>')
    if not samples:
        return head
    keys = [k for k in ORDER if any(k in s for s in samples)]
    keys += sorted({k for s in samples for k in s} - set(keys))
    body = "".join("<tr>" + "".join(f"<td>{_text(s[k]) if k in s else ''}</td>" for k in keys) + "</tr>"
                   for s in samples)
    header = "".join(f"<th>{escape(TITLES.get(k, k))}</th>" for k in keys)
    return f'{head}<table class="samples"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def render_validation_html(report: dict[str, Any]) -> str:
    """The validation page for ``ValidationReport.as_dict()``."""
    summary = report["summary"]
    verdict = "pass" if report["ok"] else "fail"
    parts = [f'<p id="verdict">{verdict_badge(verdict)} {summary["passed"]:,} of {summary["checks"]:,} checks '
             f'passed, {summary["failed"]:,} failed, {summary["skipped"]:,} skipped, over '
             f'{summary["evaluated_rows"]:,} rows of {summary["tables"]:,} tables.</p>']
    failed = [c for c in report["checks"] if c["failed"]]
    if failed:
        parts.append('<h2>Failures</h2><section id="failures">' + "".join(_samples(c) for c in failed) + "</section>")
    parts.append("<h2>Checks</h2>" + _checks(report["checks"]))
    if report.get("skipped"):
        rows = "".join(f"<tr><td>{escape(s['table'])}</td><td><code>{escape(s['check'])}</code></td>"
                       f"<td>{escape(s['reason'])}</td><td>{verdict_badge('skip')}</td></tr>"
                       for s in report["skipped"])
        parts.append('<h2>Not checked</h2><table id="skipped"><thead><tr><th>Table</th><th>Check</th><th>Reason</th>'
                     f"<th>Verdict</th></tr></thead><tbody>{rows}</tbody></table>")
    tables = report.get("tables") or {}
    if tables:
        rows = "".join(f"<tr><td>{escape(name)}</td><td>{escape(info.get('format', ''))}</td>"
                       f"<td>{escape(', '.join(info.get('files', [])))}</td>{_number(info.get('rows', 0))}</tr>"
                       for name, info in tables.items())
        parts.append('<h2>Data read</h2><table id="tables"><thead><tr><th>Table</th><th>Format</th><th>Files</th>'
                     f"<th>Rows</th></tr></thead><tbody>{rows}</tbody></table>")
    extra = report.get("extra_columns") or {}
    if extra:
        items = "".join(f"<li>{escape(t)}: {escape(', '.join(cols))}</li>" for t, cols in extra.items())
        parts.append(f'<h2>Columns not in the spec</h2><ul id="extra-columns">{items}</ul>')
    if report.get("ignored"):
        items = "".join(f"<li>{escape(p)}</li>" for p in report["ignored"])
        parts.append(f'<h2>Files not read</h2><ul id="ignored">{items}</ul>')
    title = f"Validation of {report['dataset']} {report['version']}"
    return page(title, "\n".join(parts), f"Data: {report['data']}")
