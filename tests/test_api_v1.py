"""The /v1 API over real HTTP (uvicorn on a loopback port): datasets, previews, streamed generation with
bounded memory, generation slots, runs (files served from inside a run only), verification and validation."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from esdh import library
from esdh.packs import pack_names

pytest.importorskip("fastapi")

from esdh.api import ApiSettings
from tests.api_server import client, running_server

FORMATS = ("ndjson", "csv", "parquet")


def envelope(response, status: int, code: str | None = None) -> dict:
    """The error envelope of ``response``, checked."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def writable(path: Path) -> None:
    """Let a test change a published (read-only) run."""
    for p in [path, *path.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two runs of insurance (the second has a drift report)."""
    root = tmp_path_factory.mktemp("registry") / "runs"
    library.run("insurance", root)
    library.run("insurance", root, version="1.0.0+2", seed=9)
    return root


@pytest.fixture(scope="module")
def base(registry: Path) -> Iterator[str]:
    with running_server(ApiSettings(registry=registry, rate_limit=100_000)) as url:
        yield url


@pytest.fixture(scope="module")
def http(base: str) -> Iterator:
    with client(base) as c:
        yield c


# -- datasets ---------------------------------------------------------------------------------------------


def test_datasets_lists_every_pack(http) -> None:
    body = http.get("/v1/datasets").json()
    assert [d["name"] for d in body["datasets"]] == pack_names()
    insurance = next(d for d in body["datasets"] if d["name"] == "insurance")
    assert set(insurance) >= {"name", "version", "title", "description", "tables"}
    assert insurance["tables"] == list(library.load("insurance").tables)


def test_dataset_detail(http) -> None:
    body = http.get("/v1/datasets/insurance").json()
    assert set(body) >= {"name", "version", "title", "description", "seed", "as_of", "versions", "tables",
                         "relations", "spec"}
    dataset = library.load("insurance")
    plan = library.plan(dataset)
    assert body["as_of"] == dataset.spec.as_of.isoformat() and body["spec"]["dataset"] == "insurance"
    assert {t["name"]: t["rows"] for t in body["tables"]} == plan.rows
    persons = next(t for t in body["tables"] if t["name"] == "persons")
    assert persons["primary_key"] == ["person_id"]
    for column in persons["columns"]:
        assert set(column) >= {"name", "type", "generator", "description"}
        assert column["type"] in {"string", "integer", "number", "boolean", "date", "datetime"}
    assert {"ref", "lookup", "parent"} >= {r["kind"] for r in body["relations"]}
    vehicle_owner = {"from_table": "vehicles", "from_column": "person_id", "to_table": "persons",
                     "to_column": "person_id"}
    assert any(vehicle_owner.items() <= r.items() for r in body["relations"])
    finance = http.get("/v1/datasets/finance_transactions", params={"version": "1.1.0"}).json()
    assert finance["versions"] == ["1.0.0", "1.1.0", "1.2.0"] and finance["version"] == "1.1.0"
    assert finance["spec"]["version"] == "1.1.0"


def test_unknown_dataset_table_version_and_format(http) -> None:
    error = envelope(http.get("/v1/datasets/insurence"), 404, "not_found")
    assert "did you mean 'insurance'?" in error["message"] and error["details"]["suggestion"] == "insurance"
    envelope(http.get("/v1/datasets/nope/tables/x/preview"), 404, "not_found")
    error = envelope(http.get("/v1/datasets/insurance/tables/person/preview"), 404, "not_found")
    assert "did you mean 'persons'?" in error["message"]
    envelope(http.get("/v1/datasets/insurance/generate", params={"table": "person"}), 404, "not_found")
    error = envelope(http.get("/v1/datasets/finance_transactions", params={"version": "9.9.9"}), 404)
    assert "1.1.0" in error["message"]
    error = envelope(http.get("/v1/datasets/insurance/generate", params={"format": "xml"}), 422, "invalid_request")
    assert "format" in error["message"]
    for params in ({"rows": "persons"}, {"rows": "persons=-1"}, {"rows": "persons=²"}, {"rows": "=5"},
                   {"rows": "persons=" + "9" * 19}, {"rows": "nope=5"}, {"rows": "claims=5"},
                   {"scale": "0"}, {"scale": "nan"}, {"scale": "inf"}, {"seed": "-1"}):
        envelope(http.get("/v1/datasets/insurance/generate", params=params), 422)


# -- preview ----------------------------------------------------------------------------------------------


def _json_rows(table: pa.Table, timestamp_sep: str = "T") -> list[dict]:
    def value(v: object) -> object:
        if isinstance(v, dt.datetime):
            return v.isoformat(sep=timestamp_sep)
        return v.isoformat() if isinstance(v, dt.date) else v

    return [{k: value(v) for k, v in row.items()} for row in table.to_pylist()]


@pytest.mark.parametrize("query", ["rows=%EF%BC%91%EF%BC%90", "rows=1_0", "rows=+5", "rows=%205",
                                   "seed=%D9%A1", "seed=1_0", "seed=0x10"])
def test_query_numbers_are_ascii_digits_as_on_the_command_line(http, query: str) -> None:
    """Python's int() takes '１０', '1_0' and ' 5'; the CLI refuses them, and so does the API (one envelope)."""
    response = http.get(f"/v1/datasets/insurance/tables/policies/preview?{query}")
    assert "is not a whole number (digits 0-9 only)" in envelope(response, 422)["message"]


def test_preview_equals_library_and_is_deterministic(http) -> None:
    params = {"rows": 7, "seed": 3}
    first = http.get("/v1/datasets/insurance/tables/policies/preview", params=params)
    assert first.status_code == 200
    body = first.json()
    expected = library.preview("insurance", "policies", 7, seed=3)
    assert body["dataset"] == "insurance" and body["table"] == "policies" and body["seed"] == 3
    assert body["columns"] == expected.column_names
    assert body["rows"] == _json_rows(expected)
    assert isinstance(body["rows"][0]["effective_date"], str)
    assert http.get("/v1/datasets/insurance/tables/policies/preview", params=params).content == first.content
    default = http.get("/v1/datasets/insurance/tables/policies/preview").json()
    assert default["seed"] == library.load("insurance").spec.seed and len(default["rows"]) == 10
    envelope(http.get("/v1/datasets/insurance/tables/policies/preview", params={"rows": 1001}), 422)
    envelope(http.get("/v1/datasets/insurance/tables/policies/preview", params={"rows": 0}), 422)


# -- generate ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files ``esdh generate`` writes for insurance, seed 11, in every streamed format."""
    out = tmp_path_factory.mktemp("generated") / "insurance"
    library.generate("insurance", out, formats=list(FORMATS), seed=11, part_rows=None)
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_generate_one_table_equals_library(http, generated: Path, fmt: str) -> None:
    params = {"format": fmt, "table": "policies", "seed": 11}
    response = http.get("/v1/datasets/insurance/generate", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="policies.{fmt}"'
    assert response.headers["x-esdh-seed"] == "11"
    assert response.content == (generated / f"policies.{fmt}").read_bytes()  # byte for byte what the CLI writes
    expected = library.table("insurance", "policies", seed=11)
    if fmt == "ndjson":
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.content.splitlines()]
        assert lines == _json_rows(expected, " ")
    elif fmt == "csv":
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.splitlines()[0].decode() == ",".join(f'"{c}"' for c in expected.column_names)
        read = pcsv.read_csv(io.BytesIO(response.content))
        assert read.num_rows == expected.num_rows and read.column_names == expected.column_names
    else:
        assert pq.read_table(io.BytesIO(response.content)).equals(expected)
    again = http.get("/v1/datasets/insurance/generate", params=params)
    assert hashlib.sha256(again.content).digest() == hashlib.sha256(response.content).digest()


def test_generate_whole_dataset_as_zip(http, generated: Path) -> None:
    params = {"format": "csv", "seed": 11}
    response = http.get("/v1/datasets/insurance/generate", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="insurance-csv.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    tables = list(library.plan("insurance").tables)
    assert archive.namelist() == [f"{t}.csv" for t in tables]
    for table in tables:
        assert archive.read(f"{table}.csv") == (generated / f"{table}.csv").read_bytes()
    assert http.get("/v1/datasets/insurance/generate", params=params).content == response.content
    parquet = zipfile.ZipFile(io.BytesIO(http.get("/v1/datasets/insurance/generate",
                                                  params={"format": "parquet", "seed": 11}).content))
    assert pq.read_table(io.BytesIO(parquet.read("claims.parquet"))).equals(
        library.table("insurance", "claims", seed=11))


def test_generate_scale_and_rows(http) -> None:
    response = http.get("/v1/datasets/insurance/generate",
                        params={"format": "ndjson", "table": "persons", "rows": "persons=25", "seed": 1})
    assert len(response.content.splitlines()) == 25 and response.headers["x-esdh-rows"] == "25"
    response = http.get("/v1/datasets/insurance/generate", params={"format": "ndjson", "table": "persons",
                                                                   "scale": 0.1})
    assert len(response.content.splitlines()) == library.plan("insurance", scale=0.1).rows["persons"]


def test_generate_over_max_rows_is_refused_before_streaming(registry: Path) -> None:
    with running_server(ApiSettings(registry=registry, max_rows=500, max_concurrent=1)) as url, client(url) as c:
        total = sum(library.plan("insurance").rows.values())
        error = envelope(c.get("/v1/datasets/insurance/generate"), 422, "too_many_rows")
        assert "500" in error["message"] and "max_rows" in error["message"]
        assert error["details"]["limit"] == 500 and error["details"]["requested"] == total
        envelope(c.get("/v1/datasets/insurance/generate", params={"table": "persons", "rows": "persons=501"}), 422)
        envelope(c.get("/v1/datasets/tpch/generate", params={"table": "region", "rows": "orders=10000000000"}), 422)
        envelope(c.get("/v1/datasets/insurance/generate", params={"scale": 1e300}), 422, "too_many_rows")
        error = envelope(c.get("/v1/datasets/tpch/generate", params={"table": "region", "scale": 1e6}), 422)
        assert "plan" in error["message"]
        envelope(c.get("/v1/datasets/insurance/tables/persons/preview", params={"rows": 501}), 422, "too_many_rows")
        assert c.get("/v1/datasets/insurance/tables/persons/preview", params={"rows": 500}).status_code == 200
        # a small table of a large dataset: only what is generated counts
        region = c.get("/v1/datasets/tpch/generate", params={"table": "region", "format": "csv"})
        assert len(region.text.splitlines()) == 6
        # the refusals held no slot: the one slot is free
        assert c.get("/v1/datasets/insurance/generate", params={"table": "claims"}).status_code == 200


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to measure memory")
def test_large_download_streams_in_bounded_memory(registry: Path) -> None:
    rows = 2_000_000
    params = {"format": "ndjson", "table": "customers", "rows": f"customers={rows}"}
    with running_server(ApiSettings(registry=registry, max_rows=3_000_000)) as url, client(url, timeout=120) as c:
        warm = c.get("/v1/datasets/ecommerce_orders/generate", params={**params, "rows": "customers=200000"})
        assert warm.status_code == 200
        del warm
        baseline, peak, done = _rss_bytes(), [0], threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_bytes())
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        size = lines = 0
        started = time.monotonic()
        try:
            with c.stream("GET", "/v1/datasets/ecommerce_orders/generate", params=params) as response:
                assert response.status_code == 200
                for piece in response.iter_bytes():
                    size += len(piece)
                    lines += piece.count(b"\n")
        finally:
            done.set()
            sampler.join()
        elapsed = time.monotonic() - started
    growth = peak[0] - baseline
    print(f"\n{rows:,} rows, {size / 1e6:,.0f} MB of NDJSON in {elapsed:.1f} s; "
          f"RSS growth {growth / 1e6:,.0f} MB (baseline {baseline / 1e6:,.0f} MB)")
    assert lines == rows
    assert growth < size / 4, f"RSS grew {growth / 1e6:.0f} MB for {size / 1e6:.0f} MB of data"


def test_generation_slots_are_held_for_the_stream_and_released(registry: Path) -> None:
    params = {"format": "ndjson", "table": "customers", "rows": "customers=900000"}
    with running_server(ApiSettings(registry=registry, max_concurrent=1)) as url, \
            client(url) as first, client(url) as second:
        with first.stream("GET", "/v1/datasets/ecommerce_orders/generate", params=params) as response:
            assert response.status_code == 200
            pieces = response.iter_bytes()  # kept: dropping the iterator would close the stream at once
            next(pieces)
            busy = second.get("/v1/datasets/ecommerce_orders/generate", params={"table": "products"})
            error = envelope(busy, 429, "busy")
            assert busy.headers["retry-after"] == "1" and error["details"] == {"limit": 1}
            # the client goes away mid-stream
        deadline = time.monotonic() + 10
        while True:
            status = second.get("/v1/datasets/ecommerce_orders/generate", params={"table": "products"}).status_code
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == 200
        # a finished stream releases its slot too
        for _ in range(3):
            assert second.get("/v1/datasets/insurance/generate", params={"table": "claims"}).status_code == 200


# -- runs -------------------------------------------------------------------------------------------------


def test_runs_list(http) -> None:
    runs = http.get("/v1/runs").json()["runs"]
    assert [(r["dataset"], r["version"]) for r in runs] == [("insurance", "1.0.0"), ("insurance", "1.0.0+2")]
    assert runs[1]["drift"] in {"pass", "warn", "fail"} and runs[0]["validation"] == "pass"
    assert "spec" not in runs[0] and runs[0]["folder"] == "insurance/1.0.0"
    assert len(http.get("/v1/runs", params={"dataset": "insurance"}).json()["runs"]) == 2
    assert http.get("/v1/runs", params={"dataset": "nope"}).json() == {"runs": []}


@pytest.mark.parametrize("version", ["1.0.0+2", "1.0.0%2B2"])
def test_run_show_with_reports(http, registry: Path, version: str) -> None:
    body = http.get(f"/v1/runs/insurance/{version}").json()
    assert set(body) >= {"run", "manifest", "reports", "files"}
    assert body["run"]["version"] == "1.0.0+2"
    assert body["manifest"]["resources"]
    folder = registry / "insurance" / "1.0.0+2"
    assert body["files"] == sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    reports = {r["path"]: r for r in body["reports"]}
    assert {"reports/drift.html", "reports/validation.html", "reports/drift.json"} <= set(reports)
    drift = reports["reports/drift.html"]
    assert drift["name"] == "drift" and drift["format"] == "html"
    assert drift["url"] == "/v1/runs/insurance/1.0.0%2B2/files/reports/drift.html"
    page = http.get(drift["url"])
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.content == (folder / "reports" / "drift.html").read_bytes()
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_run_files(http, registry: Path) -> None:
    folder = registry / "insurance" / "1.0.0"
    manifest = http.get("/v1/runs/insurance/1.0.0/files/datapackage.json")
    assert manifest.headers["content-type"] == "application/json"
    assert manifest.json() == json.loads((folder / "datapackage.json").read_text())
    data = http.get("/v1/runs/insurance/1.0.0/files/persons.parquet")
    assert data.headers["content-type"] == "application/vnd.apache.parquet"
    assert data.content == (folder / "persons.parquet").read_bytes()
    assert http.get("/v1/runs/insurance/1.0.0%2B2/files/reports/validation.html").status_code == 200
    envelope(http.get("/v1/runs/insurance/1.0.0/files/reports/drift.html"), 404)  # a first run has no drift
    envelope(http.get("/v1/runs/insurance/9.9.9"), 404, "not_found")
    envelope(http.get("/v1/runs/nope/1.0.0/files/datapackage.json"), 404)


def test_verify(http) -> None:
    for version in ("1.0.0", "1.0.0%2B2"):
        body = http.post(f"/v1/runs/insurance/{version}/verify").json()
        assert body["ok"] is True and body["checked"] > 5
        assert body["missing"] == [] and body["changed"] == [] and body["extra"] == []
    envelope(http.post("/v1/runs/insurance/2.0.0/verify"), 404)


@pytest.fixture
def own_run(tmp_path: Path) -> tuple[Path, Path]:
    """A registry of one run that a test may tamper with: (registry, run folder)."""
    root = tmp_path / "runs"
    library.run("insurance", root, rows={"persons": 50})
    folder = root / "insurance" / "1.0.0"
    writable(folder)
    return root, folder


def _raw_get(base: str, path: str) -> tuple[int, dict]:
    """GET a path exactly as given: no client normalises its dots or its escapes."""
    parts = urlsplit(base)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_no_path_outside_the_run_can_be_reached(own_run: tuple[Path, Path], tmp_path: Path) -> None:
    root, folder = own_run
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (folder / "evil.txt").symlink_to(secret)
    (folder / "evil_dir").symlink_to(tmp_path, target_is_directory=True)
    (folder / "reports" / "up").symlink_to(root)
    run = "/v1/runs/insurance/1.0.0/files/"
    attempts = ["../../registry.sqlite", "../.meta/1.0.0/run.json", ".meta/1.0.0/run.json",
                "%2e%2e/%2e%2e/registry.sqlite", "%2e%2e%2f%2e%2e%2fregistry.sqlite", "..%2F..%2Fregistry.sqlite",
                "/etc/passwd", "%2Fetc%2Fpasswd", "//etc/passwd", "..%5c..%5cregistry.sqlite",
                "reports/../../1.0.0/datapackage.json", "./datapackage.json", "evil.txt", "evil_dir/secret.txt",
                "reports/up/registry.sqlite", "reports/up/insurance/.meta/1.0.0/run.json", "reports",
                "datapackage.json%00.html", "nope.parquet"]
    with running_server(ApiSettings(registry=root)) as url:
        assert _raw_get(url, run + "datapackage.json")[0] == 200
        for attempt in attempts:
            status, body = _raw_get(url, run + attempt)
            assert status == 404, attempt
            assert set(body) == {"error"}, attempt
        assert _raw_get(url, "/v1/runs/insurance/%2e%2e/files/registry.sqlite")[0] == 404
        assert _raw_get(url, "/v1/runs/%2e%2e/insurance/files/1.0.0/datapackage.json")[0] == 404
        with client(url) as c:
            files = c.get("/v1/runs/insurance/1.0.0").json()["files"]
    assert not any(name.startswith(("evil", "reports/up")) for name in files)


def test_verify_finds_tampering(own_run: tuple[Path, Path]) -> None:
    root, folder = own_run
    with open(folder / "persons.parquet", "r+b") as data:
        data.seek(100)
        data.write(b"\x00\x01\x02")
    (folder / "extra.csv").write_text("a\n1\n")
    with running_server(ApiSettings(registry=root)) as url, client(url) as c:
        body = c.post("/v1/runs/insurance/1.0.0/verify").json()
    assert body["ok"] is False and body["folder"] == "insurance/1.0.0"
    assert [change["path"] for change in body["changed"]] == ["persons.parquet"]
    assert body["extra"] == ["extra.csv"]


# -- validation -------------------------------------------------------------------------------------------


def _csv(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pcsv.write_csv(table, out)
    return out.getvalue()


def _uploads() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("esdh-upload-*")}


def test_validate_upload(http) -> None:
    plan = library.plan("insurance", seed=4)
    persons, vehicles = library.table(plan, "persons"), library.table(plan, "vehicles")
    before = _uploads()
    good = http.post("/v1/validate/insurance", files=[("files", ("persons.csv", _csv(persons), "text/csv")),
                                                       ("files", ("vehicles.parquet", _parquet(vehicles)))])
    assert good.status_code == 200, good.text
    report = good.json()
    assert report["ok"] is True and report["dataset"] == "insurance"
    assert set(report["tables"]) == {"persons", "vehicles"} and report["summary"]["failed"] == 0
    ids = persons.column("person_id").to_pylist()
    ids[5] = ids[4]  # a duplicated primary key
    broken = persons.set_column(0, "person_id", pa.array(ids))
    bad = http.post("/v1/validate/insurance", files={"files": ("persons.csv", _csv(broken), "text/csv")})
    assert bad.status_code == 200
    report = bad.json()
    assert report["ok"] is False
    failed = [c for c in report["checks"] if not c["passed"]]
    assert [(c["table"], c["check"], c["column"]) for c in failed] == [("persons", "primary_key", "person_id")]
    assert failed[0]["samples"][0]["row"] == 5
    page = http.post("/v1/validate/insurance", params={"format": "html"},
                     files={"files": ("persons.csv", _csv(broken), "text/csv")})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "primary_key" in page.text and "<html" in page.text.lower()
    assert _uploads() == before  # every upload folder removed


def _parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def test_validate_refuses_bad_uploads(http) -> None:
    error = envelope(http.post("/v1/validate/insurance", files={"files": ("people.csv", b"a\n1\n")}), 422)
    assert "persons" in error["message"]
    envelope(http.post("/v1/validate/insurance", files={"files": ("persons.exe", b"a\n1\n")}), 422)
    envelope(http.post("/v1/validate/insurance", files=[("files", ("persons.csv", b"a\n")),
                                                        ("files", ("persons.ndjson", b"{}\n"))]), 422)
    envelope(http.post("/v1/validate/insurance"), 422)
    envelope(http.post("/v1/validate/nope", files={"files": ("persons.csv", b"a\n1\n")}), 404)
    garbage = http.post("/v1/validate/insurance", files={"files": ("persons.parquet", os.urandom(4000))})
    assert garbage.status_code == 200 and garbage.json()["ok"] is False


def test_upload_over_the_body_limit_is_413(registry: Path) -> None:
    with running_server(ApiSettings(registry=registry, max_body_bytes=4096)) as url, client(url) as c:
        error = envelope(c.post("/v1/validate/insurance", files={"files": ("persons.csv", b"x" * 10_000)}), 413,
                         "payload_too_large")
        assert error["details"] == {"limit_bytes": 4096}


def test_keys_guard_every_v1_route(registry: Path) -> None:
    with running_server(ApiSettings(registry=registry, api_keys=["s3cret"])) as url:
        with client(url) as anonymous:
            for path in ("/v1/datasets", "/v1/datasets/insurance", "/v1/runs", "/v1/datasets/insurance/generate"):
                envelope(anonymous.get(path), 401, "unauthorized")
            envelope(anonymous.post("/v1/runs/insurance/1.0.0/verify"), 401)
        with client(url, "s3cret") as known:
            assert known.get("/v1/datasets").status_code == 200
