"""Dates and timestamps: ranges relative to the dataset's ``as_of``, bounds from other columns,
seasonality by month and weekday, business hours."""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from esdh.expr import Node, evaluate, names, parse
from esdh.expr.calendar import shift_months
from esdh.generators.base import Context, Generator, Params, choice_from, register

_OFFSET = re.compile(r"^(as_of)?\s*([+-])\s*(\d+)\s*([dwmy])$")
_EPOCH = dt.date(1970, 1, 1)
Bound = dt.date | str


class Edge:
    """One bound of a date range: a literal date, ``as_of``, an offset like ``-16y``, or an expression."""

    def __init__(self, spec: Bound):
        self.literal: dt.date | None = None
        self.offset: tuple[int, str] | None = None
        self.expression: Node | None = None
        if isinstance(spec, dt.date):
            self.literal = spec
            return
        text = spec.strip()
        match = _OFFSET.match(text)
        if text == "as_of":
            self.offset = (0, "d")
        elif match:
            sign = -1 if match.group(2) == "-" else 1
            self.offset = (sign * int(match.group(3)), match.group(4))
        else:
            try:
                self.literal = dt.date.fromisoformat(text)
            except ValueError:
                self.expression = parse(text)

    def dependencies(self) -> set[str]:
        return names(self.expression) - {"as_of"} if self.expression else set()

    def days(self, ctx: Context) -> np.ndarray | int:
        """Day numbers (since 1970-01-01) of this bound for the context's rows."""
        if self.literal is not None:
            return (self.literal - _EPOCH).days
        if self.offset is not None:
            amount, unit = self.offset
            base = np.asarray([(ctx.as_of - _EPOCH).days], dtype=np.int64)
            if unit in "dw":
                return int(base[0] + amount * (7 if unit == "w" else 1))
            months = amount * (12 if unit == "y" else 1)
            return int(shift_months(base, np.asarray([months]))[0])
        as_of = pa.scalar(ctx.as_of, pa.date32())
        value = evaluate(self.expression, lambda n: as_of if n == "as_of" else ctx.values(n))
        days = pc.cast(pc.cast(value, pa.date32()), pa.int32())
        if isinstance(days, pa.Scalar):
            return int(days.as_py())
        return pc.fill_null(days, 0).to_numpy(zero_copy_only=False).astype(np.int64)


class DateParams(Params):
    min: Bound = "-1y"
    max: Bound = "as_of"
    month_weights: list[float] | None = Field(default=None, min_length=12, max_length=12)
    weekday_weights: list[float] | None = Field(default=None, min_length=7, max_length=7)  # Monday first


class _Dated(Generator):
    @cached_property
    def edges(self) -> tuple[Edge, Edge]:
        return Edge(self.p.min), Edge(self.p.max)

    def dependencies(self) -> set[str]:
        low, high = self.edges
        return low.dependencies() | high.dependencies()

    def weekday_weights(self) -> list[float] | None:
        return self.p.weekday_weights

    def day_numbers(self, ctx: Context) -> np.ndarray:
        low, high = (edge.days(ctx) for edge in self.edges)
        uniforms = ctx.stream.uniform(ctx.rows)
        seasonal = self.p.month_weights is not None or self.weekday_weights() is not None
        if seasonal and np.isscalar(low) and np.isscalar(high):
            return self._seasonal_days(int(low), int(high), uniforms)
        span = np.maximum(np.asarray(high) - np.asarray(low) + 1, 1)
        return np.asarray(low) + np.floor(uniforms * span).astype(np.int64)

    def _seasonal_days(self, low: int, high: int, uniforms: np.ndarray) -> np.ndarray:
        days = np.arange(low, max(high, low) + 1, dtype=np.int64)
        weights = np.ones(len(days))
        if self.p.month_weights is not None:
            months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
            weights *= np.asarray(self.p.month_weights)[months]
        weekday_weights = self.weekday_weights()
        if weekday_weights is not None:
            weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
            weights *= np.asarray(weekday_weights)[weekday]
        return days[choice_from(np.cumsum(weights), uniforms)]


@register
class Date(_Dated):
    """Dates uniform in [min, max]; bounds may be dates, ``as_of``, offsets (``-90y``) or expressions."""

    name = "date"
    Params = DateParams
    summary = "dates in a range relative to as_of or to other columns, with optional seasonality"

    def output_type(self) -> pa.DataType:
        return pa.date32()

    def generate(self, ctx: Context) -> pa.Array:
        return pa.array(self.day_numbers(ctx).astype(np.int32), pa.int32()).cast(pa.date32())


class TimestampParams(DateParams):
    business_hours: bool = False  # 09:00-17:00 on weekdays only
    hour_weights: list[float] | None = Field(default=None, min_length=24, max_length=24)


@register
class Timestamp(_Dated):
    """Timestamps (second resolution, no time zone) in a date range, optionally in business hours."""

    name = "timestamp"
    Params = TimestampParams
    summary = "timestamps in a range, optionally weighted by hour or limited to business hours"

    def output_type(self) -> pa.DataType:
        return pa.timestamp("s")

    def weekday_weights(self) -> list[float] | None:
        if self.p.business_hours and self.p.weekday_weights is None:
            return [1, 1, 1, 1, 1, 0, 0]
        return self.p.weekday_weights

    def generate(self, ctx: Context) -> pa.Array:
        p = self.p
        days = self.day_numbers(ctx)
        hours_weights = np.asarray(p.hour_weights if p.hour_weights else np.ones(24), dtype=np.float64)
        if p.business_hours:
            hours_weights = hours_weights * ((np.arange(24) >= 9) & (np.arange(24) < 17))
        hours = choice_from(np.cumsum(hours_weights), ctx.stream.sub("hour").uniform(ctx.rows))
        seconds = ctx.stream.sub("second").integers(ctx.rows, 3600)
        total = days * 86400 + hours * 3600 + seconds
        return pa.array(total, pa.int64()).cast(pa.timestamp("s"))
