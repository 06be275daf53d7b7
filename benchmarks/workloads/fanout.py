"""Fan-out: many trivial tasks under one ``parallel()``, on threads and serially.

What it measures is overhead: the tasks return a number, so every microsecond is the
framework's own (scheduling, bookkeeping, result storage, hand-offs between threads).

- ``fanout-thread``: nolead's thread executor against the raw thread pool
  (``ThreadPoolExecutor`` submit + result, one future per task), loky's reusable process
  pool, Dask's threaded scheduler, joblib (loky), pipefunc's parallel map, and a plain
  list comprehension as the floor.
- ``fanout-serial``: the ``serial`` executor and a loop of ``uses()`` calls inside one task,
  against plain calls, Dask's synchronous scheduler and pipefunc's sequential map; then,
  in a second fresh process that first registers 10,000 unrelated tasks, nolead's two
  benches again: a large pipeline around a small run must not slow the run down.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from benchmarks import work
from benchmarks.harness import (
    PEER,
    REFERENCE,
    US,
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

THREAD_POOL_SIZE = 64  # nolead's default thread pool size, given to the raw pool too
UNRELATED = 10_000
UNCHANGED = 1.2  # "unchanged": within 20 % (noise on a shared 2-core machine)


def sizes(opts: Options) -> tuple[int, ...]:
    """Task counts for this mode."""
    return opts.pick((1_000,), (1_000, 10_000))


def case_name(count: int) -> str:
    """The case label of ``count`` tasks."""
    return f"N={count:,}"


def per_task(count: int) -> str:
    """The unit of the rows of ``count`` tasks."""
    return f"{US}/task"


@cache
def nolead_tasks(prefix: str, count: int) -> list[Any]:
    """Define ``count`` trivial nolead tasks (once per prefix and count)."""
    from nolead import Task

    def make(number: int) -> Any:
        @Task(name=f"{prefix}:{number}")
        def trivial_task() -> int:
            return number

        return trivial_task

    return [make(number) for number in range(count)]


@cache
def uses_loop_task(prefix: str, count: int) -> Any:
    """Define a task whose body calls ``uses()`` on each of ``count`` tasks in a loop."""
    from nolead import Task, uses

    tasks = nolead_tasks(prefix, count)

    @Task(name=f"{prefix}:loop")
    def loop() -> int:
        total = 0
        for task in tasks:
            total += uses(task)
        return total

    return loop


def expect_sum(count: int) -> Any:
    """Return a check that a result holds 0..count-1 (dict values, list, or a total)."""
    wanted = count * (count - 1) // 2

    def verify(result: Any) -> None:
        if isinstance(result, dict):
            result = list(result.values())
        if hasattr(result, "__len__"):
            result = sum(int(value) for value in result)
        if int(result) != wanted:
            raise AssertionError(f"wrong result: {result} != {wanted}")

    return verify


def _reset_to(executor: str) -> Any:
    def apply() -> None:
        from nolead import configure

        configure(reset=True)
        configure(executor=executor)

    return apply


def _reset_pipeline() -> None:
    from nolead import reset_pipeline

    reset_pipeline()


# ----------------------------------------------------------------------- thread section


def thread_benches(count: int, opts: Options) -> list[Bench]:
    """The benches of the thread fan-out for ``count`` tasks."""
    from nolead import parallel

    case = case_name(count)
    unit = per_task(count)
    reps = opts.micro
    state: dict[str, Any] = {}
    benches = [
        Bench(
            case,
            "nolead parallel(), thread executor",
            lambda: parallel(state["tasks"]),
            primary=True,
            unit=unit,
            per=count,
            reps=reps,
            warmup=3,
            setup=lambda: (
                _reset_to("thread")(),
                state.update(tasks=nolead_tasks("fan", count)),
            ),
            before_each=_reset_pipeline,
            check=expect_sum(count),
            note=f"default pool ({THREAD_POOL_SIZE} threads), warm",
            threads=True,
        )
    ]

    def start_pool() -> None:
        state["pool"] = ThreadPoolExecutor(max_workers=THREAD_POOL_SIZE)

    def submit_each(executor: Any) -> list[int]:
        futures = [executor.submit(work.trivial, number) for number in range(count)]
        return [future.result() for future in futures]

    def raw_threads() -> list[int]:
        return submit_each(state["pool"])

    benches.append(
        Bench(
            case,
            "ThreadPoolExecutor submit+result",
            raw_threads,
            kind=PEER,
            unit=unit,
            per=count,
            reps=reps,
            warmup=3,
            setup=start_pool,
            teardown=lambda: state["pool"].shutdown(),
            check=expect_sum(count),
            note=f"{THREAD_POOL_SIZE} threads, warm; one future per task",
        )
    )

    def start_loky() -> None:
        from loky import get_reusable_executor

        state["loky"] = get_reusable_executor(max_workers=os.cpu_count() or 1, timeout=300)

    def raw_loky() -> list[int]:
        return submit_each(state["loky"])

    benches.append(
        Bench(
            case,
            "loky reusable executor submit+result",
            raw_loky,
            kind=PEER,
            unit=unit,
            per=count,
            reps=opts.light,
            setup=start_loky,
            check=expect_sum(count),
            note=f"{os.cpu_count()} processes, warm; one future per task",
        )
    )

    def build_dask() -> None:
        import dask

        state["dask"] = [dask.delayed(work.trivial, pure=False)(n) for n in range(count)]

    def dask_threads() -> Any:
        import dask

        return dask.compute(*state["dask"], scheduler="threads")

    benches.append(
        Bench(
            case,
            "dask.delayed, threads",
            dask_threads,
            kind=PEER,
            unit=unit,
            per=count,
            reps=opts.heavy,
            setup=build_dask,
            warmup=0,
            check=expect_sum(count),
            note="graph built once, outside the timing; no warm-up run",
        )
    )
    if count <= 1_000:

        def dask_pool() -> None:
            from concurrent.futures import ProcessPoolExecutor

            from dask.multiprocessing import get_context

            build_dask()
            state["dask_pool"] = ProcessPoolExecutor(os.cpu_count() or 1, mp_context=get_context())

        def dask_processes() -> Any:
            import dask

            return dask.compute(*state["dask"], scheduler="processes", pool=state["dask_pool"])

        benches.append(
            Bench(
                case,
                "dask.delayed, processes",
                dask_processes,
                kind=PEER,
                unit=unit,
                per=count,
                reps=opts.heavy,
                setup=dask_pool,
                teardown=lambda: state["dask_pool"].shutdown(),
                check=expect_sum(count),
                note="warm pool passed as pool=; graph built once",
            )
        )

    def joblib_loky() -> Any:
        from joblib import Parallel, delayed

        return Parallel(n_jobs=2, backend="loky")(
            delayed(work.trivial)(number) for number in range(count)
        )

    benches.append(
        Bench(
            case,
            "joblib Parallel(n_jobs=2, loky)",
            joblib_loky,
            kind=PEER,
            unit=unit,
            per=count,
            reps=opts.heavy,
            check=expect_sum(count),
            note="warm; joblib batches tasks automatically",
        )
    )

    def build_pipefunc() -> None:
        from pipefunc import Pipeline, pipefunc

        state["pipeline"] = Pipeline(
            [pipefunc(output_name="y", mapspec="value[i] -> y[i]")(work.trivial)]
        )
        state["pipefunc_pool"] = ThreadPoolExecutor(max_workers=THREAD_POOL_SIZE)

    def pipefunc_map() -> Any:
        result = state["pipeline"].map(
            {"value": list(range(count))},
            parallel=True,
            executor=state["pipefunc_pool"],
            storage="dict",
            show_progress=False,
        )
        return list(result["y"].output)

    benches.append(
        Bench(
            case,
            "pipefunc Pipeline.map, thread pool",
            pipefunc_map,
            kind=PEER,
            unit=unit,
            per=count,
            reps=opts.heavy,
            setup=build_pipefunc,
            teardown=lambda: state["pipefunc_pool"].shutdown(),
            check=expect_sum(count),
            note=f"mapspec value[i] -> y[i], {THREAD_POOL_SIZE} threads, warm",
        )
    )
    benches.append(
        Bench(
            case,
            "plain function calls",
            lambda: [work.trivial(number) for number in range(count)],
            kind=REFERENCE,
            unit=unit,
            per=count,
            reps=reps,
            warmup=3,
            check=expect_sum(count),
            note="the floor: a list comprehension",
        )
    )
    return benches


def measure_thread(argument: str, opts: Options) -> Section:
    """Child side of ``fanout-thread``."""
    section = Section("fanout-thread")
    for count in sizes(opts):
        for bench in thread_benches(count, opts):
            section.bench(bench)
    return section


def profile_thread(argument: str, key: str, opts: Options) -> dict[str, Any]:
    """Profile one bench of ``fanout-thread``."""
    benches = [bench for count in sizes(opts) for bench in thread_benches(count, opts)]
    return profile_from(benches, key)


def evaluate_thread(
    rows: list[dict[str, Any]], extra: dict[str, Any], opts: Options
) -> list[dict[str, Any]]:
    """Targets: per-task time <= the raw thread pool's, and <= 10 µs."""
    checks = []
    for count in sizes(opts):
        case = case_name(count)
        system = "nolead parallel(), thread executor"
        mine = median_of(find_row(rows, case, system))
        raw = median_of(find_row(rows, case, "ThreadPoolExecutor submit+result"))
        key = f"{case} | {system}"
        if mine is None or raw is None:
            checks.append(check(case, system, "<= raw ThreadPoolExecutor", "missing", None))
        else:
            checks.append(
                check(
                    case,
                    system,
                    "per-task time <= raw ThreadPoolExecutor submit+result (same run)",
                    f"{mine:.2f} vs {raw:.2f} {US}/task (ratio {mine / raw:.2f})",
                    mine <= raw,
                    margin=over(mine, raw),
                    profile=key,
                    short="<= TPE",
                )
            )
        if mine is None:
            checks.append(check(case, system, f"<= 10 {US}/task", "missing", None))
        else:
            checks.append(
                check(
                    case,
                    system,
                    f"<= 10 {US}/task",
                    f"{mine:.2f} {US}/task",
                    mine <= 10,
                    margin=over(mine, 10),
                    profile=key,
                    short=f"<=10{US}",
                )
            )
    return checks


