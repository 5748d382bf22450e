"""The safe, vectorised expression language used by derived columns and rules."""

from esdh.expr.errors import ExpressionError
from esdh.expr.evaluate import evaluate
from esdh.expr.functions import regex_error
from esdh.expr.parse import Node, names, parse

__all__ = ["ExpressionError", "Node", "evaluate", "names", "parse", "regex_error"]
