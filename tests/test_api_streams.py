"""Streamed downloads never answer 200 and then break, never look complete when cut, and cannot be used to
starve the server: tested against a real uvicorn server (tests/api_server.py) over real sockets.

- what fails before the first byte (a plan whose tables cannot be computed) is a 4xx envelope;
- a failure after the status line aborts the connection: no terminating chunk, so every HTTP client reports
  an incomplete body;
- a client that reads nothing holds its slots only for the stall timeout, and only its own key's share.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

pytest.importorskip("uvicorn")

from esdh import library
from esdh.api import ApiSettings
from tests.api_server import client, running_server

TINY_TPCH = "/v1/datasets/tpch/generate?scale=0.000001"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server(ApiSettings(rate_limit=1_000_000)) as url:
        yield url


@pytest.mark.parametrize("query", ["&format=csv", "&format=ndjson", "&format=parquet",
                                   "&format=csv&table=partsupp", "&format=parquet&table=partsupp"])
def test_a_plan_that_cannot_be_generated_is_an_error_envelope_not_a_200(server: str, query: str) -> None:
    """tpch at a scale so small that partsupp's `choose: distinct` cannot be satisfied: before, 200 and a
    body cut short (or empty); now a 4xx envelope, before any byte of a file."""
    with client(server) as http:
        response = http.get(TINY_TPCH + query)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and "partsupp" in error["message"], error


def _failing_after(real_chunks: Iterator[bytes], pieces: int) -> Iterator[bytes]:
    for _ in range(pieces):
        yield next(real_chunks)
    raise RuntimeError("injected failure in the middle of a stream")


@pytest.fixture
def broken_midway(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams that fail after their first piece (the server runs in this process: the route calls the
    library's functions as they are when it runs)."""
    real_table, real_zip = library.stream.table_bytes, library.stream.zip_bytes
    monkeypatch.setattr(library.stream, "table_bytes", lambda *a: _failing_after(real_table(*a), 1))
    monkeypatch.setattr(library.stream, "zip_bytes", lambda *a: _failing_after(real_zip(*a), 2))


@pytest.mark.parametrize("path", ["/v1/datasets/insurance/generate?format=csv&table=persons&rows=persons=50000",
                                  "/v1/datasets/insurance/generate?format=ndjson&rows=persons=2000"])
def test_a_failure_mid_stream_aborts_the_connection(server: str, broken_midway: None, path: str) -> None:
    """The status line is out when the failure happens: the body must not end like a complete one."""
    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Length") is None
        with pytest.raises(http.client.IncompleteRead):
            response.read()
    finally:
        connection.close()
    with client(server) as http_client, pytest.raises(httpx.RemoteProtocolError):
        http_client.get(path).read()


def _stalled_download(base: str, key: str, path: str) -> tuple[socket.socket, int]:
    """Open a download that reads nothing after its status line: a tiny receive buffer, one small read."""
    parts = urlsplit(base)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect((parts.hostname, parts.port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nX-API-Key: {key}\r\n\r\n".encode())
    head = sock.recv(64)  # the status line, then nothing more
    return sock, int(head.split()[1])


def test_stalled_downloads_hold_only_their_keys_slots_and_only_for_the_stall_timeout() -> None:
    big = "/v1/datasets/insurance/generate?format=ndjson&table=persons&rows=persons=500000"
    small = "/v1/datasets/insurance/generate?format=csv&table=persons&rows=persons=10"
    settings = ApiSettings(api_keys=["key-a", "key-b"], max_concurrent=4, max_streams_per_key=2,
                           stall_timeout=1.0, rate_limit=1_000_000)
    with running_server(settings) as base, client(base, "key-b") as b, client(base, "key-a") as a:
        opened = [_stalled_download(base, "key-a", big) for _ in range(4)]
        try:
            assert sorted(status for _, status in opened) == [200, 200, 429, 429]  # two per key
            started = time.monotonic()
            assert b.get(small).status_code == 200  # key B is served while key A's downloads stall
            refused = a.get(small)
            assert refused.status_code == 429 and refused.json()["error"]["details"]["per"] == "caller"
            # the stalled sends are given up after the stall timeout, and key A's slots are free again
            # (the timeout counts from the first send that blocks: once the socket buffers are full, a few MB)
            while (status := a.get(small).status_code) == 429 and time.monotonic() - started < 30:
                time.sleep(0.2)
            freed_after = time.monotonic() - started
            assert status == 200, status
            assert freed_after < 30, freed_after
            assert b.get(small).status_code == 200
        finally:
            for sock, _ in opened:
                sock.close()


def test_a_stalled_download_ends_incomplete_not_complete() -> None:
    """A client that stalls past the timeout and then reads finds the body cut: no terminating chunk."""
    path = "/v1/datasets/insurance/generate?format=ndjson&table=persons&rows=persons=300000"
    with running_server(ApiSettings(stall_timeout=0.5, rate_limit=1_000_000)) as base:
        parts = urlsplit(base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 200
            time.sleep(2.5)  # read nothing for longer than the stall timeout (the 78 MB fill every buffer)
            with pytest.raises(http.client.IncompleteRead):
                response.read()
        finally:
            connection.close()


# -- the slots themselves ----------------------------------------------------------------------------------


def test_caller_slots_are_per_caller() -> None:
    from esdh.api.errors import ApiError
    from esdh.api.security import CallerSlots

    slots = CallerSlots(2)
    a1, a2 = slots.acquire("key-a"), slots.acquire("key-a")
    with pytest.raises(ApiError) as refused:
        slots.acquire("key-a")
    assert (refused.value.status, refused.value.code, refused.value.details) == (429, "busy",
                                                                                 {"limit": 2, "per": "caller"})
    slots.acquire("key-b")  # another caller has slots of its own
    a1()
    a1()  # giving a slot back twice frees it once
    slots.acquire("key-a")
    with pytest.raises(ApiError):
        slots.acquire("key-a")
    a2()


def test_shared_caller_slots_hold_across_holders(tmp_path) -> None:
    pytest.importorskip("fcntl")
    from esdh.api.errors import ApiError
    from esdh.api.shared_limits import SharedCallerSlots

    one, other = SharedCallerSlots(tmp_path, 1), SharedCallerSlots(tmp_path, 1)  # as two processes
    held = one.acquire("key-a")
    with pytest.raises(ApiError):
        other.acquire("key-a")
    other.acquire("client-::1")()  # another caller (any id: the file is named by its hash)
    held()
    other.acquire("key-a")()


def test_stream_settings_from_the_environment() -> None:
    from esdh.errors import UsageError

    settings = ApiSettings.from_env({"ESDH_API_MAX_STREAMS_PER_KEY": "3", "ESDH_API_STALL_TIMEOUT": "2.5"})
    assert (settings.max_streams_per_key, settings.stall_timeout) == (3, 2.5)
    assert (ApiSettings().max_streams_per_key, ApiSettings().stall_timeout) == (2, 60.0)
    for bad in ({"ESDH_API_STALL_TIMEOUT": "soon"}, {"ESDH_API_STALL_TIMEOUT": "0"},
                {"ESDH_API_STALL_TIMEOUT": "inf"}, {"ESDH_API_MAX_STREAMS_PER_KEY": "0"}):
        with pytest.raises(UsageError):
            ApiSettings.from_env(bad)
