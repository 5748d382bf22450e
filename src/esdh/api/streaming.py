"""Streamed downloads over HTTP: the bytes :mod:`esdh.library.stream` writes (a table, or a whole dataset as
a ZIP), sent as soon as they are written while the request holds a generation slot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import anyio
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


class HeldStream(StreamingResponse):
    """A streamed response that holds a generation slot until its last byte is sent, the client goes
    away or the server stops; then the slot is released and the generator closed (its writers too)."""

    def __init__(self, chunks: Iterator[bytes], release: Callable[[], None], **options: Any) -> None:
        super().__init__(chunks, **options)
        self._chunks = chunks
        self._release = release
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._release()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except ClientDisconnect:
            pass  # the client went away: nothing to answer, nobody to tell
        finally:
            self.release()
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._close)

    def _close(self) -> None:
        with contextlib.suppress(ValueError):  # still running in a worker thread: it is dropped with the response
            self._chunks.close()  # type: ignore[attr-defined]
