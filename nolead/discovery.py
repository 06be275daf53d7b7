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


class _RawCall(NamedTuple):
    func: Any
    args: tuple[Any, ...]
    keywords: tuple[Any, ...]
    unconditional: bool


_code_cache: dict[types.CodeType, tuple[_RawCall, ...]] = {}
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
    raw = _raw_calls(spec.func)
    if raw:
        from nolead import sourcescan

        calls = sourcescan.resolve_all(spec.func, raw, _api_functions())
    else:
        calls = ()
    spec.static = (version, calls)
    return calls


def _raw_calls(func: Any) -> tuple[_RawCall, ...]:
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