# ----------------------------------------------------------------------- serial section

SERIAL = "nolead parallel(), serial executor"
LOOP = "nolead uses() loop in one task"
AFTER = f" (+{UNRELATED:,} unrelated tasks)"


def register_unrelated(count: int = UNRELATED) -> None:
    """Register ``count`` tasks that nothing uses (a big pipeline around a small run)."""
    from nolead import Task

    def make(number: int) -> Any:
        @Task(name=f"unrelated:{number}")
        def unrelated() -> int:
            return number

        return unrelated

    for number in range(count):
        make(number)


def serial_nolead_benches(count: int, opts: Options, suffix: str = "") -> list[Bench]:
    """nolead's two serial benches for ``count`` tasks (``suffix`` labels the second pass)."""
    from nolead import parallel, run_task

    case = case_name(count)
    unit = per_task(count)
    state: dict[str, Any] = {}

    def prepare() -> None:
        _reset_to("serial")()
        state["tasks"] = nolead_tasks("ser", count)
        state["loop"] = uses_loop_task("ser", count)

    return [
        Bench(
            case,
            SERIAL + suffix,
            lambda: parallel(state["tasks"]),
            primary=not suffix,
            unit=unit,
            per=count,
            reps=opts.micro,
            warmup=3,
            setup=prepare,
            before_each=_reset_pipeline,
            check=expect_sum(count),
            note="warm",
        ),
        Bench(
            case,
            LOOP + suffix,
            lambda: run_task(state["loop"]),
            unit=unit,
            per=count,
            reps=opts.micro,
            warmup=3,
            setup=prepare,
            before_each=_reset_pipeline,
            check=expect_sum(count),
            note="for task in tasks: total += uses(task); warm",
        ),
    ]


