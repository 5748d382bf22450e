"""Column generators. Each module registers its generators by name when imported."""

from __future__ import annotations

import importlib

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


def load_builtins() -> None:
    """Import every built-in generator module once (each registers itself)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN_MODULES:
        importlib.import_module(f"esdh.generators.{module}")
