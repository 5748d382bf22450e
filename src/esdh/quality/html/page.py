"""The frame every HTML report shares: one self-contained page, styles inline, viewable offline."""

from __future__ import annotations

from html import escape

STYLE = """
:root { color-scheme: light; --pass: #1a7f37; --warn: #9a6700; --fail: #cf222e; --muted: #57606a; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: var(--muted); margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { display: inline-block; padding: 0 .5rem; border-radius: 1rem; color: #fff; font-weight: 600; }
.verdict.pass { background: var(--pass); } .verdict.warn { background: var(--warn); }
.verdict.fail { background: var(--fail); } .verdict.skip { background: var(--muted); }
figure { display: inline-block; margin: .5rem 1rem .5rem 0; } figcaption { color: var(--muted); font-size: 12px; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
"""


def verdict_badge(verdict: str) -> str:
    """A coloured pass/warn/fail (or skip) label."""
    return f'<span class="verdict {escape(verdict)}">{escape(verdict)}</span>'


def page(title: str, body: str, subtitle: str = "") -> str:
    """A complete HTML document around ``body`` (already escaped HTML)."""
    sub = f'<p class="meta">{escape(subtitle)}</p>' if subtitle else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
            f"<body><h1>{escape(title)}</h1>{sub}\n{body}\n</body></html>\n")
