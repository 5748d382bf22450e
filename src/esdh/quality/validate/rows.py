"""The row checks of one table, chunk by chunk: types, nulls, declared checks and rules (or why a rule is skipped)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.checks.results import SAMPLES, CheckResult
from esdh.checks.rows import RowChecks
from esdh.errors import EsdhError
from esdh.quality.validate.files import TableData
from esdh.quality.validate.hidden import Derived
from esdh.quality.validate.nulls import never_null
from esdh.quality.validate.read import typed_batches
from esdh.quality.validate.rules import unavailable

if TYPE_CHECKING:
    from esdh.quality.validate.session import Validation


def check_rows(run: Validation, data: TableData) -> None:
    """Types, nulls, declared checks and rules, chunk by chunk."""
    import duckdb

    table = data.table
    model = run.dataset.tables[table]
    columns = list(data.columns)
    not_null = {c for c in columns if never_null(run.dataset, table, c)}
    rules = []
    for rule in model.spec.rules:
        why = unavailable(run, table, rule.check)
        if why:
            run.skip(table, f"rule:{rule.name}", why)
        else:
            rules.append(rule.name)
    checks = RowChecks(model, run.dataset.spec.as_of, not_null=(), rules=rules, rule_values=True)
    try:
        for start, raw, typed in typed_batches(run, table, columns):
            check_chunk(run, checks, start, raw, typed, not_null)
            data.rows = start + raw.num_rows
    except (pa.ArrowException, duckdb.Error, OSError, UnicodeDecodeError) as exc:
        run.cannot_read(table, data.rows, exc)
    data.scanned = True
    if data.malformed and table not in run.unreadable:
        run.results.append(CheckResult(table, "readable", None, data.rows + len(data.malformed),
                                       len(data.malformed), data.malformed[:SAMPLES]))
    run.results += checks.results.values()


def check_chunk(run: Validation, checks: RowChecks, start: int, raw: pa.RecordBatch, typed: pa.RecordBatch,
                not_null: set[str]) -> None:
    """Check rows [start, start + len(raw)) of one table."""
    import duckdb

    passing = pa.array(np.ones(raw.num_rows, dtype=bool))
    for i, column in enumerate(typed.schema.names):
        values, converted = raw.column(i), typed.column(i)
        ok = passing if converted is values else pc.or_(pc.is_null(values), pc.is_valid(converted))
        checks.record("type", column, ok, values, start)
        if column in not_null:
            checks.record("not_null", column, pc.is_valid(values), values, start)
    checks.check_columns(typed, start)
    derived = Derived(run, checks.model.name, typed)
    for rule, _ in list(checks.rules):
        try:
            checks.check_rules(typed, start, derived, only=[rule])
        except (EsdhError, pa.ArrowException, duckdb.Error, KeyError, TypeError, ValueError) as exc:
            checks.rules = [r for r in checks.rules if r[0] != rule]
            checks.results.pop((f"rule:{rule}", None), None)
            run.skip(checks.model.name, f"rule:{rule}", f"cannot be evaluated on this data: {exc}")
