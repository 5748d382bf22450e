"""Row-level checks of one table, evaluated chunk by chunk: declared constraints, implied bounds and rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.checks.implied import effective_check, implied_fields
from esdh.checks.results import SAMPLES, CheckResult, plain
from esdh.expr import evaluate, names, parse
from esdh.spec.compile import TableModel
from esdh.spec.model import Check


def _coerce(bound: Any, type_: pa.DataType) -> pa.Scalar:
    if (pa.types.is_date(type_) or pa.types.is_timestamp(type_)) and isinstance(bound, str):
        bound = dt.date.fromisoformat(bound)
    if pa.types.is_integer(type_) and isinstance(bound, float) and not bound.is_integer():
        return pa.scalar(bound, pa.float64())  # 2.5 bounds integers as a float; comparison promotes
    return pa.scalar(bound).cast(type_)


# The shape a text value must have to be worth converting: anything else fails without being tried (the
# conversion itself decides the rest, e.g. that 2025-02-30 is not a day).
_TEXT_SHAPES = [
    (pa.types.is_integer, r"^-?[0-9]+$"),
    (pa.types.is_floating, r"(?i)^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?|inf|infinity|nan)$"),
    (pa.types.is_boolean, r"(?i)^(true|false|1|0)$"),
    (pa.types.is_date, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    (pa.types.is_timestamp, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?$"),
]


def convert(values: pa.Array, type_: pa.DataType) -> pa.Array:
    """``values`` as ``type_``, value by value: a value that does not convert exactly (text that is not a
    number, a fraction for an integer, a day that does not exist) becomes null, so that the caller can count
    it as a type failure (a null whose input was not null)."""
    if values.type == type_:
        return values
    try:
        return pc.cast(values, type_)
    except pa.ArrowNotImplementedError:
        return pa.nulls(len(values), type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        shape = next((regex for test, regex in _TEXT_SHAPES if test(type_)), None)
        if shape is not None:
            values = pc.if_else(pc.match_substring_regex(values, shape), values, pa.scalar(None, values.type))
    return _convert_halves(values, type_)


def _convert_halves(values: pa.Array, type_: pa.DataType) -> pa.Array:
    # Halving finds the few values that do not convert in O(failures x log rows) casts, not one per row.
    try:
        return pc.cast(values, type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        if len(values) <= 1:
            return pa.nulls(len(values), type_)
    middle = len(values) // 2
    return pa.concat_arrays([_convert_halves(values.slice(0, middle), type_),
                             _convert_halves(values.slice(middle), type_)])


def _column_tests(check: Check, values: pa.Array) -> Iterator[tuple[str, pa.Array]]:
    """Each field of a column check that is set, and where the values pass it (null where a value is null)."""
    if check.min is not None:
        yield "min", pc.greater_equal(values, _coerce(check.min, values.type))
    if check.max is not None:
        yield "max", pc.less_equal(values, _coerce(check.max, values.type))
    if check.enum is not None:
        allowed = pa.array(check.enum).cast(values.type)
        yield "enum", pc.or_kleene(pc.is_in(values, value_set=allowed), pc.is_null(values))  # nulls pass
    if check.pattern is not None:
        yield "pattern", pc.match_substring_regex(values, f"^(?:{check.pattern})$")
    if check.min_length is not None:
        yield "min_length", pc.greater_equal(pc.utf8_length(values), check.min_length)
    if check.max_length is not None:
        yield "max_length", pc.less_equal(pc.utf8_length(values), check.max_length)


class RowChecks:
    """Declared per-row constraints of one table, accumulated chunk by chunk."""

    def __init__(self, model: TableModel, as_of: dt.date, *, not_null: Iterable[str] | None = None,
                 rules: Iterable[str] | None = None, rule_values: bool = False):
        """``not_null``: the columns that may hold no null (default: the primary key); ``rules``: the names of
        the rules to evaluate (default: all); ``rule_values``: failing rule samples carry the values the rule
        read."""
        self.model = model
        self.as_of = pa.scalar(as_of, pa.date32())
        self.results: dict[tuple[str, str | None], CheckResult] = {}
        self.not_null = set(model.spec.primary_key_columns if not_null is None else not_null)
        wanted = None if rules is None else set(rules)
        self.rules = [(rule.name, parse(rule.check)) for rule in model.spec.rules
                      if wanted is None or rule.name in wanted]
        self.rule_values = rule_values
        # declared checks completed with what each generator implies (quality/implied.py)
        self.column_checks = {name: effective_check(col, as_of) for name, col in model.columns.items()}
        self.implied_fields = {name: implied_fields(col, as_of) for name, col in model.columns.items()}

    def record(self, check: str, column: str | None, ok: pa.Array, values: pa.Array | None, start: int) -> None:
        """Count one check over rows [start, start + len(ok)): ``ok`` is false where a row fails (null passes)."""
        self._record(check, column, ok, values, start)

    def _record(self, check: str, column: str | None, ok: pa.Array, values: pa.Array | None, start: int,
                expected: Any = None) -> None:
        result = self.results.get((check, column))
        if result is None:
            implied = column is not None and check in self.implied_fields.get(column, ())
            result = self.results[check, column] = CheckResult(self.model.name, check, column, expected=expected,
                                                               implied=implied)
        valid = pc.fill_null(ok, True)
        result.evaluated += len(ok)
        bad = np.flatnonzero(~valid.to_numpy(zero_copy_only=False))
        result.failed += len(bad)
        for index in bad[: max(0, SAMPLES - len(result.samples))]:
            sample = {"row": int(start + index)}
            if values is not None:
                sample["value"] = plain(values[int(index)].as_py())
            result.samples.append(sample)

    def update(self, batch: pa.RecordBatch, start: int, extra: Any = None) -> None:
        """Check rows [start, start + len(batch)); ``extra(name)`` supplies names a rule reads that are
        not columns of the batch (row_index, ordinal, siblings)."""
        self.check_columns(batch, start)
        self.check_rules(batch, start, extra)

    def check_columns(self, batch: pa.RecordBatch, start: int) -> None:
        """The declared and implied constraints of every column of the batch (each must be a column of the
        table)."""
        keys = self.not_null
        for name in batch.schema.names:  # hidden columns too: their checks hold as well
            values = batch.column(name)
            if name in keys:
                self._record("not_null", name, pc.is_valid(values), values, start)
            check = self.column_checks[name]
            if check is None:
                continue
            for kind, ok in _column_tests(check, values):
                self._record(kind, name, ok, values, start, expected=getattr(check, kind))

    def check_rules(self, batch: pa.RecordBatch, start: int, extra: Any = None,
                    only: Iterable[str] | None = None) -> None:
        """The table's rules (or the ``only`` ones) over the batch; see :meth:`update` for ``extra``."""
        if not self.rules:
            return
        columns = dict(zip(batch.schema.names, batch.columns, strict=True))

        def resolve(name: str) -> pa.Array | pa.Scalar:
            if name not in columns:
                if name == "as_of":
                    return self.as_of
                if extra is None:
                    raise KeyError(name)
                columns[name] = extra(name)
            return columns[name]

        wanted = None if only is None else set(only)
        for rule_name, node in self.rules:
            if wanted is not None and rule_name not in wanted:
                continue
            ok = evaluate(node, resolve)
            if isinstance(ok, pa.Scalar):
                ok = pa.array([ok.as_py()] * batch.num_rows, pa.bool_())
            values = None
            if self.rule_values:
                read = sorted(n for n in names(node) if n != "as_of")
                if read:
                    arrays = [resolve(n) for n in read]
                    values = pa.StructArray.from_arrays(
                        [a if isinstance(a, pa.Array) else pa.repeat(a, batch.num_rows) for a in arrays], names=read)
            self._record(f"rule:{rule_name}", None, ok, values, start)
