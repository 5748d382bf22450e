"""The web page (/, /demo, /static/) driven in headless Chromium against the real API over real HTTP."""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from esdh import library
from esdh.api import ApiSettings
from tests.api_server import client, running_server
from tests.browser import browser_page

KEY = "web-test-key-5f2c9a"  # distinctive, so that the test can prove it never appears in a URL
TABLES = ["persons", "vehicles", "profiles", "policies", "claims"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two registered runs of insurance, the second with a drift report against the first."""
    root = tmp_path_factory.mktemp("registry")
    library.run("insurance", root, rows={"persons": 200})
    library.run("insurance", root, rows={"persons": 200}, version="1.0.0+2")
    return root


def test_page_and_assets_are_served_outside_the_api_schema() -> None:
    with running_server() as base, client(base) as http:
        for path in ("/", "/demo"):
            page = http.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert '<script src="/static/app.js"' in page.text
            assert "default-src 'self'" in page.headers["content-security-policy"]
        assert http.get("/static/app.js").headers["content-type"].split(";")[0] in ("text/javascript",
                                                                                 "application/javascript")
        assert http.get("/static/style.css").headers["content-type"].startswith("text/css")
        missing = http.get("/static/missing.js")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        paths = http.get("/openapi.json").json()["paths"]
        assert not {"/", "/demo"} & set(paths) and not any(p.startswith("/static") for p in paths)


def _network_error(status: int, reason: str) -> str:
    return f"Failed to load resource: the server responded with a status of {status} ({reason})"


def _preview(page: Any, seed: int) -> str:
    page.locator("#preview-seed").fill(str(seed))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_function("s => document.querySelector('#preview-meta').textContent.endsWith('seed ' + s)", arg=seed)
    return page.locator("#preview tbody tr").first.inner_text()


def test_the_whole_path_in_a_browser_with_an_api_key(registry: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with running_server(ApiSettings(api_keys=[KEY], registry=registry)) as base, browser_page() as page:
        api_calls = []
        page.on("request", lambda r: api_calls.append(r) if "/v1/" in r.url else None)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(base + "/")

        # The first call meets a 401: the page asks for the key in a form, once
        dialog = page.locator("#key-dialog")
        expect(dialog).to_be_visible()
        page.get_by_label("API key", exact=True).fill(KEY)
        page.get_by_role("button", name="Use key").click()
        expect(dialog).to_be_hidden()

        # The dataset, its tables and the relation diagram
        page.locator('button.dataset[data-name="insurance"]').click()
        diagram = page.locator("svg#diagram")
        expect(diagram).to_be_visible()
        x = {t: float(diagram.locator(f'g.table[data-table="{t}"] rect').get_attribute("x")) for t in TABLES}
        assert x["persons"] < x["vehicles"] < x["policies"] < x["claims"]  # laid out by dependency depth
        arrows = {(a.get_attribute("data-from"), a.get_attribute("data-to"))
                  for a in diagram.locator("path.relation").all()}
        assert {("vehicles", "persons"), ("profiles", "vehicles"), ("policies", "vehicles"),
                ("claims", "policies")} <= arrows
        expect(page.locator("details.table-columns")).to_have_count(len(TABLES))

        # Preview with a seed: the same seed gives the same rows, another seed others
        page.locator("#preview-table").select_option("persons")
        page.locator("#preview-rows").fill("5")
        first = _preview(page, 7)
        expect(page.locator("#preview tbody tr")).to_have_count(5)
        assert "person_id" in page.locator("#preview thead").inner_text()
        assert _preview(page, 8) != first
        assert _preview(page, 7) == first

        # Generate and download one table as CSV, then the whole dataset as a ZIP
        page.locator("#generate-table").select_option("persons")
        page.locator("#generate-format").select_option("csv")
        page.locator("#generate-rows").fill("25")
        page.locator("#generate-seed").fill("7")
        with page.expect_download() as info:
            page.get_by_role("button", name="Generate").click()
        assert info.value.suggested_filename.endswith(".csv")
        records = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
        assert "person_id" in records[0] and len(records) == 1 + 25
        expect(page.locator("#status")).to_contain_text("Downloaded")
        page.screenshot(path=tmp_path / "web-page.png", full_page=True)

        page.locator("#generate-table").select_option("")
        page.locator("#generate-rows").fill("10")
        with page.expect_download() as info:
            page.get_by_role("button", name="Generate").click()
        assert info.value.suggested_filename.endswith(".zip")
        names = zipfile.ZipFile(info.value.path()).namelist()
        assert {Path(n).stem for n in names} >= set(TABLES), names

        # Runs: the list, one run (its version has a "+"), its drift report in the sandboxed frame
        page.get_by_role("button", name="Runs").click()
        expect(page.locator("#view-datasets")).to_be_hidden()
        expect(page.locator("#runs-table tbody tr")).to_have_count(2)
        page.get_by_role("button", name="Open run insurance 1.0.0+2").click()
        expect(page.locator("#run-title")).to_have_text("insurance 1.0.0+2")
        page.get_by_role("button", name=re.compile("Open drift report", re.I)).click()
        report = page.frame_locator("#report-frame")
        expect(report.locator("h1")).to_contain_text("Drift report")
        expect(report.locator(".verdict").first).to_have_text("pass")

        # The key was asked for once, kept for the tab, sent in the header and never in a URL
        assert page.evaluate("sessionStorage.getItem('esdh.apiKey')") == KEY
        assert [r.headers.get("x-api-key") for r in api_calls][1:] == [KEY] * (len(api_calls) - 1)
        assert not any(KEY in r.url for r in api_calls)
        expect(dialog).to_be_hidden()

        # Narrow screens: the layout stacks, nothing runs off the side
        page.get_by_role("button", name="Datasets").click()
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        assert page.external_requests == []
        # Chromium logs every error status it receives; the one 401 that brought up the key prompt is the only
        # line allowed (and proves the prompt came once)
        assert page.console_errors == [_network_error(401, "Unauthorized")], page.console_errors
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "web-page.png", ARTIFACTS / "web-page.png")


def test_api_errors_are_shown_in_the_status_area() -> None:
    with running_server(ApiSettings(max_rows=3)) as base, browser_page() as page, client(base) as http:
        page.goto(base + "/demo")
        page.locator('button.dataset[data-name="insurance"]').click()
        page.locator("#preview-rows").fill("50")
        page.get_by_role("button", name="Preview").click()
        status = page.locator("#status.error")
        status.wait_for()
        refused = http.get("/v1/datasets/insurance/tables/persons/preview", params={"rows": 50})
        assert refused.status_code == 422 and refused.json()["error"]["message"] in status.inner_text()
        assert page.locator("#key-dialog").is_hidden()
        assert page.external_requests == []
        assert page.console_errors == [_network_error(422, "Unprocessable Entity")], page.console_errors


def test_the_openapi_docs_page_renders_offline() -> None:
    with running_server(ApiSettings(api_keys=["docs-key"])) as base, browser_page() as page:
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)  # Swagger UI drew the operations
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/v1/datasets" in p for p in paths) and any("/generate/bundle" in p for p in paths)
        assert page.external_requests == []  # its script and styles come from the server, not a CDN
        assert client(base).get("/docs").status_code == 200  # open, like /openapi.json: no data in either
