"""A real API server on a free loopback port, in a thread of the test process (uvicorn, real HTTP)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from esdh.api import ApiSettings, create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(settings: ApiSettings | None = None) -> Iterator[str]:
    """Start the app for ``settings``; yield its base URL (``http://127.0.0.1:PORT``); stop it after."""
    port = free_port()
    config = uvicorn.Config(create_app(settings or ApiSettings()), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def client(base: str, key: str | None = None, timeout: float = 60) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"X-API-Key": key} if key else {}, timeout=timeout)
