"""ESDH: governed, deterministic, relationally coherent synthetic data from declarative YAML specs.

The package's top level is the library (:mod:`esdh.library`): ``esdh.generate``, ``esdh.plan``,
``esdh.run``, ``esdh.validate``, ``esdh.verify``, ... Everything below it is layered; see
docs/architecture.md.
"""

from esdh.library import (
    Dataset,
    Plan,
    Result,
    RunOutcome,
    SpecSource,
    Verification,
    compare,
    generate,
    ingest,
    load,
    plan,
    preview,
    registry,
    run,
    table,
    validate,
    verify,
)
from esdh.version import __version__

__all__ = [
    "Dataset",
    "Plan",
    "Result",
    "RunOutcome",
    "SpecSource",
    "Verification",
    "__version__",
    "compare",
    "generate",
    "ingest",
    "load",
    "plan",
    "preview",
    "registry",
    "run",
    "table",
    "validate",
    "verify",
]
