"""Person names with census frequencies, and gender."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.generators.base import Context, Generator, Params, register
from esdh.generators.identity.text import _STRING, _as_strings, _take
from esdh.generators.identity.vocabularies import _first_names, _last_names
from esdh.rng import Stream


def _gender_uniform(stream: Stream, rows: np.ndarray) -> np.ndarray:
    """The shared draw of the ``person_name`` group: female below 0.5, and it also picks the name."""
    return stream.sub("gender").uniform(rows)


class GenderParams(Params):
    female: str = "F"
    male: str = "M"
    group: str | None = None


@register
class Gender(Generator):
    """Sex as 'F'/'M' (50/50); agrees with ``first_name`` of the same group."""

    name = "gender"
    Params = GenderParams
    summary = "Sex code F/M, coherent with first_name in the person_name group"
    group = "person_name"

    def output_type(self) -> pa.DataType:
        return _STRING

    def generate(self, ctx: Context) -> pa.Array:
        labels = pa.array([self.p.male, self.p.female], _STRING)
        return _take(labels, (_gender_uniform(ctx.stream, ctx.rows) < 0.5).astype(np.int8))


class FirstNameParams(Params):
    gender: Literal["any", "female", "male"] = "any"
    gender_column: str | None = None  # a column of F/M (or female/male) values to follow
    group: str | None = None


@register
class FirstName(Generator):
    """US first names with SSA frequencies; a female name exactly when ``gender`` gives F.

    Sex comes from ``gender`` if fixed, else from ``gender_column`` where that holds F/M (or any
    word starting with f/m), else from the group's gender draw.
    """

    name = "first_name"
    Params = FirstNameParams
    summary = "US first name (SSA frequencies), coherent with gender"
    group = "person_name"

    def output_type(self) -> pa.DataType:
        return _STRING

    def dependencies(self) -> set[str]:
        return {self.p.gender_column} if self.p.gender_column else set()

    def generate(self, ctx: Context) -> pa.Array:
        names, pick = _first_names()
        u = _gender_uniform(ctx.stream, ctx.rows)
        if self.p.gender != "any" or self.p.gender_column:
            if self.p.gender != "any":
                female = np.full(ctx.size, self.p.gender == "female")
            else:
                first = pc.utf8_upper(pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(
                    _as_strings(ctx.values(self.p.gender_column))), 0, 1))
                is_f = pc.fill_null(pc.equal(first, "F"), False).to_numpy(zero_copy_only=False)
                is_m = pc.fill_null(pc.equal(first, "M"), False).to_numpy(zero_copy_only=False)
                female = ((u < 0.5) & ~is_m) | is_f
            # keep the position within the half, move to the half of the wanted sex
            half = np.fmod(u, 0.5)
            u = np.where(female, half, 0.5 + half)
        return _take(names, pick(u))


class LastNameParams(Params):
    group: str | None = None


@register
class LastName(Generator):
    """US surnames with US Census frequencies (top 1000)."""

    name = "last_name"
    Params = LastNameParams
    summary = "US surname (Census frequencies)"

    def output_type(self) -> pa.DataType:
        return _STRING

    def generate(self, ctx: Context) -> pa.Array:
        names, pick = _last_names()
        return _take(names, pick(ctx.stream.sub("last_name").uniform(ctx.rows)))
