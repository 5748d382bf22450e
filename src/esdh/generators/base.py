"""The generator contract and the registry that holds every generator by name."""

from __future__ import annotations

import datetime as dt
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeAlias

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from esdh.rng import Permutation, Stream, derive_key


class Params(BaseModel):
    """Base of every generator's parameters: strict types, no unknown keys."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _sane_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """No parameter may be NaN or infinite (YAML's .nan, .inf), and a weights list must be a
        distribution: every generator's parameters are checked here, once, at compile time."""
        if not all_finite(value):
            raise ValueError("must be a finite number, not .nan or .inf")
        if not all_in_range(value):
            raise ValueError(f"is beyond the whole numbers ESDH computes with (at most {LARGEST:,} either way)")
        name = info.field_name or ""
        if name.endswith("weights") and isinstance(value, list | tuple):
            problem = weights_problem(value)
            if problem:
                raise ValueError(problem)
        return value


def all_finite(value: Any) -> bool:
    """Whether every float in a (nested) parameter value is finite."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(all_finite(v) for v in value)
    if isinstance(value, dict):
        return all(all_finite(v) for v in value.values())
    return True


LARGEST = 2**62  # parameters stay far enough inside int64 that a span (max - min + 1) or a step still fits


def all_in_range(value: Any) -> bool:
    """Whether every whole number in a (nested) parameter value is within +-LARGEST."""
    if isinstance(value, int) and not isinstance(value, bool):
        return -LARGEST <= value <= LARGEST
    if isinstance(value, list | tuple):
        return all(all_in_range(v) for v in value)
    if isinstance(value, dict):
        return all(all_in_range(v) for v in value.values())
    return True


def weights_problem(weights: list[Any] | tuple[Any, ...]) -> str:
    """What is wrong with a list of weights ('' if nothing): each finite and >= 0, and not all zero."""
    numbers = [w for w in weights if isinstance(w, int | float) and not isinstance(w, bool)]
    if len(numbers) != len(weights):
        return ""  # the type check reports it
    if not all(math.isfinite(w) for w in numbers):
        return "weights must be finite numbers, not .nan or .inf"
    if any(w < 0 for w in numbers):
        return f"weights must not be negative (got {min(numbers)})"
    if numbers and sum(numbers) <= 0:
        return "weights must not all be zero (a choice needs something to choose)"
    return ""


# The name to annotate with inside Generator, whose own ``Params`` attribute (the subclass's model) shadows it
AnyParams: TypeAlias = Params


class ColumnSource(Protocol):
    """What a generator may ask of the table being generated."""

    def values(self, column: str) -> pa.Array: ...


@dataclass
class Context:
    """Everything a generator needs to produce one column for a set of rows."""

    seed: int
    table: str
    column: str
    rows: np.ndarray  # int64 row indices into the table, not necessarily contiguous
    total_rows: int
    as_of: dt.date
    unique: bool
    source: ColumnSource
    stream_name: str

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def stream(self) -> Stream:
        """This column's randomness, keyed by (seed, table, column or group)."""
        return Stream.of(self.seed, self.table, self.stream_name)

    def permutation(self, size: int | None = None, name: str = "unique") -> Permutation:
        """A keyed bijection over ``size`` values (default: the table's rows) for uniqueness."""
        key = derive_key(self.seed, self.table, self.stream_name, name)
        return Permutation(key, size or self.total_rows)

    def values(self, column: str) -> pa.Array:
        """Another column of the same rows (it must be declared in ``dependencies``)."""
        return self.source.values(column)


class Generator(ABC):
    """A column generator: validated parameters in, a whole chunk's Arrow array out."""

    name: ClassVar[str]
    Params: ClassVar[type[Params]] = Params
    summary: ClassVar[str] = ""
    supports_unique: ClassVar[bool] = False
    group: ClassVar[str | None] = None  # generators sharing a group draw from one stream (coherent fields)

    def __init__(self, params: AnyParams):
        # Any: each subclass reads its own Params model's fields
        self.p: Any = params

    @abstractmethod
    def output_type(self) -> pa.DataType:
        """The Arrow type of the values."""

    @abstractmethod
    def generate(self, ctx: Context) -> pa.Array:
        """Values for ``ctx.rows``; a pure function of the context."""

    def dependencies(self) -> set[str]:
        """Columns of the same table this generator reads."""
        return set()

    def capacity(self) -> int | None:
        """How many distinct values the generator can produce (None: effectively unbounded)."""
        return None

    def bounds(self, as_of: dt.date) -> dict[str, Any]:
        """What every value this generator makes satisfies, as ``check`` fields (``min``, ``max``, ``enum``):
        validation holds data to them as to a declared check. Empty when nothing is guaranteed."""
        return {}

    def problem(self, as_of: dt.date) -> str:
        """What makes these parameters unusable for a dataset as of ``as_of`` ('' if nothing): checked when
        the spec is compiled, for what a parameter model alone cannot know (e.g. a date range after as_of)."""
        return ""

    def row_problem(self, rows: int) -> str:
        """What goes wrong when a table of ``rows`` rows uses this generator ('' if nothing): checked when a
        plan knows its row counts."""
        return ""

    def can_be_unique(self) -> bool:
        """Whether ``unique: true`` can be guaranteed by construction with these parameters."""
        return self.supports_unique

    def stream_name(self, column: str) -> str:
        """The name the randomness is keyed by: the column, or a shared group for coherent fields."""
        group = getattr(self.p, "group", None) or self.group
        return group or column


_REGISTRY: dict[str, type[Generator]] = {}


def register(cls: type[Generator]) -> type[Generator]:
    """Class decorator: add a generator to the registry; a duplicate name is a programming error."""
    if cls.name in _REGISTRY:
        raise RuntimeError(f"generator '{cls.name}' is registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def registry() -> dict[str, type[Generator]]:
    """All generators by name (importing the built-in modules registers them)."""
    from esdh.generators import load_builtins

    load_builtins()
    return dict(_REGISTRY)


def lookup(name: str) -> type[Generator] | None:
    return registry().get(name)


def as_array(values: np.ndarray | pa.Array, type_: pa.DataType | None = None) -> pa.Array:
    """Wrap numpy output as Arrow without copying where possible."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values if type_ is None or values.type == type_ else values.cast(type_)
    return pa.array(values, type=type_)


def choice_from(cdf: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Indices drawn from a cumulative distribution (vectorised inverse transform)."""
    idx = np.searchsorted(cdf, uniforms * cdf[-1], side="right")
    result: np.ndarray = np.minimum(idx, len(cdf) - 1)
    return result


