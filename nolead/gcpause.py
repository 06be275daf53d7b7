"""Pausing Python's cyclic garbage collector while a graph snapshot or drawing is built.

Building the snapshot of a large pipeline, or a DOT document of it, creates a few objects
per task and edge, all of which stay alive until the call returns.  The cyclic collector
counts them as new and, every time they add up to a quarter of the heap, scans the whole
heap, every registered task included; with 10,000 tasks that doubles the time of
``build_graph()``.  None of those objects can be garbage before the call returns, so the
scans find nothing: the collector is paused for the call and resumed afterwards.

The pause is process-wide (the collector is), so it is kept short and counted: calls in
several threads overlap safely, the collector resumes when the last one ends, and it is
resumed only if it was running when the first one began.  Code running in other threads
meanwhile simply has its cycles collected a little later.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["paused", "pausing"]

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_depth = 0  # calls currently inside paused()
_resume = False  # whether the first of them found the collector running


@contextmanager
def paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off inside the ``with`` block."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()


def pausing(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function so that it runs inside :func:`paused`."""

    @functools.wraps(func)
    def run_paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused():
            return func(*args, **kwargs)

    return run_paused
