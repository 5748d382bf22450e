"""The demo's HTTP calls, with the standard library (the API extra has no HTTP client) and never through a
proxy (the API is on loopback). The key, when there is one, goes in the X-API-Key header."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from esdh.errors import EsdhError

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ApiCallError(EsdhError):
    """An API call answered with an error status."""


def call(method: str, url: str, body: Any = None, key: str | None = None,
         timeout: float = 60.0) -> tuple[int, Any]:
    """``(status, decoded JSON or text)``; an HTTP error status is returned, not raised."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key:
        headers["X-API-Key"] = key
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _decode(exc.read())


def call_ok(method: str, url: str, body: Any = None, key: str | None = None, timeout: float = 60.0) -> Any:
    """The decoded answer of a call that must succeed; otherwise ApiCallError with the API's message."""
    status, answer = call(method, url, body, key, timeout)
    if status != 200:
        error = answer.get("error") if isinstance(answer, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        raise ApiCallError(f"{method} {url} answered HTTP {status}: {message or str(answer)[:300]}")
    return answer


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
