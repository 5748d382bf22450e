"""Check generated data against its spec: declared constraints, rules, keys and foreign keys.

Row-level checks (ranges, enums, patterns, lengths, rules, non-null keys) run on each chunk as it is
written. Set-level checks (uniqueness, primary keys, foreign keys) run afterwards in DuckDB over the
written files, so memory stays bounded. Every failure is collected; nothing stops at the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.errors import EsdhError
from esdh.expr import evaluate, names, parse
from esdh.quality.implied import effective_check, implied_fields
from esdh.spec.compile import Dataset, TableModel
from esdh.spec.model import Check

SAMPLES = 5


@dataclass
class CheckResult:
    table: str
    check: str
    column: str | None = None
    evaluated: int = 0
    failed: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    expected: Any = None  # the bound, values or pattern of a column check
    implied: bool = False  # the bound comes from the column's generator, not from a declared check

    @property
    def passed(self) -> bool:
        return self.failed == 0

    @property
    def expectation(self) -> str:
        """What a column check asks for, in words: `` (at most 90)``, `` (one of [...], implied by the generator)``."""
        return f" ({expectation(self.check, self.expected, self.implied)})" if self.expected is not None else ""

    def state(self) -> dict[str, Any]:
        """Every field, as JSON (a partition's results travel between processes and into the resume journal)."""
        return {**asdict(self), "expected": _plain(self.expected)}

    def as_dict(self) -> dict[str, Any]:
        rate = 100.0 if not self.evaluated else round(100.0 * (self.evaluated - self.failed) / self.evaluated, 4)
        found = {"table": self.table, "column": self.column, "check": self.check, "evaluated": self.evaluated,
                 "failed": self.failed, "success_percent": rate, "samples": self.samples}
        if self.expected is not None:
            found["expected"] = _plain(self.expected)
            found["implied"] = self.implied
        return found


def expectation(check: str, expected: Any, implied: bool) -> str:
    """A column check's bound, values or pattern in words, and whether the generator implies it."""
    words = {"min": "at least {}", "max": "at most {}", "enum": "one of {}", "pattern": "matching {}",
             "min_length": "at least {} characters", "max_length": "at most {} characters"}
    return words.get(check, "{}").format(_plain(expected)) + (", implied by the generator" if implied else "")


class CheckFailed(EsdhError):
    """Generated data broke its own spec; the output is not published."""

    def __init__(self, failures: list[CheckResult]):
        self.failures = failures
        lines = [f"  {f.table}.{f.column or '*'}: {f.check}{f.expectation}: {f.failed:,} of {f.evaluated:,} rows "
                 f"fail (e.g. {f.samples[:2]})" for f in failures]
        super().__init__("generated data does not satisfy its spec:\n" + "\n".join(lines))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


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
                sample["value"] = _plain(values[int(index)].as_py())
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


def key_checks(con: Any, dataset: Dataset, sources: dict[str, str]) -> list[CheckResult]:
    """Uniqueness, primary keys and foreign keys, in DuckDB over written files (``sources``: table ->
    a DuckDB table expression such as ``read_parquet('x.parquet')``)."""
    results: list[CheckResult] = []
    for name, model in dataset.tables.items():
        if name not in sources:
            continue
        relation = sources[name]
        groups: list[tuple[str, list[str]]] = []
        if model.spec.primary_key_columns:
            groups.append(("primary_key", model.spec.primary_key_columns))
        groups += [("unique", [c.name]) for c in model.columns.values() if c.unique and not c.hidden]
        groups += [("unique", list(g)) for g in model.spec.unique]
        for check, cols in groups:
            quoted = ", ".join(f'"{c}"' for c in cols)
            not_null = " AND ".join(f'"{c}" IS NOT NULL' for c in cols)
            # Distinct 64-bit hashes first (fast). Only rows whose hash is shared are compared exactly: a few
            # rows, where counting every value exactly would hold the whole column (hash collisions do
            # happen at a hundred million rows).
            total, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT hash({quoted})) FROM {relation} WHERE {not_null}").fetchone()
            dupes = []
            if distinct != total:
                shared_hashes = (f"SELECT hash({quoted}) AS h FROM {relation} WHERE {not_null} "
                                 "GROUP BY h HAVING count(*) > 1")
                shared = f"SELECT {quoted} FROM {relation} WHERE {not_null} AND hash({quoted}) IN ({shared_hashes})"
                rows, unique = con.execute(f"SELECT count(*), count(DISTINCT ({quoted})) FROM ({shared})").fetchone()
                distinct = total - (rows - unique)
                dupes = con.execute(f"SELECT {quoted}, count(*) AS n FROM ({shared}) "
                                    f"GROUP BY ALL HAVING n > 1 LIMIT {SAMPLES}").fetchall()
            results.append(CheckResult(name, check, ",".join(cols), total, total - distinct,
                                       [{"value": [_plain(v) for v in row[:-1]], "count": row[-1]} for row in dupes]))
        for column, target_table, target_column in dataset.foreign_keys(name):
            if target_table not in sources:
                continue
            parent = sources[target_table]
            query = (f'SELECT c."{column}" FROM {relation} c ANTI JOIN {parent} p '
                     f'ON c."{column}" = p."{target_column}" WHERE c."{column}" IS NOT NULL')
            orphans = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
            total = con.execute(f'SELECT count("{column}") FROM {relation}').fetchone()[0]
            samples = con.execute(f"{query} LIMIT {SAMPLES}").fetchall() if orphans else []
            results.append(CheckResult(name, f"foreign_key:{target_table}.{target_column}", column,
                                       total, orphans, [{"value": _plain(r[0])} for r in samples]))
    return results


def file_relation(paths: Path | str | list[Path] | list[Path | str]) -> str:
    """A DuckDB table expression reading one written file, or the part files of one table (paths, or URLs
    of objects in a store whose file system the connection has registered)."""
    paths = [paths] if isinstance(paths, Path | str) else list(paths)
    listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    files = listed if len(paths) == 1 else f"[{listed}]"
    suffix = PurePosixPath(str(paths[0])).suffix
    if suffix == ".parquet":
        return f"read_parquet({files})"
    if suffix == ".csv":
        return f"read_csv({files}, header=true, all_varchar=true)"
    return f"read_json({files})"
