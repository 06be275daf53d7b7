"""A large NumPy array made by one task and read by two tasks in worker processes.

Moving big results between processes is where process executors lose their advantage:
pickling 100 MiB and pushing it through a pipe, twice, costs more than the work.  nolead
writes a large buffer once to shared memory and lets each worker map it; joblib (with
``max_nbytes="1M", mmap_mode="r"``) dumps it once to a memory-mapped file per call.  Each
repetition is timed end to end, *including producing the array*:

- nolead: a thread task makes the array, two ``@Task(executor="process")`` tasks sum it,
  one ``parallel()`` over the two; ``reset_pipeline()`` between repetitions;
- joblib: the array made in this process, then ``Parallel(n_jobs=2, backend="loky",
  max_nbytes="1M", mmap_mode="r")`` applies the sum to it twice;
- Dask, ``processes`` scheduler, warm pool: the producer is a ``delayed`` node too, so the
  array travels worker -> parent -> two workers by pickle (its design);
- Dask, ``threads``: what Dask recommends for NumPy (no copies at all), for reference;
- plain: make it and sum it twice in this process, the floor.

All pools are warmed with one untimed call.  Unlike the ``io`` and ``cpu`` workloads, the
systems do not take turns here: each runs its repetitions as one block, after a garbage
collection, so that memory one system leaves behind (a 100 MiB array kept alive until the
collector runs, say) costs that system, not the next one.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from benchmarks import work
from benchmarks.harness import (
    PEER,
    REFERENCE,
    Bench,
    Options,
    Section,
    Workload,
    check,
    find_row,
    median_of,
    over,
    profile_from,
)

NOLEAD_SYSTEM = "nolead thread task -> 2 process tasks"
JOBLIB = "joblib Parallel(n_jobs=2, loky), memmapping"


def nbytes(opts: Options) -> int:
    """Array size in bytes for this mode."""
    return int(opts.pick(8, 100)) << 20


def case_name(opts: Options) -> str:
    """The single case of this workload."""
    return f"{nbytes(opts) >> 20} MiB float64, 2 readers"


def expect_pair(size: int) -> Any:
    """A check that both sums are right."""
    count = size // 8
    wanted = float(count * (count - 1) // 2)

    def verify(result: Any) -> None:
        values = list(result.values()) if isinstance(result, dict) else list(result)
        if len(values) != 2 or any(abs(v - wanted) > wanted * 1e-9 for v in values):
            raise AssertionError(f"wrong sums {values}, expected 2 x {wanted}")

    return verify


def benches(opts: Options) -> list[Bench]:
    """nolead and its peers moving one big array to two readers."""
    from nolead import Task, configure, parallel, reset_pipeline, uses

    size = nbytes(opts)
    case = case_name(opts)
    reps = opts.heavy
    workers = os.cpu_count() or 1
    state: dict[str, Any] = {}

    def nolead_setup() -> None:
        configure(reset=True)

        @Task(name="big:produce")
        def produce() -> Any:
            return work.make_array(size)

        @Task(name="big:left", executor="process")
        def left() -> float:
            return work.array_sum(uses(produce))

        @Task(name="big:right", executor="process")
        def right() -> float:
            return work.array_sum(uses(produce))

        state["readers"] = [left, right]

    def joblib_run() -> Any:
        from joblib import Parallel, delayed

        array = work.make_array(size)
        return Parallel(n_jobs=2, backend="loky", max_nbytes="1M", mmap_mode="r")(
            delayed(work.array_sum)(array) for _ in range(2)
        )

    def dask_graph(scheduler: str, pool: Any = None) -> Any:
        import dask

        array = dask.delayed(work.make_array, pure=False)(size)
        sums = [dask.delayed(work.array_sum, pure=False)(array) for _ in range(2)]
        if pool is None:
            return dask.compute(*sums, scheduler=scheduler)
        return dask.compute(*sums, scheduler=scheduler, pool=pool, chunksize=1)

    def start_dask_pool() -> None:
        from dask.multiprocessing import get_context

        state["dask_pool"] = ProcessPoolExecutor(workers, mp_context=get_context())

    def plain() -> list[float]:
        array = work.make_array(size)
        return [work.array_sum(array), work.array_sum(array)]

    check_pair = expect_pair(size)
    return [
        Bench(
            case,
            NOLEAD_SYSTEM,
            lambda: parallel(state["readers"]),
            primary=True,
            reps=reps,
            setup=nolead_setup,
            before_each=reset_pipeline,
            check=check_pair,
            note="producer on a thread, readers @Task(executor='process'); warm pool",
            threads=True,
        ),
        Bench(
            case,
            JOBLIB,
            joblib_run,
            kind=PEER,
            reps=reps,
            check=check_pair,
            note='max_nbytes="1M", mmap_mode="r"; warm pool',
        ),
        Bench(
            case,
            "dask.delayed, processes, warm pool",
            lambda: dask_graph("processes", state["dask_pool"]),
            kind=PEER,
            reps=reps,
            setup=start_dask_pool,
            teardown=lambda: state["dask_pool"].shutdown(),
            check=check_pair,
            note="producer is a node too: worker -> parent -> 2 workers, pickled; chunksize=1",
        ),
        Bench(
            case,
            "dask.delayed, threads",
            lambda: dask_graph("threads"),
            kind=REFERENCE,
            reps=reps,
            check=check_pair,
            note="no process boundary (NumPy releases the GIL)",
        ),
        Bench(
            case,
            "plain calls in this process",
            plain,
            kind=REFERENCE,
            reps=reps,
            check=check_pair,
            note="make it, sum it twice: the floor",
        ),
    ]


def measure_array(argument: str, opts: Options) -> Section:
    """Child side of the array workload."""
    section = Section("array")
    for bench in benches(opts):  # one block each: a system pays for its own garbage
        section.bench(bench)
    return section


def profile_array(argument: str, key: str, opts: Options) -> dict[str, Any]:
    """Profile nolead's run (parent side; the readers run in workers)."""
    found = profile_from(benches(opts), key)
    found["caveat"] = "parent process only; the readers run in worker processes"
    return found


def evaluate_array(
    rows: list[dict[str, Any]], extra: dict[str, Any], opts: Options
) -> list[dict[str, Any]]:
    """Target: total time <= joblib with memmapping, in the same run."""
    case = case_name(opts)
    mine = median_of(find_row(rows, case, NOLEAD_SYSTEM))
    theirs = median_of(find_row(rows, case, JOBLIB))
    if mine is None or theirs is None:
        return [check(case, NOLEAD_SYSTEM, "<= joblib with memmapping", "missing", None)]
    return [
        check(
            case,
            NOLEAD_SYSTEM,
            "total time <= joblib with memmapping (same run)",
            f"{mine * 1e3:.1f} ms vs {theirs * 1e3:.1f} ms (ratio {mine / theirs:.2f})",
            mine <= theirs,
            margin=over(mine, theirs),
            profile=f"{case} | {NOLEAD_SYSTEM}",
            short="<= joblib",
        )
    ]


WORKLOAD = Workload(
    id="array",
    title="a 100 MiB NumPy array from one task, read by two process tasks",
    about="End-to-end time of producing a large array and reading it in two workers.",
    children=lambda opts: ["array"],
    measure=measure_array,
    evaluate=evaluate_array,
    profile=profile_array,
)
