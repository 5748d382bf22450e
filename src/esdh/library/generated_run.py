"""A governed run of generated data: generate into the run's staging folder, validate, compare with the previous
run, publish and register (see :mod:`esdh.runs.run` for what a run guarantees)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from esdh.defaults import DEFAULT_PART_ROWS
from esdh.engine.recipe import Recipe
from esdh.errors import FileSystemError, UsageError
from esdh.library.generation import SpecSource, generate, load, plan
from esdh.logs import event, run_context
from esdh.output.faults import fault
from esdh.output.lineage import EVENTS
from esdh.output.tables import Progress
from esdh.plan.planner import Plan
from esdh.quality.drift import DriftReport, Thresholds, compare_folders
from esdh.quality.validate import ValidationReport
from esdh.runs.registry import Registry
from esdh.runs.run import RunOutcome, RunWriter, dataset_version_of


def drift_against_previous(writer: RunWriter, thresholds: Thresholds | None) -> DriftReport | None:
    """The staged run compared with the dataset's previous run, if it has one."""
    against = writer.previous()
    if against is None:
        return None
    return compare_folders(writer.staging, writer.registry.folder_of(against), thresholds)


def run_generated(source: SpecSource | Plan, registry: Registry | Path | str, *, version: str | None = None,
                  formats: list[str] | tuple[str, ...] = ("parquet",), engine: str = "local",
                  workers: int | None = None, cluster: str | None = None, part_rows: int | None = None,
                  resume: bool = False, thresholds: Thresholds | None = None, progress: Progress | None = None,
                  command: str | None = None, **plan_options: Any) -> RunOutcome:
    """Generate ``source`` (a spec, a built-in name or a Plan) as run ``version`` of its dataset (default: the
    spec's version; ``1.1.0+2`` is another run of dataset version 1.1.0) in the registry."""
    registry = registry if isinstance(registry, Registry) else Registry(registry)
    if isinstance(source, Plan):
        the_plan = source
        if plan_options:
            raise UsageError("give plan options or a Plan, not both")
        if version and dataset_version_of(version) != the_plan.dataset.spec.version:
            raise UsageError(f"run version {version} is not of the plan's dataset version "
                             f"{the_plan.dataset.spec.version}")
    else:
        the_plan = plan(load(source, dataset_version_of(version) if version else None), **plan_options)
    dataset = the_plan.dataset
    version = version or dataset.spec.version
    writer = RunWriter(registry, dataset.spec.dataset.lower(), version, "generated", command)
    with run_context(writer.run_id):
        recipe = Recipe.of(the_plan)
        writer.reserve(dataset_version=dataset.spec.version, seed=the_plan.seed, scale=the_plan.scale,
                       spec_hash=the_plan.spec_hash, spec=recipe.spec)
        event("run.started", dataset=writer.dataset, version=version, seed=the_plan.seed, scale=the_plan.scale,
              engine=engine, formats=list(formats))
        keep = False
        try:
            try:
                result = generate(the_plan, writer.staging, formats=formats, check=True, progress=progress,
                                  engine=engine, workers=workers, cluster=cluster,
                                  part_rows=DEFAULT_PART_ROWS if part_rows is None else part_rows, resume=resume)
            except FileSystemError as exc:  # told of the run, not of its hidden working folder
                raise exc if exc.os_error is None else fault(exc.os_error, writer.final) from None
            validation = ValidationReport.from_checks(dataset, Path(writer.reference), result.checks)
            validation_dict, drift_dict = writer.reports(validation, drift_against_previous(writer, thresholds))
            rows = {t: the_plan.rows[t] for t in the_plan.tables}
            outcome = writer.publish(writer.staging / EVENTS, row_counts=rows,
                                     validation="pass" if validation.ok else "fail",
                                     drift=drift_dict["verdict"] if drift_dict else None,
                                     against=drift_dict["reference"]["run"] if drift_dict else None)
        except (KeyboardInterrupt, SystemExit):
            keep = True  # an interrupted generation resumes from its partial folder
            raise
        except OSError as exc:  # a full disk, a read-only registry while writing reports or publishing
            event("run.failed", level=logging.WARNING, dataset=writer.dataset, version=version, error=str(exc))
            raise fault(exc, writer.final) from None
        except Exception as exc:
            event("run.failed", level=logging.WARNING, dataset=writer.dataset, version=version,
                  error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise
        finally:
            if writer.record is not None and writer.record.being_written:
                writer.abandon(keep_staging=keep)
        outcome.validation, outcome.drift, outcome.resumed = validation_dict, drift_dict, result.resumed
        return outcome
