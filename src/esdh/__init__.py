"""ESDH: governed, deterministic, relationally coherent synthetic data from declarative YAML specs."""

from esdh.version import __version__

__all__ = ["__version__"]
