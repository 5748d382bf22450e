"""Governed runs, validation, drift and verification: the library's entry points over esdh.runs and
esdh.quality."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, cast

from esdh.errors import UsageError
from esdh.library.generated_run import run_generated
from esdh.library.generation import SpecSource, load, plan
from esdh.library.ingestion import ingest as ingest_data
from esdh.output.folder import MANIFEST
from esdh.output.tables import Progress
from esdh.plan.planner import Plan
from esdh.quality.drift import DriftReport, Thresholds, compare_folders
from esdh.quality.validate import ValidationReport, validate_data
from esdh.quality.validate.report_html import render_validation_html
from esdh.runs.compare import diff_runs
from esdh.runs.registry import Registry, RunRecord
from esdh.runs.retention import prune as prune_runs
from esdh.runs.run import RunOutcome, dataset_version_of
from esdh.runs.verify import Verification, read_regular, verify_run

ThresholdValues = Mapping[str, object]  # drift threshold name -> value, e.g. {"psi_fail": 0.3}


def plan_run(source: SpecSource, version: str | None = None, **plan_options: Any) -> Plan:
    """The plan that :func:`run` makes of ``source`` for run ``version``: of the dataset version it names
    (``1.1.0+2`` is a run of dataset version 1.1.0)."""
    return plan(source, version=dataset_version_of(version) if version else None, **plan_options)


def run(source: SpecSource | Plan, registry: str | Path | Registry = "runs", *, version: str | None = None,
        formats: list[str] | tuple[str, ...] = ("parquet",), engine: str = "local", workers: int | None = None,
        cluster: str | None = None, part_rows: int | None = None, resume: bool = False,
        thresholds: ThresholdValues | Thresholds | None = None, progress: Progress | None = None,
        command: str | None = None, **plan_options: Any) -> RunOutcome:
    """Generate ``source`` (a spec, a built-in name or a Plan) as an immutable, registered run
    ``<registry>/<dataset>/<version>/`` with its validation report and a drift report against the previous
    run (``version`` defaults to the spec's; ``1.1.0+2`` is another run of dataset version 1.1.0)."""
    return run_generated(source, registry, version=version, formats=formats, engine=engine, workers=workers,
                         cluster=cluster, part_rows=part_rows, resume=resume, thresholds=_thresholds(thresholds),
                         progress=progress, command=command, **plan_options)


def ingest(data: str | Path, registry: str | Path | Registry = "runs", *, dataset: str,
           spec: SpecSource | None = None, version: str | None = None,
           thresholds: ThresholdValues | Thresholds | None = None) -> RunOutcome:
    """Register external CSV or Parquet data as a run of ``dataset`` (validated against ``spec``)."""
    return ingest_data(data, registry, dataset=dataset, spec=spec, version=version,
                       thresholds=_thresholds(thresholds))


def validate(data: str | Path, spec: SpecSource, *, version: str | None = None,
             tables: list[str] | None = None) -> ValidationReport:
    """Check data (a folder of CSV/Parquet/NDJSON files, an ESDH output or one file) against a spec
    (``.ok``, ``.as_dict()``, ``.write(folder)``)."""
    return validate_data(Path(data), load(spec, version), tables=tables)


def validation_html(report: Mapping[str, object]) -> str:
    """A validation report (:meth:`ValidationReport.as_dict`) as a self-contained HTML page."""
    return render_validation_html(dict(report))


def compare(current: str | Path, reference: str | Path,
            thresholds: ThresholdValues | Thresholds | None = None) -> DriftReport:
    """Drift of the output folder ``current`` against ``reference``."""
    return compare_folders(Path(current), Path(reference), _thresholds(thresholds))


def verify(run: str | Path, registry: str | Path = "runs", *, digest: str | None = None) -> Verification:
    """Recompute every checksum of an output folder or a registered run (``DATASET/VERSION``, ``DATASET``
    for its latest); a registered run is also checked against its registry row. ``digest``
    (``sha256:<hex>``, as :func:`manifest_digest` gave it): the manifest must have this sha256."""
    return verify_run(run, registry, digest)


def manifest_digest(folder: str | Path) -> str | None:
    """``sha256:<hex>`` of an output folder's manifest, to keep apart from the output and give to
    :func:`verify` later; None for an object-store URL or a folder without a readable manifest."""
    if "://" in str(folder):
        return None
    try:
        return "sha256:" + hashlib.sha256(read_regular(Path(folder) / MANIFEST)).hexdigest()
    except OSError:
        return None


def registry(root: str | Path = "runs") -> Registry:
    """The run registry at ``root`` (``.runs()``, ``.latest(dataset)``, ``.get(dataset, version)``)."""
    return Registry(root)


def manifest(folder: str | Path) -> dict[str, object] | None:
    """The manifest (datapackage.json) of an output folder or a run's folder; None when it is missing or is
    not a JSON object."""
    try:
        found = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _registry(root: str | Path | Registry) -> Registry:
    return root if isinstance(root, Registry) else Registry(root)


def prune(dataset: str, keep: int, registry: str | Path | Registry = "runs", *,
          dry_run: bool = False) -> list[RunRecord]:
    """Remove ``dataset``'s runs older than its newest ``keep`` (never the latest, never one being
    written); the runs removed (with ``dry_run``: that would be)."""
    return prune_runs(_registry(registry), dataset, keep, dry_run=dry_run)


class RunRef(TypedDict):
    """A run named in a diff."""

    dataset: str
    version: str
    seed: int | None
    spec_hash: str | None


class RowCountChange(TypedDict):
    """A table's row counts in two runs and the change."""

    old: int | None
    new: int | None
    change: int


class FileChanges(TypedDict):
    """The files of two runs: the same, changed, added and removed."""

    same: list[str]
    changed: list[str]
    added: list[str]
    removed: list[str]


class RunDiff(TypedDict):
    """What changed between two runs of a dataset (``esdh runs diff --json``)."""

    old: RunRef
    new: RunRef
    same_spec: bool
    spec_diff: list[str]
    row_counts: dict[str, RowCountChange]
    files: FileChanges


def diff(dataset: str, old: str, new: str | None = None, registry: str | Path | Registry = "runs") -> RunDiff:
    """What changed between runs ``old`` and ``new`` (default: the latest) of ``dataset``: a unified diff of
    the specs, row counts per table, and the files whose checksums differ, appeared or disappeared."""
    runs = _registry(registry)
    newer = runs.get(dataset, new) if new else runs.latest(dataset)
    return cast(RunDiff, diff_runs(runs.get(dataset, old), newer))


@dataclass(frozen=True)
class RunReport:
    """A registered run's drift report against an earlier run, and the files it was written to."""

    run: RunRecord
    against: RunRecord
    drift: DriftReport
    files: list[Path]


def report(run: str | Path, registry: str | Path | Registry = "runs", *, against: str | None = None,
           thresholds: ThresholdValues | Thresholds | None = None, out: str | Path | None = None) -> RunReport:
    """Drift of the registered run ``run`` (``DATASET/VERSION`` or ``DATASET``) against version ``against``
    (default: the run registered before it), written as drift.json and drift.html into ``out`` (default:
    ``<registry>/<dataset>/.reports/<version>-vs-<against>``)."""
    runs = _registry(registry)
    record = runs.resolve(run)
    reference = runs.get(record.dataset, against) if against else runs.previous(record)
    if reference is None:
        raise UsageError(f"{record.dataset} {record.version} is its dataset's first run: nothing to compare with "
                         "(give --against VERSION)")
    limits = _thresholds(thresholds)
    drift = compare_folders(runs.folder_of(record), runs.folder_of(reference), limits)
    folder = Path(out) if out else runs.root / record.dataset / ".reports" / f"{record.version}-vs-{reference.version}"
    folder.mkdir(parents=True, exist_ok=True)
    return RunReport(record, reference, drift, drift.write(folder))


def _thresholds(values: ThresholdValues | Thresholds | None) -> Thresholds | None:
    """Drift thresholds from a mapping of overrides (every unknown name and bad value reported at once)."""
    if not values:
        return None
    return values if isinstance(values, Thresholds) else Thresholds.from_mapping(values)
