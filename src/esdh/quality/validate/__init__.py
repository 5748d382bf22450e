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

The modules follow the data: ``files`` finds each table's files, ``read`` reads them batch by batch and
``sql`` shows them to DuckDB, both converted to the spec's types (``kinds``); ``rows`` runs the row checks
(``nulls`` says which columns may hold no null, ``rules`` which rules can be evaluated, ``hidden`` rebuilds
the hidden columns they read), ``keys`` the set checks; ``session`` holds one validation's shared state,
``run`` runs the checks in order and ``report`` is its result.
"""

from esdh.quality.validate.files import TableData, find_tables
from esdh.quality.validate.kinds import expected_types, kind
from esdh.quality.validate.nulls import never_null
from esdh.quality.validate.report import REPORT_VERSION, ValidationReport
from esdh.quality.validate.run import validate_data

__all__ = ["REPORT_VERSION", "TableData", "ValidationReport", "expected_types", "find_tables", "kind", "never_null",
           "validate_data"]
