"""Check a spec's meaning and compile it into tables of ready-to-run columns.

Every problem is collected (with file, line, dotted path and a hint) before anything is raised, so a
user sees all of them at once; nothing is generated from a spec with errors.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from esdh.errors import SpecError, SpecProblem
from esdh.expr import ExpressionError, Node, names, parse, regex_error
from esdh.generators.base import registry, weights_problem
from esdh.generators.numeric import DISTRIBUTIONS
from esdh.spec.columns import Compiled
from esdh.spec.cycles import find_cycle, toposort
from esdh.spec.model import COLUMN_KEYS, Check, Column, Count, RowsPer, Spec, Table
from esdh.spec.types import cast_problem, copied_cast_problem, produced_type
from esdh.spec.yamlsource import Path_, SourceMap

if TYPE_CHECKING:
    from esdh.spec.source import ResolvedSource

MARKER_COLUMN = "synthetic_source"
# Names an expression may read besides columns (a column of the same name takes precedence):
# as_of, the row's index in its table, and for child tables its position among its siblings (0-based)
# and the number of siblings.
SPECIAL_NAMES = {"as_of", "row_index", "ordinal", "siblings"}
SIBLING_NAMES = {"ordinal", "siblings"}
ROWS = "<rows>"  # the node of a table's row count in column_graph
ColumnNode = tuple[str, str]
_FINITE_HINT = "write a plain number (YAML's .nan and .inf are not allowed)"


@dataclass
class TableModel:
    name: str
    spec: Table
    columns: dict[str, Compiled]
    order: list[str]  # evaluation order: every column after the columns it reads
    parent: str | None = None
    count: int | Count | None = None
    where: Node | None = None  # parents where this expression is false get no children

    def unique_mode(self, column: str) -> bool:
        """Generate this column unique by construction: asked for, or the table's single-column key."""
        col = self.columns[column]
        if col.unique:
            return True
        return (self.spec.primary_key_columns == [column] and col.generator is not None
                and col.generator.can_be_unique())

    @property
    def visible_columns(self) -> list[str]:
        return [name for name, col in self.columns.items() if not col.hidden]


@dataclass
class Dataset:
    spec: Spec
    tables: dict[str, TableModel]
    order: list[str]  # tables after the tables they depend on
    source: SourceMap = field(default_factory=lambda: SourceMap("<spec>"))
    origin: ResolvedSource | None = None  # what the user's source was read as (set by load_spec)

    def key_target(self, table: str, column: str) -> tuple[str, str] | None:
        """The (table, column) key a column's values come from, if it is a foreign key.

        A ref is a foreign key to its target; a lookup is one too when it copies a key (a primary key
        of the looked-up table, or a column that is itself a foreign key), e.g. a policy's person_id
        looked up through its vehicle.
        """
        col = self.tables[table].columns.get(column)
        if col is not None and col.spec.references:
            target_table, _, target_column = col.spec.references.partition(".")
            return target_table, target_column
        if col is None or col.kind not in ("ref", "lookup"):
            return None
        target = (col.target_table or "", col.target_column or "")
        if col.kind == "ref":
            return target
        if self.tables[target[0]].spec.primary_key_columns == [target[1]]:
            return target
        return self.key_target(*target)

    def foreign_keys(self, table: str) -> list[tuple[str, str, str]]:
        """(column, target table, target column) for every visible foreign key of a table."""
        out = []
        for name, col in self.tables[table].columns.items():
            target = None if col.hidden else self.key_target(table, name)
            if target is not None:
                out.append((name, *target))
        return out


