"""Find a cycle among columns across tables before anything is generated.

Every value is computed on demand from the columns it reads, so a column that (through lookups,
aggregates, windows or row counts) ends up reading itself could never be computed. Nodes are
``(table, column)``; ``(table, ROWS)`` stands for a child table's row count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from esdh.expr import names

if TYPE_CHECKING:
    from esdh.spec.compile import TableModel

ROWS = "<rows>"
Node = tuple[str, str]


def column_graph(tables: dict[str, TableModel]) -> dict[Node, set[Node]]:
    graph: dict[Node, set[Node]] = {}
    for name, model in tables.items():
        rows_node = (name, ROWS)
        graph[rows_node] = set()
        if model.parent:
            graph[rows_node].add((model.parent, ROWS))
            if model.where is not None:
                graph[rows_node] |= {(model.parent, n) for n in names(model.where)
                                     if n in tables[model.parent].columns}
        for col in model.columns.values():
            edges = {(name, d) for d in col.depends_on if d in model.columns}
            if col.kind == "ref" and col.target_table in tables:
                edges.add((col.target_table, col.target_column or ""))
                if col.choose in ("parent", "first_of_parent", "random_of_parent", "distinct"):
                    edges.add(rows_node)
                if col.choose == "weighted" and col.spec.weight_by:
                    edges.add((col.target_table, col.spec.weight_by))
            elif col.kind == "lookup" and col.target_table in tables:
                edges.add((col.target_table, col.target_column or ""))
            elif col.kind == "aggregate" and col.target_table in tables:
                edges |= {(col.target_table, col.target_column or ""), (col.target_table, ROWS)}
            elif col.kind == "window":
                edges.add(rows_node)
            graph[(name, col.name)] = edges
    return graph


def find_cycle(graph: dict[Node, set[Node]]) -> list[Node]:
    """One cycle as a list of nodes (first == last), or [] if there is none. Iterative DFS."""
    state: dict[Node, int] = {}  # 1: on the current path, 2: done
    for start in graph:
        if state.get(start):
            continue
        path: list[Node] = [start]
        stack = [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if not state.get(nxt) and nxt in graph:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return []
