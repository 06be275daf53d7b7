"""Static discovery: find ``uses()`` and ``parallel()`` calls in a task's source code.

The graph can then be drawn, and upstream tasks scheduled, before anything runs.  A call
is resolved without running the task when its target is a task function reachable from
the function's closure or globals (``uses(load)``, ``uses(mod.load)``) or a string literal
naming a task (``uses("load")``), and its keyword arguments are literals.

A ``uses()`` call is *unconditional* when every run of the task evaluates it: it is not
inside an ``if``/loop/``except`` branch, a conditional expression, a comprehension, a
nested function, or after a statement that may return early.  Only unconditional calls
whose arguments are known are run ahead of the task ("dependencies first"); the others
still appear in the graph as static edges and run when the task reaches them.

The source of a function is parsed once per code object (tasks made in a loop by one
factory share it), and only when the code refers to ``uses``/``parallel``/``run_parallel``
at all, so registering many plain tasks costs nothing.
"""

from __future__ import annotations

import threading
import types
from typing import Any, NamedTuple

from nolead import task as _task

__all__ = ["StaticCall", "static_calls"]

_USES, _PARALLEL, _RUN_PARALLEL = "uses", "parallel", "run_parallel"
_API_NAMES = frozenset({_USES, _PARALLEL, _RUN_PARALLEL})


class StaticCall(NamedTuple):
    """One resolved call found in a task's source.

    Attributes:
        kind: ``"uses"`` or ``"parallel"`` (``run_parallel`` counts as ``"parallel"``).
        targets: The called tasks' specs, or their names when not registered yet.
        params: Literal keyword arguments, or ``None`` when some are not literals.
        unconditional: True when every run of the task makes this call.
    """

    kind: str
    targets: tuple[Any, ...]
    params: dict[str, Any] | None
    unconditional: bool


class Recipe(NamedTuple):
    """How to resolve one call found in a function's source (shared by its closures).

    References are ``("name", id)``, ``("attr", reference, attribute)``,
    ``("const", text)`` or ``None`` (known only at run time).
    """

    callee: Any
    target: Any
    listed: tuple[Any, ...] | None
    params: dict[str, Any] | None
    has_keywords: bool
    unconditional: bool


_code_cache: dict[types.CodeType, tuple[Recipe, ...]] = {}
_cache_lock = threading.Lock()


def static_calls(spec: _task.TaskSpec) -> tuple[StaticCall, ...]:
    """Return the resolvable ``uses()``/``parallel()`` calls in a task's source.

    The result is cached on the spec until another task is registered (a string literal
    may name a task registered later).

    Args:
        spec: The task.

    Returns:
        The calls in source order.
    """
    version = _task.registry_version()
    cached = spec.static
    if cached is not None and cached[0] == version:
        return cached[1]  # type: ignore[no-any-return]
    recipes = _recipes(spec.func)
    calls = _resolve_all(spec.func, recipes) if recipes else ()
    spec.static = (version, calls)
    return calls


def _recipes(func: Any) -> tuple[Recipe, ...]:
    code = getattr(func, "__code__", None)
    if not isinstance(code, types.CodeType):
        return ()
    raw = _code_cache.get(code)
    if raw is None:
        if _mentions_api(func, code):
            from nolead import sourcescan

            raw = sourcescan.parse(func)
        else:
            raw = ()
        with _cache_lock:
            _code_cache[code] = raw
    return raw


def _mentions_api(func: Any, code: types.CodeType) -> bool:
    """Cheaply tell whether the code could call uses/parallel/run_parallel at all."""
    api = _api_functions()
    namespace = getattr(func, "__globals__", {})
    stack = [code]
    while stack:
        current = stack.pop()
        for name in current.co_names + current.co_freevars:
            if name in _API_NAMES or _kind_of(namespace.get(name), api) is not None:
                return True
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    for cell in getattr(func, "__closure__", None) or ():
        try:
            if _kind_of(cell.cell_contents, api) is not None:
                return True
        except ValueError:  # empty cell
            continue
    return False


_api: tuple[tuple[Any, str], ...] = ()


def _api_functions() -> tuple[tuple[Any, str], ...]:
    global _api
    if not _api:
        from nolead import engine, scheduler

        _api = (
            (engine.uses, _USES),
            (scheduler.parallel, _PARALLEL),
            (scheduler.run_parallel, _RUN_PARALLEL),
        )
    return _api


def _kind_of(value: Any, api: tuple[tuple[Any, str], ...]) -> str | None:
    for function, kind in api:
        if value is function:
            return kind
    return None


_MISSING: Any = object()


def _resolve_all(func: Any, recipes: tuple[Recipe, ...]) -> tuple[StaticCall, ...]:
    """Resolve recipes against one function's closure and globals."""
    api = _api_functions()
    namespace = _Namespace(func)
    calls: list[StaticCall] = []
    for recipe in recipes:
        kind = _kind_of(namespace.lookup(recipe.callee), api)
        if kind is None or (recipe.target is None and recipe.listed is None):
            continue
        if kind == _USES:
            targets = [namespace.task(recipe.target)]
        elif recipe.listed is None or (kind == _PARALLEL and recipe.has_keywords):
            continue  # not a literal list, or a misuse left for run time to report
        else:
            targets = [namespace.task(ref) for ref in recipe.listed]
        if any(target is None for target in targets):
            continue
        calls.append(
            StaticCall(
                _USES if kind == _USES else _PARALLEL,
                tuple(targets),
                recipe.params,
                recipe.unconditional,
            )
        )
    return tuple(calls)


class _Namespace:
    """Looks names up the way the function would: closure, then globals, then builtins."""

    __slots__ = ("cells", "freevars", "globals")

    def __init__(self, func: Any) -> None:
        self.globals: dict[str, Any] = func.__globals__
        self.freevars: tuple[str, ...] = func.__code__.co_freevars
        self.cells: tuple[Any, ...] = func.__closure__ or ()

    def lookup(self, ref: Any) -> Any:
        if ref is None:
            return _MISSING
        kind = ref[0]
        if kind == "name":
            name = ref[1]
            if name in self.freevars:
                try:
                    return self.cells[self.freevars.index(name)].cell_contents
                except (ValueError, IndexError):
                    return _MISSING
            value = self.globals.get(name, _MISSING)
            if value is _MISSING:
                builtins = self.globals.get("__builtins__")
                if isinstance(builtins, dict):
                    return builtins.get(name, _MISSING)
                return getattr(builtins, name, _MISSING)
            return value
        if kind == "attr":
            base = self.lookup(ref[1])
            if isinstance(base, (types.ModuleType, type)):
                return base.__dict__.get(ref[2], _MISSING)
        return _MISSING

    def task(self, ref: Any) -> Any:
        """Return the spec (or the literal name) a target reference points to, else None."""
        if ref is not None and ref[0] == "const":
            return _task.lookup(ref[1]) or ref[1]
        return getattr(self.lookup(ref), "__nolead_task__", None)