def suggest(name: str, choices: list[str] | set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


class _Compiler:
    def __init__(self, spec: Spec, source: SourceMap, problems: list[SpecProblem], broken: set[str]):
        self.spec = spec
        self.source = source
        self.problems: list[SpecProblem] = list(problems)
        self.broken = broken  # tables whose structure was wrong: reported already, never "unknown"

    def problem(self, path: Path_, message: str, hint: str = "") -> None:
        self.problems.append(self.source.problem(path, message, hint))

    # ---- tables -------------------------------------------------------------------------------
    def run(self) -> Dataset:
        tables: dict[str, TableModel] = {}
        for name, table in self.spec.tables.items():
            tables[name] = self.table(name, table)
        self.check_relations(tables)
        if not self.problems:  # types are read across tables: only once every column is known to be sound
            self.check_types(tables)
        order = self.table_order(tables)
        if self.problems:
            raise SpecError(sorted(self.problems, key=lambda p: (p.line or 0, p.path)))
        return Dataset(self.spec, tables, order, self.source)

    def table(self, name: str, table: Table) -> TableModel:
        path: Path_ = ("tables", name)
        parent, count = None, None
        if isinstance(table.rows, int):
            if table.rows < 1:
                self.problem((*path, "rows"), f"rows must be at least 1, got {table.rows}",
                             "give a positive number of rows")
        else:
            parent, count = self.rows_per(path, name, table.rows)
        columns: dict[str, Compiled] = {}
        for col_name, column in table.columns.items():
            compiled = self.column((*path, "columns", col_name), col_name, column)
            if compiled is not None:
                columns[col_name] = compiled
        if MARKER_COLUMN not in columns:
            marker = Column(value=self.spec.marker, description="provenance: this row is synthetic")
            columns[MARKER_COLUMN] = Compiled(MARKER_COLUMN, marker, "value", value=self.spec.marker)
        for group_path, group in [((*path, "primary_key"), table.primary_key_columns),
                                  *(((*path, "unique", i), g) for i, g in enumerate(table.unique))]:
            repeated = sorted({c for c in group if group.count(c) > 1})
            if repeated:
                self.problem(group_path, f"names column '{repeated[0]}' more than once",
                             "list each column of a key once")
            elif group_path[-1] != "primary_key" and not group:
                self.problem(group_path, "an empty unique key", "list the columns that are unique together")
        for key_col in dict.fromkeys(table.primary_key_columns):
            if key_col not in table.columns:
                self.problem((*path, "primary_key"), f"primary key column '{key_col}' is not a column",
                             suggest(key_col, set(table.columns)) or f"columns: {', '.join(table.columns)}")
            elif table.columns[key_col].null_rate:
                self.problem((*path, "columns", key_col, "null_rate"), "a primary key column cannot be null",
                             "remove null_rate from the key column")
        for i, group in enumerate(table.unique):
            for col in group:
                if col not in table.columns:
                    self.problem((*path, "unique", i), f"unique key column '{col}' is not a column",
                                 suggest(col, set(table.columns)))
        known = set(columns) | SPECIAL_NAMES
        for i, rule in enumerate(table.rules):
            try:
                unknown = names(parse(rule.check)) - known
            except ExpressionError as exc:
                self.problem((*path, "rules", i, "check"), str(exc), "see the expression reference in docs/spec.md")
                continue
            for ref in sorted(unknown):
                self.problem((*path, "rules", i, "check"), f"rule reads unknown column '{ref}'",
                             suggest(ref, known) or "rules can read columns of their own table")
        where = None
        if not isinstance(table.rows, int) and table.rows.where is not None:
            try:
                where = parse(table.rows.where)
            except ExpressionError as exc:
                self.problem((*path, "rows", "where"), str(exc), "an expression over the parent's columns")
        return TableModel(name, table, columns, [], parent, count, where)  # order: once lookups are resolved

    def rows_per(self, path: Path_, name: str, rows: RowsPer) -> tuple[str | None, int | Count]:
        if rows.per in self.broken:
            return None, rows.count
        if rows.per not in self.spec.tables:
            self.problem((*path, "rows", "per"), f"unknown parent table '{rows.per}'", self.tables_hint(rows.per))
            return None, rows.count
        if rows.per == name:
            self.problem((*path, "rows", "per"), "a table cannot be its own parent",
                         "use a foreign key with choose: uniform for self-references")
            return None, rows.count
        count = rows.count
        if isinstance(count, int):
            if count < 0:
                self.problem((*path, "rows", "count"), "count cannot be negative", "use 0 or more")
        else:
            self.count_distribution((*path, "rows", "count"), count)
        return rows.per, count

    def count_distribution(self, path: Path_, count: Count) -> None:
        if count.min > count.max:
            self.problem(path, f"min ({count.min}) is greater than max ({count.max})", "swap the bounds")
        if count.distribution == "weights":
            weights = count.params.get("weights")
            expected = count.max - count.min + 1
            if not isinstance(weights, list) or len(weights) != expected:
                self.problem(path, f"distribution 'weights' needs a weights list of {expected} numbers "
                             f"(one per count from {count.min} to {count.max})")
            elif not all(isinstance(w, int | float) and not isinstance(w, bool) for w in weights):
                self.problem((*path, "weights"), "weights must be numbers", _type_hint("float_type"))
            elif weights_problem(weights):
                self.problem((*path, "weights"), weights_problem(weights), _value_hint(weights_problem(weights)))
            return
        cls = DISTRIBUTIONS.get(count.distribution)
        if cls is None:
            self.problem((*path, "distribution"), f"unknown distribution '{count.distribution}'",
                         suggest(count.distribution, [*DISTRIBUTIONS, "weights"]) or
                         f"use one of: {', '.join([*DISTRIBUTIONS, 'weights'])}")
            return
        bounded = "min" in cls.Params.model_fields
        params = {**count.params, "min": count.min, "max": count.max} if bounded else dict(count.params)
        try:
            cls.Params(**params)
        except ValidationError as exc:
            self.validation_errors(path, exc, f"distribution '{count.distribution}'", cls.Params.model_fields)

    # ---- columns ------------------------------------------------------------------------------
    def column(self, path: Path_, name: str, column: Column) -> Compiled | None:
        sources = [k for k in ("generator", "expr", "ref", "lookup", "aggregate", "window")
                   if getattr(column, k) is not None]
        if "value" in column.model_fields_set:
            sources.append("value")
        if len(sources) != 1:
            if not sources:
                extra = set(column.params)
                msg = "says nowhere where its values come from"
                hint = "give exactly one of generator, expr, ref, lookup, aggregate, window or value"
                if extra:
                    hint += f" (unknown keys: {', '.join(sorted(extra))})"
            else:
                msg, hint = f"has more than one source ({', '.join(sources)})", "keep exactly one of them"
            self.problem(path, msg, hint)
            return None
        kind = sources[0]
        if kind != "generator" and column.params:
            for key in column.params:
                self.problem((*path, key), f"unknown key '{key}'",
                             suggest(key, COLUMN_KEYS) or f"parameters only apply to generators; {kind} columns take "
                             "none")
            return None
        if column.references:
            self._target((*path, "references"), column.references)
        if column.check:
            self.check_bounds((*path, "check"), column.check)
        builder = getattr(self, f"column_{kind}")
        result: Compiled | None = builder(path, name, column)
        return result

    def check_bounds(self, path: Path_, check: Check) -> None:
        """A column check that no value could pass, or that cannot be evaluated, is a spec error."""
        for key in ("min", "max"):
            bound = getattr(check, key)
            if isinstance(bound, float) and not math.isfinite(bound):
                self.problem((*path, key), f"{key} must be a finite number, got {bound}", _FINITE_HINT)
        low, high = check.min, check.max
        comparable = (isinstance(low, int | float) and isinstance(high, int | float)) or (
            isinstance(low, dt.date) and isinstance(high, dt.date) and type(low) is type(high))
        if comparable and low > high:  # type: ignore[operator]
            self.problem((*path, "min"), f"min ({low}) is greater than max ({high}): no value can pass",
                         "swap min and max")
        if check.min_length is not None and check.max_length is not None and check.min_length > check.max_length:
            self.problem((*path, "min_length"), f"min_length ({check.min_length}) is greater than max_length "
                         f"({check.max_length}): no value can pass", "swap min_length and max_length")
        if check.enum is not None and not check.enum:
            self.problem((*path, "enum"), "an empty enum lets no value pass", "list the allowed values")
        if check.pattern is not None:
            error = regex_error(check.pattern)
            if error:
                self.problem((*path, "pattern"), f"invalid regular expression: {error}",
                             "patterns use RE2 syntax (no look-around or back-references)")

    def column_value(self, path: Path_, name: str, column: Column) -> Compiled:
        if column.unique:
            self.problem((*path, "unique"), "a constant cannot be unique", "remove unique or use a generator")
        return Compiled(name, column, "value", value=column.value)

    def column_expr(self, path: Path_, name: str, column: Column) -> Compiled | None:
        try:
            node = parse(column.expr or "")
        except ExpressionError as exc:
            self.problem((*path, "expr"), str(exc), "see the expression reference in docs/spec.md")
            return None
        if column.unique:
            self.problem((*path, "unique"), "an expression cannot guarantee uniqueness",
                         "derive it from a unique column, or use a generator that supports unique")
        return Compiled(name, column, "expr", expression=node, depends_on=names(node) - {"as_of"})

    def column_generator(self, path: Path_, name: str, column: Column) -> Compiled | None:
        gen_name = column.generator or ""
        generators = registry()
        cls = generators.get(gen_name)
        if cls is None:
            self.problem((*path, "generator"), f"unknown generator '{gen_name}'",
                         suggest(gen_name, set(generators)) or "run `esdh generators` to list them")
            return None
        try:
            params = cls.Params(**column.params)
            generator = cls(params)
            depends_on = generator.dependencies()
            generator.output_type()
            problem = generator.problem(self.spec.as_of)
        except ValidationError as exc:
            self.validation_errors(path, exc, f"generator '{gen_name}'", cls.Params.model_fields)
            return None
        except (ValueError, ExpressionError) as exc:
            self.problem(path, f"generator '{gen_name}': {exc}")
            return None
        if problem:
            self.problem(path, f"generator '{gen_name}': {problem}", _value_hint(problem) or
                         "see the generator's parameters in docs/spec.md")
            return None
        if column.unique and not generator.can_be_unique():
            hint = ("its numbers are unique per state: declare unique: [[state_column, this column]] on the table"
                    if gen_name == "driver_license" else
                    "use a generator that supports unique (uuid, sequence, uniform_int, pattern, email, ...)")
            self.problem((*path, "unique"), f"generator '{gen_name}' cannot guarantee unique values here", hint)
        return Compiled(name, column, "generator", generator=generator, depends_on=depends_on)

    def tables_hint(self, name: str) -> str:
        """The closest table name, and the tables there are."""
        close = suggest(name, set(self.spec.tables))
        listed = f"tables: {', '.join(self.spec.tables)}"
        return f"{close} ({listed})" if close else listed

    def _target(self, path: Path_, text: str) -> tuple[str, str] | None:
        table, _, column = text.partition(".")
        if not column:
            self.problem(path, f"'{text}' is not of the form table.column", "write e.g. persons.person_id")
            return None
        if table in self.broken:
            return None
        if table not in self.spec.tables:
            self.problem(path, f"unknown table '{table}'", self.tables_hint(table))
            return None
        if f"{table}.{column}" in self.broken:
            return None
        if column not in self.spec.tables[table].columns and column != MARKER_COLUMN:
            self.problem(path, f"table '{table}' has no column '{column}'",
                         suggest(column, set(self.spec.tables[table].columns)) or
                         f"its columns: {', '.join(self.spec.tables[table].columns)}")
            return None
        return table, column

    def column_aggregate(self, path: Path_, name: str, column: Column) -> Compiled | None:
        target = self._target((*path, "of"), column.of or "") if column.of else None
        if column.of is None:
            self.problem((*path, "of"), "an aggregate needs of: child_table.column", "e.g. of: lines.line_total")
        if target is None:
            return None
        table, col = target
        return Compiled(name, column, "aggregate", target_table=table, target_column=col)

    def column_window(self, path: Path_, name: str, column: Column) -> Compiled | None:
        if column.of is None:
            self.problem((*path, "of"), "a window needs of: a column of the same table", "e.g. of: daily_return")
            return None
        return Compiled(name, column, "window", target_column=column.of, depends_on={column.of})

    def column_ref(self, path: Path_, name: str, column: Column) -> Compiled | None:
        target = self._target((*path, "ref"), column.ref or "")
        if target is None:
            return None
        table, col = target
        return Compiled(name, column, "ref", target_table=table, target_column=col, choose=column.choose)

    def column_lookup(self, path: Path_, name: str, column: Column) -> Compiled | None:
        target = self._target((*path, "lookup"), column.lookup or "")
        if target is None:
            return None
        table, col = target
        return Compiled(name, column, "lookup", target_table=table, target_column=col, via=column.via)

    def validation_errors(self, path: Path_, exc: ValidationError, what: str, fields: Mapping[str, FieldInfo]) -> None:
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = (*path, *loc)
            if err["type"] == "extra_forbidden":
                key = str(loc[-1])
                hint = suggest(key, set(fields) | COLUMN_KEYS) or f"{what} takes: {', '.join(fields) or 'nothing'}"
                self.problem(where, f"unknown parameter '{key}' for {what}", hint)
            elif err["type"] == "missing":
                self.problem(where, f"{what} needs parameter '{loc[-1]}'", "add it to the column")
            else:
                given = err.get("input")
                shown = f" (got {given!r})" if not isinstance(given, dict | list) else ""
                message = err["msg"].removeprefix("Value error, ")
                self.problem(where, f"{message}{shown}", _type_hint(err["type"]) or _value_hint(message))

    # ---- order and relations ------------------------------------------------------------------
    def column_order(self, path: Path_, columns: dict[str, Compiled]) -> list[str]:
        table = path[-1] if path else ""
        declared = set(self.spec.tables[table].columns) if table in self.spec.tables else set()
        declared |= {b.split(".", 1)[1] for b in self.broken if b.startswith(f"{table}.")}
        has_parent = table in self.spec.tables and not isinstance(self.spec.tables[table].rows, int)
        for name, col in columns.items():
            for dep in sorted(col.depends_on):
                if dep in columns or dep in declared:  # a declared column that failed is reported already
                    continue
                if dep in SIBLING_NAMES and not has_parent:
                    self.problem((*path, "columns", name), f"'{dep}' needs a table with rows per a parent",
                                 "ordinal and siblings count rows among the children of one parent")
                elif dep not in SPECIAL_NAMES:
                    self.problem((*path, "columns", name), f"reads unknown column '{dep}'",
                                 suggest(dep, set(columns)) or "name a column of the same table")
        graph = {name: {d for d in col.depends_on if d in columns} for name, col in columns.items()}
        order, cycle = toposort(graph)
        if cycle:
            self.problem((*path, "columns", cycle[0]), f"columns depend on each other in a cycle: {' -> '.join(cycle)}",
                         "break the cycle: one of these columns must not read the others")
        return order

    def check_relations(self, tables: dict[str, TableModel]) -> None:
        for model in tables.values():
            path: Path_ = ("tables", model.name, "columns")
            refs = {n: c for n, c in model.columns.items() if c.kind == "ref"}
            for name, col in refs.items():
                self.check_choose((*path, name), model, col, tables)
            for name, col in model.columns.items():
                if col.kind != "lookup":
                    continue
                if col.via is None:
                    leading = [n for n, r in refs.items() if r.target_table == col.target_table]
                    if len(leading) != 1:
                        self.problem((*path, name, "lookup"),
                                     f"needs exactly one foreign key to '{col.target_table}', found {len(leading)}",
                                     f"add a ref column to {col.target_table} or name it with via:")
                        continue
                    col.via = leading[0]
                elif col.via not in refs or refs[col.via].target_table != col.target_table:
                    self.problem((*path, name, "via"), f"'{col.via}' is not a foreign key to '{col.target_table}'",
                                 suggest(col.via, set(refs)) or "name a ref column of this table")
                    continue
                col.depends_on = {col.via}
        for model in tables.values():
            model.order = self.column_order(("tables", model.name), model.columns)
            self.check_shapes(model, tables)
        cycle = find_cycle(column_graph(tables))
        if cycle:
            table, column = cycle[0]
            shown = " -> ".join(f"{t}.{c}" for t, c in cycle)
            where = ("tables", table) if column == ROWS else ("tables", table, "columns", column)
            self.problem(where, f"values depend on themselves: {shown}",
                         "break the loop: one of these columns must not read the others")

    def check_shapes(self, model: TableModel, tables: dict[str, TableModel]) -> None:
        """Aggregates read children, windows and sibling positions need a parent, where reads the parent."""
        path: Path_ = ("tables", model.name)
        for name, col in model.columns.items():
            if col.kind == "aggregate" and col.target_table in tables:
                child = tables[col.target_table]
                if child.parent != model.name:
                    self.problem((*path, "columns", name, "of"), f"'{col.target_table}' is not a child of "
                                 f"'{model.name}'", f"aggregate over a table with rows: {{per: {model.name}}}")
            if col.kind == "window":
                if model.parent is None:
                    self.problem((*path, "columns", name, "window"), "a window needs a table with rows per a parent",
                                 "windows run over the children of one parent, in order")
                elif col.target_column not in model.columns:
                    self.problem((*path, "columns", name, "of"), f"unknown column '{col.target_column}'",
                                 suggest(col.target_column or "", set(model.columns)))
        if model.where is not None and model.parent in tables:
            parent_columns = set(tables[model.parent].columns)
            for ref in sorted(names(model.where) - parent_columns - SPECIAL_NAMES):
                self.problem((*path, "rows", "where"), f"reads unknown column '{ref}' of '{model.parent}'",
                             suggest(ref, parent_columns) or "where reads the parent's columns")

    def check_choose(self, path: Path_, model: TableModel, col: Compiled, tables: dict[str, TableModel]) -> None:
        target = tables.get(col.target_table or "")
        if col.choose is None:
            col.choose = "parent" if col.target_table == model.parent else "uniform"
        if col.choose == "parent" and col.target_table != model.parent:
            self.problem((*path, "choose"), f"'parent' needs '{col.target_table}' to be this table's rows.per parent",
                         "use uniform, zipf or weighted")
        siblings = target is not None and target.parent is not None and target.parent == model.parent
        if col.choose in ("first_of_parent", "random_of_parent") and not siblings:
            self.problem((*path, "choose"), f"'{col.choose}' needs this table and '{col.target_table}' to share "
                         "a rows.per parent", "give both tables the same per: parent")
        if col.choose == "earlier" and col.target_table != model.name:
            self.problem((*path, "choose"), "'earlier' picks an earlier row of the same table (a hierarchy)",
                         f"reference {model.name}.<key> or use uniform")
        if col.choose == "distinct" and (model.parent is None or col.target_table == model.parent):
            self.problem((*path, "choose"), "'distinct' picks different rows of another table for the children of "
                         "one parent", "give this table rows: {per: ...} and reference a table other than the parent")
        if col.spec.weight_by and col.choose != "weighted":
            self.problem((*path, "weight_by"), f"weight_by has no effect with choose: {col.choose}",
                         "use choose: weighted, or remove weight_by" if col.choose == "uniform" else "remove weight_by")
        if col.choose == "weighted":
            if not col.spec.weight_by:
                self.problem((*path, "weight_by"), "choose: weighted needs weight_by (a numeric column of the target)")
            elif target is not None and col.spec.weight_by not in target.columns:
                self.problem((*path, "weight_by"), f"table '{col.target_table}' has no column '{col.spec.weight_by}'",
                             suggest(col.spec.weight_by, set(target.columns)))
        if col.target_table == model.name:
            col.depends_on = {col.target_column or ""}  # a self-reference reads the key of another row

    # ---- types --------------------------------------------------------------------------------
    def check_types(self, tables: dict[str, TableModel]) -> None:
        """Declared types the values cannot take, and weight_by columns that are not weights: found when the
        spec is compiled, not when a chunk is cast (where the error had no line)."""
        for model in tables.values():
            path: Path_ = ("tables", model.name, "columns")
            for col in model.columns.values():
                if col.declared_type is not None:
                    problem = cast_problem(col, self.spec.as_of) or copied_cast_problem(
                        col, {n: t.columns for n, t in tables.items()})
                    if problem:
                        self.problem((*path, col.name, "type"),
                                     f"{problem} do not fit the declared type {col.spec.type}",
                                     "change the type, or the values (round numbers with round: 0)")
                if col.choose == "weighted" and col.spec.weight_by and col.target_table in tables:
                    self.check_weights((*path, col.name, "weight_by"), tables[col.target_table],
                                       col.spec.weight_by)

    def check_weights(self, path: Path_, target: TableModel, column: str) -> None:
        col = target.columns.get(column)
        if col is None:
            return  # reported already
        type_ = col.declared_type or produced_type(col)
        if type_ is not None and not (pa.types.is_integer(type_) or pa.types.is_floating(type_)):
            self.problem(path, f"choose: weighted needs a numeric weight_by column, but {target.name}.{column} "
                         f"is {type_}",
                         "name a column of numbers (0 or more) of the referenced table")
            return
        low = col.generator.bounds(self.spec.as_of).get("min") if col.generator is not None else (
            col.value if col.kind == "value" else None)
        if isinstance(low, int | float) and not isinstance(low, bool) and low < 0:
            self.problem(path, f"weight_by {target.name}.{column} can be negative (down to {low}): a weight "
                         "must be 0 or more", "use a column whose values are 0 or more")

    def table_order(self, tables: dict[str, TableModel]) -> list[str]:
        graph: dict[str, set[str]] = {}
        for name, model in tables.items():
            deps = {model.parent} if model.parent else set()
            for col in model.columns.values():
                if col.target_table and col.target_table != name and col.kind != "aggregate":
                    deps.add(col.target_table)
                if col.kind == "ref" and col.choose in ("first_of_parent", "random_of_parent"):
                    deps.add(col.target_table or "")
            graph[name] = {d for d in deps if d in tables}
        order, cycle = toposort(graph)
        if cycle:
            first, second = cycle[0], cycle[1]
            model = tables[first]
            column = next((c.name for c in model.columns.values() if c.target_table == second and
                           c.kind != "aggregate"), None)
            where: Path_ = ("tables", first, "columns", column) if column else ("tables", first, "rows", "per")
            self.problem(where, f"tables depend on each other in a cycle: {' -> '.join(cycle)}; a table is generated "
                         "after the tables it reads (its rows.per parent and the tables of its ref and lookup "
                         "columns), so none of these can come first",
                         "keep the foreign key on one side only; read the other direction back with an aggregate "
                         "(e.g. aggregate: first, of: child.key, when the child has rows per this table) or put "
                         "both keys in a link table that references both")
        return order


def _type_hint(kind: str) -> str:
    if kind in ("int_type", "float_type"):
        return "write a plain number (not quoted, not true/false)"
    if kind == "bool_type":
        return "write true or false"
    if kind == "string_type":
        return "write text (quote it if YAML reads it as something else)"
    if kind in ("list_type", "dict_type"):
        return "check the shape against docs/spec.md"
    return ""


def _value_hint(message: str) -> str:
    """A fix for the value problems generator parameters report."""
    if "finite" in message:
        return _FINITE_HINT
    if "weights must not" in message:
        return "give every value a weight of 0 or more, and at least one above 0"
    if "is greater than max" in message or "is after max" in message:
        return "swap min and max"
    if message.startswith("no rank"):
        return "raise n, or bring min and max into 1..n"
    if "greater than" in message or "less than" in message:
        return "see the generator's parameters in docs/spec.md"
    return ""


def column_graph(tables: dict[str, TableModel]) -> dict[ColumnNode, set[ColumnNode]]:
    """Which values each value is computed from, across tables.

    Every value is computed on demand from the columns it reads, so a column that (through lookups,
    aggregates, windows or row counts) ends up reading itself could never be computed. Nodes are
    ``(table, column)``; ``(table, ROWS)`` stands for a child table's row count.
    """
    graph: dict[ColumnNode, set[ColumnNode]] = {}
    for name, model in tables.items():
        rows_node = (name, ROWS)
        graph[rows_node] = set()
        if model.parent:
            graph[rows_node].add((model.parent, ROWS))
            if model.where is not None:
                graph[rows_node] |= {(model.parent, n) for n in names(model.where)
                                     if n in tables[model.parent].columns}
        for col in model.columns.values():
            edges = {(name, d) for d in col.depends_on if d in model.columns}
            if col.kind == "ref" and col.target_table in tables:
                edges.add((col.target_table, col.target_column or ""))
                if col.choose in ("parent", "first_of_parent", "random_of_parent", "distinct"):
                    edges.add(rows_node)
                if col.choose == "weighted" and col.spec.weight_by:
                    edges.add((col.target_table, col.spec.weight_by))
            elif col.kind == "lookup" and col.target_table in tables:
                edges.add((col.target_table, col.target_column or ""))
            elif col.kind == "aggregate" and col.target_table in tables:
                edges |= {(col.target_table, col.target_column or ""), (col.target_table, ROWS)}
            elif col.kind == "window":
                edges.add(rows_node)
            graph[(name, col.name)] = edges
    return graph


def compile_spec(spec: Spec, source: SourceMap | None = None, problems: list[SpecProblem] | None = None,
                 broken: set[str] | None = None) -> Dataset:
    """Check the spec's meaning and compile it; raises SpecError listing every problem (including the
    structural ``problems`` found before, for tables listed in ``broken``)."""
    return _Compiler(spec, source or SourceMap("<spec>"), problems or [], broken or set()).run()
