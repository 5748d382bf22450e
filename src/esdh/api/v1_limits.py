"""The row limit of a request (``max_rows``), checked before anything is generated, and what the planner
may be asked to place before that can be known (estimated by the library)."""

from __future__ import annotations

from esdh import library, options
from esdh.api.errors import ApiError


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


def check_planning(dataset: library.Dataset, scale: float, rows: dict[str, int], limit: int) -> None:
    """Refuse, before planning, what planning itself would make slow: a row count set above the limit, or
    parent tables so large that placing their children would take long (the library's estimate,
    :func:`esdh.library.describe.planning_cost`). Tables that are only counted cost nothing and are not
    limited here."""
    for name, count in rows.items():
        if count > limit:
            raise too_many(count, limit, {name: count})
    cost = library.describe.planning_cost(dataset, scale, rows, limit)
    if cost.too_costly:
        placed = int(min(cost.parent_rows, 2**62))
        raise ApiError(422, f"these parameters make parent tables of up to {min(cost.parent_rows, 2**62):,.0f} rows, "
                       f"more than the {cost.budget:,} a request may plan; lower scale or rows", "too_many_rows",
                       {"limit": cost.budget, "planned_parent_rows": placed, "rows": cost.shown_bounds()})


def check_plan_rows(plan: library.Plan, limit: int) -> int:
    """The rows the plan generates; 422 above the limit."""
    counts = library.describe.row_counts(plan)
    total = sum(counts.values())
    if total > limit:
        raise too_many(total, limit, counts)
    return total
