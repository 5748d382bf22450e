"""Dates and timestamps: ranges relative to the dataset's ``as_of``, bounds from other columns,
seasonality by month and weekday, business hours."""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from typing import Any

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

    def constant(self, as_of: dt.date) -> dt.date | None:
        """The bound's day when it is the same on every row (a date, ``as_of`` or an offset), else None."""
        if self.literal is not None:
            return self.literal
        if self.offset is None:
            return None
        amount, unit = self.offset
        if unit in "dw":
            return as_of + dt.timedelta(days=amount * (7 if unit == "w" else 1))
        base = np.asarray([(as_of - _EPOCH).days], dtype=np.int64)
        months = amount * (12 if unit == "y" else 1)
        return _EPOCH + dt.timedelta(days=int(shift_months(base, np.asarray([months]))[0]))

    def days(self, ctx: Context) -> tuple[np.ndarray | int, np.ndarray | None]:
        """Day numbers (since 1970-01-01) of this bound for the context's rows, and where it is null."""
        day = self.constant(ctx.as_of)  # the same day that bounds() promises
        if day is not None:
            return (day - _EPOCH).days, None
        as_of = pa.scalar(ctx.as_of, pa.date32())
        assert self.expression is not None  # not a constant: an expression
        value = evaluate(self.expression, lambda n: as_of if n == "as_of" else ctx.values(n))
        days = pc.cast(pc.cast(value, pa.date32()), pa.int32())
        if isinstance(days, pa.Scalar):
            return int(days.as_py() or 0), None if days.is_valid else np.ones(ctx.size, dtype=bool)
        missing = ~days.is_valid().to_numpy(zero_copy_only=False) if days.null_count else None
        return pc.fill_null(days, 0).to_numpy(zero_copy_only=False).astype(np.int64), missing


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

    def bounds(self, as_of: dt.date) -> dict[str, Any]:
        low, high = (edge.constant(as_of) for edge in self.edges)
        if low is not None and high is not None and low > high:
            return {}  # an empty range gives its low day on every row: nothing simple to promise
        found: dict[str, Any] = {}
        if low is not None:
            found["min"] = low
        if high is not None:
            found["max"] = self.last_moment(high)
        return found

    def problem(self, as_of: dt.date) -> str:
        try:
            low, high = (edge.constant(as_of) for edge in self.edges)
        except (OverflowError, ValueError):
            return "a bound is outside the calendar (years 1 to 9999)"
        if low is not None and high is not None:
            if low > high:
                return f"min ({low}) is after max ({high}): the range has no day"
            if self.p.month_weights is not None or self.weekday_weights() is not None:
                first = (low - _EPOCH).days
                if not self._weights_of(np.arange(first, (high - _EPOCH).days + 1, dtype=np.int64)).any():
                    return f"the month and weekday weights give no day in [{low}, {high}] a chance"
        return ""

    def last_moment(self, day: dt.date) -> dt.date:
        """The latest value made on ``day``: the day itself for dates."""
        return day

    def weekday_weights(self) -> list[float] | None:
        result: list[float] | None = self.p.weekday_weights
        return result

    def day_numbers(self, ctx: Context) -> tuple[np.ndarray, np.ndarray | None]:
        """A day per row, and the rows whose range is unknown (a null bound)."""
        (low, low_missing), (high, high_missing) = (edge.days(ctx) for edge in self.edges)
        missing = low_missing if high_missing is None else high_missing if low_missing is None else \
            low_missing | high_missing
        uniforms = ctx.stream.uniform(ctx.rows)
        seasonal = self.p.month_weights is not None or self.weekday_weights() is not None
        if seasonal and isinstance(low, int) and isinstance(high, int):  # constant bounds (days() gives ints)
            return self._seasonal_days(low, high, uniforms), missing
        span = np.maximum(np.asarray(high) - np.asarray(low) + 1, 1)
        days = np.asarray(low) + np.floor(uniforms * span).astype(np.int64)
        if seasonal:  # bounds differ per row: accept-reject against the weights, a fixed number of tries
            days = self._seasonal_per_row(ctx, days, np.asarray(low) + 0 * days, span)
        return days, missing

    def _weights_of(self, days: np.ndarray) -> np.ndarray:
        weights = np.ones(len(days))
        if self.p.month_weights is not None:
            months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
            weights *= np.asarray(self.p.month_weights)[months]
        weekday_weights = self.weekday_weights()
        if weekday_weights is not None:
            weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
            weights *= np.asarray(weekday_weights)[weekday]
        return weights

    def _seasonal_days(self, low: int, high: int, uniforms: np.ndarray) -> np.ndarray:
        days = np.arange(low, max(high, low) + 1, dtype=np.int64)
        result: np.ndarray = days[choice_from(np.cumsum(self._weights_of(days)), uniforms)]
        return result

    def _seasonal_per_row(self, ctx: Context, days: np.ndarray, low: np.ndarray, span: np.ndarray) -> np.ndarray:
        """Exact inverse transform with per-row bounds: cumulative weights over every day the chunk's
        ranges cover, then each row's uniform is mapped into its own [low, high] slice. A row whose range
        has no day of positive weight (a weekend-only range for business days) keeps a uniform day."""
        base = int(low.min())
        calendar = np.arange(base, int((low + span).max()) + 1, dtype=np.int64)
        cumulative = np.concatenate([[0.0], np.cumsum(self._weights_of(calendar))])
        start, stop = cumulative[low - base], cumulative[low + span - base]
        target = start + ctx.stream.sub("season").uniform(ctx.rows) * (stop - start)
        picked = base + np.searchsorted(cumulative, target, side="right") - 1
        return np.where(stop > start, np.clip(picked, low, low + span - 1), days)


@register
class Date(_Dated):
    """Dates uniform in [min, max]; bounds may be dates, ``as_of``, offsets (``-90y``) or expressions."""

    name = "date"
    Params = DateParams
    summary = "dates in a range relative to as_of or to other columns, with optional seasonality"

    def output_type(self) -> pa.DataType:
        return pa.date32()

    def generate(self, ctx: Context) -> pa.Array:
        days, missing = self.day_numbers(ctx)
        return pa.array(days.astype(np.int32), pa.int32(), mask=missing).cast(pa.date32())


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

    def last_moment(self, day: dt.date) -> dt.date:
        return dt.datetime.combine(day, dt.time(23, 59, 59))

    def weekday_weights(self) -> list[float] | None:
        if self.p.business_hours and self.p.weekday_weights is None:
            return [1, 1, 1, 1, 1, 0, 0]
        result: list[float] | None = self.p.weekday_weights
        return result

    def generate(self, ctx: Context) -> pa.Array:
        p = self.p
        days, missing = self.day_numbers(ctx)
        hours_weights = np.asarray(p.hour_weights if p.hour_weights else np.ones(24), dtype=np.float64)
        if p.business_hours:
            hours_weights = hours_weights * ((np.arange(24) >= 9) & (np.arange(24) < 17))
        hours = choice_from(np.cumsum(hours_weights), ctx.stream.sub("hour").uniform(ctx.rows))
        seconds = ctx.stream.sub("second").integers(ctx.rows, 3600)
        total = days * 86400 + hours * 3600 + seconds
        return pa.array(total, pa.int64(), mask=missing).cast(pa.timestamp("s"))
