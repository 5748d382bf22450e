"""Categories: weighted choices, choices conditional on another column, exact-rate flags."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from esdh.generators.base import Context, Generator, Params, choice_from, register

Scalar = str | int | float | bool


class Options(Params):
    """Values and optional weights; ``values`` may also be a mapping of value to weight."""

    values: list[Scalar] | dict[str, float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Options:
        if isinstance(self.values, dict):
            if self.weights is not None:
                raise ValueError("give weights either in the values mapping or in weights, not both")
            weights: list[float] | None = list(self.values.values())
        else:
            weights = self.weights
        if weights is not None:
            if not isinstance(self.values, dict) and len(weights) != len(self.values):
                raise ValueError(f"weights has {len(weights)} entries but values has {len(self.values)}")
            if any(w < 0 for w in weights) or sum(weights) <= 0:
                raise ValueError("weights must be non-negative and not all zero")
        return self

    @property
    def items(self) -> list[Any]:
        return list(self.values)

    @property
    def probabilities(self) -> np.ndarray:
        raw = list(self.values.values()) if isinstance(self.values, dict) else (
            self.weights or [1.0] * len(self.values))
        arr = np.asarray(raw, dtype=np.float64)
        result: np.ndarray = arr / arr.sum()
        return result


def _arrow_values(items: list[Any]) -> pa.Array:
    if all(isinstance(v, bool) for v in items):
        return pa.array(items, pa.bool_())
    if all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        return pa.array(items, pa.int64())
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in items):
        return pa.array([float(v) for v in items], pa.float64())
    return pa.array([str(v) for v in items], pa.string())


def _exact_positions(ctx: Context, probabilities: np.ndarray) -> np.ndarray:
    """Category per row such that each category gets round(p * rows) rows exactly (largest remainder)."""
    total = ctx.total_rows
    raw = probabilities * total
    counts = np.floor(raw).astype(np.int64)
    short = total - counts.sum()
    if short:
        counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    position = ctx.permutation(total, "exact")(ctx.rows)
    return np.searchsorted(np.cumsum(counts), position, side="right")


class ChoiceParams(Options):
    exact: bool = False  # exact proportions over the table instead of independent draws
    when: str | None = None  # a column of the same row whose value selects the case
    cases: dict[str, Options] | None = None


@register
class Choice(Generator):
    """A weighted choice; with ``when``/``cases`` the options depend on another column's value."""

    name = "choice"
    Params = ChoiceParams
    summary = "weighted choice of values, optionally exact proportions or conditional on a column"

    def __init__(self, params: ChoiceParams):
        super().__init__(params)
        if (params.when is None) != (params.cases is None):
            raise ValueError("'when' and 'cases' go together: when names a column, cases maps its values")
        if params.exact and params.when:
            raise ValueError("exact proportions cannot be combined with when/cases")

    @cached_property
    def vocabulary(self) -> pa.Array:
        items = list(self.p.items)
        for case in (self.p.cases or {}).values():
            items += [v for v in case.items if v not in items]
        return _arrow_values(items)

    def output_type(self) -> pa.DataType:
        return self.vocabulary.type

    def dependencies(self) -> set[str]:
        return {self.p.when} if self.p.when else set()

    def capacity(self) -> int | None:
        return len(self.vocabulary)

    def bounds(self, as_of: dt.date) -> dict[str, Any]:
        return {"enum": self.vocabulary.to_pylist()}

    def _indices(self, options: Options, uniforms: np.ndarray) -> np.ndarray:
        position = {value: i for i, value in enumerate(self.vocabulary.to_pylist())}
        as_vocab = _arrow_values(list(options.items)).cast(self.vocabulary.type).to_pylist()
        mapping = np.array([position[v] for v in as_vocab], dtype=np.int64)
        result: np.ndarray = mapping[choice_from(np.cumsum(options.probabilities), uniforms)]
        return result

    def generate(self, ctx: Context) -> pa.Array:
        if self.p.exact:
            idx = _exact_positions(ctx, self.p.probabilities)
            return self.vocabulary.take(pa.array(idx))
        uniforms = ctx.stream.uniform(ctx.rows)
        idx = self._indices(self.p, uniforms)
        if self.p.when:
            selector = pc.cast(ctx.values(self.p.when), pa.string())
            for case_value, options in self.p.cases.items():
                mask = pc.fill_null(pc.equal(selector, case_value), False).to_numpy(zero_copy_only=False)
                if mask.any():
                    idx[mask] = self._indices(options, uniforms[mask])
        return self.vocabulary.take(pa.array(idx))


class FlagParams(Params):
    rate: float = Field(ge=0, le=1)
    exact: bool = True  # exactly round(rate * rows) rows are true


@register
class Flag(Generator):
    """True on exactly ``round(rate * rows)`` rows of the table (chosen by a keyed permutation)."""

    name = "flag"
    Params = FlagParams
    summary = "booleans true at an exact rate (fraud 2% means 2% of rows, to the row)"

    def output_type(self) -> pa.DataType:
        return pa.bool_()

    def generate(self, ctx: Context) -> pa.Array:
        if self.p.exact:
            hits = round(self.p.rate * ctx.total_rows)
            return pa.array(ctx.permutation(ctx.total_rows, "flag")(ctx.rows) < hits, pa.bool_())
        return pa.array(ctx.stream.uniform(ctx.rows) < self.p.rate, pa.bool_())
