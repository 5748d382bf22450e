"""Set checks over whole tables in DuckDB: primary keys, unique keys and foreign keys; then the rows of the
failures, located in file order so that every sample carries its row index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from esdh.checks.keys import key_checks
from esdh.checks.results import SAMPLES, CheckResult, plain
from esdh.quality.validate.hidden import lookup_table
from esdh.quality.validate.read import typed_batches
from esdh.quality.validate.sql import positions, quote

if TYPE_CHECKING:
    from esdh.quality.validate.session import Validation


def check_keys(run: Validation, tables: list[str]) -> None:
    """Primary keys, unique keys and foreign keys; then the rows of the failures, in file order."""
    sources = {t: run.relation(t) for t in tables}
    for table in tables:
        for column, target, key in run.dataset.foreign_keys(table):
            if target not in sources:
                reason = ("its table is missing" if target not in run.found else "its table cannot be read"
                          if target in run.unreadable else "its table is not validated")
                run.skip(table, f"foreign_key:{target}.{key}", f"{table}.{column} refers to {target}: {reason}")
    for result in key_checks(run.con, run.dataset, sources):
        needs = [(result.table, c) for c in (result.column or "").split(",")]
        if result.check.startswith("foreign_key:"):
            needs.append(tuple(result.check.removeprefix("foreign_key:").split(".", 1)))  # type: ignore[arg-type]
        absent = [f"{t}.{c}" for t, c in needs if c not in run.found[t].columns]
        if absent:
            run.skip(result.table, result.check, f"column {', '.join(absent)} is missing")
            continue
        if not result.passed:
            result.samples = (orphans(run, result) if result.check.startswith("foreign_key:")
                              else duplicates(run, result, sources[result.table]))
        run.results.append(result)


def orphans(run: Validation, result: CheckResult) -> list[dict[str, Any]]:
    """The first rows whose foreign key matches no row of the referenced table."""
    parent, key = result.check.removeprefix("foreign_key:").split(".", 1)
    column = result.column or ""
    known = lookup_table(run, parent, key, key)
    samples: list[dict[str, Any]] = []
    for start, _, typed in typed_batches(run, result.table, [column]):
        with run.registered(pa.table({"pos": positions(typed.num_rows), "k": typed.column(0)})):
            rows = sorted(run.con.sql(f"SELECT c.pos, c.k FROM esdh_chunk c ANTI JOIN {known} l ON c.k = l.k "
                                      f"WHERE c.k IS NOT NULL ORDER BY c.pos LIMIT {SAMPLES - len(samples)}"
                                      ).fetchall())
        samples += [{"row": start + pos, "value": plain(value)} for pos, value in rows]
        if len(samples) >= SAMPLES:
            break
    return samples


def duplicates(run: Validation, result: CheckResult, source: str) -> list[dict[str, Any]]:
    """The first rows repeating the key of an earlier row (with that row)."""
    columns = (result.column or "").split(",")
    quoted = ", ".join(quote(c) for c in columns)
    not_null = " AND ".join(f"{quote(c)} IS NOT NULL" for c in columns)
    name = run.temp("duplicates")
    run.con.execute(f"CREATE TEMP TABLE {name} AS SELECT {quoted}, count(*) AS n FROM {source} "
                    f"WHERE {not_null} GROUP BY ALL HAVING n > 1 LIMIT {SAMPLES}")
    on = " AND ".join(f"c.{quote(c)} = d.{quote(c)}" for c in columns)
    first: dict[tuple[Any, ...], int] = {}
    samples: list[dict[str, Any]] = []
    for start, _, typed in typed_batches(run, result.table, columns):
        chunk = pa.table([positions(typed.num_rows), *typed.columns], names=["esdh_pos", *columns])
        with run.registered(chunk):
            rows = sorted(run.con.sql(f"SELECT c.esdh_pos, d.n, {', '.join(f'c.{quote(c)}' for c in columns)} "
                                      f"FROM esdh_chunk c JOIN {name} d ON {on}").fetchall(), key=lambda r: r[0])
        for pos, count, *values in rows:
            key = tuple(plain(v) for v in values)
            if key not in first:
                first[key] = start + pos
            elif len(samples) < SAMPLES:
                samples.append({"row": start + pos, "value": key[0] if len(key) == 1 else list(key),
                                "first_row": first[key], "count": count})
        if len(samples) >= SAMPLES:
            break
    return samples
