"""The row limit of a request (``max_rows``), checked before anything is generated, and what the planner
may be asked to place before that can be known."""

from __future__ import annotations

import math
from typing import Any

from esdh import options
from esdh.api.errors import ApiError
from esdh.plan.planner import Plan
from esdh.spec.compile import Dataset


def parse_rows(items: list[str]) -> dict[str, int]:
    """``TABLE=N`` items, by the rules the CLI's --rows shares (:func:`esdh.options.parse_rows`); 422 for a
    malformed one."""
    try:
        return options.parse_rows(items)
    except options.BadOptionValue as exc:
        raise ApiError(422, f"rows: {exc}", "invalid_request", {"parameter": "rows", "value": exc.value}) from None


def too_many(total: int, limit: int, counts: dict[str, int]) -> ApiError:
    return ApiError(422, f"this request asks for {total:,} rows, more than the limit of {limit:,} rows per request "
                    "(max_rows); lower scale or rows, or ask for one table", "too_many_rows",
                    {"limit": limit, "requested": total, "rows": counts})


PLAN_PARENT_ROWS = 50_000_000  # parent rows a plan may place (about half a second of planning)


def most_children(count: Any) -> float:
    """The most rows a child table can have per parent row."""
    if isinstance(count, int):
        return count
    if count.distribution == "weights":
        return count.min + max(0, len(count.params.get("weights", [])) - 1)
    return max(count.min, count.max)


def check_planning(dataset: Dataset, scale: float, rows: dict[str, int], limit: int) -> None:
    """Refuse, before planning, what planning itself would make slow: a row count set above the limit, or
    parent tables so large that placing their children (which the planner does for every child table, asked
    for or not) would take long. Tables that are only counted cost nothing and are not limited here."""
    for name, count in rows.items():
        if count > limit:
            raise too_many(count, limit, {name: count})
    bound: dict[str, float] = {}
    for name in dataset.order:
        model = dataset.tables[name]
        if model.parent is None:
            base = model.spec.rows if isinstance(model.spec.rows, int) else 1
            bound[name] = float(rows.get(name, base * scale if model.spec.scale else base))
        else:
            bound[name] = bound[model.parent] * most_children(model.count)
    parents = {dataset.tables[name].parent for name in dataset.order} - {None}
    placed = sum(bound[name] for name in parents)
    budget = max(limit, PLAN_PARENT_ROWS)
    if placed > budget or not all(math.isfinite(b) and b < 2**62 for b in bound.values()):
        shown = {k: int(min(v, 2**62)) for k, v in bound.items()}
        raise ApiError(422, f"these parameters make parent tables of up to {min(placed, 2**62):,.0f} rows, more than "
                       f"the {budget:,} a request may plan; lower scale or rows", "too_many_rows",
                       {"limit": budget, "planned_parent_rows": int(min(placed, 2**62)), "rows": shown})


def check_plan_rows(plan: Plan, limit: int) -> int:
    """The rows the plan generates; 422 above the limit."""
    counts = {t: plan.rows[t] for t in plan.tables}
    total = sum(counts.values())
    if total > limit:
        raise too_many(total, limit, counts)
    return total
