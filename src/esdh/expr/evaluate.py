"""Evaluate a parsed expression over whole Arrow arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from esdh.expr.errors import ExpressionError
from esdh.expr.functions import FUNCTIONS, concat
from esdh.expr.parse import Node

# pyarrow has no type stubs, so to mypy this is Any; it documents what flows through.
Value: TypeAlias = pa.Array | pa.Scalar
Resolver = Callable[[str], Value]

_ARITH = {"+": pc.add, "-": pc.subtract, "*": pc.multiply, "%": None, "//": None}
_COMPARE = {"==": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater,
            ">=": pc.greater_equal}


def _is_text(value: Value) -> bool:
    return bool(pa.types.is_string(value.type) or pa.types.is_large_string(value.type))


def evaluate(node: Node, resolve: Resolver) -> Value:
    """The value of ``node``; names are looked up with ``resolve``."""
    kind = node.kind
    if kind == "const":
        return pa.scalar(node.value)
    if kind == "name":
        return resolve(str(node.value))
    args = [evaluate(a, resolve) for a in node.args]
    try:
        return _apply(node, args)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise ExpressionError(f"cannot evaluate {_show(node)}: {exc}") from None


def _apply(node: Node, args: list[Value]) -> Value:
    kind = node.kind
    if kind == "call":
        return FUNCTIONS[str(node.value)].impl(*args)
    if kind == "neg":
        return pc.negate(args[0])
    if kind == "not":
        return pc.invert(args[0])
    if kind == "if":
        return pc.if_else(*args)
    if kind == "in":
        assert isinstance(node.value, tuple)  # the parser stores the listed literals as a tuple
        values = pa.array(list(node.value))
        return pc.is_in(args[0], value_set=values.cast(args[0].type) if len(values) else values)
    op = str(node.value)
    left, right = args
    if op == "and":
        return pc.and_kleene(left, right)
    if op == "or":
        return pc.or_kleene(left, right)
    if op in _COMPARE:
        return _COMPARE[op](left, right)
    if op == "+" and (_is_text(left) or _is_text(right)):
        return concat(left, right)
    if op == "/":
        return pc.divide(pc.cast(left, pa.float64()), pc.cast(right, pa.float64()))
    if op == "//":
        return pc.floor(pc.divide(pc.cast(left, pa.float64()), pc.cast(right, pa.float64())))
    if op == "%":
        quotient = pc.floor(pc.divide(pc.cast(left, pa.float64()), pc.cast(right, pa.float64())))
        result = pc.subtract(left, pc.multiply(pc.cast(quotient, left.type), right))
        return result
    return _ARITH[op](left, right)


def _show(node: Node) -> str:
    if node.kind == "const":
        return repr(node.value)
    if node.kind == "name":
        return str(node.value)
    if node.kind == "call":
        return f"{node.value}({', '.join(_show(a) for a in node.args)})"
    if node.kind == "op":
        return f"({_show(node.args[0])} {node.value} {_show(node.args[1])})"
    return node.kind
