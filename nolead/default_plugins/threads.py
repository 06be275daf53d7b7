"""The ``thread`` executor: a bounded, reused thread pool (the default).

It is ``concurrent.futures.ThreadPoolExecutor`` itself.  The engine never blocks a pool
thread on work that only another pool thread could start: a thread that waits for the
tasks of its own ``parallel()`` call runs the ones not yet started itself, so nested
``parallel()`` at any depth neither deadlocks nor needs more threads.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from nolead.hookspecs import hookimpl

# Sized for I/O-bound work: 64 sleeping tasks under one parallel() all run at once.
DEFAULT_MAX_WORKERS = 64


def make_executor(max_workers: int) -> Executor:
    """Return a thread pool with ``max_workers`` threads, started lazily and reused."""
    return ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="nolead")


@hookimpl
def nolead_register_executors(register: Callable[..., Any]) -> None:
    """Register the ``thread`` executor."""
    register(
        "thread",
        make_executor,
        crosses_process=False,
        default_max_workers=DEFAULT_MAX_WORKERS,
        description="bounded thread pool, reused across runs (default; best for I/O)",
    )
