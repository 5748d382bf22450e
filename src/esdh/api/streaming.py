"""Streamed downloads over HTTP: the bytes :mod:`esdh.library.stream` writes (a table, or a whole dataset as
a ZIP), sent as soon as they are written while the request holds a generation slot.

A stream never ends looking complete when it is not:

- everything that can fail before the first byte (the plan, the tables' first rows, the first piece) has
  failed in the route, before the status line, as an error envelope (:func:`esdh.library.stream.download`);
- an error after the status line is raised on to the server, which closes the connection without the
  chunked encoding's last, empty chunk (no Content-Length is ever set): a client reads an incomplete body,
  never a short one that looks whole;
- a client that stops reading stalls every send; a send that makes no progress for ``stall_timeout``
  seconds gives the stream up the same way, and its slots back.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import anyio
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from esdh.logs import event


class Stalled(Exception):
    """A send of the stream made no progress for the stall timeout: the client stopped reading."""


class HeldStream(StreamingResponse):
    """A streamed response that holds a generation slot until its last byte is sent, the client goes
    away, the client stalls for ``stall_timeout`` seconds or the server stops; then the slot is released and
    the generator closed (its writers too)."""

    def __init__(self, chunks: Iterator[bytes], release: Callable[[], None], stall_timeout: float,
                 **options: Any) -> None:
        super().__init__(chunks, **options)
        self._chunks = chunks
        self._release = release
        self._released = False
        self._stall_timeout = stall_timeout

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._release()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        timeout = self._stall_timeout

        async def timed_send(message: Message) -> None:
            try:
                with anyio.fail_after(timeout):
                    await send(message)
            except TimeoutError:
                raise Stalled from None

        try:
            await super().__call__(scope, receive, timed_send)
        except ClientDisconnect:
            pass  # the client went away: nothing to answer, nobody to tell
        except Stalled:
            # Returning with the response unfinished makes the server close the connection without the
            # last chunk: the client, should it read again, sees an incomplete body.
            event("api.stream_stalled", level=logging.WARNING, path=scope.get("path"), seconds=timeout,
                  caller=(scope.get("state") or {}).get("caller"))
        finally:
            self.release()
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._close)

    def _close(self) -> None:
        with contextlib.suppress(ValueError):  # still running in a worker thread: it is dropped with the response
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
