"""The building blocks of the human-readable reports: self-contained HTML pages (no CDN, no script from
elsewhere) and inline-SVG charts. Each report renders itself beside its JSON form (``drift/report_html.py``,
``validate/report_html.py``); the numbers live in the JSON reports, the pages only show them."""
