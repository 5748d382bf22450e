"""Check generated data against its spec: declared constraints, rules, keys and foreign keys.

Row-level checks (ranges, enums, patterns, lengths, rules, non-null keys) run on each chunk as it is
written. Set-level checks (uniqueness, primary keys, foreign keys) run afterwards in DuckDB over the
written files, so memory stays bounded. Every failure is collected; nothing stops at the first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.errors import EsdhError
from esdh.expr import evaluate, parse
from esdh.spec.compile import Dataset, TableModel

SAMPLES = 5


@dataclass
class CheckResult:
    table: str
    check: str
    column: str | None = None
    evaluated: int = 0
    failed: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def as_dict(self) -> dict[str, Any]:
        rate = 100.0 if not self.evaluated else round(100.0 * (self.evaluated - self.failed) / self.evaluated, 4)
        return {"table": self.table, "column": self.column, "check": self.check, "evaluated": self.evaluated,
                "failed": self.failed, "success_percent": rate, "samples": self.samples}


class CheckFailed(EsdhError):
    """Generated data broke its own spec; the output is not published."""

    def __init__(self, failures: list[CheckResult]):
        self.failures = failures
        lines = [f"  {f.table}.{f.column or '*'}: {f.check}: {f.failed:,} of {f.evaluated:,} rows fail"
                 f" (e.g. {f.samples[:2]})" for f in failures]
        super().__init__("generated data does not satisfy its spec:\n" + "\n".join(lines))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _coerce(bound: Any, type_: pa.DataType) -> pa.Scalar:
    if (pa.types.is_date(type_) or pa.types.is_timestamp(type_)) and isinstance(bound, str):
        bound = dt.date.fromisoformat(bound)
    if pa.types.is_integer(type_) and isinstance(bound, float) and not bound.is_integer():
        return pa.scalar(bound, pa.float64())  # 2.5 bounds integers as a float; comparison promotes
    return pa.scalar(bound).cast(type_)


class RowChecks:
    """Declared per-row constraints of one table, accumulated chunk by chunk."""

    def __init__(self, model: TableModel, as_of: dt.date):
        self.model = model
        self.as_of = pa.scalar(as_of, pa.date32())
        self.results: dict[tuple[str, str | None], CheckResult] = {}
        self.rules = [(rule.name, parse(rule.check)) for rule in model.spec.rules]

    def _record(self, check: str, column: str | None, ok: pa.Array, values: pa.Array | None, start: int) -> None:
        result = self.results.setdefault((check, column), CheckResult(self.model.name, check, column))
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
        keys = set(self.model.spec.primary_key_columns)
        for name in batch.schema.names:  # hidden columns too: their checks hold as well
            col = self.model.columns[name]
            values = batch.column(name)
            if name in keys:
                self._record("not_null", name, pc.is_valid(values), values, start)
            check = col.check
            if check is None:
                continue
            if check.min is not None:
                self._record("min", name, pc.greater_equal(values, _coerce(check.min, values.type)), values, start)
            if check.max is not None:
                self._record("max", name, pc.less_equal(values, _coerce(check.max, values.type)), values, start)
            if check.enum is not None:
                allowed = pa.array(check.enum).cast(values.type)
                ok = pc.or_kleene(pc.is_in(values, value_set=allowed), pc.is_null(values))  # nulls pass
                self._record("enum", name, ok, values, start)
            if check.pattern is not None:
                ok = pc.match_substring_regex(values, f"^(?:{check.pattern})$")
                self._record("pattern", name, ok, values, start)
            if check.min_length is not None:
                self._record("min_length", name, pc.greater_equal(pc.utf8_length(values), check.min_length),
                             values, start)
            if check.max_length is not None:
                self._record("max_length", name, pc.less_equal(pc.utf8_length(values), check.max_length),
                             values, start)
        if self.rules:
            columns = dict(zip(batch.schema.names, batch.columns, strict=True))

            def resolve(name: str) -> pa.Array | pa.Scalar:
                if name in columns:
                    return columns[name]
                if name == "as_of":
                    return self.as_of
                if extra is not None:
                    return extra(name)
                raise KeyError(name)

            for rule_name, node in self.rules:
                ok = evaluate(node, resolve)
                if isinstance(ok, pa.Scalar):
                    ok = pa.array([ok.as_py()] * batch.num_rows, pa.bool_())
                self._record(f"rule:{rule_name}", None, ok, None, start)


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
