"""A table, or a whole dataset as a ZIP, as bytes, chunk by chunk: written by the same file writers as
``esdh generate`` into a pipe whose bytes are handed on as soon as they are written. Memory is bounded by one
chunk, however many rows are asked for (the API streams downloads with these).

A table's NDJSON or CSV is byte for byte the file ``esdh generate`` writes (their bytes do not depend on
the chunking, so they are rendered in smaller chunks, :data:`TEXT_ROWS`); a Parquet stream has the plan's
chunks as row groups, as a generated file does, and is that file byte for byte too. A ZIP is written for an
unseekable stream (sizes and checksums after each member) with fixed dates, so the same request always
gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING

from esdh.engine import chunks
from esdh.output.formats import FORMATS, Format
from esdh.output.layout import table_layout
from esdh.plan.planner import Plan

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["FORMATS", "STREAMED", "TEXT_ROWS", "ZIP_DATE", "Download", "Format", "Pipe", "download", "preflight",
           "table_bytes", "zip_bytes"]

TEXT_ROWS = 16_384  # rows rendered at once into NDJSON or CSV (~8 MB of NDJSON per piece)
STREAMED = ("ndjson", "csv", "parquet")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a ZIP can hold: the archive's bytes never depend on when


class Pipe(io.RawIOBase):
    """A write-only, unseekable binary file: what is written is taken out with :meth:`take`."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:  # Parquet and zipfile ask for their position; neither needs to seek
        return self.position

    def close(self) -> None:  # a writer that closes its file must not end the stream
        pass

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


class _Member(io.RawIOBase):
    """One member of a ZIP being written, as a plain binary file with a position (zipfile's has none)."""

    def __init__(self, inner: IO[bytes]) -> None:
        super().__init__()
        self.inner = inner
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        view = memoryview(data)
        self.inner.write(view)
        self.position += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.position

    def close(self) -> None:  # the archive closes its member
        pass


def _write(plan: Plan, table: str, fmt: str, sink: io.RawIOBase,
           take: Callable[[], bytes]) -> Iterator[bytes]:
    """Write one table into ``sink`` chunk by chunk, yielding what ``take`` gives after each chunk."""
    schema, hints = table_layout(plan, table)
    step = plan.chunk_size if fmt == "parquet" else min(TEXT_ROWS, plan.chunk_size)
    writer = FORMATS[fmt].writer(sink, schema, hints)
    try:
        for batch in chunks.batches(plan, table, schema=schema, step=step):
            writer.write(batch)
            piece = take()
            if piece:
                yield piece
    finally:
        writer.close()
    piece = take()
    if piece:
        yield piece


def table_bytes(plan: Plan, table: str, fmt: str) -> Iterator[bytes]:
    """One table's file in ``fmt`` (ndjson, csv, parquet), as bytes, chunk by chunk."""
    pipe = Pipe()
    yield from _write(plan, table, fmt, pipe, pipe.take)


def zip_bytes(plan: Plan, fmt: str) -> Iterator[bytes]:
    """A ZIP of one file per table of the plan (``<table>.<ext>``), as bytes, chunk by chunk."""
    pipe = Pipe()
    extension = FORMATS[fmt].extension
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in plan.tables:
            info = zipfile.ZipInfo(f"{table}.{extension}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                yield from _write(plan, table, fmt, _Member(member), pipe.take)
            yield pipe.take()
    yield pipe.take()


def preflight(plan: Plan, tables: list[str] | None = None) -> None:
    """Raise now what would otherwise fail once the first bytes are out: every table's layout (its schema
    and write hints, found on its first rows, so a column that cannot be computed for them fails here).
    The layouts are kept in the plan, so the stream that follows does not compute them again."""
    for table in tables or list(plan.tables):
        table_layout(plan, table)


class Download:
    """The bytes of a download whose first piece has already been computed: an error in the plan, in a
    table's first rows or in the first piece was raised by :func:`download`, before anything was sent.
    Iterate it for the bytes; :meth:`close` closes the writers of a download given up half way."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._first: bytes | None = next(chunks, None)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return next(self._chunks)

    def close(self) -> None:
        self._first = None
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


def download(plan: Plan, fmt: str, table: str | None = None) -> Download:
    """``table`` (or every table of the plan, as a ZIP) in ``fmt``, checked by :func:`preflight` and with
    its first piece computed: what can fail before the first byte fails here, raised to the caller."""
    preflight(plan, [table] if table is not None else None)
    return Download(table_bytes(plan, table, fmt) if table is not None else zip_bytes(plan, fmt))
