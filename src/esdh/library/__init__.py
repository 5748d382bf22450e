"""The library: what the CLI, the HTTP API, the web page and the demo call, and what Python users import
(``esdh.generate(...)``, or ``from esdh import library``). Interfaces hold no logic of their own; each entry
point here returns a typed object.

Beside the functions below, the library's namespaces: :mod:`~esdh.library.catalogue` (the built-in datasets,
generators, the spec's JSON Schema), :mod:`~esdh.library.describe` (a plan described, the cost of planning),
:mod:`~esdh.library.stream` (files as bytes, chunk by chunk), :mod:`~esdh.library.snapshot` and
:mod:`~esdh.library.classic` (the classic snapshot layout and the classic endpoints' answers) and
:mod:`~esdh.library.profiles` (demo profiles)."""

from esdh.defaults import DEFAULT_CHUNK_SIZE, DEFAULT_PART_ROWS
from esdh.library import catalogue, classic, describe, profiles, snapshot, stream
from esdh.library.generation import SpecSource, check, generate, load, plan, preview, table
from esdh.library.governance import (
    RunDiff,
    RunReport,
    compare,
    diff,
    ingest,
    manifest,
    manifest_digest,
    plan_run,
    prune,
    registry,
    report,
    run,
    validate,
    validation_html,
    verify,
)
from esdh.output.datapackage import PartFile
from esdh.output.dataset import Result
from esdh.output.faults import fault
from esdh.output.tables import Progress
from esdh.plan.planner import Plan
from esdh.quality.drift import DriftReport
from esdh.quality.validate import ValidationReport
from esdh.runs.registry import Registry, RunRecord
from esdh.runs.run import RunOutcome
from esdh.runs.verify import Verification
from esdh.spec.compile import Dataset

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_PART_ROWS",
    "Dataset",
    "DriftReport",
    "PartFile",
    "Plan",
    "Progress",
    "Registry",
    "Result",
    "RunDiff",
    "RunOutcome",
    "RunRecord",
    "RunReport",
    "SpecSource",
    "ValidationReport",
    "Verification",
    "catalogue",
    "check",
    "classic",
    "compare",
    "describe",
    "diff",
    "fault",
    "generate",
    "ingest",
    "load",
    "manifest",
    "manifest_digest",
    "plan",
    "plan_run",
    "preview",
    "profiles",
    "prune",
    "registry",
    "report",
    "run",
    "snapshot",
    "stream",
    "table",
    "validate",
    "validation_html",
    "verify",
]
