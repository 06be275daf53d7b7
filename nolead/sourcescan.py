"""Source scanning for static discovery: parse a task's code and resolve its calls.

Kept apart from :mod:`nolead.discovery` so that ``ast`` and ``inspect`` load only when a
task's source actually has to be read.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from typing import Any

from nolead import task as _task
from nolead.discovery import _PARALLEL, _USES, StaticCall, _kind_of, _RawCall

__all__ = ["parse", "resolve_all"]


def parse(func: Any) -> tuple[_RawCall, ...]:
    """Return every call in ``func``'s body with whether it is made unconditionally."""
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
    return tuple(collector.calls)


class _Collector:
    """Walks a function body and records every call with a flag for conditional position."""

    def __init__(self) -> None:
        self.calls: list[_RawCall] = []

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
                    _RawCall(node.func, tuple(node.args), tuple(node.keywords), not conditional)
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


def resolve_all(
    func: Any, raw_calls: tuple[_RawCall, ...], api: tuple[tuple[Any, str], ...]
) -> tuple[StaticCall, ...]:
    """Keep the calls to uses/parallel/run_parallel whose targets resolve, resolved."""
    if not raw_calls:
        return ()
    namespace = _Namespace(func)
    calls: list[StaticCall] = []
    for raw in raw_calls:
        kind = _kind_of(namespace.lookup(raw.func), api)
        if kind is None or not raw.args:
            continue
        if kind == _USES:
            targets = [namespace.task(raw.args[0])]
        else:
            first = raw.args[0]
            if not isinstance(first, (ast.List, ast.Tuple)):
                continue
            targets = [namespace.task(element) for element in first.elts]
        if any(target is None for target in targets):
            continue
        if kind == _PARALLEL and raw.keywords:
            continue  # parallel() takes no keyword arguments: leave the error to run time
        calls.append(
            StaticCall(
                _USES if kind == _USES else _PARALLEL,
                tuple(targets),
                _literal_params(raw.keywords),
                raw.unconditional,
            )
        )
    return tuple(calls)


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


_MISSING = object()


class _Namespace:
    """Looks names up the way the function would: closure, then globals, then builtins."""

    def __init__(self, func: Any) -> None:
        self.globals: dict[str, Any] = func.__globals__
        code = func.__code__
        self.freevars: tuple[str, ...] = code.co_freevars
        self.cells: tuple[Any, ...] = func.__closure__ or ()
        # Parameters and local variables: their values are only known at run time.
        self.local_names = frozenset(code.co_varnames + code.co_cellvars)

    def lookup(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Name):
            if node.id in self.local_names:
                return _MISSING
            if node.id in self.freevars:
                try:
                    return self.cells[self.freevars.index(node.id)].cell_contents
                except (ValueError, IndexError):
                    return _MISSING
            value = self.globals.get(node.id, _MISSING)
            if value is _MISSING:
                builtins = self.globals.get("__builtins__")
                if isinstance(builtins, dict):
                    return builtins.get(node.id, _MISSING)
                return getattr(builtins, node.id, _MISSING)
            return value
        if isinstance(node, ast.Attribute):
            base = self.lookup(node.value)
            if isinstance(base, (types.ModuleType, type)):
                return base.__dict__.get(node.attr, _MISSING)
            return _MISSING
        return _MISSING

    def task(self, node: ast.expr) -> Any:
        """Return the spec (or the literal name) a target expression refers to, else None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return _task.lookup(node.value) or node.value
        spec = getattr(self.lookup(node), "__nolead_task__", None)
        return spec
