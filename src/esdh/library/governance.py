"""Governed runs, validation, drift and verification: the library's entry points over esdh.runs and
esdh.quality. Heavy modules (DuckDB queries, SciPy's tests) load on first use, so importing the library
stays cheap for callers that only generate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from esdh.library.generation import SpecSource, load
from esdh.plan.planner import Plan
from esdh.runs.registry import Registry
from esdh.runs.run import RunOutcome
from esdh.runs.verify import Verification, verify_run

if TYPE_CHECKING:
    from esdh.quality.drift import DriftReport, Thresholds
    from esdh.quality.validate import ValidationReport


def run(source: SpecSource | Plan, registry: str | Path = "runs", *, version: str | None = None,
        **options: Any) -> RunOutcome:
    """Generate ``source`` as an immutable, registered run ``<registry>/<dataset>/<version>/`` (see
    :func:`esdh.library.generated_run.run_generated` for the options)."""
    from esdh.library.generated_run import run_generated

    return run_generated(source, registry, version=version, **options)


def ingest(data: str | Path, registry: str | Path = "runs", *, dataset: str, spec: SpecSource | None = None,
           version: str | None = None, thresholds: dict[str, float] | None = None) -> RunOutcome:
    """Register external CSV or Parquet data as a run of ``dataset`` (validated against ``spec``)."""
    from esdh.library.ingestion import ingest as ingest_data

    return ingest_data(data, registry, dataset=dataset, spec=spec, version=version,
                       thresholds=_thresholds(thresholds))


def validate(data: str | Path, spec: SpecSource, *, version: str | None = None,
             tables: list[str] | None = None) -> ValidationReport:
    """Check data (a folder of CSV/Parquet/NDJSON files, an ESDH output or one file) against a spec
    (``.ok``, ``.as_dict()``, ``.write(folder)``)."""
    from esdh.quality.validate import validate_data

    return validate_data(Path(data), load(spec, version), tables=tables)


def compare(current: str | Path, reference: str | Path, thresholds: dict[str, float] | None = None) -> DriftReport:
    """Drift of the output folder ``current`` against ``reference``."""
    from esdh.quality.drift import compare_folders

    return compare_folders(Path(current), Path(reference), _thresholds(thresholds))


def verify(run: str | Path, registry: str | Path = "runs") -> Verification:
    """Recompute every checksum of an output folder or a registered run (``DATASET/VERSION``, ``DATASET``
    for its latest); a registered run's manifest is also checked against the registry."""
    return verify_run(run, registry)


def registry(root: str | Path = "runs") -> Registry:
    """The run registry at ``root`` (``.runs()``, ``.latest(dataset)``, ``.get(dataset, version)``)."""
    return Registry(root)


def _thresholds(values: dict[str, float] | None) -> Thresholds | None:
    if not values:
        return None
    from esdh.quality.drift import Thresholds

    return Thresholds.from_mapping(values)
