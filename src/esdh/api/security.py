"""API keys, per-key rate limits, the concurrent-generation limit and the request-body limit.

Keys come only in the ``X-API-Key`` header (a key in a URL ends up in access logs and browser history) and
are compared in constant time against every configured key. The key itself is never logged: a request is
known by the first 8 hex digits of the key's sha256.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request

from esdh.api.errors import ApiError, envelope
from esdh.api.settings import ApiSettings

HEADER = "X-API-Key"


def key_id(key: str) -> str:
    """How logs and rate limits name a key without revealing it."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]


def authenticate(settings: ApiSettings, request: Request) -> str:
    """The caller's identity (a key id, or the client address when no keys are configured); raises 401."""
    if "api_key" in request.query_params:
        raise ApiError(401, f"send the API key in the {HEADER} header, never in the URL", "unauthorized")
    if not settings.keys_required:
        return f"client-{request.client.host if request.client else 'unknown'}"
    given = request.headers.get(HEADER, "")
    matched = False
    for key in settings.api_keys:  # every key compared, in constant time, whatever matches
        matched |= hmac.compare_digest(given.encode(), key.encode())
    if not given or not matched:
        raise ApiError(401, f"a valid API key is required in the {HEADER} header", "unauthorized",
                       headers={"WWW-Authenticate": "ApiKey"})
    return key_id(given)


class RateLimiter:
    """A token bucket per caller: ``per_minute`` requests a minute, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, caller: str) -> None:
        """Spend one token of ``caller``'s bucket; raises 429 with Retry-After when it is empty."""
        now = self.clock()

        def spend(tokens: float, last: float) -> tuple[float, float]:
            # a clock that went back (a state folder kept across a reboot: monotonic time restarts) refills nothing
            tokens = min(self.capacity, tokens + max(0.0, now - last) * self.rate)
            if tokens < 1:
                wait = math.ceil((1 - tokens) / self.rate)
                raise ApiError(429, f"rate limit of {int(self.capacity)} requests a minute reached; retry in {wait} s",
                               "rate_limited", {"retry_after_seconds": wait}, headers={"Retry-After": str(wait)})
            return tokens - 1, now

        self._exchange(caller, spend)

    def _exchange(self, caller: str, update: Callable[[float, float], tuple[float, float]]) -> None:
        """Replace ``caller``'s bucket (tokens, time of the last refill) by ``update`` of it, atomically."""
        with self.lock:
            self.buckets[caller] = update(*self.buckets.get(caller, (self.capacity, self.clock())))


def busy(limit: int) -> ApiError:
    return ApiError(429, f"{limit} generations are already running; retry shortly", "busy", {"limit": limit},
                    headers={"Retry-After": "1"})


def key_busy(limit: int) -> ApiError:
    return ApiError(429, f"this caller already has {limit} downloads running (max_streams_per_key); finish one, "
                    "or retry shortly", "busy", {"limit": limit, "per": "caller"}, headers={"Retry-After": "1"})


class GenerationSlots:
    """At most ``limit`` generations at once in this process; one more is refused at once (429), not queued.
    (shared_limits.SharedSlots holds the limit across processes.)"""

    def __init__(self, limit: int):
        self.limit = limit
        self.running = 0
        self.lock = threading.Lock()

    def acquire(self) -> Callable[[], None]:
        """Take a slot; returns the function that gives it back (calling it twice is harmless)."""
        with self.lock:
            if self.running >= self.limit:
                raise busy(self.limit)
            self.running += 1
        given_back = threading.Event()

        def release() -> None:
            with self.lock:
                if not given_back.is_set():
                    given_back.set()
                    self.running -= 1

        return release


class CallerSlots:
    """At most ``limit`` streamed downloads at once per caller (API key, or client address without keys), so
    that one caller's slow or stalled downloads cannot take every generation slot. (shared_limits.
    SharedCallerSlots holds the limit across processes.)"""

    def __init__(self, limit: int):
        self.limit = limit
        self.running: dict[str, int] = {}
        self.lock = threading.Lock()

    def acquire(self, caller: str) -> Callable[[], None]:
        """Take one of ``caller``'s slots; returns the function that gives it back (twice is harmless)."""
        with self.lock:
            if self.running.get(caller, 0) >= self.limit:
                raise key_busy(self.limit)
            self.running[caller] = self.running.get(caller, 0) + 1
        given_back = threading.Event()

        def release() -> None:
            with self.lock:
                if not given_back.is_set():
                    given_back.set()
                    left = self.running.pop(caller) - 1
                    if left:
                        self.running[caller] = left

        return release


class BodyLimit:
    """ASGI middleware: a request body larger than ``limit`` bytes is answered 413 (by its Content-Length
    before anything is read, or as soon as a chunked body passes the limit)."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        started = False

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        response = envelope(413, "payload_too_large", f"the request body is larger than {self.limit:,} bytes",
                            {"limit_bytes": self.limit})
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
