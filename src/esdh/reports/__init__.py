"""Human-readable reports: self-contained HTML pages (no CDN, no script from elsewhere) for validation and
drift. The numbers live in the JSON reports; these pages only show them."""
