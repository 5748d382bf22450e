"""Column generators. Each module registers its generators by name when imported."""

from __future__ import annotations

import importlib
import threading

BUILTIN_MODULES = (
    "identifiers",
    "numeric",
    "categorical",
    "temporal",
    "text",
    "identity",
    "vehicle",
    "finance",
)

_loaded = False
_loading = threading.Lock()


def load_builtins() -> None:
    """Import every built-in generator module once (each registers itself). Threads of a server may ask at
    the same moment: the lock makes the others wait until the registry is complete, not see half of it."""
    global _loaded
    if _loaded:
        return
    with _loading:
        if _loaded:
            return
        for module in BUILTIN_MODULES:
            importlib.import_module(f"esdh.generators.{module}")
        _loaded = True