def serial_peer_benches(count: int, opts: Options) -> list[Bench]:
    """The serial peers for ``count`` tasks."""
    case = case_name(count)
    unit = per_task(count)
    state: dict[str, Any] = {}

    def build_dask() -> None:
        import dask

        state["dask"] = [dask.delayed(work.trivial, pure=False)(n) for n in range(count)]

    def dask_sync() -> Any:
        import dask

        return dask.compute(*state["dask"], scheduler="sync")

    def build_pipefunc() -> None:
        from pipefunc import Pipeline, pipefunc

        state["pipeline"] = Pipeline(
            [pipefunc(output_name="y", mapspec="value[i] -> y[i]")(work.trivial)]
        )

    def pipefunc_map() -> Any:
        result = state["pipeline"].map(
            {"value": list(range(count))}, parallel=False, storage="dict", show_progress=False
        )
        return list(result["y"].output)

    return [
        Bench(
            case,
            "plain function calls",
            lambda: [work.trivial(number) for number in range(count)],
            kind=REFERENCE,
            unit=unit,
            per=count,
            reps=opts.micro,
            warmup=3,
            check=expect_sum(count),
            note="the floor",
        ),
        Bench(
            case,
            "dask.delayed, sync scheduler",
            dask_sync,
            kind=PEER,
            unit=unit,
            per=count,
            reps=opts.heavy,
            setup=build_dask,
            warmup=0,
            check=expect_sum(count),
            note="graph built once, outside the timing; no warm-up run",
        ),
        Bench(
            case,
            "pipefunc Pipeline.map, sequential",
            pipefunc_map,
            kind=PEER,
            unit=unit,
            per=count,
            reps=opts.heavy,
            setup=build_pipefunc,
            check=expect_sum(count),
            note="parallel=False",
        ),
    ]


