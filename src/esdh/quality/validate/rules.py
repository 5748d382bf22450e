"""Whether a rule can be evaluated on written data, and if not, why: the reason it is reported as skipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from esdh.quality.validate.session import Validation


def unavailable(run: Validation, table: str, expression: str) -> str | None:
    """Why a rule (or column) cannot be evaluated on the data, or None if it can."""
    from esdh.expr import names, parse

    for name in sorted(names(parse(expression))):
        why = missing(run, table, name, ())
        if why:
            return why
    return None


def missing(run: Validation, table: str, name: str, path: tuple[tuple[str, str], ...]) -> str | None:
    """Why column ``name`` of ``table`` cannot be read or rebuilt from the data, or None if it can: a hidden
    ``value``, ``expr`` or ``lookup`` is rebuilt from what it reads, any other hidden column is not written."""
    model = run.dataset.tables[table]
    col = model.columns.get(name)
    if col is None:
        return None if name == "as_of" else f"it reads {name}, which exists only while the data is generated"
    data = run.found.get(table)
    if table in run.unreadable:
        return f"table {table} cannot be read"
    if not col.hidden:
        if data is not None and name in data.columns:
            return None
        return f"table {table} is missing" if data is None else f"column {table}.{name} is missing"
    if (table, name) in path:
        return f"hidden column {table}.{name} reads itself"
    path = (*path, (table, name))
    if col.null_rate > 0:
        return f"it reads hidden column {table}.{name}, null on rows chosen at generation"
    if col.kind == "value":
        return None
    if col.kind == "expr":
        return next((why for dep in sorted(col.depends_on) if (why := missing(run, table, dep, path))), None)
    if col.kind == "lookup":
        via = model.columns[col.via or ""]
        parent = col.target_table or ""
        for where, column in ((table, col.via), (parent, via.target_column), (parent, col.target_column)):
            why = missing(run, where, column or "", path)
            if why:
                return why
        return None
    made_by = f"generator '{col.generator.name}'" if col.generator is not None else f"a {col.kind}"
    return f"it reads hidden column {table}.{name} (made by {made_by}), which is not written"
