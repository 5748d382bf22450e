"""ESDH: governed, deterministic, relationally coherent synthetic data from declarative YAML specs.

The package's top level is the library (:mod:`esdh.library`): ``esdh.generate``, ``esdh.plan``,
``esdh.run``, ``esdh.validate``, ``esdh.verify``, ... Everything below it is layered; see
docs/architecture.md.
"""

from esdh.library import (
    Dataset,
    DriftReport,
    Plan,
    Registry,
    Result,
    RunOutcome,
    RunRecord,
    SpecSource,
    ValidationReport,
    Verification,
    compare,
    diff,
    generate,
    ingest,
    load,
    plan,
    preview,
    prune,
    registry,
    report,
    run,
    table,
    validate,
    verify,
)
from esdh.version import __version__

__all__ = [
    "Dataset",
    "DriftReport",
    "Plan",
    "Registry",
    "Result",
    "RunOutcome",
    "RunRecord",
    "SpecSource",
    "ValidationReport",
    "Verification",
    "__version__",
    "compare",
    "diff",
    "generate",
    "ingest",
    "load",
    "plan",
    "preview",
    "prune",
    "registry",
    "report",
    "run",
    "table",
    "validate",
    "verify",
]
