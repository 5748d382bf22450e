"""Order a dependency graph and find a cycle in it: the one implementation the spec compiler uses for
columns within a table, for tables, and for values across tables.

A graph maps each node to the nodes it depends on. Nothing here knows what the nodes stand for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

N = TypeVar("N", str, tuple[str, str])  # a column or table name, or a (table, column) pair


def toposort(graph: dict[N, set[N]]) -> tuple[list[N], list[N]]:
    """Kahn's algorithm keeping declaration order; returns (order, a cycle if one exists)."""
    order: list[N] = []
    placed: set[N] = set()
    pending = list(graph)
    while pending:
        ready = [n for n in pending if graph[n] <= placed]
        if not ready:
            return order, find_cycle(graph)
        for name in ready:
            order.append(name)
            placed.add(name)
        pending = [n for n in pending if n not in placed]
    return order, []


def find_cycle(graph: dict[N, set[N]]) -> list[N]:
    """One cycle as a list of nodes (first == last), or [] if there is none. Iterative DFS that starts
    at the first node in declaration order and follows dependencies in sorted order, so the cycle
    reported is the same on every run."""
    state: dict[N, int] = {}  # 1: on the current path, 2: done
    for start in graph:
        if state.get(start):
            continue
        path: list[N] = [start]
        stack: list[Iterator[N]] = [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):]
                cycle.append(nxt)
                return cycle
            if not state.get(nxt) and nxt in graph:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return []
