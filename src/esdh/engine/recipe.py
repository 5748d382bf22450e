"""A plan as plain data, so another process or machine can rebuild exactly the same plan.

A :class:`~esdh.plan.planner.Plan` holds compiled generators and closures that do not pickle; a recipe
holds the checked spec (as JSON-ready data, any version already applied) and the options that resolved it.
Rebuilding is checked: the rebuilt spec must have the same hash, or the worker refuses to write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from esdh.errors import EsdhError
from esdh.plan.planner import Plan, build_plan
from esdh.version import __version__

_PLANS: dict[str, Plan] = {}  # per process: rebuilt plans by recipe key


@dataclass(frozen=True)
class Recipe:
    spec: dict[str, Any]
    spec_hash: str
    seed: int
    scale: float
    randomized: bool
    chunk_size: int
    root_rows: dict[str, int]
    tables: tuple[str, ...]
    esdh_version: str = __version__

    @classmethod
    def of(cls, plan: Plan) -> Recipe:
        dataset = plan.dataset
        roots = {name: plan.rows[name] for name in dataset.order if dataset.tables[name].parent is None}
        return cls(dataset.spec.model_dump(mode="json", by_alias=True, exclude_none=True), plan.spec_hash,
                   plan.seed, plan.scale, plan.randomized, plan.chunk_size, roots, tuple(plan.tables))

    @property
    def key(self) -> str:
        return f"{self.spec_hash}:{self.seed}:{self.chunk_size}:{sorted(self.root_rows.items())}:{self.tables}"

    def plan(self) -> Plan:
        """The plan, rebuilt once per process."""
        plan = _PLANS.get(self.key)
        if plan is None:
            if self.esdh_version != __version__:
                raise EsdhError(f"this worker runs ESDH {__version__}, the client {self.esdh_version}; install the "
                                "same version everywhere")
            from esdh.engine.frame import columns_at
            from esdh.spec.load import load_spec

            dataset = load_spec(self.spec)
            plan = build_plan(dataset, seed=self.seed, scale=self.scale, rows=self.root_rows,
                              tables=list(self.tables), chunk_size=self.chunk_size, randomized=self.randomized,
                              read_columns=columns_at)
            if plan.spec_hash != self.spec_hash:
                raise EsdhError(f"the rebuilt spec differs ({plan.spec_hash} != {self.spec_hash}); "
                                "is the same ESDH version installed everywhere?")
            _PLANS.clear()  # one run at a time per worker process
            _PLANS[self.key] = plan
        return plan
