"""Time a system's first parallel call in this (fresh) interpreter.

``python -m benchmarks.coldstart SYSTEM ITERATIONS [--profile]`` imports the system,
defines the CPU workload's four tasks, then times the first call (worker start-up
included) and a second call (warm), and prints
``{"seconds": first, "second": warm}`` as the last line of stdout.  With ``--profile``
the first call runs under cProfile instead and the line is
``{"profile": {...}}`` (this process only: the workers are not profiled).  SYSTEM is
``nolead``, ``joblib`` or ``serial`` (the four task bodies one after another in this
process: the reference the speedups are computed from, kept out of the measuring process,
whose idle pools' threads could slow down a GIL-bound loop).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks import work
from benchmarks.harness import top_functions

TASKS = 4


def nolead_call(iterations: int) -> Callable[[], Any]:
    """Prepare nolead's first call (tasks defined, nothing started)."""
    from benchmarks.workloads.cpu import make_tasks
    from nolead import parallel, reset_pipeline

    tasks = make_tasks(iterations, prefix="cold")

    def call() -> Any:
        reset_pipeline()
        return parallel(tasks)

    return call


def joblib_call(iterations: int) -> Callable[[], Any]:
    """Prepare joblib's first call."""
    from joblib import Parallel, delayed

    return lambda: Parallel(n_jobs=2, backend="loky")(
        delayed(work.burn)(iterations) for _ in range(TASKS)
    )


def serial_call(iterations: int) -> Callable[[], Any]:
    """The four task bodies one after another, in this process: the serial reference."""
    return lambda: [work.burn(iterations) for _ in range(TASKS)]


SYSTEMS = {"nolead": nolead_call, "joblib": joblib_call, "serial": serial_call}


def main(argv: list[str]) -> int:
    """Run the first call (and a second one) and print the times, or a profile."""
    system, iterations = argv[0], int(argv[1])
    call = SYSTEMS[system](iterations)
    if "--profile" in argv[2:]:
        profiler = cProfile.Profile()
        begin = time.perf_counter()
        profiler.enable()
        call()
        profiler.disable()
        total = time.perf_counter() - begin
        stats = pstats.Stats(profiler)
        found: dict[str, Any] = {
            "total_s": total,
            "runs": 1,
            "threads": 1,
            "functions": top_functions(stats, 10),
            "by_self": top_functions(stats, 10, by="tottime_s"),
        }
        found["caveat"] = "first call in a fresh interpreter; this process only"
        print(json.dumps({"profile": found}))
        return 0
    begin = time.perf_counter()
    result = call()
    first = time.perf_counter() - begin
    if len(result) != TASKS:
        raise AssertionError(f"{len(result)} results")
    begin = time.perf_counter()
    call()
    second = time.perf_counter() - begin
    print(json.dumps({"seconds": first, "second": second}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
