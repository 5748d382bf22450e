"""Small inline-SVG charts for self-contained HTML reports: no script, no web font, no request.

Each function returns one ``<svg class="chart ...">`` string; every label is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

REFERENCE = "#0969da"  # blue
CURRENT = "#e16f24"  # orange
TEXT = 'font-family="system-ui, sans-serif" font-size="11" fill="#1f2328"'


def fmt(value: float | None) -> str:
    """A short number for an axis or a cell."""
    if value is None:
        return "n/a"
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.4g}"


def _shares(counts: Sequence[float]) -> list[float]:
    total = sum(counts)
    return [c / total if total else 0.0 for c in counts]


def _open(kind: str, width: float, height: float, title: str) -> str:
    return (f'<svg class="chart {kind}" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>')


def _legend(x: float, y: float) -> str:
    return (f'<rect x="{x}" y="{y}" width="10" height="10" fill="{REFERENCE}" fill-opacity="0.55"/>'
            f'<text x="{x + 14}" y="{y + 9}" {TEXT}>reference</text>'
            f'<rect x="{x + 80}" y="{y}" width="10" height="10" fill="{CURRENT}" fill-opacity="0.55"/>'
            f'<text x="{x + 94}" y="{y + 9}" {TEXT}>current</text>')


def histogram(edges: Sequence[float], reference: Sequence[int], current: Sequence[int], title: str = "",
              width: int = 440, height: int = 200, axis: Callable[[float], str] = fmt) -> str:
    """Two distributions over the same bins, overlaid as shares of their samples; ``axis`` writes the
    x-axis values (e.g. days as dates)."""
    left, right, top, bottom = 44, 10, 24, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    ref, cur = _shares(reference), _shares(current)
    peak = max([*ref, *cur, 1e-12])
    bins = max(len(ref), 1)
    bar_w = plot_w / bins
    parts = [_open("histogram", width, height, title or "histogram"), _legend(left, 6)]
    for shares, colour in ((ref, REFERENCE), (cur, CURRENT)):
        for i, share in enumerate(shares):
            h = plot_h * share / peak
            parts.append(f'<rect x="{left + i * bar_w:.2f}" y="{top + plot_h - h:.2f}" width="{bar_w:.2f}" '
                         f'height="{h:.2f}" fill="{colour}" fill-opacity="0.45"/>')
    base = top + plot_h
    parts.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#57606a"/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#57606a"/>')
    parts.append(f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" {TEXT}>{peak:.0%}</text>')
    parts.append(f'<text x="{left - 4}" y="{base}" text-anchor="end" {TEXT}>0</text>')
    if edges:
        for x, value, anchor in ((left, edges[0], "start"), (left + plot_w / 2, edges[len(edges) // 2], "middle"),
                                 (left + plot_w, edges[-1], "end")):
            parts.append(f'<text x="{x:.1f}" y="{base + 14}" text-anchor="{anchor}" {TEXT}>'
                         f"{escape(axis(value))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def category_bars(labels: Sequence[str], reference: Sequence[int], current: Sequence[int], title: str = "",
                  width: int = 440) -> str:
    """Grouped horizontal bars: each category's share in the reference and in the current data."""
    left, right, top, row_h = 130, 96, 24, 20
    plot_w = width - left - right
    ref, cur = _shares(reference), _shares(current)
    peak = max([*ref, *cur, 1e-12])
    height = top + row_h * len(labels) + 8
    parts = [_open("bars", width, height, title or "category shares"), _legend(left, 6)]
    for i, label in enumerate(labels):
        y = top + i * row_h
        text = label if len(label) <= 20 else label[:19] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" {TEXT}>{escape(text)}'
                     f"<title>{escape(label)}</title></text>")
        for offset, share, colour in ((2, ref[i], REFERENCE), (10, cur[i], CURRENT)):
            w = plot_w * share / peak
            parts.append(f'<rect x="{left}" y="{y + offset}" width="{w:.2f}" height="7" fill="{colour}"/>')
        parts.append(f'<text x="{left + plot_w * max(ref[i], cur[i]) / peak + 4:.1f}" y="{y + 13}" {TEXT}>'
                     f"{ref[i]:.1%} / {cur[i]:.1%}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _colour(value: float | None) -> str:
    """Diverging scale: blue for -1, white for 0, red for +1; grey for no value."""
    if value is None:
        return "#eaeef2"
    v = max(-1.0, min(1.0, value))
    target = (5, 80, 174) if v < 0 else (207, 34, 46)
    mix = [round(255 + (t - 255) * abs(v)) for t in target]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def correlation_heatmap(labels: Sequence[str], panels: Sequence[tuple[str, Sequence[Sequence[float | None]]]],
                        title: str = "") -> str:
    """Correlation matrices side by side (e.g. reference, current, change), with labels and a colour scale."""
    n = len(labels)
    cell = max(14.0, min(30.0, 260.0 / max(n, 1)))
    label_w, top = 110, 100
    panel_w = label_w + cell * n + 20
    width = panel_w * len(panels) + 60
    height = top + cell * n + 24
    parts = [_open("heatmap", width, height, title or "correlation")]
    for p, (name, matrix) in enumerate(panels):
        x0 = p * panel_w + label_w
        parts.append(f'<text x="{x0}" y="14" font-weight="600" {TEXT}>{escape(name)}</text>')
        for i, label in enumerate(labels):
            short = escape(label if len(label) <= 16 else label[:15] + "…")
            parts.append(f'<text x="{x0 - 4}" y="{top + i * cell + cell / 2 + 4:.1f}" text-anchor="end" {TEXT}>'
                         f"{short}</text>")
            cx = x0 + i * cell + cell / 2
            parts.append(f'<text x="{cx:.1f}" y="{top - 6}" transform="rotate(-45 {cx:.1f} {top - 6})" {TEXT}>'
                         f"{short}</text>")
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                x, y = x0 + j * cell, top + i * cell
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell:.1f}" height="{cell:.1f}" '
                             f'fill="{_colour(value)}" stroke="#fff"><title>{escape(labels[i])} ~ '
                             f"{escape(labels[j])}: {escape(fmt(value))}</title></rect>")
                if cell >= 26 and value is not None:
                    ink = "#fff" if abs(value) > 0.6 else "#1f2328"
                    parts.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 3:.1f}" text-anchor="middle" '
                                 f'font-family="system-ui, sans-serif" font-size="9" fill="{ink}">{value:.2f}</text>')
    scale_x, steps = width - 40, 20
    scale_h = cell * n
    for k in range(steps):
        value = 1 - 2 * (k + 0.5) / steps
        parts.append(f'<rect x="{scale_x}" y="{top + k * scale_h / steps:.1f}" width="12" '
                     f'height="{scale_h / steps + 0.5:.1f}" fill="{_colour(value)}"/>')
    for text, y in (("+1", top + 8), ("0", top + scale_h / 2 + 4), ("-1", top + scale_h)):
        parts.append(f'<text x="{scale_x + 15}" y="{y:.1f}" {TEXT}>{text}</text>')
    parts.append("</svg>")
    return "".join(parts)
