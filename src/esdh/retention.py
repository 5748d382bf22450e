"""Which to drop when keeping the newest N: the one choice the demo's snapshot folders and the run registry's
runs share (each then removes what it drops in its own way)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def all_but_newest(items: Sequence[T], keep: int, protected: Callable[[T], bool] = lambda _: False) -> list[T]:
    """The ``items`` (oldest first) beyond the newest ``keep`` (all of them if ``keep`` is 0 or less), less any
    ``protected`` one; a protected item is kept but not counted."""
    older = items[:-keep] if keep > 0 else items
    return [item for item in older if not protected(item)]
