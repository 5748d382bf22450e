"""API keys, rate limits, generation slots, the body limit, error envelopes and CORS, over real HTTP.

Slow generations are made deterministic by holding the generation inside the server: library.preview is
replaced (the server runs in this process) by a function that signals it has started and waits for the
test to let it go, so the second request is sent while the first certainly holds the slot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from esdh import library
from esdh.api import ApiSettings
from tests.api_server import client, running_server

ONE = {"records": 1}


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture(scope="module")
def keyed() -> Iterator[str]:
    with running_server(ApiSettings(api_keys=["k1", "k2"])) as base:
        yield base


@pytest.fixture(scope="module")
def open_base() -> Iterator[str]:
    with running_server(ApiSettings()) as base:
        yield base


# -- API keys ----------------------------------------------------------------------------------------------


def test_no_key_is_401_with_www_authenticate(keyed: str) -> None:
    with client(keyed) as http:
        response = http.post("/generate/person", json=ONE)
    error = assert_envelope(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "ApiKey"
    assert "X-API-Key" in error["message"]


@pytest.mark.parametrize("key", ["wrong", "K1", "k12", "k1k2", "k"])
def test_wrong_key_is_401(keyed: str, key: str) -> None:
    with client(keyed, key) as http:
        assert_envelope(http.post("/generate/person", json=ONE), 401, "unauthorized")


@pytest.mark.parametrize("key", ["k1", "k2"])
def test_either_key_works(keyed: str, key: str) -> None:
    with client(keyed, key) as http:
        for entity in ("person", "vehicle", "profile", "bundle"):
            assert http.post(f"/generate/{entity}", json=ONE).status_code == 200


@pytest.mark.parametrize("header_key", [None, "k1"])
def test_key_in_query_string_is_refused(keyed: str, header_key: str | None) -> None:
    with client(keyed, header_key) as http:
        response = http.post("/generate/person", params={"api_key": "k1"}, json=ONE)
    error = assert_envelope(response, 401, "unauthorized")
    assert "X-API-Key header" in error["message"] and "URL" in error["message"]


def test_healthz_is_open(keyed: str) -> None:
    with client(keyed) as http:
        assert http.get("/healthz").json()["status"] == "ok"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.__dict__))  # extra fields too, not only the message


def test_keys_never_reach_the_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    good, bad = "good-key-5f1e0c9a7b", "bad-key-3d2a8e6f41"
    names = ("esdh", "uvicorn", "uvicorn.error", "uvicorn.access")
    capture = Capture()
    with running_server(ApiSettings(api_keys=[good], rate_limit=3)) as base:
        loggers = [logging.getLogger(n) for n in names]
        levels = [log.level for log in loggers]
        for log in loggers:  # after start-up: uvicorn sets its own levels when it starts
            log.addHandler(capture)
            log.setLevel(logging.DEBUG)
        try:
            with client(base, good) as http, client(base, bad) as wrong:
                assert http.post("/generate/person", json=ONE).status_code == 200
                assert wrong.post("/generate/person", json=ONE).status_code == 401
                monkeypatch.setattr(library.generation, "preview", _raise)
                assert http.post("/generate/person", json=ONE).status_code == 500  # logged with a traceback
                monkeypatch.undo()
                assert http.post("/generate/vehicle", json=ONE).status_code == 200
                assert http.post("/generate/vehicle", json=ONE).status_code == 429
                assert http.get("/nope").status_code == 404
        finally:
            for log, level in zip(loggers, levels, strict=True):
                log.removeHandler(capture)
                log.setLevel(level)
    text = "\n".join(capture.lines)
    assert "POST /generate/person" in text  # the access log was captured
    assert "secret detail" in text  # and the server-side traceback
    assert good not in text and bad not in text


# -- rate limit --------------------------------------------------------------------------------------------


def test_rate_limit_per_key() -> None:
    settings = ApiSettings(api_keys=["k1", "k2"], rate_limit=5)
    with running_server(settings) as base, client(base, "k1") as first, client(base, "k2") as second:
        assert [first.post("/generate/person", json=ONE).status_code for _ in range(5)] == [200] * 5
        response = first.post("/generate/person", json=ONE)
        error = assert_envelope(response, 429, "rate_limited")
        assert int(response.headers["retry-after"]) >= 1
        assert error["details"]["retry_after_seconds"] == int(response.headers["retry-after"])
        assert "5 requests a minute" in error["message"]
        assert second.post("/generate/person", json=ONE).status_code == 200  # k2's own budget
        assert all(first.get("/healthz").status_code == 200 for _ in range(8))  # the probe is not limited


# -- concurrent generations --------------------------------------------------------------------------------


def test_one_generation_slot_refuses_the_second(monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()
    real = library.preview

    def held(*args: Any, **kwargs: Any) -> Any:
        started.set()
        assert release.wait(20), "the test never released the generation"
        return real(*args, **kwargs)

    monkeypatch.setattr(library.generation, "preview", held)
    results: dict[str, httpx.Response] = {}
    with running_server(ApiSettings(max_concurrent=1)) as base, client(base) as http:
        first = threading.Thread(target=lambda: results.update(first=http.post("/generate/person", json=ONE)))
        first.start()
        try:
            assert started.wait(20), "the first generation did not start"
            response = http.post("/generate/bundle", json=ONE)  # while the first holds the only slot
            error = assert_envelope(response, 429, "busy")
            assert response.headers["retry-after"] == "1" and error["details"] == {"limit": 1}
        finally:
            release.set()
            first.join(20)
        assert results["first"].status_code == 200
        assert http.post("/generate/bundle", json=ONE).status_code == 200  # the slot was given back


def test_the_slot_is_given_back_before_the_answer() -> None:
    """A client that sends its next request as soon as it has an answer never finds its own slot taken."""
    with running_server(ApiSettings(max_concurrent=1)) as base, client(base) as http:
        codes = [http.post(f"/generate/{entity}", json=ONE).status_code
                 for _ in range(10) for entity in ("person", "bundle")]
    assert codes == [200] * 20


def test_a_failed_generation_gives_its_slot_back(monkeypatch: pytest.MonkeyPatch) -> None:
    with running_server(ApiSettings(max_concurrent=1)) as base, client(base) as http:
        monkeypatch.setattr(library.generation, "preview", _raise)
        assert http.post("/generate/person", json=ONE).status_code == 500
        assert_envelope(http.post("/generate/person", json={"records": 0}), 422, "invalid_request")
        monkeypatch.undo()
        assert http.post("/generate/person", json=ONE).status_code == 200


# -- body limit --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_body() -> Iterator[str]:
    with running_server(ApiSettings(max_body_bytes=2048)) as base:
        yield base


def test_large_body_is_413(small_body: str) -> None:
    with client(small_body) as http:
        response = http.post("/generate/person", json={"records": 1, "pad": "x" * 10_000})
    error = assert_envelope(response, 413, "payload_too_large")
    assert error["details"] == {"limit_bytes": 2048} and "2,048 bytes" in error["message"]


def test_large_chunked_body_is_413(small_body: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"records": 1, "pad": "'
        for _ in range(10):
            yield b"x" * 1024
        yield b'"}'

    with client(small_body) as http:
        response = http.post("/generate/person", content=chunks(), headers={"content-type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert_envelope(response, 413, "payload_too_large")


def test_small_chunked_body_is_read(small_body: str) -> None:
    with client(small_body) as http:
        response = http.post("/generate/person", content=iter([b'{"records": ', b"2}"]),
                             headers={"content-type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 200 and response.json()["record_count"] == 2


# -- error envelopes ---------------------------------------------------------------------------------------


def test_404_and_405_are_envelopes(open_base: str) -> None:
    with client(open_base) as http:
        assert "/nope" in assert_envelope(http.get("/nope"), 404, "not_found")["message"]
        assert_envelope(http.post("/generate/everything", json=ONE), 404, "not_found")
        assert_envelope(http.get("/generate/person"), 405, "method_not_allowed")
        assert_envelope(http.delete("/generate/bundle"), 405, "method_not_allowed")
        assert_envelope(http.post("/healthz"), 405, "method_not_allowed")


# the classic answers (esdh.library.classic) generate their rows with esdh.library.generation.preview
def _raise(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("secret detail")


@pytest.mark.parametrize("entity", ["person", "bundle"])
def test_unexpected_error_is_a_bare_500(open_base: str, monkeypatch: pytest.MonkeyPatch, entity: str) -> None:
    monkeypatch.setattr(library.generation, "preview", _raise)
    with client(open_base) as http:
        response = http.post(f"/generate/{entity}", json=ONE)
    assert_envelope(response, 500, "internal_error")
    assert "secret detail" not in response.text and "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert response.headers["connection"] == "close"  # uvicorn drops the connection after an unhandled error


# -- CORS --------------------------------------------------------------------------------------------------

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key,content-type"}


def test_cors_closed_by_default(open_base: str) -> None:
    with client(open_base) as http:
        origin = {"Origin": "https://elsewhere.example"}
        assert "access-control-allow-origin" not in http.get("/healthz", headers=origin).headers
        response = http.post("/generate/person", json=ONE, headers=origin)
        assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
        preflight = http.options("/generate/person", headers={**origin, **PREFLIGHT})
        assert preflight.status_code == 405 and "access-control-allow-origin" not in preflight.headers


def test_cors_open_for_the_configured_origin_only() -> None:
    allowed, other = "https://app.example", "https://elsewhere.example"
    with running_server(ApiSettings(cors_origins=[allowed])) as base, client(base) as http:
        preflight = http.options("/generate/person", headers={"Origin": allowed, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == allowed
        assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
        response = http.post("/generate/person", json=ONE, headers={"Origin": allowed})
        assert response.headers["access-control-allow-origin"] == allowed

        refused = http.options("/generate/person", headers={"Origin": other, **PREFLIGHT})
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
        response = http.post("/generate/person", json=ONE, headers={"Origin": other})
        assert "access-control-allow-origin" not in response.headers


def test_each_request_is_logged_once_without_its_query_string_or_key(caplog) -> None:
    import logging

    from esdh.api import ApiSettings
    from tests.api_server import client, running_server

    logger = logging.getLogger("esdh")
    logger.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger="esdh"), running_server(ApiSettings(api_keys=["sekrit-key"])) as base:
            http = client(base)
            assert http.get("/v1/datasets?api_key=sekrit-key").status_code == 401
            assert http.get("/v1/datasets", headers={"X-API-Key": "sekrit-key"}).status_code == 200
    finally:
        logger.setLevel(logging.NOTSET)
    records = [r for r in caplog.records if r.getMessage() == "api.request"]
    fields = [r.esdh_fields for r in records]
    assert [(f["path"], f["status"]) for f in fields] == [("/v1/datasets", 401), ("/v1/datasets", 200)]
    assert fields[1]["caller"].startswith("key-") and fields[0]["caller"] is None
    assert "sekrit-key" not in caplog.text and all("sekrit-key" not in str(f) for f in fields)
