"""Parse the expression language into a checked tree. Nothing is ever passed to Python's eval.

The grammar is a small subset of Python expression syntax: literals, column names, arithmetic,
comparisons, ``and``/``or``/``not``, ``x if cond else y``, ``x in [..]`` and calls of the functions
listed in ``functions.py``. Python's own parser reads the text; only whitelisted node types are
accepted, so attribute access, subscripts, lambdas and comprehensions are rejected.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from esdh import limits
from esdh.expr.errors import ExpressionError
from esdh.expr.functions import FUNCTIONS, Function, regex_error


@dataclass(frozen=True)
class Node:
    kind: str  # const, name, call, op, not, neg, if, in, list
    value: object = None
    args: tuple[Node, ...] = ()


T = TypeVar("T")

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def parse(text: str) -> Node:
    """Parse and check an expression; raises ExpressionError with a readable reason.

    Its length and nesting are bounded (:mod:`esdh.limits`): Python's parser, this conversion and the
    evaluation all recurse, so a deep expression is refused here rather than as a RecursionError later.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > limits.EXPRESSION_CHARS.value:
        raise ExpressionError(f"the expression is {len(text):,} characters long; "
                              f"{limits.EXPRESSION_CHARS.exceeded()}; {limits.EXPRESSION_CHARS.hint()}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise ExpressionError(f"cannot parse expression {shown!r}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise _too_deep() from None
    body: ast.AST = tree.body
    _check_depth(body, _ast_children)  # before anything recursive walks it (ast.unparse included)
    node = _convert(tree.body, FUNCTIONS)
    _check_depth(node, lambda n: list(n.args))  # a and b and c ... is one Python node, a chain here
    return node


def _ast_children(node: ast.AST) -> list[ast.AST]:
    return list(ast.iter_child_nodes(node))


def _too_deep() -> ExpressionError:
    limit = limits.EXPRESSION_DEPTH
    return ExpressionError(f"the expression nests too deep: {limit.exceeded()}; {limit.hint()}")


def _check_depth(root: T, children: Callable[[T], list[T]]) -> None:
    """Raise if the tree under ``root`` is deeper than the limit (walked without recursion)."""
    most = limits.EXPRESSION_DEPTH.value
    stack = [(root, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > most:
            raise _too_deep()
        stack.extend((child, depth + 1) for child in children(item))


def _convert(node: ast.AST, functions: dict[str, Function]) -> Node:
    if isinstance(node, ast.Constant):
        if node.value is None or isinstance(node.value, bool | int | float | str):
            return Node("const", node.value)
        raise ExpressionError(f"unsupported literal {node.value!r}")
    if isinstance(node, ast.Name):
        if node.id in ("true", "True"):
            return Node("const", True)
        if node.id in ("false", "False"):
            return Node("const", False)
        if node.id in ("null", "None"):
            return Node("const", None)
        return Node("name", node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return Node("op", _BINOPS[type(node.op)], (_convert(node.left, functions), _convert(node.right, functions)))
    if isinstance(node, ast.UnaryOp):
        operand = _convert(node.operand, functions)
        if isinstance(node.op, ast.USub):
            return Node("neg", None, (operand,))
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return Node("not", None, (operand,))
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        args = tuple(_convert(v, functions) for v in node.values)
        out = args[0]
        for nxt in args[1:]:
            out = Node("op", op, (out, nxt))
        return out
    if isinstance(node, ast.Compare):
        return _compare(node, functions)
    if isinstance(node, ast.IfExp):
        return Node("if", None, tuple(_convert(n, functions) for n in (node.test, node.body, node.orelse)))
    if isinstance(node, ast.List | ast.Tuple):
        return Node("list", None, tuple(_convert(e, functions) for e in node.elts))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only named functions can be called")
        name = node.func.id
        if name not in functions:
            import difflib

            close = difflib.get_close_matches(name, list(functions), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ExpressionError(f"unknown function '{name}'{hint}")
        if node.keywords:
            raise ExpressionError(f"{name}() takes positional arguments only")
        args = tuple(_convert(a, functions) for a in node.args)
        functions[name].check_arity(name, len(args))
        if name == "matches" and args[1].kind == "const" and isinstance(args[1].value, str):
            error = regex_error(args[1].value)
            if error:
                raise ExpressionError(f"matches(): invalid regular expression '{args[1].value}': {error} "
                                      "(patterns use RE2 syntax: no look-around or back-references)")
        return Node("call", name, args)
    raise ExpressionError(f"'{ast.unparse(node)}' is not allowed in an expression")


def _compare(node: ast.Compare, functions: dict[str, Function]) -> Node:
    left = _convert(node.left, functions)
    parts: list[Node] = []
    for op, right_ast in zip(node.ops, node.comparators, strict=True):
        right = _convert(right_ast, functions)
        if isinstance(op, ast.In | ast.NotIn):
            if right.kind != "list" or any(a.kind != "const" for a in right.args):
                raise ExpressionError("'in' needs a list of literal values, e.g. x in ['a', 'b']")
            part = Node("in", tuple(a.value for a in right.args), (left,))
            parts.append(Node("not", None, (part,)) if isinstance(op, ast.NotIn) else part)
        elif type(op) in _CMPOPS:
            parts.append(Node("op", _CMPOPS[type(op)], (left, right)))
        else:
            raise ExpressionError("'is' is not supported; use is_null(x)")
        left = right
    out = parts[0]
    for nxt in parts[1:]:
        out = Node("op", "and", (out, nxt))
    return out


def names(node: Node) -> set[str]:
    """Every column name an expression reads."""
    found = {node.value} if node.kind == "name" else set()
    for arg in node.args:
        found |= names(arg)
    return found  # type: ignore[return-value]
