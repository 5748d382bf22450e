"""The spec language, version 1, as typed models. Structure only; meaning is checked in ``check.py``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    Tag,
    field_validator,
)

from esdh.limits import NAME_CHARS

SPEC_VERSION: Final = 1
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=NAME_CHARS)]  # a table's is a file's
Bound = StrictInt | StrictFloat | dt.date | str

UNION_TAGS = {"number", "distribution", "per_parent"}  # pydantic puts these in error locations; not user paths
COLUMN_KEYS = {"generator", "expr", "ref", "lookup", "value", "type", "null_rate", "unique", "description",
               "check", "choose", "weight_by", "hidden", "via", "aggregate", "window", "of", "round",
               "references"}
COLUMN_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Check(_Strict):
    """Constraints the output is checked against (the generator should already honour them)."""

    min: Bound | None = None
    max: Bound | None = None
    enum: list[Any] | None = None
    pattern: str | None = None
    min_length: StrictInt | None = Field(default=None, ge=0)
    max_length: StrictInt | None = Field(default=None, ge=0)


class Column(BaseModel):
    """One column. Exactly one of generator, expr, ref, lookup or value says where values come from;
    any other key is a parameter of the generator."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    generator: str | None = None
    expr: str | None = None
    ref: str | None = None
    lookup: str | None = None
    value: Any = None
    type: Literal["string", "integer", "number", "boolean", "date", "datetime"] | None = None
    null_rate: float = Field(default=0.0, ge=0, le=1)
    unique: StrictBool = False
    description: str | None = None
    check: Check | None = None
    choose: Literal["uniform", "zipf", "weighted", "parent", "first_of_parent", "random_of_parent",
                    "distinct", "earlier"] | None = None
    aggregate: Literal["sum", "count", "mean", "min", "max", "first", "last"] | None = None
    window: Literal["cumsum", "cumprod", "cummax", "cummin", "lag", "lead", "first", "last"] | None = None
    of: str | None = None  # aggregate: child_table.column; window: a column of the same table
    references: str | None = None  # declares a foreign key (table.column) for a column computed by value
    round: StrictInt | None = Field(default=None, ge=0, le=12)  # decimals of an aggregate or window
    weight_by: str | None = None
    via: str | None = None
    hidden: StrictBool = False

    @property
    def params(self) -> dict[str, Any]:
        """The generator's parameters: every key that is not a column key (``round`` goes to the
        generator too, since numeric generators take it)."""
        extra = dict(self.model_extra or {})
        if self.round is not None and self.generator is not None:
            extra["round"] = self.round
        return extra

    @property
    def source(self) -> str:
        """Which kind of column this is."""
        for kind in ("generator", "expr", "ref", "lookup", "aggregate", "window"):
            if getattr(self, kind) is not None:
                return kind
        return "value"


class Count(BaseModel):
    """Children per parent: a distribution (any numeric generator) clipped to [min, max]."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    distribution: str = "uniform_int"
    min: StrictInt = Field(default=1, ge=0)
    max: StrictInt = Field(default=1, ge=0)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class RowsPer(_Strict):
    """Rows that follow a parent table: ``count`` children for each parent row, contiguous."""

    per: Name
    count: Annotated[Annotated[StrictInt, Tag("number")] | Annotated[Count, Tag("distribution")],
                     Discriminator(lambda v: "distribution" if isinstance(v, dict | Count) else "number")] = 1
    where: str | None = None  # an expression over the parent's columns: parents where it is false get none


class Rule(_Strict):
    """A cross-column rule: an expression that must be true (or null) on every row."""

    name: Name
    check: str
    description: str | None = None


class Table(_Strict):
    description: str | None = None
    rows: Annotated[Annotated[StrictInt, Tag("number")] | Annotated[RowsPer, Tag("per_parent")],
                    Discriminator(lambda v: "per_parent" if isinstance(v, dict | RowsPer) else "number")]
    scale: StrictBool = True
    primary_key: str | list[str] | None = None
    unique: list[list[str]] = Field(default_factory=list)
    columns: dict[Name, Column]
    rules: list[Rule] = Field(default_factory=list)

    @property
    def primary_key_columns(self) -> list[str]:
        if self.primary_key is None:
            return []
        return [self.primary_key] if isinstance(self.primary_key, str) else list(self.primary_key)


class Version(_Strict):
    """A later version of the dataset: the same spec with some values changed on purpose (evolution)."""

    description: str | None = None
    changes: dict[str, Any] = Field(min_length=1)  # dotted path in the spec -> new value


class Spec(_Strict):
    """A dataset spec."""

    spec_version: Literal[1] = SPEC_VERSION
    dataset: Name
    version: str = "1.0.0"
    title: str | None = None
    description: str | None = None
    seed: StrictInt = Field(default=0, ge=0)
    as_of: Annotated[dt.date, Field(strict=False)]
    synthetic_source: str | None = None
    tables: dict[Name, Table] = Field(min_length=1)
    versions: dict[str, Version] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) else value

    @property
    def marker(self) -> str:
        """The provenance marker written on every row of every table."""
        return self.synthetic_source or f"synthetic: esdh {self.dataset}"
