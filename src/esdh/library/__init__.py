"""The library: what the CLI, the HTTP API, the web page and the demo call, and what Python users import
(``esdh.generate(...)``, or ``from esdh import library``). Interfaces hold no logic of their own; each entry
point here returns a typed object."""

from esdh.library.generation import SpecSource, generate, load, plan, preview, table
from esdh.library.governance import compare, ingest, registry, run, validate, verify
from esdh.output.dataset import Result
from esdh.plan.planner import Plan
from esdh.runs.run import RunOutcome
from esdh.runs.verify import Verification
from esdh.spec.compile import Dataset

__all__ = [
    "Dataset",
    "Plan",
    "Result",
    "RunOutcome",
    "SpecSource",
    "Verification",
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
