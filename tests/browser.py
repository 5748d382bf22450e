"""Open a page in a real headless Chromium (Playwright driving the system browser).

CI installs Debian's chromium and sets ESDH_REQUIRE_BROWSER=1, so there a missing browser fails the test;
elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def browser_page() -> Iterator[Any]:
    """A fresh page in headless Chromium; requests to anywhere but file: and loopback are recorded in
    ``page.external_requests`` (a self-contained report makes none)."""
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        path = None
    if path is None:
        if os.environ.get("ESDH_REQUIRE_BROWSER"):
            pytest.fail("ESDH_REQUIRE_BROWSER is set but Chromium or Playwright is missing")
        pytest.skip("no Chromium (apt install chromium) or no playwright")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.external_requests = []
            page.console_errors = []
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "http://127.0.0.1",
                                                                   "http://localhost"))
                    else page.external_requests.append(r.url))
            page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page.console_errors.append(str(e)))
            yield page
        finally:
            browser.close()
