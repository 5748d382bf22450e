"""ESDH: governed, deterministic, relationally coherent synthetic data from declarative YAML specs."""

__version__ = "0.1.0"
