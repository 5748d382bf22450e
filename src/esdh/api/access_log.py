"""One structured log event per request (``api.request``): method, path without its query string, status,
milliseconds and the caller's id. Uvicorn's own access log is off (``esdh serve``): it prints whole URLs,
and a URL may carry what must not be logged (a key sent in ``?api_key=``, refused but still in the URL)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from esdh.logs import event


class AccessLog:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recorded(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recorded)
        finally:
            state = scope.get("state") or {}
            event("api.request", level=logging.INFO if status < 500 else logging.ERROR, method=scope["method"],
                  path=scope["path"], status=status, ms=round((time.perf_counter() - started) * 1000, 1),
                  caller=state.get("caller"))
