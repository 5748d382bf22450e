"""The classic snapshot layout, generated from the insurance pack.

``persons_v0_1.csv`` (and .json, .ndjson, .parquet), the same for vehicles and profiles,
``dataset_v0_1.json`` (metadata and every selected entity), ``metadata_v0_1.json``,
``snapshot_manifest_v0_1.json`` (record counts, files, SHA-256 checksums, stats) and
``README_SNAPSHOT_V0_1.md``. The folder is written aside and published atomically.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esdh.engine.chunks import batches as table_batches
from esdh.library import generation
from esdh.output.checksum import sha256_file
from esdh.output.folder import staged_folder
from esdh.output.formats import JsonRenderer, joined
from esdh.output.tables import write_tables
from esdh.plan.planner import Plan

SNAPSHOT_VERSION = "v0.1"
SLUG = SNAPSHOT_VERSION.replace(".", "_")
ENTITIES = ("persons", "vehicles", "profiles")
SNAPSHOT_FORMATS = ("csv", "json", "ndjson", "parquet")
DEFAULT_FORMATS = ("csv", "json")
MANIFEST = f"snapshot_manifest_{SLUG}.json"
KIND = {"csv": "CSV export", "json": "JSON export", "ndjson": "NDJSON export", "parquet": "Parquet export"}


@dataclass
class Snapshot:
    """A written snapshot: its folder, seed, record counts, files and manifest."""

    folder: Path
    seed: int
    randomized: bool
    record_counts: dict[str, int]
    files: dict[str, Path] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


def _generated_at(plan: Plan) -> str:
    return f"{plan.as_of.isoformat()}T00:00:00"


def snapshot_metadata(plan: Plan, counts: dict[str, int]) -> dict[str, object]:
    """The classic ``metadata`` block (dataset version, generated_at from ``as_of``, counts, seed, marker),
    shared by the snapshot files and the API's /generate/* answers."""
    spec = plan.dataset.spec
    how = "randomized seed" if plan.randomized else "seed"
    return {
        "dataset_version": SNAPSHOT_VERSION,
        "generated_at": _generated_at(plan),
        **{f"record_count_{e}": counts.get(e, 0) for e in ENTITIES},
        "seed": plan.seed,
        "notes": f"Snapshot of {spec.dataset} {spec.version} generated from its spec ({how}={plan.seed}).",
        "synthetic_source": spec.marker,
    }


def _write_entity_array(handle: Any, plan: Plan, table: str) -> None:
    """Stream a table as a JSON array into an open file."""
    handle.write(b"[")
    first = True
    renderer = JsonRenderer()
    try:
        for batch in table_batches(plan, table):
            if not batch.num_rows:
                continue
            handle.write(b"\n" if first else b",\n")
            handle.write(joined(renderer.lines(batch), b",\n")[:-2])  # whole chunks, no per-row Python
            first = False
    finally:
        renderer.close()
    handle.write(b"]" if first else b"\n]")


def _stats(files: dict[str, Path], entities: list[str], as_of: dt.date) -> dict[str, Any]:
    """Ages and LOB mix of persons, VIN prefix and make mix of vehicles, computed in DuckDB."""
    import duckdb

    stats: dict[str, Any] = {}
    con = duckdb.connect()
    try:
        def relation(entity: str) -> str | None:
            for fmt in ("parquet", "csv", "ndjson"):
                path = files.get(f"{entity}_{fmt}")
                if path is not None:
                    reader = {"parquet": "read_parquet", "csv": "read_csv", "ndjson": "read_json"}[fmt]
                    return f"{reader}('{path.as_posix()}')"
            return None

        persons = relation("persons") if "persons" in entities else None
        if persons:
            row = con.execute(
                f"SELECT min(a), max(a), round(avg(a), 2) FROM (SELECT date_diff('year', CAST(date_of_birth AS DATE),"
                f" DATE '{as_of.isoformat()}') - CASE WHEN strftime(CAST(date_of_birth AS DATE), '%m%d') >"
                f" '{as_of.strftime('%m%d')}' THEN 1 ELSE 0 END AS a FROM {persons})").fetchone() or (None, None, None)
            lob = con.execute(f"SELECT lob_type, count(*) FROM {persons} GROUP BY 1 ORDER BY 1").fetchall()
            stats["persons"] = {"min_age": row[0], "max_age": row[1], "average_age": row[2],
                                "lob_distribution": dict(lob)}
        vehicles = relation("vehicles") if "vehicles" in entities else None
        if vehicles:
            prefix = con.execute(f"SELECT left(vin, 1), count(*) FROM {vehicles} GROUP BY 1 ORDER BY 1").fetchall()
            make = con.execute(f"SELECT make, count(*) FROM {vehicles} GROUP BY 1 ORDER BY 1").fetchall()
            stats["vehicles"] = {"vin_prefix_distribution": dict(prefix), "make_distribution": dict(make)}
    finally:
        con.close()
    return stats


