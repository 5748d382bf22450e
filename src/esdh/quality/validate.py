"""Validate data against a spec: the data may come from anywhere, the spec says what it must satisfy.

``validate_data`` reads a folder of table files (Parquet, CSV, NDJSON or JSON; one file per table or a
folder of part files; or an ESDH output folder, through its datapackage.json) and checks every table
against the spec, collecting every failure:

- ``table_present`` and ``column_present``: every table of the spec has data, and every written column;
- ``readable``: the files can be read (a CSV line with the wrong number of fields fails it, and is skipped:
  row indexes count the rows read);
- ``type``: every value converts to the column's type (text in CSV and JSON is converted value by value,
  a value that does not convert is a type failure, not a null);
- ``not_null``: see :func:`never_null` for the columns that may hold no null;
- ``min``, ``max``, ``enum``, ``pattern``, ``min_length``, ``max_length`` and ``rule:<name>``, chunk by
  chunk, as generation checks them (:class:`RowChecks`);
- ``primary_key``, ``unique`` and ``foreign_key:<table>.<column>``, in DuckDB over the files
  (:func:`key_checks`), spilling to disk, so memory stays bounded; failing rows are then located in file
  order, so that every sample carries its 0-based row index within its table.

A rule may read hidden columns, which are not written. A hidden ``lookup`` is rebuilt by joining its parent
table on the foreign key (a cross-table rule), a hidden ``expr`` or ``value`` by computing it from the
columns it reads. A rule that reads anything else (a hidden generated column, a window, ``row_index``,
``ordinal``, ``siblings``, a missing table or column) cannot be evaluated on written data: it is reported as
skipped, with the reason, never as passed.
"""

from __future__ import annotations

import csv
import itertools
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from esdh.errors import EsdhError, UsageError
from esdh.expr import evaluate
from esdh.quality.checks import SAMPLES, CheckResult, RowChecks, _plain, convert, key_checks
from esdh.spec.compile import MARKER_COLUMN, Dataset, suggest

REPORT_VERSION = 1
CHUNK_ROWS = 65_536
EXTENSIONS = {".parquet": "parquet", ".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "json"}
PREFERENCE = ("parquet", "csv", "ndjson", "json")  # when a table is there in several formats, the first wins

# Generators that leave some rows null whatever their inputs (generator, field).
NULL_BY_DESIGN = {("address", "line2")}
# Generators reading other columns that give a value on every row whose inputs are not null (the others,
# e.g. date bounds and uuid5 names, are expressions, which may be null; driver_license is null for an
# unknown state).
NULL_ONLY_FROM_NULL = {"choice", "first_name", "email", "phone", "template"}
# Ways of choosing a referenced row that always choose one (earlier and *_of_parent may choose none).
ALWAYS_CHOOSE = {"parent", "uniform", "zipf", "weighted", "distinct"}

KINDS = [(pa.types.is_string, "string"), (pa.types.is_large_string, "string"), (pa.types.is_boolean, "boolean"),
         (pa.types.is_integer, "integer"), (pa.types.is_floating, "number"), (pa.types.is_date, "date"),
         (pa.types.is_timestamp, "datetime")]
DUCK_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE",
              "datetime": "TIMESTAMP"}


def kind(type_: pa.DataType) -> str:
    """The spec's name for an Arrow type (string, integer, number, boolean, date, datetime) or ``other``."""
    return next((name for test, name in KINDS if test(type_)), "other")


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


# ---- where the data is -----------------------------------------------------------------------------

@dataclass
class TableData:
    """The files holding one table, in row order, and what their columns are."""

    table: str
    format: str  # parquet | csv | ndjson | json
    files: list[Path]
    columns: dict[str, str] = field(default_factory=dict)  # spec column -> column name in the files
    types: dict[str, pa.DataType] = field(default_factory=dict)  # spec column -> type as read
    extra: list[str] = field(default_factory=list)  # columns of the files the spec does not write
    rows: int = 0
    malformed: list[dict[str, Any]] = field(default_factory=list)  # CSV lines with the wrong number of fields
    scanned: bool = False


