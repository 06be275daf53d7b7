"""CPU: four pure-Python tasks of about 0.5 s each, under ``parallel()``, in processes.

Pure-Python arithmetic holds the GIL, so only processes can run it side by side.  The
*speedup* of a system is the serial time (the four calls one after another, in this
process) divided by its wall time.  On a machine with C cores the best possible speedup
for T equal tasks is ``min(T, C)``; the table reports each speedup and its share of that
ideal.

Two situations are measured:

- *warm*: the worker pool was started by an earlier call (the usual case in a long
  program);
- *first call*: the first ``parallel()`` of a fresh interpreter, so the time includes
  starting the workers.  Each repetition is a new ``python`` process (see
  :mod:`benchmarks.coldstart`); only the call itself is timed, not the interpreter's
  start-up or ``import``.

Peers: joblib (``n_jobs=2``, loky), Dask's ``processes`` scheduler (with a warm pool
passed as ``pool=``, and with its default, which starts a new pool on every call), loky's
reusable executor used directly, and pipefunc's map on a process pool.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from benchmarks import work
from benchmarks.harness import (
    NOLEAD,
    PEER,
    REFERENCE,
    Bench,
    Options,
    Section,
    Workload,
    check,
    find_row,
    log,
    make_row,
    measure_interleaved,
    median_of,
    profile_from,
    short_error,
    under,
)

TASKS = 4
WARM = "nolead parallel(), process executor, warm"
FIRST = "nolead parallel(), process executor, first call"
SERIAL = "plain calls, one after another"
WARM_TARGET = 1.9
FIRST_TARGET = 1.7


def task_seconds(opts: Options) -> float:
    """How long one task should take in this mode."""
    return float(opts.pick(0.1, 0.5))


def case_name(opts: Options) -> str:
    """The single case of this workload."""
    return f"{TASKS} x ~{task_seconds(opts)} s pure Python"


def ideal() -> int:
    """The best speedup possible here: min(tasks, cores)."""
    return min(TASKS, os.cpu_count() or 1)


def make_tasks(iterations: int, prefix: str = "cpu") -> list[Any]:
    """Define ``TASKS`` nolead tasks that run in worker processes."""
    from nolead import Task

    def make(number: int) -> Any:
        @Task(name=f"{prefix}:{number}", executor="process")
        def crunch() -> int:
            return work.burn(iterations)

        return crunch

    return [make(number) for number in range(TASKS)]


def expect(result: Any) -> None:
    """A check that four results came back."""
    if len(result) != TASKS:
        raise AssertionError(f"{len(result)} results for {TASKS} tasks")


def benches(iterations: int, opts: Options) -> list[Bench]:
    """The in-process benches (everything but the first calls in fresh interpreters)."""
    from nolead import configure, parallel, reset_pipeline

    case = case_name(opts)
    reps = opts.heavy
    workers = os.cpu_count() or 1
    state: dict[str, Any] = {}

    def nolead_setup() -> None:
        configure(reset=True)
        state["tasks"] = make_tasks(iterations)

    def start_loky() -> None:
        from loky import get_reusable_executor

        # The same arguments as nolead's process executor: the same reusable pool.
        state["loky"] = get_reusable_executor(max_workers=workers, timeout=300)

    def raw_loky() -> list[int]:
        futures = [state["loky"].submit(work.burn, iterations) for _ in range(TASKS)]
        return [future.result() for future in futures]

    def joblib_loky() -> Any:
        from joblib import Parallel, delayed

        return Parallel(n_jobs=2, backend="loky")(
            delayed(work.burn)(iterations) for _ in range(TASKS)
        )

    def start_dask_pool() -> None:
        from dask.multiprocessing import get_context

        state["dask_pool"] = ProcessPoolExecutor(workers, mp_context=get_context())

    def dask_processes(pool: Any = None) -> Any:
        import dask

        parts = [dask.delayed(work.burn, pure=False)(iterations) for _ in range(TASKS)]
        if pool is None:
            return dask.compute(*parts, scheduler="processes")
        return dask.compute(*parts, scheduler="processes", pool=pool, chunksize=1)

    def start_pipefunc() -> None:
        from pipefunc import Pipeline, pipefunc

        state["pipeline"] = Pipeline(
            [pipefunc(output_name="total", mapspec="iterations[i] -> total[i]")(work.burn)]
        )
        state["pipefunc_pool"] = ProcessPoolExecutor(workers)

    def pipefunc_map() -> Any:
        result = state["pipeline"].map(
            {"iterations": [iterations] * TASKS},
            parallel=True,
            executor=state["pipefunc_pool"],
            storage="dict",
            show_progress=False,
        )
        return list(result["total"].output)

    return [
        Bench(
            case,
            SERIAL,
            lambda: coldstart("serial", iterations)["seconds"],
            kind=REFERENCE,
            reps=reps,
            warmup=0,
            self_timed=True,
            note="the serial time every speedup is computed from; in a fresh interpreter "
            "each time (timed there), away from this process's idle pools",
        ),
        Bench(
            case,
            WARM,
            lambda: parallel(state["tasks"]),
            primary=True,
            reps=reps,
            setup=nolead_setup,
            before_each=reset_pipeline,
            check=lambda result: expect(list(result.values())),
            note=f"@Task(executor='process'), {workers} workers started by a first call",
        ),
        Bench(
            case,
            "loky reusable executor submit+result, warm",
            raw_loky,
            kind=PEER,
            reps=reps,
            setup=start_loky,
            check=expect,
            note="the pool nolead's process executor uses",
        ),
        Bench(
            case,
            "joblib Parallel(n_jobs=2, loky), warm",
            joblib_loky,
            kind=PEER,
            reps=reps,
            check=expect,
        ),
        Bench(
            case,
            "dask.delayed, processes, warm pool",
            lambda: dask_processes(state["dask_pool"]),
            kind=PEER,
            reps=reps,
            setup=start_dask_pool,
            teardown=lambda: state["dask_pool"].shutdown(),
            check=expect,
            note=f"pool=ProcessPoolExecutor({workers}) kept between calls; chunksize=1 (the "
            "default, 6, would hand all four tasks to one worker)",
        ),
        Bench(
            case,
            "dask.delayed, processes, default (new pool per call)",
            dask_processes,
            kind=PEER,
            reps=reps,
            warmup=0,
            check=expect,
            note="every call starts its own pool (a first call each time); default "
            "chunksize 6: all four tasks go to one worker",
        ),
        Bench(
            case,
            "pipefunc Pipeline.map, process pool, warm",
            pipefunc_map,
            kind=PEER,
            reps=reps,
            setup=start_pipefunc,
            teardown=lambda: state["pipefunc_pool"].shutdown(),
            check=expect,
            note=f"ProcessPoolExecutor({workers}) kept between calls",
        ),
    ]


def first_calls(
    systems: list[tuple[str, str]], iterations: int, opts: Options
) -> list[dict[str, Any]]:
    """Time each system's first call in fresh interpreters, ``opts.heavy`` times each.

    The systems take turns (nolead, joblib, nolead, ...), like interleaved benches.
    """
    samples: dict[str, list[float]] = {system: [] for system, _ in systems}
    seconds: dict[str, list[float]] = {system: [] for system, _ in systems}
    errors: dict[str, str | None] = {system: None for system, _ in systems}
    begin = time.perf_counter()
    for _ in range(opts.heavy):
        for system, _ in systems:
            if errors[system]:
                continue
            try:
                outcome = coldstart(system, iterations)
                samples[system].append(float(outcome["seconds"]))
                seconds[system].append(float(outcome["second"]))
            except Exception as exc:
                errors[system] = short_error(exc)
    rows = []
    for system, label in systems:
        first = statistics.median(samples[system]) if samples[system] else None
        second = statistics.median(seconds[system]) if seconds[system] else None
        start_up = (
            f"; the second call in the same process took {second:.3f} s (so start-up "
            f"costs ~{first - second:.3f} s)"
            if first is not None and second is not None
            else ""
        )
        log(f"    {case_name(opts):<28} {label:<44} {[round(x, 3) for x in samples[system]]}")
        rows.append(
            make_row(
                case_name(opts),
                label,
                samples[system],
                "s",
                kind=NOLEAD if system == "nolead" else PEER,
                error=errors[system],
                note="a fresh interpreter per repetition; the first call only is timed" + start_up,
                extra={"second_call_s": seconds[system]},
            )
        )
    log(f"    (first calls: {time.perf_counter() - begin:.1f} s)")
    return rows


def coldstart(system: str, iterations: int, profile: bool = False) -> dict[str, Any]:
    """Run :mod:`benchmarks.coldstart` once and return what it printed.

    Raises:
        RuntimeError: When it fails.
    """
    command = [sys.executable, "-m", "benchmarks.coldstart", system, str(iterations)]
    if profile:
        command.append("--profile")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-500:] or f"status {done.returncode}")
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome


def measure_cpu(argument: str, opts: Options) -> Section:
    """Child side: calibrate, then the warm benches, then the first calls."""
    section = Section("cpu")
    iterations = work.calibrate(task_seconds(opts))
    section.extra["iterations"] = iterations
    section.extra["cores"] = os.cpu_count()
    log(f"    calibrated: burn({iterations:,}) takes ~{task_seconds(opts)} s")
    for row in measure_interleaved(benches(iterations, opts)):
        section.add(row)
    systems = [("nolead", FIRST)]
    if not opts.quick:
        systems.append(("joblib", "joblib Parallel(n_jobs=2, loky), first call"))
    for row in first_calls(systems, iterations, opts):
        section.add(row)
    return section


def profile_cpu(argument: str, key: str, opts: Options) -> dict[str, Any]:
    """Profile nolead's warm run here, or its first call in a fresh interpreter.

    Only the parent process is profiled: the task bodies run in the workers.
    """
    iterations = work.calibrate(task_seconds(opts))
    if key.endswith(FIRST):
        profile: dict[str, Any] = coldstart("nolead", iterations, profile=True)["profile"]
        return profile
    found = profile_from(benches(iterations, opts), key)
    found["caveat"] = "parent process only (the task bodies run in workers)"
    return found


def speedup(serial: dict[str, Any], row: dict[str, Any]) -> float:
    """Serial time over ``row``'s time.

    For the in-process benches, which took turns round by round, it is the median of the
    per-round ratios (each round saw the same machine); for the first calls, made in
    other processes, the ratio of the medians.
    """
    if row.get("interleaved") and len(row["samples"]) == len(serial["samples"]):
        return statistics.median(s / r for s, r in zip(serial["samples"], row["samples"]))
    return float(serial["median"]) / float(row["median"])


def evaluate_cpu(
    rows: list[dict[str, Any]], extra: dict[str, Any], opts: Options
) -> list[dict[str, Any]]:
    """Targets: speedup >= 1.9 warm, >= 1.7 on the first call (ideal: min(tasks, cores))."""
    case = case_name(opts)
    serial_row = find_row(rows, case, SERIAL)
    serial = median_of(serial_row)
    best = ideal()
    cores = os.cpu_count()
    speeds: dict[str, float] = {}
    if serial_row is not None and serial:
        for row in rows:
            wall = median_of(row)
            if wall and row["system"] != SERIAL:
                speed = speedup(serial_row, row)
                speeds[row["system"]] = speed
                row["note"] = (
                    f"speedup {speed:.2f} = {speed / best:.2f} of ideal {best}; " + row["note"]
                ).rstrip("; ")
    checks = []
    for system, target in ((WARM, WARM_TARGET), (FIRST, FIRST_TARGET)):
        wall = median_of(find_row(rows, case, system))
        if wall is None or not serial or system not in speeds:
            checks.append(check(case, system, f"speedup >= {target}", "missing", None))
            continue
        speed = speeds[system]
        checks.append(
            check(
                case,
                system,
                f"speedup over serial >= {target}",
                f"{speed:.2f} (serial median {serial:.3f} s, this {wall:.3f} s); "
                f"{speed / best:.2f} of the ideal {best}",
                speed >= target,
                margin=under(speed, target),
                note=(
                    f"ideal speedup here = min({TASKS} tasks, {cores} cores) = {best}; the "
                    f"target {target} is {target / best:.2f} of that ideal"
                ),
                profile=f"{case} | {system}",
                short=f"speedup>={target}",
            )
        )
    return checks


WORKLOAD = Workload(
    id="cpu",
    title="CPU: 4 pure-Python tasks of ~0.5 s, process executor",
    about=(
        "Speedup over serial of GIL-bound tasks in worker processes, warm and on the "
        "first call of a fresh interpreter."
    ),
    children=lambda opts: ["cpu"],
    measure=measure_cpu,
    evaluate=evaluate_cpu,
    profile=profile_cpu,
)
