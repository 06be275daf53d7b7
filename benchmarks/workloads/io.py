"""I/O: 16 and 64 tasks that each sleep 0.2 s, under one ``parallel()``, default settings.

Sleeping stands in for waiting on a network or a disk: the GIL is released, so with
enough threads all tasks wait at the same time and the whole call should take barely more
than one task.  *Efficiency* is 0.2 s divided by the wall time (1.0 would be perfect).

nolead runs with its defaults (``configure(reset=True)``: the thread executor and its
64-thread pool).  Each peer is given what it needs to wait on all tasks at once — as
many threads as tasks — since that is how each would be used for I/O: a
``ThreadPoolExecutor``, Dask's threaded scheduler with ``num_workers``, joblib with
``prefer="threads"`` (its process default would be the wrong tool), and pipefunc's map
on a thread pool.  Running the tasks one after another would take N x 0.2 s; that is not
run, to save time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from benchmarks import work
from benchmarks.harness import (
    PEER,
    Bench,
    Options,
    Section,
    Workload,
    check,
    find_row,
    measure_interleaved,
    median_of,
    profile_from,
    under,
)

SLEEP = 0.2
EFFICIENCY = 0.95
NOLEAD_SYSTEM = "nolead parallel(), default settings"


def sizes(opts: Options) -> tuple[int, ...]:
    """Task counts for this mode."""
    return opts.pick((16,), (16, 64))


def case_name(count: int) -> str:
    """The case label of ``count`` sleeping tasks."""
    return f"{count} x {SLEEP} s sleep"


@cache
def sleeping_tasks(count: int) -> list[Any]:
    """Define ``count`` nolead tasks that sleep ``SLEEP`` seconds."""
    from nolead import Task

    def make(number: int) -> Any:
        @Task(name=f"io{count}:{number}")
        def download() -> float:
            return work.nap(SLEEP)

        return download

    return [make(number) for number in range(count)]


def expect(count: int) -> Any:
    """A check that ``count`` results came back."""

    def verify(result: Any) -> None:
        if len(result) != count:
            raise AssertionError(f"{len(result)} results for {count} tasks")

    return verify


def benches(count: int, opts: Options) -> list[Bench]:
    """nolead and its peers on ``count`` sleeping tasks."""
    from nolead import configure, parallel, reset_pipeline

    case = case_name(count)
    reps = opts.heavy
    state: dict[str, Any] = {}

    def nolead_setup() -> None:
        configure(reset=True)
        state["tasks"] = sleeping_tasks(count)

    def start_pool() -> None:
        state["pool"] = ThreadPoolExecutor(max_workers=count)

    def raw_threads() -> list[float]:
        futures = [state["pool"].submit(work.nap, SLEEP) for _ in range(count)]
        return [future.result() for future in futures]

    def dask_threads() -> Any:
        import dask

        parts = [dask.delayed(work.nap, pure=False)(SLEEP) for _ in range(count)]
        return dask.compute(*parts, scheduler="threads", num_workers=count)

    def start_joblib() -> None:
        from joblib import Parallel

        state["joblib"] = Parallel(n_jobs=count, prefer="threads")
        state["joblib"].__enter__()  # keeps its thread pool between calls

    def joblib_threads() -> Any:
        from joblib import delayed

        return state["joblib"](delayed(work.nap)(SLEEP) for _ in range(count))

    def start_pipefunc() -> None:
        from pipefunc import Pipeline, pipefunc

        state["pipeline"] = Pipeline(
            [pipefunc(output_name="slept", mapspec="seconds[i] -> slept[i]")(work.nap)]
        )
        start_pool()

    def pipefunc_map() -> Any:
        result = state["pipeline"].map(
            {"seconds": [SLEEP] * count},
            parallel=True,
            executor=state["pool"],
            storage="dict",
            show_progress=False,
        )
        return list(result["slept"].output)

    return [
        Bench(
            case,
            NOLEAD_SYSTEM,
            lambda: parallel(state["tasks"]),
            primary=True,
            reps=reps,
            setup=nolead_setup,
            before_each=reset_pipeline,
            check=expect(count),
            note="thread executor, default 64 threads; warm (one run before timing)",
            threads=True,
        ),
        Bench(
            case,
            "ThreadPoolExecutor submit+result",
            raw_threads,
            kind=PEER,
            reps=reps,
            setup=start_pool,
            teardown=lambda: state["pool"].shutdown(),
            check=expect(count),
            note=f"max_workers={count}, warm",
        ),
        Bench(
            case,
            "dask.delayed, threads",
            dask_threads,
            kind=PEER,
            reps=reps,
            check=expect(count),
            note=f"num_workers={count}",
        ),
        Bench(
            case,
            "joblib Parallel, threads",
            joblib_threads,
            kind=PEER,
            reps=reps,
            setup=start_joblib,
            teardown=lambda: state["joblib"].__exit__(None, None, None),
            check=expect(count),
            note=f"n_jobs={count}, prefer='threads', pool kept between calls",
        ),
        Bench(
            case,
            "pipefunc Pipeline.map, thread pool",
            pipefunc_map,
            kind=PEER,
            reps=reps,
            setup=start_pipefunc,
            teardown=lambda: state["pool"].shutdown(),
            check=expect(count),
            note=f"max_workers={count}, warm",
        ),
    ]


def measure_io(argument: str, opts: Options) -> Section:
    """Child side of the I/O workload."""
    section = Section("io")
    for count in sizes(opts):
        for row in measure_interleaved(benches(count, opts)):
            section.add(row)
    return section


def profile_io(argument: str, key: str, opts: Options) -> dict[str, Any]:
    """Profile nolead on one size."""
    return profile_from([b for c in sizes(opts) for b in benches(c, opts)], key)


def evaluate_io(
    rows: list[dict[str, Any]], extra: dict[str, Any], opts: Options
) -> list[dict[str, Any]]:
    """Target: efficiency (0.2 s / wall) >= 0.95."""
    checks = []
    for count in sizes(opts):
        case = case_name(count)
        wall = median_of(find_row(rows, case, NOLEAD_SYSTEM))
        if wall is None:
            checks.append(check(case, NOLEAD_SYSTEM, "efficiency >= 0.95", "missing", None))
            continue
        efficiency = SLEEP / wall
        peers = []
        for row in rows:
            peer_wall = median_of(row)
            if row["case"] == case and row["kind"] == PEER and peer_wall:
                peers.append(f"{row['system']} {SLEEP / peer_wall:.3f}")
        checks.append(
            check(
                case,
                NOLEAD_SYSTEM,
                f"efficiency ({SLEEP} s / wall) >= {EFFICIENCY}",
                f"{efficiency:.3f} (median wall {wall:.4f} s)",
                efficiency >= EFFICIENCY,
                margin=under(efficiency, EFFICIENCY),
                note="peers' efficiency: " + ", ".join(peers) if peers else "",
                profile=f"{case} | {NOLEAD_SYSTEM}",
                short=f"eff>={EFFICIENCY}",
            )
        )
    return checks


WORKLOAD = Workload(
    id="io",
    title="I/O: tasks sleeping 0.2 s under one parallel(), default settings",
    about="Wall time of N waiting tasks; efficiency = 0.2 s / wall.",
    children=lambda opts: ["io"],
    measure=measure_io,
    evaluate=evaluate_io,
    profile=profile_io,
)
