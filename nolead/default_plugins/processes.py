"""The ``process`` executor: loky's reusable process pool, for GIL-bound work.

Task bodies run in worker processes; nolead ships each task's function (cloudpickle, so
``__main__`` and closures work), its arguments and its known upstream results, and
brings back the result (see :mod:`nolead.remote`).  Workers are started on first use,
stay warm between calls (idle ones exit after ``IDLE_TIMEOUT`` seconds) and are shut
down by loky when the interpreter exits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from nolead.hookspecs import hookimpl

# Seconds an idle worker waits for work before exiting.
IDLE_TIMEOUT = 300


def make_executor(max_workers: int) -> Executor:
    """Return loky's reusable executor sized to ``max_workers`` processes."""
    from loky import get_reusable_executor

    executor: Executor = get_reusable_executor(
        max_workers=max_workers, timeout=IDLE_TIMEOUT, reuse=True
    )
    return executor


@hookimpl
def nolead_register_executors(register: Callable[..., Any]) -> None:
    """Register the ``process`` executor."""
    register(
        "process",
        make_executor,
        crosses_process=True,
        default_max_workers=os.cpu_count() or 1,
        description="loky process pool, kept warm (best for CPU-bound pure Python)",
    )
