"""A progress bar per table (rows/s and ETA) for long runs; silent for small ones and non-terminals."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from esdh import library
from esdh.library import Plan, Progress

MIN_ROWS_FOR_BAR = 500_000


@contextmanager
def progress_bar(plan: Plan, enabled: bool = True) -> Iterator[Progress | None]:
    """A rich progress bar per table while ``plan`` generates (None when it would not show)."""
    total = sum(library.describe.row_counts(plan).values())
    if not enabled or total < MIN_ROWS_FOR_BAR or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    columns = (TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
    with Bar(*columns, console=Console(stderr=True), transient=False) as bar:
        tasks = {t: bar.add_task(t, total=plan.rows[t], rate="") for t in plan.tables}

        def update(table: str, done: int, _total: int) -> None:
            bar.update(tasks[table], completed=done)
            speed = bar.tasks[tasks[table]].speed
            if speed:
                bar.update(tasks[table], rate=f"{speed:,.0f} rows/s")

        yield update
