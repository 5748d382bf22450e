"""File writers, one per format. Each takes Arrow record batches chunk by chunk and never holds a table.

Capabilities are data: ``FORMATS`` maps a format name to its writer, extension and media type, so
choosing a writer is a lookup. A writer takes a path or an open binary file (an upload to an object store,
for instance); a file it was given is left open: its owner decides when the file is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq


@dataclass(frozen=True)
class WriteHints:
    """What a writer may know about a table's columns before the first chunk."""

    statistics: list[str] | None = None  # columns worth min/max statistics (None: all)
    dictionary: list[str] | None = None  # columns worth dictionary encoding (None: all)


NO_HINTS = WriteHints()
Sink = str | Path | BinaryIO  # where a writer writes: a path, or an open binary file


def _open(sink: Sink) -> tuple[BinaryIO, bool]:
    """A binary file for ``sink`` and whether the writer opened it (and so closes it)."""
    return (Path(sink).open("wb"), True) if isinstance(sink, str | Path) else (sink, False)


class TableWriter(Protocol):
    def write(self, batch: pa.RecordBatch) -> None: ...
    def close(self) -> None: ...


class ParquetWriter:
    """Parquet with zstd; vocabulary columns are dictionary-encoded, nearly unique ones are not."""

    def __init__(self, path: Sink, schema: pa.Schema, hints: WriteHints = NO_HINTS):
        self._writer = pq.ParquetWriter(
            path, schema, compression="zstd", use_dictionary=True if hints.dictionary is None else hints.dictionary,
            write_statistics=True if hints.statistics is None else hints.statistics)

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def close(self) -> None:
        self._writer.close()


class CsvWriter:
    """RFC 4180 CSV with a header row and LF line ends; nulls are empty fields."""

    def __init__(self, path: Sink, schema: pa.Schema, hints: WriteHints = NO_HINTS):
        sink = str(path) if isinstance(path, str | Path) else path
        self._writer = pcsv.CSVWriter(sink, schema, write_options=pcsv.WriteOptions(include_header=True))

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def close(self) -> None:
        self._writer.close()


class JsonRenderer:
    """Renders record batches as one JSON object per row with DuckDB's vectorised to_json (keys in
    column order). One connection serves every chunk of a table. Opening a DuckDB database takes ~20 ms,
    which dominates a small answer: a server passes ``shared``, whose cursors (one per renderer, safe to
    use from its own thread) cost microseconds."""

    def __init__(self, shared: Any = None) -> None:
        import duckdb

        self._con = shared.cursor() if shared is not None else duckdb.connect()

    def lines(self, batch: pa.RecordBatch) -> pa.Array:
        self._con.register("chunk", batch)
        try:
            relation = self._con.sql("SELECT to_json(chunk) AS line FROM chunk")
            table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
        finally:
            self._con.unregister("chunk")
        return table.column(0).combine_chunks()

    def close(self) -> None:
        self._con.close()


def joined(lines: pa.Array, separator: bytes) -> bytes:
    """Concatenate strings with a separator after each, straight from the Arrow buffers."""
    with_sep = pc.binary_join_element_wise(lines, separator.decode(), "")
    offsets, data = with_sep.buffers()[1], with_sep.buffers()[2]
    bounds = np.frombuffer(offsets, dtype=np.int32, count=len(with_sep) + 1, offset=with_sep.offset * 4)
    return data.to_pybytes()[bounds[0]:bounds[-1]] if len(with_sep) else b""


class NdjsonWriter:
    """Newline-delimited JSON: one object per line."""

    def __init__(self, path: Sink, schema: pa.Schema, hints: WriteHints = NO_HINTS):
        self._file, self._owned = _open(path)
        self._json = JsonRenderer()

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self._file.write(joined(self._json.lines(batch), b"\n"))

    def close(self) -> None:
        self._json.close()
        if self._owned:
            self._file.close()


class JsonWriter:
    """A JSON array of objects, one object per line, streamed chunk by chunk."""

    def __init__(self, path: Sink, schema: pa.Schema, hints: WriteHints = NO_HINTS):
        self._file, self._owned = _open(path)
        self._file.write(b"[")
        self._first = True
        self._json = JsonRenderer()

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        body = joined(self._json.lines(batch), b",\n")[:-2]
        self._file.write(b"\n" if self._first else b",\n")
        self._file.write(body)
        self._first = False

    def close(self) -> None:
        self._json.close()
        self._file.write(b"]\n" if self._first else b"\n]\n")
        if self._owned:
            self._file.close()


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    mediatype: str
    writer: type


FORMATS: dict[str, Format] = {
    "parquet": Format("parquet", "parquet", "application/vnd.apache.parquet", ParquetWriter),
    "csv": Format("csv", "csv", "text/csv", CsvWriter),
    "json": Format("json", "json", "application/json", JsonWriter),
    "ndjson": Format("ndjson", "ndjson", "application/x-ndjson", NdjsonWriter),
}