def find_tables(data: Path, dataset: Dataset) -> tuple[dict[str, TableData], list[str]]:
    """The data of each table found under ``data`` (matched to the spec's tables case-insensitively) and
    the files that were not read (relative paths)."""
    names = {name.lower(): name for name in dataset.tables}
    if data.is_file():
        fmt = EXTENSIONS.get(data.suffix.lower())
        table = names.get(data.stem.lower()) or (next(iter(dataset.tables)) if len(dataset.tables) == 1 else None)
        if fmt is None or table is None:
            what = f"'{data.suffix}' is not a data file" if fmt is None else (
                f"'{data.stem}' is not a table of {dataset.spec.dataset}")
            hint = suggest(data.stem, set(dataset.tables)) or f"tables: {', '.join(dataset.tables)}"
            raise UsageError(f"{data}: {what} ({hint}; formats: parquet, csv, ndjson, json)")
        return {table: TableData(table, fmt, [data])}, []
    if not data.is_dir():
        raise UsageError(f"{data}: no such file or folder")
    manifest = data / "datapackage.json"
    candidates: dict[str, list[TableData]] = {}
    ignored: list[str] = []
    if manifest.is_file():
        for resource in json.loads(manifest.read_text(encoding="utf-8")).get("resources", []):
            fmt = resource.get("format")
            if fmt not in PREFERENCE or (resource.get("type") != "table" and "schema" not in resource):
                continue  # the folder's own metadata (schema_metadata.json, lineage), not data
            paths = resource.get("path")
            paths = [paths] if isinstance(paths, str) else list(paths or [])
            table = names.get(str(resource.get("name", "")).partition("-")[0].lower())
            if table is None or not paths:
                ignored += paths
                continue
            candidates.setdefault(table, []).append(TableData(table, fmt, [data / p for p in paths]))
    else:
        for entry in sorted(data.iterdir()):
            if entry.name.startswith((".", "_")) or entry.name.startswith("validation."):
                continue
            table = names.get(entry.stem.lower() if entry.is_file() else entry.name.lower())
            if entry.is_dir():
                parts: dict[str, list[Path]] = {}
                for part in sorted(entry.iterdir()):
                    fmt = EXTENSIONS.get(part.suffix.lower())
                    if table is not None and fmt is not None and part.name.startswith("part-"):
                        parts.setdefault(fmt, []).append(part)
                    elif not part.name.startswith("."):
                        ignored.append(part.relative_to(data).as_posix())
                for fmt, files in parts.items():
                    candidates.setdefault(table or "", []).append(TableData(table or "", fmt, files))
                continue
            fmt = EXTENSIONS.get(entry.suffix.lower())
            if table is None or fmt is None:
                ignored.append(entry.name)
                continue
            candidates.setdefault(table, []).append(TableData(table, fmt, [entry]))
    found = {}
    for table, options in candidates.items():
        options.sort(key=lambda t: PREFERENCE.index(t.format))
        found[table] = options[0]
        ignored += [_relative(p, data) for other in options[1:] for p in other.files]
    return found, sorted(ignored)


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _json_source(con: Any, files: list[Path]) -> str:
    """read_json over the files with every key read as text (converted like CSV text afterwards)."""
    listed = _sql_list(files)
    keys = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_json({listed})").fetchall()]
    columns = ", ".join("'" + k.replace("'", "''") + "': 'VARCHAR'" for k in keys)
    return f"read_json({listed}, columns={{{columns}}})"


def _arrow(result: Any) -> pa.Table:
    for method in ("to_arrow_table", "fetch_arrow_table", "arrow"):  # the name differs between DuckDB versions
        if hasattr(result, method):
            return getattr(result, method)()
    raise AttributeError("DuckDB result without an Arrow export")


# ---- the validation --------------------------------------------------------------------------------

