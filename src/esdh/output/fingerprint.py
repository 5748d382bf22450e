"""A content hash of a table that depends on neither the file format, the chunking nor the partitioning.

The rows are cut into fixed blocks of ``BLOCK`` rows counted from the table's first row. Inside a block,
each column feeds separate digests (so chunk boundaries cannot shift bytes between them): the rows that are
null; for text the value lengths and the concatenated characters; for everything else the fixed-width
values (nulls as 0). A partition covers whole blocks, so it can hash its blocks on its own (in another
process or on another machine); the table's fingerprint combines the block digests in row order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BLOCK = 65_536

BlockDigests = dict[int, dict[str, str]]  # block number -> digest name -> sha256 hex


class Fingerprint:
    """Block digests of a run of consecutive rows (a partition, or a whole table)."""

    def __init__(self) -> None:
        self.blocks: BlockDigests = {}
        self._block = -1
        self._digests: dict[str, hashlib._Hash] = {}

    def update(self, batch: pa.RecordBatch, start: int) -> None:
        """Add the batch holding rows [start, start + len(batch)); batches must come in row order."""
        offset = 0
        while offset < batch.num_rows:
            row = start + offset
            block = row // BLOCK
            take = min(batch.num_rows - offset, (block + 1) * BLOCK - row)
            if block != self._block:
                self._finish_block()
                self._block = block
            self._add(batch.slice(offset, take), row - block * BLOCK)
            offset += take

    def _finish_block(self) -> None:
        if self._block >= 0:
            self.blocks[self._block] = {name: d.hexdigest() for name, d in self._digests.items()}
        self._digests = {}

    def _digest(self, name: str) -> hashlib._Hash:
        digest = self._digests.get(name)
        if digest is None:
            digest = self._digests[name] = hashlib.sha256()
        return digest

    def _add(self, batch: pa.RecordBatch, start: int) -> None:
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if column.null_count:  # the row numbers (in the block) of the nulls: cheap and chunk-independent
                nulls = np.flatnonzero(~column.is_valid().to_numpy(zero_copy_only=False)) + start
                self._digest(f"{name}\x00nulls").update(nulls.astype(np.int64).tobytes())
                column = pc.fill_null(column, "") if is_text(column.type) else column
            if is_text(column.type):
                wide = pa.types.is_large_string(column.type)
                offsets = np.frombuffer(column.buffers()[1], dtype=np.int64 if wide else np.int32,
                                        count=len(column) + 1, offset=column.offset * (8 if wide else 4))
                self._digest(f"{name}\x00lengths").update(np.diff(offsets).tobytes())
                self._digest(name).update(memoryview(column.buffers()[2])[offsets[0]:offsets[-1]])
            else:
                physical = _PHYSICAL.get(column.type.id)
                if physical is not None:
                    column = column.cast(physical)
                if column.null_count:
                    column = pc.fill_null(column, 0)
                width = column.type.bit_width // 8
                data = memoryview(column.buffers()[1])
                self._digest(name).update(data[column.offset * width:(column.offset + len(column)) * width])

    def finish(self) -> BlockDigests:
        """The digests of every block seen (call once, after the last batch)."""
        self._finish_block()
        self._block = -1
        return self.blocks

    def hexdigest(self) -> str:
        return combine([self.finish()])


def combine(parts: Iterable[BlockDigests]) -> str:
    """The table's fingerprint from the block digests of all its partitions."""
    blocks: BlockDigests = {}
    for part in parts:
        blocks.update(part)
    per_name: dict[str, hashlib._Hash] = {}
    for block in sorted(blocks):
        for name, digest in blocks[block].items():
            per_name.setdefault(name, hashlib.sha256()).update(block.to_bytes(8, "little") + bytes.fromhex(digest))
    whole = hashlib.sha256()
    for name, hashed in sorted(per_name.items()):
        whole.update(name.encode("utf-8") + b"\x00" + hashed.digest())
    return "sha256:" + whole.hexdigest()


_PHYSICAL = {pa.bool_().id: pa.uint8(), pa.date32().id: pa.int32(), pa.timestamp("s").id: pa.int64()}


def is_text(type_: pa.DataType) -> bool:
    result: bool = pa.types.is_string(type_) or pa.types.is_large_string(type_)
    return result