def generate_snapshot(output_dir: Path, *, records: int = 200, seed: int | None = None, randomize: bool = False,
                      entities: list[str] | None = None, formats: list[str] | None = None,
                      dataset: str = "insurance", check: bool = True) -> Snapshot:
    """Write the classic snapshot layout for ``records`` persons (with their vehicles and profiles)."""
    selected = [e for e in ENTITIES if not entities or e in entities]
    chosen_formats = list(dict.fromkeys(formats or DEFAULT_FORMATS))
    plan = generation.plan(dataset, seed=seed, randomize=randomize, rows={"persons": records}, tables=selected)
    counts = {e: plan.rows[e] for e in selected}
    snapshot = Snapshot(Path(output_dir).resolve(), plan.seed, plan.randomized, counts)
    with staged_folder(Path(output_dir), plan.dataset.spec.dataset, MANIFEST) as staging:
        written, _ = write_tables(plan, staging, chosen_formats, check=check, part_rows=None,
                                  single_name=f"{{table}}_{SLUG}.{{ext}}")
        files: dict[str, Path] = {f"{w.name}_{fmt}": path for w in written for fmt, path in w.files.items()}
        metadata = snapshot_metadata(plan, counts)
        bundle = staging / f"dataset_{SLUG}.json"
        with bundle.open("wb") as handle:
            handle.write(b'{"metadata": ' + json.dumps(metadata).encode())
            for entity in selected:
                handle.write(f', "{entity}": '.encode())
                _write_entity_array(handle, plan, entity)
            handle.write(b"}\n")
        files["dataset_json"] = bundle
        meta_path = staging / f"metadata_{SLUG}.json"
        meta_path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        files["metadata_json"] = meta_path
        manifest = {
            "name": plan.dataset.spec.dataset,
            "dataset_version": SNAPSHOT_VERSION,
            "generated_at": _generated_at(plan),
            "seed": plan.seed,
            "randomized": plan.randomized,
            "record_counts": counts,
            "files": {label: path.name for label, path in files.items()},
            "checksums": {label: sha256_file(path) for label, path in files.items()},
            "stats": _stats(files, selected, plan.as_of),
            "notes": metadata["notes"],
            "synthetic_marker": plan.dataset.spec.marker,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        readme = staging / f"README_SNAPSHOT_{SLUG.upper()}.md"
        readme.write_text(_readme(manifest, chosen_formats, plan), encoding="utf-8")
        snapshot.manifest = manifest
        snapshot.files = {**files, "manifest_json": staging / MANIFEST, "readme": readme}
    snapshot.files = {label: snapshot.folder / path.name for label, path in snapshot.files.items()}
    return snapshot


@dataclass(frozen=True)
class SnapshotCheck:
    """The files a snapshot's manifest lists, and those missing or changed (``name missing``, ``name changed``)."""

    files: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_snapshot(folder: Path) -> SnapshotCheck:
    """Check that every file the snapshot manifest in ``folder`` lists exists and has its recorded SHA-256."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    bad = []
    for label, name in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            bad.append(f"{name} missing")
        elif sha256_file(path) != manifest["checksums"].get(label):
            bad.append(f"{name} changed")
    return SnapshotCheck(len(manifest["files"]), bad)


def _readme(manifest: dict[str, Any], formats: list[str], plan: Plan) -> str:
    lines = [f"# Snapshot {SNAPSHOT_VERSION}", "", "Files exported by the CLI:"]
    for label, name in manifest["files"].items():
        fmt = label.rsplit("_", 1)[-1]
        kind = KIND.get(fmt) if label.split("_")[0] in ENTITIES else (
            "combined JSON bundle" if label == "dataset_json" else "metadata JSON")
        lines.append(f"- {name} ({kind})")
    lines.append(f"- {MANIFEST} (manifest with stats + checksums)")
    entities = " ".join(manifest["record_counts"])
    lines += ["", f"Record counts: {json.dumps(manifest['record_counts'])}", "", "Re-generate via:", "```bash",
              f"esdh generate-snapshot --output-dir <dir> --records {manifest['record_counts'].get('persons', 0)} "
              f"--seed {plan.seed} --entity-filter {entities} --output-format {' '.join(formats)}", "```", ""]
    return "\n".join(lines)
