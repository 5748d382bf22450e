"""The built-in datasets as the API shows them: found by name (404 with a suggestion), described for
people and pages by :mod:`esdh.library.catalogue`, and their values made JSON-safe."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
from typing import Any

import pyarrow as pa

from esdh import library
from esdh.api.errors import ApiError

PREVIEW_MAX = 1000


def pack_names() -> list[str]:
    return library.catalogue.names()


@functools.lru_cache(maxsize=64)
def _load(name: str, version: str | None) -> library.Dataset:
    # pack: by name only: a URL's name never reads a file or folder of the server's, whatever its directory
    return library.catalogue.builtin(name, version)


def dataset_of(name: str, version: str | None = None) -> library.Dataset:
    """A built-in dataset (in ``version``); 404 for an unknown name or an undeclared version."""
    names = pack_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "GET /v1/datasets lists them"
        raise ApiError(404, f"no dataset '{name}' ({hint})", "not_found",
                       {"suggestion": close[0] if close else None, "datasets": names})
    base = _load(name, None)
    known = library.catalogue.declared_versions(base)
    if version is None or version == base.spec.version:
        return base
    if version not in known:  # a version is a resource of the dataset: one that does not exist is not found
        raise ApiError(404, f"version: dataset '{name}' has no version '{version}' (versions: {', '.join(known)})",
                       "not_found", {"versions": known})
    return _load(name, version)


def check_table(dataset: library.Dataset, table: str) -> None:
    """404 for a table the dataset does not have, with the closest name."""
    if table not in dataset.tables:
        close = difflib.get_close_matches(table, list(dataset.tables), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"tables: {', '.join(dataset.tables)}"
        raise ApiError(404, f"no table '{table}' in dataset '{dataset.spec.dataset}' ({hint})", "not_found",
                       {"suggestion": close[0] if close else None, "tables": list(dataset.tables)})


def summary(name: str) -> library.catalogue.DatasetSummary:
    """A built-in dataset's name, version, title, description and tables; 404 for an unknown name."""
    return library.catalogue.summary(name, dataset_of(name))


@functools.lru_cache(maxsize=64)
def _detail(name: str, version: str | None) -> library.catalogue.DatasetDetail:
    versions = library.catalogue.declared_versions(dataset_of(name))
    return library.catalogue.detail(name, dataset_of(name, version), versions)


def detail(name: str, version: str | None = None) -> library.catalogue.DatasetDetail:
    """Everything a page needs to show a dataset: tables, columns, relations, versions and the spec."""
    dataset_of(name, version)  # errors first, and never cached
    return _detail(name, version)


def json_value(value: Any) -> Any:
    """A value as JSON can carry it: dates and times as ISO text, no NaN or infinity."""
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    return value


def json_safe(value: Any) -> Any:
    """``value`` with every nested value made JSON-safe (:func:`json_value`)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return json_value(value)


def preview_rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in row.items()} for row in table.to_pylist()]
