"""Compiled columns: what each column of a spec turns into once checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from esdh.expr import Node
from esdh.generators.base import Generator
from esdh.spec.model import Check, Column

ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s"),
}


@dataclass
class Compiled:
    """A checked column, ready to generate."""

    name: str
    spec: Column
    kind: str  # generator | expr | ref | lookup | value
    generator: Generator | None = None
    expression: Node | None = None
    target_table: str | None = None
    target_column: str | None = None
    via: str | None = None  # for lookups: the foreign-key column of this table that leads to the parent
    choose: str | None = None  # for refs: how a parent row is chosen
    value: Any = None
    depends_on: set[str] = field(default_factory=set)

    @property
    def null_rate(self) -> float:
        return float(self.spec.null_rate)

    @property
    def unique(self) -> bool:
        return self.spec.unique

    @property
    def hidden(self) -> bool:
        return self.spec.hidden

    @property
    def check(self) -> Check | None:
        return self.spec.check

    @property
    def declared_type(self) -> pa.DataType | None:
        return ARROW_TYPES[self.spec.type] if self.spec.type else None
