"""The error of the expression language, in its own module so that the parser and the functions it
checks calls against can both raise it without importing each other."""

from __future__ import annotations

from esdh.errors import EsdhError


class ExpressionError(EsdhError):
    """An expression that cannot be parsed or uses something that is not allowed."""
