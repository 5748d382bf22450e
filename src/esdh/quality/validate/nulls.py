"""Which columns generated data never leaves null, so that a null in data is a ``not_null`` failure."""

from __future__ import annotations

from esdh.spec.compile import Dataset

# Generators that leave some rows null whatever their inputs (generator, field).
NULL_BY_DESIGN = {("address", "line2")}
# Generators reading other columns that give a value on every row whose inputs are not null (the others,
# e.g. date bounds and uuid5 names, are expressions, which may be null; driver_license is null for an
# unknown state).
NULL_ONLY_FROM_NULL = {"choice", "first_name", "email", "phone", "template"}
# Ways of choosing a referenced row that always choose one (earlier and *_of_parent may choose none).
ALWAYS_CHOOSE = {"parent", "uniform", "zipf", "weighted", "distinct"}


def never_null(dataset: Dataset, table: str, column: str) -> bool:
    """Whether generated data can never hold a null in this column, so that a null in data is a failure.

    True for a primary key column, and for a column without ``null_rate`` whose values always exist: a
    ``value`` that is not null; a generator that reads no other column (except address ``line2``, null by
    design), or one of those that is null only where a column it reads is null, reading never-null columns;
    a ``ref`` that always chooses a row (parent, uniform, zipf, weighted, distinct) of a never-null column;
    a ``lookup`` through a never-null key of a never-null column. Expressions, aggregates and windows may be
    null on any row, and are not checked."""
    return _never_null(dataset, table, column, ())


def _never_null(dataset: Dataset, table: str, column: str, path: tuple[tuple[str, str], ...]) -> bool:
    model = dataset.tables[table]
    col = model.columns.get(column)
    if col is None or (table, column) in path:
        return False
    if column in model.spec.primary_key_columns:
        return True
    if col.null_rate > 0:
        return False
    path = (*path, (table, column))
    if col.kind == "value":
        return col.value is not None
    if col.kind == "generator" and col.generator is not None:
        generator = col.generator
        if (generator.name, getattr(generator.p, "field", None)) in NULL_BY_DESIGN:
            return False
        reads = generator.dependencies()
        return not reads or (generator.name in NULL_ONLY_FROM_NULL
                             and all(_never_null(dataset, table, name, path) for name in reads))
    if col.kind == "ref":
        return col.choose in ALWAYS_CHOOSE and _never_null(dataset, col.target_table or "", col.target_column or "",
                                                          path)
    if col.kind == "lookup":
        return (_never_null(dataset, table, col.via or "", path)
                and _never_null(dataset, col.target_table or "", col.target_column or "", path))
    return False
