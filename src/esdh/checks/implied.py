"""The checks a column's generator implies, beside the ones its spec declares.

A ``choice`` only ever makes its values, ``uniform_int`` stays in [min, max], a truncated distribution in
its bounds, a date in a range fixed relative to ``as_of`` inside that range. Data that claims to follow the
spec must do the same, so validation holds it to these bounds as to a declared ``check``; generation checks
them too, which keeps the generators honest. A declared check field wins over an implied one.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa

from esdh.spec.columns import Compiled
from esdh.spec.model import Check


def implied(col: Compiled, as_of: dt.date) -> dict[str, Any]:
    """The ``check`` fields the column's generator guarantees, after the column's declared ``type`` cast."""
    if col.kind != "generator" or col.generator is None or col.hidden:
        return {}  # a hidden column is never written, so no data can break it: checking it would only cost
    found = col.generator.bounds(as_of)
    wanted = col.declared_type
    made = col.generator.output_type()
    if not found or wanted is None or wanted == made:
        return found
    numeric = (pa.types.is_integer, pa.types.is_floating)
    if not any(t(made) for t in numeric) or not any(t(wanted) for t in numeric):
        return {}  # a cast to another kind (numbers as text, say): the bounds no longer compare the same way
    if pa.types.is_integer(wanted):  # a cast to whole numbers may round either way: whole bounds outward
        return {k: (math.floor(v) if k == "min" else math.ceil(v)) for k, v in found.items() if k in ("min", "max")}
    return {k: v for k, v in found.items() if k in ("min", "max")}


def implied_fields(col: Compiled, as_of: dt.date) -> set[str]:
    """The check fields of the column that come from its generator (those its spec does not declare)."""
    declared = col.check
    return {name for name in implied(col, as_of) if declared is None or getattr(declared, name) is None}


def effective_check(col: Compiled, as_of: dt.date) -> Check | None:
    """The column's declared check completed with what its generator implies (declared fields win)."""
    declared = col.check
    found = implied(col, as_of)
    if not found:
        return declared
    declared_fields = {name: getattr(declared, name) for name in Check.model_fields} if declared else {}
    fields = {**found, **{name: value for name, value in declared_fields.items() if value is not None}}
    return Check.model_construct(**fields)  # unvalidated: a timestamp bound is a datetime, not a Bound
