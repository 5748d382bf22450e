"""The demo's smoke checks (plain checks, not pytest): the API and the library agree for one seed, the
snapshot's checksums verify, and every row carries the synthetic marker."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from esdh import library
from esdh.demo.client import call_ok

ENTITIES, SLUG = library.snapshot.ENTITIES, library.snapshot.SLUG


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def library_bundle(dataset: str, records: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """The bundle's entities generated in this process, as JSON would carry them."""
    plan = library.plan(dataset, seed=seed, rows={"persons": records}, tables=list(ENTITIES))
    return {e: json.loads(json.dumps(library.table(plan, e).to_pylist(), default=_plain)) for e in ENTITIES}


def _first_difference(api: list[dict[str, Any]], local: list[dict[str, Any]]) -> str:
    if len(api) != len(local):
        return f"{len(api)} rows from the API, {len(local)} in-process"
    for index, (a, b) in enumerate(zip(api, local, strict=True)):
        if a != b:
            keys = sorted(set(a) | set(b))
            field = next(k for k in keys if a.get(k, "<missing>") != b.get(k, "<missing>"))
            theirs, ours = a.get(field, "<missing>"), b.get(field, "<missing>")
            return f"row {index} field {field}: API {theirs!r}, library {ours!r}"
    return "equal"


def check_determinism(url: str, key: str | None, dataset: str, records: int, seed: int) -> tuple[Check, dict[str, Any]]:
    """POST /generate/bundle for ``seed`` and compare each entity with the library's in-process rows."""
    answer = call_ok("POST", f"{url}/generate/bundle", {"records": records, "seed": seed, "randomize": False}, key)
    local = library_bundle(dataset, records, seed)
    problems = [f"{e}: {_first_difference(answer.get(e) or [], local[e])}" for e in ENTITIES
                if (answer.get(e) or []) != local[e]]
    counts = ", ".join(f"{e} {len(local[e])}" for e in ENTITIES)
    if answer.get("seed") not in (None, seed):
        problems.append(f"the API answered seed {answer.get('seed')}, not {seed}")
    detail = f"seed {seed}: {counts} identical" if not problems else "; ".join(problems)
    return Check("API bundle = library (same seed)", not problems, detail), answer


def check_manifest(snapshot_dir: Path) -> Check:
    """Every file the snapshot manifest lists exists and has its recorded SHA-256."""
    found = library.snapshot.verify_snapshot(snapshot_dir)
    detail = f"{found.files} files verified" if found.ok else ", ".join(found.problems)
    return Check("snapshot manifest checksums", found.ok, detail)


def check_marker(snapshot_dir: Path, marker: str, api_bundle: dict[str, Any] | None) -> Check:
    """Every person (and vehicle and profile) row, of the snapshot and of the API's bundle, carries the
    synthetic_source marker."""
    snapshot = json.loads((snapshot_dir / f"dataset_{SLUG}.json").read_text(encoding="utf-8"))
    sources = {"snapshot": snapshot} | ({"API": api_bundle} if api_bundle else {})
    bad, seen = [], 0
    for where, bundle in sources.items():
        for entity in ENTITIES:
            rows = bundle.get(entity) or []
            seen += len(rows)
            missing = sum(1 for row in rows if row.get("synthetic_source") != marker)
            if missing:
                bad.append(f"{where} {entity}: {missing} of {len(rows)} rows without it")
            if entity == "persons" and not rows:
                bad.append(f"{where}: no person rows")
    detail = f"{seen} rows carry '{marker}'" if not bad else "; ".join(bad)
    return Check("synthetic_source marker on every row", not bad, detail)
