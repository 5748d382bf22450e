"""Dependencies the routes share: who is calling (key and rate limit checked) and generation slots."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from esdh.api.security import HEADER, authenticate
from esdh.api.settings import ApiSettings

# Declared so that OpenAPI documents the key; the check itself is authenticate()'s (constant time, header only)
api_key_header = APIKeyHeader(name=HEADER, auto_error=False, description="required when the server has keys")


def settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def caller(request: Request, _key: str | None = Depends(api_key_header)) -> str:
    """Authenticate the request and spend one unit of its caller's rate limit; the caller's id (never the
    key) is kept on the request for logs."""
    state = request.app.state
    who = authenticate(state.settings, request)
    state.limiter.take(who)
    request.state.caller = who
    return who


def generation_slot(request: Request) -> Iterator[None]:
    """Hold one of the limited generation slots while a non-streaming request computes its answer. Depend on
    it with ``Depends(generation_slot, scope="function")``: the slot is then given back before the answer is
    sent, so a client's next request never finds its own previous one still holding it."""
    release = request.app.state.slots.acquire()
    try:
        yield
    finally:
        release()


def stream_slots(request: Request) -> Callable[[], None]:
    """Take the slots a streamed download holds until it ends: one of its caller's ``max_streams_per_key``
    (so that one caller's stalled downloads cannot hold every slot), then one of the server's
    ``max_concurrent``; 429 when either is full. Returns the function that gives both back."""
    state = request.app.state
    give_back_caller = state.caller_slots.acquire(getattr(request.state, "caller", None) or "unknown")
    try:
        give_back_slot = state.slots.acquire()
    except BaseException:
        give_back_caller()
        raise

    def release() -> None:
        give_back_slot()
        give_back_caller()

    return release
