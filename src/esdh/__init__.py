"""ESDH: governed, deterministic, relationally coherent synthetic data from declarative YAML specs.

The package's top level is the library (:mod:`esdh.library`): ``esdh.generate``, ``esdh.plan``,
``esdh.run``, ``esdh.validate``, ``esdh.verify``, ... Everything below it is layered; see
docs/architecture.md.
"""

from esdh import library
from esdh.library import *  # noqa: F403 (the library's curated __all__ is the package's)
from esdh.version import __version__

__all__ = [*library.__all__, "__version__"]
