"""Numeric distributions by inverse transform: each value is ``ppf(uniform(seed, table, column, row))``.

Bounds truncate the distribution (the uniform is mapped into ``[cdf(min), cdf(max)]``) instead of
clipping, so there is no spike of values at a bound.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from abc import abstractmethod
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field, model_validator

from esdh.generators.base import Context, Generator, Params, choice_from, register

if TYPE_CHECKING:
    from scipy import stats


def _stats() -> Any:  # scipy ships no type information: its modules are Any to mypy
    """scipy.stats, imported when a distribution is first built: it takes a second to import, which
    every command would pay otherwise."""
    from scipy import stats

    return stats


class _NumericParams(Params):
    min: float | None = None
    max: float | None = None
    round: int | None = Field(default=None, ge=0, le=12)  # decimals; None keeps full precision

    @model_validator(mode="after")
    def _ordered(self) -> _NumericParams:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Sampling(Generator):
    """A numeric generator that maps uniforms in [0, 1) to values (cardinalities draw with it too)."""

    @abstractmethod
    def sample(self, uniforms: np.ndarray) -> np.ndarray:
        """Values for the given uniforms, one each."""


class _Distribution(Sampling):
    """A scipy distribution sampled by inverse transform, truncated to [min, max]."""

    discrete = False

    def frozen(self) -> stats.rv_continuous | stats.rv_discrete:
        raise NotImplementedError

    def output_type(self) -> pa.DataType:
        return pa.int64() if self.discrete else pa.float64()

    @cached_property
    def _dist(self) -> stats.rv_continuous | stats.rv_discrete:
        return self.frozen()

    @cached_property
    def _cdf_bounds(self) -> tuple[float, float]:
        lo_cdf, hi_cdf = 0.0, 1.0
        if self.p.min is not None:
            edge = np.ceil(self.p.min) - 1 if self.discrete else self.p.min
            lo_cdf = float(self._dist.cdf(edge))
        if self.p.max is not None:
            hi_cdf = float(self._dist.cdf(np.floor(self.p.max) if self.discrete else self.p.max))
        return lo_cdf, hi_cdf

    def sample(self, uniforms: np.ndarray) -> np.ndarray:
        lo_cdf, hi_cdf = self._cdf_bounds
        values: np.ndarray = self._dist.ppf(lo_cdf + uniforms * (hi_cdf - lo_cdf))
        if self.p.min is not None or self.p.max is not None:  # guard ppf round-off at the edges
            values = np.clip(values, self.p.min if self.p.min is not None else -np.inf,
                             self.p.max if self.p.max is not None else np.inf)
        return values

    def bounds(self, as_of: dt.date) -> dict[str, Any]:
        found: dict[str, Any] = {}
        low, high = self._support
        if low is not None:
            found["min"] = int(np.ceil(low)) if self.discrete else _outward(low, self.p.round, np.floor)
        if high is not None:
            found["max"] = int(np.floor(high)) if self.discrete else _outward(high, self.p.round, np.ceil)
        return found

    @property
    def _support(self) -> tuple[float | None, float | None]:
        return self.p.min, self.p.max

    def generate(self, ctx: Context) -> pa.Array:
        values = self.sample(ctx.stream.uniform(ctx.rows))
        if self.discrete:
            return pa.array(values.astype(np.int64), pa.int64())
        if self.p.round is not None:
            values = np.round(values, self.p.round)
        return pa.array(values, pa.float64())


def _outward(bound: float, decimals: int | None, direction: Any) -> float:
    """A bound that still holds after values are rounded to ``decimals`` (0.155 rounded to 2 decimals may
    give 0.15): the bound itself moved outward to that precision."""
    if decimals is None:
        return float(bound)
    scale = 10.0 ** decimals
    return float(direction(bound * scale) / scale)


class UniformParams(_NumericParams):
    min: float = 0.0
    max: float = 1.0


@register
class Uniform(_Distribution):
    name = "uniform"
    Params = UniformParams
    summary = "uniform numbers in [min, max]"

    def frozen(self) -> stats.rv_continuous | stats.rv_discrete:
        return _stats().uniform(loc=self.p.min, scale=self.p.max - self.p.min)


class UniformIntParams(Params):
    min: int = 0
    max: int = 100

    @model_validator(mode="after")
    def _ordered(self) -> UniformIntParams:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


@register
class UniformInt(Sampling):
    """Whole numbers in [min, max]; with ``unique: true`` a keyed bijection, so no value repeats."""

    name = "uniform_int"
    Params = UniformIntParams
    summary = "whole numbers in [min, max], unique by construction when asked"
    supports_unique = True

    def output_type(self) -> pa.DataType:
        return pa.int64()

    def capacity(self) -> int | None:
        result: int | None = self.p.max - self.p.min + 1
        return result

    def bounds(self, as_of: dt.date) -> dict[str, Any]:
        return {"min": self.p.min, "max": self.p.max}

    def generate(self, ctx: Context) -> pa.Array:
        span = self.p.max - self.p.min + 1
        offsets = ctx.permutation(span)(ctx.rows) if ctx.unique else ctx.stream.integers(ctx.rows, span)
        return pa.array(self.p.min + offsets, pa.int64())

    def sample(self, uniforms: np.ndarray) -> np.ndarray:
        span = self.p.max - self.p.min + 1
        result: np.ndarray = self.p.min + np.minimum(np.floor(uniforms * span), span - 1)
        return result


class NormalParams(_NumericParams):
    mean: float = 0.0
    std: float = Field(default=1.0, gt=0)


@register
class Normal(_Distribution):
    name = "normal"
    Params = NormalParams
    summary = "normal (Gaussian) numbers, optionally truncated to [min, max]"

    def frozen(self) -> stats.rv_continuous | stats.rv_discrete:
        return _stats().norm(loc=self.p.mean, scale=self.p.std)


class LognormalParams(_NumericParams):
    median: float = Field(default=1.0, gt=0)
    sigma: float = Field(default=1.0, gt=0)


@register
class Lognormal(_Distribution):
    name = "lognormal"
    Params = LognormalParams
    summary = "log-normal numbers given the median and the sigma of the log"

    def frozen(self) -> stats.rv_continuous | stats.rv_discrete:
        return _stats().lognorm(s=self.p.sigma, scale=self.p.median)


class ExponentialParams(_NumericParams):
    mean: float = Field(default=1.0, gt=0)


@register
class Exponential(_Distribution):
    name = "exponential"
    Params = ExponentialParams
    summary = "exponential numbers with the given mean"

    def frozen(self) -> stats.rv_continuous | stats.rv_discrete:
        return _stats().expon(scale=self.p.mean)


class GammaParams(_NumericParams):
    shape: float = Field(default=2.0, gt=0)
    scale: float = Field(default=1.0, gt=0)


@register
class Gamma(_Distribution):
    name = "gamma"
    Params = GammaParams
    summary = "gamma numbers (shape, scale)"

    def frozen(self) -> stats.rv_continuous | stats.rv_discrete:
        return _stats().gamma(a=self.p.shape, scale=self.p.scale)


class BetaParams(_NumericParams):
    a: float = Field(default=2.0, gt=0)
    b: float = Field(default=2.0, gt=0)
    low: float = 0.0
    high: float = 1.0


@register
class Beta(_Distribution):
    name = "beta"
    Params = BetaParams
    summary = "beta numbers (a, b) scaled to [low, high]"

    def frozen(self) -> stats.rv_continuous | stats.rv_discrete:
        return _stats().beta(a=self.p.a, b=self.p.b, loc=self.p.low, scale=self.p.high - self.p.low)

    @property
    def _support(self) -> tuple[float | None, float | None]:
        low, high = self.p.low, self.p.high
        return (low if self.p.min is None else max(low, self.p.min),
                high if self.p.max is None else min(high, self.p.max))


class PoissonParams(_NumericParams):
    lam: float = Field(default=1.0, gt=0)


@register
class Poisson(_Distribution):
    name = "poisson"
    Params = PoissonParams
    summary = "Poisson counts with mean lam, optionally truncated to [min, max]"
    discrete = True

    def frozen(self) -> stats.rv_continuous | stats.rv_discrete:
        return _stats().poisson(mu=self.p.lam)


class ZipfParams(_NumericParams):
    s: float = Field(default=1.1, gt=0)
    n: int = Field(default=1000, ge=1, le=10_000_000)  # its CDF is a table of n numbers

    @model_validator(mode="after")
    def _some_rank(self) -> ZipfParams:
        low = 1 if self.min is None else max(1, math.ceil(self.min))
        high = self.n if self.max is None else min(self.n, math.floor(self.max))
        if low > high:
            raise ValueError(f"no rank 1..{self.n} (n) lies in [{self.min}, {self.max}] (min, max)")
        return self


@register
class Zipf(_Distribution):
    name = "zipf"
    Params = ZipfParams
    summary = "bounded Zipf ranks 1..n with exponent s (popularity)"
    discrete = True

    def frozen(self) -> stats.rv_continuous | stats.rv_discrete:
        return _stats().zipfian(a=self.p.s, n=self.p.n)

    def sample(self, uniforms: np.ndarray) -> np.ndarray:
        """Inverse transform through a cached table of the bounded CDF (scipy's ppf is iterative and
        slow), truncated to [min, max]."""
        cdf = zipf_cdf(self.p.s, self.p.n)
        low = 1 if self.p.min is None else max(1, int(np.ceil(self.p.min)))
        high = self.p.n if self.p.max is None else min(self.p.n, int(np.floor(self.p.max)))
        lo_cdf = cdf[low - 2] if low >= 2 else 0.0
        target = lo_cdf + uniforms * (cdf[high - 1] - lo_cdf)
        ranks = np.searchsorted(cdf, target, side="left") + 1
        result: np.ndarray = np.clip(ranks, low, high).astype(np.float64)
        return result


@functools.lru_cache(maxsize=16)
def zipf_cdf(s: float, n: int) -> np.ndarray:
    """Cumulative probabilities of ranks 1..n with P(k) proportional to k^-s."""
    weights = np.arange(1, n + 1, dtype=np.float64) ** -s
    cdf = np.cumsum(weights)
    result: np.ndarray = cdf / cdf[-1]
    return result


class EmpiricalParams(Params):
    """A histogram: ``edges`` (k+1 ascending numbers) and ``weights`` (k bins); uniform inside a bin."""

    edges: list[float] = Field(min_length=2)
    weights: list[float]
    round: int | None = Field(default=None, ge=0, le=12)

    @model_validator(mode="after")
    def _shape(self) -> EmpiricalParams:
        if len(self.weights) != len(self.edges) - 1:
            raise ValueError("weights needs one entry per bin (len(edges) - 1)")
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError("edges must be strictly ascending")
        if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        return self


@register
class Empirical(Sampling):
    name = "empirical"
    Params = EmpiricalParams
    summary = "numbers from a histogram (edges and weights)"

    def output_type(self) -> pa.DataType:
        return pa.float64()

    def sample(self, uniforms: np.ndarray) -> np.ndarray:
        """Inverse transform of the piecewise-uniform histogram: the bin, then the position inside it."""
        edges = np.asarray(self.p.edges, dtype=np.float64)
        weights = np.asarray(self.p.weights, dtype=np.float64)
        cdf = np.cumsum(weights) / weights.sum()
        bins = choice_from(cdf, uniforms)
        start = np.where(bins > 0, cdf[np.maximum(bins - 1, 0)], 0.0)
        inner = np.clip((uniforms - start) / np.maximum(cdf[bins] - start, 1e-300), 0.0, 1.0)
        result: np.ndarray = edges[bins] + inner * (edges[bins + 1] - edges[bins])
        return result

    def generate(self, ctx: Context) -> pa.Array:
        values = self.sample(ctx.stream.uniform(ctx.rows))
        if self.p.round is not None:
            values = np.round(values, self.p.round)
        return pa.array(values, pa.float64())


DISTRIBUTIONS: dict[str, type[Sampling]] = {
    cls.name: cls for cls in (Uniform, UniformInt, Normal, Lognormal, Exponential, Gamma, Beta, Poisson,
                              Zipf, Empirical)
}
Kind = Literal["uniform", "uniform_int", "normal", "lognormal", "exponential", "gamma", "beta", "poisson",
               "zipf", "empirical"]