def validate_data(data: Path, dataset: Dataset, *, tables: list[str] | None = None) -> ValidationReport:
    """Check the data in ``data`` (a folder of table files, an ESDH output folder or one table's file)
    against ``dataset``; ``tables`` limits the check to these tables (default: every table of the spec, or
    the one table of a single file). Every failure is collected in the report."""
    data = Path(data)
    found, ignored = find_tables(data, dataset)
    if tables is not None:
        names = {name.lower(): name for name in dataset.tables}
        unknown = [t for t in tables if t.lower() not in names]
        if unknown:
            raise UsageError(f"unknown table(s) {', '.join(unknown)} (tables: {', '.join(dataset.tables)})")
        wanted = {names[t.lower()] for t in tables}
    else:
        wanted = set(found) if data.is_file() else set(dataset.tables)
    selected = [t for t in dataset.order if t in wanted]
    ignored += [_relative(p, data) for t, d in found.items() if t not in wanted for p in d.files]
    for table in list(found):
        if table not in wanted:
            del found[table]
    with _Validation(dataset, found) as run:
        run.check(selected)
    report = ValidationReport(dataset.spec.dataset, dataset.spec.version, str(data), run.results, run.skipped,
                              sorted(ignored), {t: d.extra for t, d in found.items() if d.extra})
    report.tables = {t: {"format": d.format, "files": [_relative(p, data) for p in d.files], "rows": d.rows}
                     for t, d in found.items()}
    return report