def serial_benches(argument: str, opts: Options) -> list[Bench]:
    """The benches of one child: ``fanout-serial`` (nolead and peers) or
    ``fanout-serial:unrelated`` (nolead again, in a process holding 10,000 more tasks)."""
    benches: list[Bench] = []
    for count in sizes(opts):
        if argument.endswith(":unrelated"):
            benches += serial_nolead_benches(count, opts, AFTER)
        else:
            benches += serial_nolead_benches(count, opts)
            benches += serial_peer_benches(count, opts)
    return benches


def measure_serial(argument: str, opts: Options) -> Section:
    """Child side of ``fanout-serial`` (one of its two children)."""
    section = Section("fanout-serial")
    if argument.endswith(":unrelated"):
        register_unrelated()
    for bench in serial_benches(argument, opts):
        section.bench(bench)
    return section


def profile_serial(argument: str, key: str, opts: Options) -> dict[str, Any]:
    """Profile one bench of ``fanout-serial`` (in a fresh process, like its child)."""
    if argument.endswith(":unrelated"):
        register_unrelated()
    return profile_from(serial_benches(argument, opts), key)


def evaluate_serial(
    rows: list[dict[str, Any]], extra: dict[str, Any], opts: Options
) -> list[dict[str, Any]]:
    """Targets: <= 3 µs/task, and unchanged (within 20 %) with 10,000 more tasks."""
    checks = []
    for count in sizes(opts):
        case = case_name(count)
        for system in (SERIAL, LOOP):
            before = median_of(find_row(rows, case, system))
            after = median_of(find_row(rows, case, system + AFTER))
            for label, value in ((system, before), (system + AFTER, after)):
                if value is None:
                    checks.append(check(case, label, f"<= 3 {US}/task", "missing", None))
                    continue
                checks.append(
                    check(
                        case,
                        label,
                        f"<= 3 {US}/task",
                        f"{value:.2f} {US}/task",
                        value <= 3,
                        margin=over(value, 3),
                        profile=f"{case} | {label}",
                        short=f"<=3{US}",
                    )
                )
            if before is None or after is None:
                continue
            ratio = after / before
            checks.append(
                check(
                    case,
                    system + AFTER,
                    f"unchanged when {UNRELATED:,} unrelated tasks are registered "
                    f"(taken as: within {UNCHANGED:.1f}x)",
                    f"{after:.2f} vs {before:.2f} {US}/task (ratio {ratio:.2f})",
                    ratio <= UNCHANGED,
                    margin=over(ratio, UNCHANGED),
                    profile=f"{case} | {system + AFTER}",
                    short="unchanged",
                )
            )
    return checks


THREAD = Workload(
    id="fanout-thread",
    title="fan-out: N trivial tasks under one parallel(), thread executor",
    about=(
        "Per-task overhead of one parallel() call over N tasks that return at once, on "
        "nolead's default thread pool, against the raw primitives and the peers."
    ),
    children=lambda opts: ["fanout-thread"],
    measure=measure_thread,
    evaluate=evaluate_thread,
    profile=profile_thread,
)

SERIAL_WORKLOAD = Workload(
    id="fanout-serial",
    title="fan-out, serial executor, and a uses() loop over N tasks",
    about=(
        "Per-task overhead with no threads at all (serial executor; uses() in a loop), "
        f"in a fresh process, and in another one that also holds {UNRELATED:,} unrelated "
        "tasks."
    ),
    children=lambda opts: ["fanout-serial", "fanout-serial:unrelated"],
    measure=measure_serial,
    evaluate=evaluate_serial,
    profile=profile_serial,
)
