"""Set-level checks (uniqueness, primary keys, foreign keys) in DuckDB over written files, so memory stays
bounded however many rows there are."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from esdh.checks.results import SAMPLES, CheckResult, plain
from esdh.spec.compile import Dataset


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
                                       [{"value": [plain(v) for v in row[:-1]], "count": row[-1]} for row in dupes]))
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
                                       total, orphans, [{"value": plain(r[0])} for r in samples]))
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