class _Validation:
    """One validation run: a DuckDB connection for set checks and lookups, the expected types, results."""

    def __init__(self, dataset: Dataset, found: dict[str, TableData]):
        self.dataset = dataset
        self.found = found
        self.types = expected_types(dataset)
        self.results: list[CheckResult] = []
        self.skipped: list[dict[str, str]] = []
        self.lookups: dict[tuple[str, str, str], str] = {}
        self.unreadable: dict[str, str] = {}  # table -> why its files cannot be read
        self.counter = itertools.count()

    def __enter__(self) -> _Validation:
        import duckdb

        from esdh.engine.local import CHECK_MEMORY

        self._spill = tempfile.TemporaryDirectory(prefix="esdh-validate-")
        config = {"memory_limit": CHECK_MEMORY, "temp_directory": self._spill.name}
        self.con = duckdb.connect(config={**config, "preserve_insertion_order": False})
        self.ordered = duckdb.connect(config=config)  # reads JSON rows in file order
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()
        self.ordered.close()
        self._spill.cleanup()

    def skip(self, table: str, check: str, reason: str) -> None:
        self.skipped.append({"table": table, "check": check, "reason": reason})

    # -- structure and rows --
    def check(self, selected: list[str]) -> None:
        import duckdb

        for table in selected:
            data = self.found.get(table)
            self.results.append(CheckResult(table, "table_present", None, 1, 0 if data else 1))
            if data is None:
                continue
            try:
                self.columns(data)
            except (pa.ArrowException, duckdb.Error, OSError, UnicodeDecodeError) as exc:
                self.cannot_read(table, 0, exc)
                continue
            self.rows(data)
        self.keys([t for t in selected if t in self.found and t not in self.unreadable])

    def cannot_read(self, table: str, row: int, exc: Exception) -> None:
        """A file that cannot be read (to the end): what was read is reported, the table's keys are not checked."""
        self.unreadable[table] = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        self.results.append(CheckResult(table, "readable", None, 1, 1, [{"row": row, "value": self.unreadable[table]}]))

    def columns(self, data: TableData) -> None:
        """Match the files' columns to the spec's; a missing written column fails ``column_present``."""
        if data.format == "parquet":
            import pyarrow.parquet as pq

            schema = pq.read_schema(data.files[0])
            read = {f.name: f.type for f in schema}
        elif data.format == "csv":
            with data.files[0].open(newline="", encoding="utf-8-sig") as handle:
                read = dict.fromkeys(next(csv.reader(handle), []), pa.string())
        else:
            described = self.con.execute(f"DESCRIBE SELECT * FROM read_json({_sql_list(data.files)})").fetchall()
            read = {row[0]: pa.string() for row in described}
        by_lower = {name.lower(): name for name in read}
        model = self.dataset.tables[data.table]
        for column in model.visible_columns:
            name = by_lower.get(column.lower())
            if name is not None:
                data.columns[column] = name
                kept = read[name]
                data.types[column] = kept.value_type if pa.types.is_dictionary(kept) else kept
            elif column != MARKER_COLUMN or column in model.spec.columns:  # the implicit marker is optional
                self.results.append(CheckResult(data.table, "column_present", column, 1, 1))
        spec_lower = {c.lower() for c in model.columns}
        data.extra = [name for name in read if name.lower() not in spec_lower]

    def raw_batches(self, data: TableData, columns: list[str]) -> Iterator[pa.RecordBatch]:
        """The given columns (spec names) of a table as read, batch by batch in row order."""
        names = [data.columns[c] for c in columns]
        if not names:
            return  # none of the spec's columns is there: column_present says so
        if data.format == "parquet":
            import pyarrow.parquet as pq

            for path in data.files:
                for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS, columns=names):
                    yield _renamed(batch, columns)
        elif data.format == "csv":
            import pyarrow.csv as pcsv

            for path in data.files:
                with path.open(newline="", encoding="utf-8-sig") as handle:
                    header = next(csv.reader(handle), [])
                options = pcsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()), include_columns=names,
                                              strings_can_be_null=True, quoted_strings_can_be_null=False)

                def malformed(row: Any, path: Path = path) -> str:
                    if not data.scanned:  # the first pass over the table counts them, later passes skip them
                        data.malformed.append({"file": _relative(path, path.parent.parent) if len(data.files) > 1
                                               else path.name, "line": row.number, "value": row.text[:200]})
                    return "skip"  # counted as a failure of 'readable'; the rows after it are still checked

                reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 23, use_threads=False),
                                       parse_options=pcsv.ParseOptions(invalid_row_handler=malformed),
                                       convert_options=options)
                for batch in reader:
                    yield _renamed(batch, columns)
        else:
            select = ", ".join(_quote(n) for n in names)
            cursor = self.ordered.cursor()  # a stream of its own: a lookup may read another table meanwhile
            try:
                relation = cursor.sql(f"SELECT {select} FROM {_json_source(cursor, data.files)}")
                reader = relation.to_arrow_reader(CHUNK_ROWS) if hasattr(relation, "to_arrow_reader") else \
                    relation.fetch_record_batch(CHUNK_ROWS)
                for batch in reader:
                    yield _renamed(batch, columns)
            finally:
                cursor.close()

    def typed_batches(self, table: str, columns: list[str]) -> Iterator[tuple[int, pa.RecordBatch, pa.RecordBatch]]:
        """(first row, batch as read, batch converted to the spec's types) of the given columns."""
        data = self.found[table]
        start = 0
        for raw in self.raw_batches(data, columns):
            typed = [self.typed(table, c, raw.column(i)) for i, c in enumerate(columns)]
            yield start, raw, pa.RecordBatch.from_arrays(typed, names=columns)
            start += raw.num_rows

    def typed(self, table: str, column: str, values: pa.Array) -> pa.Array:
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if pa.types.is_timestamp(values.type) and values.type.tz is not None:
            values = values.cast(pa.timestamp(values.type.unit))  # UTC wall time: the spec's datetimes have no zone
        expected = self.types[table][column]
        if kind(values.type) == kind(expected):
            return values  # the same kind (int32 for int64, milliseconds for seconds) is kept as stored
        if pa.types.is_timestamp(expected) and kind(values.type) == "string":
            expected = pa.timestamp("us")  # text may carry fractions of a second
        return convert(values, expected)

    def rows(self, data: TableData) -> None:
        """Types, nulls, declared checks and rules, chunk by chunk."""
        import duckdb

        table = data.table
        model = self.dataset.tables[table]
        columns = list(data.columns)
        not_null = {c for c in columns if never_null(self.dataset, table, c)}
        rules = []
        for rule in model.spec.rules:
            why = self.unavailable(table, rule.check)
            if why:
                self.skip(table, f"rule:{rule.name}", why)
            else:
                rules.append(rule.name)
        checks = RowChecks(model, self.dataset.spec.as_of, not_null=(), rules=rules, rule_values=True)
        try:
            for start, raw, typed in self.typed_batches(table, columns):
                self.chunk(checks, start, raw, typed, not_null)
                data.rows = start + raw.num_rows
        except (pa.ArrowException, duckdb.Error, OSError, UnicodeDecodeError) as exc:
            self.cannot_read(table, data.rows, exc)
        data.scanned = True
        if data.malformed and table not in self.unreadable:
            self.results.append(CheckResult(table, "readable", None, data.rows + len(data.malformed),
                                            len(data.malformed), data.malformed[:SAMPLES]))
        self.results += checks.results.values()

    def chunk(self, checks: RowChecks, start: int, raw: pa.RecordBatch, typed: pa.RecordBatch,
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
        derived = _Derived(self, checks.model.name, typed)
        for rule, _ in list(checks.rules):
            try:
                checks.check_rules(typed, start, derived, only=[rule])
            except (EsdhError, pa.ArrowException, duckdb.Error, KeyError, TypeError, ValueError) as exc:
                checks.rules = [r for r in checks.rules if r[0] != rule]
                checks.results.pop((f"rule:{rule}", None), None)
                self.skip(checks.model.name, f"rule:{rule}", f"cannot be evaluated on this data: {exc}")

    def unavailable(self, table: str, expression: str) -> str | None:
        """Why a rule (or column) cannot be evaluated on the data, or None if it can."""
        from esdh.expr import names, parse

        for name in sorted(names(parse(expression))):
            why = self.missing(table, name, ())
            if why:
                return why
        return None

    def missing(self, table: str, name: str, path: tuple[tuple[str, str], ...]) -> str | None:
        model = self.dataset.tables[table]
        col = model.columns.get(name)
        if col is None:
            return None if name == "as_of" else f"it reads {name}, which exists only while the data is generated"
        data = self.found.get(table)
        if table in self.unreadable:
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
            return next((why for dep in sorted(col.depends_on) if (why := self.missing(table, dep, path))), None)
        if col.kind == "lookup":
            via = model.columns[col.via or ""]
            parent = col.target_table or ""
            for where, column in ((table, col.via), (parent, via.target_column), (parent, col.target_column)):
                why = self.missing(where, column or "", path)
                if why:
                    return why
            return None
        made_by = f"generator '{col.generator.name}'" if col.generator is not None else f"a {col.kind}"
        return f"it reads hidden column {table}.{name} (made by {made_by}), which is not written"

    # -- lookups: a parent's column by key, for rebuilt hidden lookups and for locating orphans --
    def lookup_table(self, parent: str, key: str, value: str) -> str:
        """A DuckDB table (k, v): each key of ``parent`` once, with its ``value``."""
        name = self.lookups.get((parent, key, value))
        if name is not None:
            return name
        name = self.temp("lookup")
        data = self.found[parent]
        if key in data.columns and value in data.columns:
            self.con.execute(f"CREATE TEMP TABLE {name} AS SELECT {_quote(key)} AS k, any_value({_quote(value)}) AS v "
                             f"FROM {self.relation(parent)} WHERE {_quote(key)} IS NOT NULL GROUP BY k")
        else:  # a hidden column of the parent: rebuilt batch by batch, then each key kept once
            types = self.types[parent]
            stage = self.temp("stage")
            self.con.execute(f"CREATE TEMP TABLE {stage} (k {DUCK_TYPES.get(kind(types[key]), 'VARCHAR')}, "
                             f"v {DUCK_TYPES.get(kind(types[value]), 'VARCHAR')})")
            for _, _, typed in self.typed_batches(parent, list(data.columns)):
                derived = _Derived(self, parent, typed)
                with self.registered(pa.table({"k": derived(key), "v": derived(value)})):
                    self.con.execute(f"INSERT INTO {stage} SELECT k, v FROM esdh_chunk")
            self.con.execute(f"CREATE TEMP TABLE {name} AS SELECT k, any_value(v) AS v FROM {stage} "
                             "WHERE k IS NOT NULL GROUP BY k")
        self.lookups[(parent, key, value)] = name
        return name

    def temp(self, what: str) -> str:
        return f"esdh_{what}_{next(self.counter)}"

    @contextmanager
    def registered(self, chunk: pa.Table) -> Iterator[None]:
        """``chunk`` visible to DuckDB as ``esdh_chunk``."""
        self.con.register("esdh_chunk", chunk)
        try:
            yield
        finally:
            self.con.unregister("esdh_chunk")

    def look_up(self, parent: str, key: str, value: str, keys: pa.Array) -> pa.Array:
        """``parent.value`` of the row whose ``key`` is each of ``keys`` (null where there is none)."""
        name = self.lookup_table(parent, key, value)
        with self.registered(pa.table({"pos": _positions(len(keys)), "k": keys})):
            found = _arrow(self.con.sql(f"SELECT c.pos, l.v FROM esdh_chunk c LEFT JOIN {name} l ON c.k = l.k"))
        order = np.argsort(found.column(0).to_numpy(), kind="stable")  # rows come back in any order
        return found.column(1).combine_chunks().take(pa.array(order))

    # -- set checks --
    def relation(self, table: str) -> str:
        """A DuckDB table expression of the table's written columns, converted to the spec's types."""
        data = self.found[table]
        files = _sql_list(data.files)
        source = {"parquet": f"read_parquet({files})",
                  "csv": f"read_csv({files}, header=true, all_varchar=true, allow_quoted_nulls=false, delim=',', "
                         "quote='\"', escape='\"', ignore_errors=true)"}.get(data.format)
        if source is None:
            source = _json_source(self.con, data.files)
        select = []
        for column in self.dataset.tables[table].visible_columns:
            target = kind(self.types[table][column])
            duck = DUCK_TYPES.get(target, "VARCHAR")
            if column not in data.columns:
                select.append(f"CAST(NULL AS {duck}) AS {_quote(column)}")
                continue
            stored, read = _quote(data.columns[column]), kind(data.types[column])
            if read == target:
                expr = stored
            elif target == "integer" and read == "string":
                expr = f"CASE WHEN regexp_full_match({stored}, '-?[0-9]+') THEN TRY_CAST({stored} AS BIGINT) END"
            elif target == "integer" and read == "number":
                expr = f"CASE WHEN {stored} = trunc({stored}) THEN TRY_CAST({stored} AS BIGINT) END"
            else:
                expr = f"TRY_CAST({stored} AS {duck})"
            select.append(f"{expr} AS {_quote(column)}")
        return f"(SELECT {', '.join(select)} FROM {source})"

    def keys(self, tables: list[str]) -> None:
        """Primary keys, unique keys and foreign keys; then the rows of the failures, in file order."""
        sources = {t: self.relation(t) for t in tables}
        for table in tables:
            for column, target, key in self.dataset.foreign_keys(table):
                if target not in sources:
                    reason = ("its table is missing" if target not in self.found else "its table cannot be read"
                              if target in self.unreadable else "its table is not validated")
                    self.skip(table, f"foreign_key:{target}.{key}", f"{table}.{column} refers to {target}: {reason}")
        for result in key_checks(self.con, self.dataset, sources):
            needs = [(result.table, c) for c in (result.column or "").split(",")]
            if result.check.startswith("foreign_key:"):
                needs.append(tuple(result.check.removeprefix("foreign_key:").split(".", 1)))  # type: ignore[arg-type]
            absent = [f"{t}.{c}" for t, c in needs if c not in self.found[t].columns]
            if absent:
                self.skip(result.table, result.check, f"column {', '.join(absent)} is missing")
                continue
            if not result.passed:
                result.samples = (self.orphans(result) if result.check.startswith("foreign_key:")
                                  else self.duplicates(result, sources[result.table]))
            self.results.append(result)

    def orphans(self, result: CheckResult) -> list[dict[str, Any]]:
        """The first rows whose foreign key matches no row of the referenced table."""
        parent, key = result.check.removeprefix("foreign_key:").split(".", 1)
        column = result.column or ""
        known = self.lookup_table(parent, key, key)
        samples: list[dict[str, Any]] = []
        for start, _, typed in self.typed_batches(result.table, [column]):
            with self.registered(pa.table({"pos": _positions(typed.num_rows), "k": typed.column(0)})):
                rows = sorted(self.con.sql(f"SELECT c.pos, c.k FROM esdh_chunk c ANTI JOIN {known} l ON c.k = l.k "
                                           f"WHERE c.k IS NOT NULL ORDER BY c.pos LIMIT {SAMPLES - len(samples)}"
                                           ).fetchall())
            samples += [{"row": start + pos, "value": _plain(value)} for pos, value in rows]
            if len(samples) >= SAMPLES:
                break
        return samples

    def duplicates(self, result: CheckResult, relation: str) -> list[dict[str, Any]]:
        """The first rows repeating the key of an earlier row (with that row)."""
        columns = (result.column or "").split(",")
        quoted = ", ".join(_quote(c) for c in columns)
        not_null = " AND ".join(f"{_quote(c)} IS NOT NULL" for c in columns)
        name = self.temp("duplicates")
        self.con.execute(f"CREATE TEMP TABLE {name} AS SELECT {quoted}, count(*) AS n FROM {relation} "
                         f"WHERE {not_null} GROUP BY ALL HAVING n > 1 LIMIT {SAMPLES}")
        on = " AND ".join(f"c.{_quote(c)} = d.{_quote(c)}" for c in columns)
        first: dict[tuple, int] = {}
        samples: list[dict[str, Any]] = []
        for start, _, typed in self.typed_batches(result.table, columns):
            chunk = pa.table([_positions(typed.num_rows), *typed.columns], names=["esdh_pos", *columns])
            with self.registered(chunk):
                rows = sorted(self.con.sql(f"SELECT c.esdh_pos, d.n, {', '.join(f'c.{_quote(c)}' for c in columns)} "
                                           f"FROM esdh_chunk c JOIN {name} d ON {on}").fetchall(), key=lambda r: r[0])
            for pos, count, *values in rows:
                key = tuple(_plain(v) for v in values)
                if key not in first:
                    first[key] = start + pos
                elif len(samples) < SAMPLES:
                    samples.append({"row": start + pos, "value": key[0] if len(key) == 1 else list(key),
                                    "first_row": first[key], "count": count})
            if len(samples) >= SAMPLES:
                break
        return samples


def _positions(count: int) -> pa.Array:
    return pa.array(np.arange(count, dtype=np.int64))


def _renamed(batch: pa.RecordBatch, columns: list[str]) -> pa.RecordBatch:
    arrays = [a.dictionary_decode() if pa.types.is_dictionary(a.type) else a for a in batch.columns]
    return pa.RecordBatch.from_arrays(arrays, names=columns)


class _Derived:
    """Hidden columns of one batch rebuilt from the written ones: expressions computed, lookups joined."""

    def __init__(self, run: _Validation, table: str, batch: pa.RecordBatch):
        self.run = run
        self.model = run.dataset.tables[table]
        self.rows = batch.num_rows
        self.columns: dict[str, pa.Array] = dict(zip(batch.schema.names, batch.columns, strict=True))
        self.as_of = pa.scalar(run.dataset.spec.as_of, pa.date32())

    def __call__(self, name: str) -> pa.Array:
        if name in self.columns:
            return self.columns[name]
        col = self.model.columns[name]
        if col.kind == "value":
            out = pa.nulls(self.rows) if col.value is None else pa.repeat(pa.scalar(col.value), self.rows)
        elif col.kind == "expr":
            out = evaluate(col.expression, self._resolve)  # type: ignore[arg-type]
            if isinstance(out, pa.Scalar):
                out = pa.array([out.as_py()] * self.rows, out.type)
        elif col.kind == "lookup":
            via = self.model.columns[col.via or ""]
            out = self.run.look_up(col.target_table or "", via.target_column or "", col.target_column or "",
                                   self(col.via or ""))
        else:
            raise KeyError(name)
        if isinstance(out, pa.ChunkedArray):
            out = out.combine_chunks()
        if col.declared_type is not None and out.type != col.declared_type:
            out = pc.cast(out, col.declared_type)
        self.columns[name] = out
        return out

    def _resolve(self, name: str) -> pa.Array | pa.Scalar:
        if name == "as_of" and name not in self.model.columns:
            return self.as_of
        return self(name)


def expected_types(dataset: Dataset) -> dict[str, dict[str, pa.DataType]]:
    """Every column's Arrow type, as generation makes it: from the first generated row of each table."""
    from esdh.engine.frame import Frame
    from esdh.plan.planner import build_plan

    types: dict[str, dict[str, pa.DataType]] = {}
    try:
        plan = build_plan(dataset)
    except EsdhError:
        plan = None
    for table, model in dataset.tables.items():
        found: dict[str, pa.DataType] = {}
        if plan is not None and plan.rows.get(table):
            try:
                batch = Frame(plan, table, np.zeros(1, dtype=np.int64)).batch(list(model.columns))
                found = {f.name: f.type for f in batch.schema}
            except (EsdhError, pa.ArrowException):
                found = {}
        for column in model.columns:
            if column not in found:
                found[column] = _static_type(dataset, table, column, ())
        types[table] = found
    return types


def _static_type(dataset: Dataset, table: str, column: str, path: tuple[tuple[str, str], ...]) -> pa.DataType:
    col = dataset.tables[table].columns.get(column)
    if col is None or (table, column) in path:
        return pa.string()
    if col.declared_type is not None:
        return col.declared_type
    if col.kind == "generator" and col.generator is not None:
        return col.generator.output_type()
    if col.kind == "value" and col.value is not None:
        return pa.scalar(col.value).type
    if col.kind in ("ref", "lookup"):
        return _static_type(dataset, col.target_table or "", col.target_column or "", (*path, (table, column)))
    return pa.string()


# ---- the report ------------------------------------------------------------------------------------

@dataclass
class ValidationReport:
    """What was checked, what failed (with sample rows), what could not be checked and what was not read."""

    dataset: str
    version: str
    data: str
    checks: list[CheckResult] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # table -> format, files, rows

    @classmethod
    def from_checks(cls, dataset: Dataset, data_path: Path | str, checks: list[CheckResult]) -> ValidationReport:
        """The report of a generated run, from the checks generation already made (nothing is read again)."""
        rows: dict[str, int] = {}
        for result in checks:
            if result.check.startswith(("not_null", "min", "max", "enum", "pattern", "rule:")):
                rows[result.table] = max(rows.get(result.table, 0), result.evaluated)
        return cls(dataset.spec.dataset, dataset.spec.version, str(data_path), list(checks),
                   tables={t: {"rows": n} for t, n in rows.items()})

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.checks if not r.passed]

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        failed = self.failures
        rows = [t.get("rows") for t in self.tables.values()]
        return {
            "format_version": REPORT_VERSION,
            "dataset": self.dataset, "version": self.version, "data": self.data, "ok": self.ok,
            "summary": {"checks": len(self.checks), "passed": len(self.checks) - len(failed), "failed": len(failed),
                        "skipped": len(self.skipped), "tables": len(self.tables),
                        "evaluated_rows": sum(r for r in rows if r), "failures": sum(r.failed for r in failed)},
            "tables": self.tables,
            "checks": [{**r.as_dict(), "passed": r.passed} for r in self.checks],
            "skipped": self.skipped,
            "ignored": self.ignored,
            "extra_columns": self.extra_columns,
        }

    def text(self) -> str:
        """A plain summary for a terminal: the verdict, every failure with samples, what was skipped."""
        summary = self.as_dict()["summary"]
        head = (f"{self.dataset} {self.version}: {summary['passed']} of {summary['checks']} checks passed over "
                f"{summary['evaluated_rows']:,} rows" + (f", {len(self.skipped)} skipped" if self.skipped else ""))
        lines = [("ok: " if self.ok else "failed: ") + head]
        for r in self.failures:
            lines.append(f"  {r.table}.{r.column or '*'}: {r.check}: {r.failed:,} of {r.evaluated:,} fail"
                         + (f" (e.g. {r.samples[:3]})" if r.samples else ""))
        lines += [f"  skipped {s['table']}: {s['check']}: {s['reason']}" for s in self.skipped]
        if self.ignored:
            lines.append(f"  not read: {', '.join(self.ignored)}")
        return "\n".join(lines)

    def write(self, folder: Path | str, prefix: str = "validation") -> list[Path]:
        """Write ``<prefix>.json`` and ``<prefix>.html`` into ``folder``."""
        from esdh.reports.validation_html import render_validation_html

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        report = self.as_dict()
        json_path, html_path = folder / f"{prefix}.json", folder / f"{prefix}.html"
        json_path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        html_path.write_text(render_validation_html(report), encoding="utf-8")
        return [json_path, html_path]
