"""One validation's shared state: the tables found, their expected types, the DuckDB connections the
checks share, and what the checks found. The checks (``read``, ``rows``, ``keys``, ``hidden``) take it as
their first argument; ``run`` runs them in order."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa

from esdh.checks.results import CheckResult
from esdh.quality.validate.files import TableData
from esdh.quality.validate.kinds import expected_types
from esdh.quality.validate.sql import relation as sql_relation
from esdh.spec.compile import Dataset


class Validation:
    """One validation run: a DuckDB connection for set checks and lookups, the expected types, results."""

    def __init__(self, dataset: Dataset, found: dict[str, TableData]):
        self.dataset = dataset
        self.found = found
        self.types = expected_types(dataset)
        self.results: list[CheckResult] = []
        self.skipped: list[dict[str, str]] = []
        self.lookups: dict[tuple[str, str, str], str] = {}
        self.unreadable: dict[str, str] = {}  # table -> why its files cannot be read
        self.counter = itertools.count()

    def __enter__(self) -> Validation:
        import duckdb

        from esdh.output.tables import CHECK_MEMORY

        self._spill = tempfile.TemporaryDirectory(prefix="esdh-validate-")
        config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": CHECK_MEMORY,
                                                                   "temp_directory": self._spill.name}
        self.con = duckdb.connect(config={**config, "preserve_insertion_order": False})
        self.ordered = duckdb.connect(config=config)  # reads JSON rows in file order
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()
        self.ordered.close()
        self._spill.cleanup()

    def skip(self, table: str, check: str, reason: str) -> None:
        """Report a check that cannot be made on this data, with the reason."""
        self.skipped.append({"table": table, "check": check, "reason": reason})

    def cannot_read(self, table: str, row: int, exc: Exception) -> None:
        """A file that cannot be read (to the end): what was read is reported, the table's keys are not checked."""
        self.unreadable[table] = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        self.results.append(CheckResult(table, "readable", None, 1, 1, [{"row": row, "value": self.unreadable[table]}]))

    def relation(self, table: str) -> str:
        """A DuckDB table expression of the table's written columns, converted to the spec's types."""
        return sql_relation(self.con, self.found[table], self.dataset.tables[table].visible_columns, self.types[table])

    def temp(self, what: str) -> str:
        """A new name for a DuckDB temporary table."""
        return f"esdh_{what}_{next(self.counter)}"

    @contextmanager
    def registered(self, chunk: pa.Table) -> Iterator[None]:
        """``chunk`` visible to DuckDB as ``esdh_chunk``."""
        self.con.register("esdh_chunk", chunk)
        try:
            yield
        finally:
            self.con.unregister("esdh_chunk")
