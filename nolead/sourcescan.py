"""Source scanning for static discovery: parse a task's code and resolve its calls.

Kept apart from :mod:`nolead.discovery` so that ``ast`` and ``inspect`` load only when a
task's source actually has to be read.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any, NamedTuple

from nolead.discovery import Recipe

__all__ = ["parse"]


def parse(func: Any) -> tuple[Recipe, ...]:
    """Return a recipe for every call in ``func``'s body that could be uses()/parallel().

    The recipes describe names symbolically (closure cell, global, attribute, literal),
    so resolving them for one function is a few lookups: tasks made in a loop by one
    factory share a single parse.
    """
    try:
        source = textwrap.dedent(inspect.getsource(func))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return ()
    node = next(
        (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))),
        None,
    )
    if node is None:
        return ()
    collector = _Collector()
    collector.body(node.body, conditional=False)
    code = func.__code__
    local = frozenset(code.co_varnames + code.co_cellvars)
    return tuple(_recipe(call, local) for call in collector.calls)


def _recipe(call: _Call, local: frozenset[str]) -> Recipe:
    first = call.args[0] if call.args else None
    listed = None
    if isinstance(first, (ast.List, ast.Tuple)):
        listed = tuple(_ref(element, local) for element in first.elts)
    return Recipe(
        callee=_ref(call.func, local),
        target=_ref(first, local) if first is not None else None,
        listed=listed,
        params=_literal_params(call.keywords),
        has_keywords=bool(call.keywords),
        unconditional=call.unconditional,
    )


def _ref(node: ast.expr | None, local: frozenset[str]) -> Any:
    """Describe how to find what ``node`` names: ("name", id), ("attr", ref, attr),
    ("const", text), or None when it is only known at run time."""
    if isinstance(node, ast.Name):
        return None if node.id in local else ("name", node.id)
    if isinstance(node, ast.Attribute):
        base = _ref(node.value, local)
        return None if base is None else ("attr", base, node.attr)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ("const", node.value)
    return None


class _Call(NamedTuple):
    func: ast.expr
    args: tuple[ast.expr, ...]
    keywords: tuple[ast.keyword, ...]
    unconditional: bool


class _Collector:
    """Walks a function body and records every call with a flag for conditional position."""

    def __init__(self) -> None:
        self.calls: list[_Call] = []

    def body(self, statements: list[ast.stmt], conditional: bool) -> None:
        for statement in statements:
            self.statement(statement, conditional)
            if not conditional and _may_leave(statement):
                conditional = True

    def statement(self, node: ast.stmt, conditional: bool) -> None:
        if isinstance(node, ast.If):
            self.expr(node.test, conditional)
            self.body(node.body, True)
            self.body(node.orelse, True)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.expr(node.iter, conditional)
            self.body(node.body, True)
            self.body(node.orelse, True)
        elif isinstance(node, ast.While):
            self.expr(node.test, conditional)
            self.body(node.body, True)
            self.body(node.orelse, True)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.body(node.body, conditional)  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                self.body(handler.body, True)
            self.body(node.orelse, True)  # type: ignore[attr-defined]
            self.body(node.finalbody, conditional)  # type: ignore[attr-defined]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.expr(item.context_expr, conditional)
            self.body(node.body, conditional)
        elif isinstance(node, ast.Match):
            self.expr(node.subject, conditional)
            for case in node.cases:
                self.body(case.body, True)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for child in ast.iter_child_nodes(node):
                self.generic(child, True)
        else:
            for child in ast.iter_child_nodes(node):
                self.generic(child, conditional)

    def expr(self, node: ast.expr, conditional: bool) -> None:
        if isinstance(node, ast.IfExp):
            self.expr(node.test, conditional)
            self.expr(node.body, True)
            self.expr(node.orelse, True)
        elif isinstance(node, ast.BoolOp):
            self.expr(node.values[0], conditional)
            for value in node.values[1:]:
                self.expr(value, True)
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            self.expr(node.generators[0].iter, conditional)
            for child in ast.iter_child_nodes(node):
                if child is not node.generators[0]:
                    self.generic(child, True)
            for child in ast.iter_child_nodes(node.generators[0]):
                if child is not node.generators[0].iter:
                    self.generic(child, True)
        elif isinstance(node, ast.Lambda):
            self.generic(node.body, True)
        else:
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                self.calls.append(
                    _Call(node.func, tuple(node.args), tuple(node.keywords), not conditional)
                )
            for child in ast.iter_child_nodes(node):
                self.generic(child, conditional)

    def generic(self, node: ast.AST, conditional: bool) -> None:
        if isinstance(node, ast.stmt):
            self.statement(node, conditional)
        elif isinstance(node, ast.expr):
            self.expr(node, conditional)
        else:
            for child in ast.iter_child_nodes(node):
                self.generic(child, conditional)


def _may_leave(statement: ast.stmt) -> bool:
    """Return True when ``statement`` may end the function (or loop) early."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    leaving = (ast.Return, ast.Raise, ast.Break, ast.Continue)
    return any(isinstance(node, leaving) for node in ast.walk(statement))


def _literal_params(keywords: tuple[ast.keyword, ...]) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    for keyword in keywords:
        if keyword.arg is None:
            return None
        try:
            params[keyword.arg] = ast.literal_eval(keyword.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    return params
