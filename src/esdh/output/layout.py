"""How a table is laid out in files: its Arrow schema and write hints, and the paths of its files.

The schema and hints are decided once, on a fixed sample of the table's first rows, so that every partition,
wherever it runs, writes the same schema and statistics (the bytes of a Parquet file depend on them)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from esdh.engine import chunks
from esdh.output.fingerprint import is_text
from esdh.output.formats import WriteHints
from esdh.plan.partitions import Part
from esdh.plan.planner import Plan

Layout = tuple[pa.Schema, WriteHints]
SINGLE_NAME = "{table}.{ext}"  # a table of one partition: one file per format beside the others


def table_layout(plan: Plan, table: str) -> Layout:
    """The table's Arrow schema and write hints (computed once per plan)."""
    cache = plan.cache.setdefault("layout", {})
    if table not in cache:
        sample = chunks.sample(plan, table)
        cache[table] = (sample.schema, write_hints(sample))
    layout: Layout = cache[table]
    return layout


def write_hints(sample: pa.RecordBatch) -> WriteHints:
    """Which columns get min/max statistics and dictionary encoding, decided on a fixed sample of the
    first rows (so the choice does not depend on the chunk size or the partition). Statistics help a query
    on numbers, dates and repeated text, not on ids and e-mails, where they only cost time; a dictionary
    helps repeated values and is wasted work on nearly unique ones (Parquet builds it, then gives up)."""
    statistics, dictionary = [], []
    for name, column in zip(sample.schema.names, sample.columns, strict=True):
        distinct = pc.count_distinct(column).as_py()
        if not is_text(column.type) or distinct <= max(1, len(column) // 2):
            statistics.append(name)
        if distinct <= max(1, len(column) * 9 // 10):
            dictionary.append(name)
    return WriteHints(statistics=statistics, dictionary=dictionary)


def part_path(part: Part, extension: str, single_name: str = SINGLE_NAME) -> str:
    """A partition's file, relative to the output folder: ``table/part-00000.ext`` for a table cut into
    part files, else ``single_name`` (``table.ext``)."""
    if part.split:
        return f"{part.table}/part-{part.index:05d}.{extension}"
    return single_name.format(table=part.table, ext=extension)
