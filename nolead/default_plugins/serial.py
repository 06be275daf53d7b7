"""The ``serial`` executor: every task runs inline, one after another, in a fixed order.

Useful for debugging (plain tracebacks, breakpoints, deterministic order) and as the
reference the other executors are tested against.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from nolead.hookspecs import hookimpl


class SerialExecutor(Executor):
    """A ``concurrent.futures.Executor`` that runs each submitted call immediately."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` now and return a finished future holding the outcome."""
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the future carries it, as a pool's would
            future.set_exception(exc)
        return future


def make_executor(max_workers: int) -> Executor:
    """Return a serial executor (``max_workers`` is ignored: there is one lane)."""
    return SerialExecutor()


@hookimpl
def nolead_register_executors(register: Callable[..., Any]) -> None:
    """Register the ``serial`` executor."""
    register(
        "serial",
        make_executor,
        crosses_process=False,
        default_max_workers=1,
        max_workers_limit=1,
        description="runs every task inline in a fixed order (debugging, reference)",
    )
