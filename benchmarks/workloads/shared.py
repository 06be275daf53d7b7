"""Shared dependency: four tasks under ``parallel()`` that all need one upstream task.

The upstream task must run exactly once per run, however the four race for it.  Each
trial starts from a clean state and counts, under a lock, how often the shared task's
body ran; the figure is the share of trials where it ran exactly once.  Two variants:

- *static*: the four tasks call ``uses(shared)`` at the top of their body, so nolead sees
  the dependency in the code and runs it first (the same tasks every trial,
  ``reset_pipeline()`` between trials);
- *run-time*: the ``uses(shared)`` call sits inside an ``if``, which static discovery does
  not look ahead into, and the tasks are defined afresh for every trial (nothing learned
  from an earlier run), so the four really do race for it at run time.  The shared task
  sleeps 1 ms to keep the race window open.

Dask (threads) runs the static shape as a reference: a graph node runs once by
construction.  The rows give the time per trial.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from benchmarks.harness import (
    REFERENCE,
    Options,
    Section,
    Workload,
    check,
    find_row,
    log,
    make_row,
    short_error,
)

CONSUMERS = 4
STATIC = "nolead, static uses(), reset_pipeline() per trial"
RUNTIME = "nolead, run-time uses(), fresh tasks per trial"
DASK = "dask.delayed, threads (shared node)"
_rounds = itertools.count()


def trials(opts: Options) -> int:
    """Trials per variant in this mode."""
    return int(opts.pick(100, 1_000))


class Counter:
    """Counts runs of the shared task, under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs = 0

    def hit(self) -> None:
        """Count one run."""
        with self.lock:
            self.runs += 1


def static_tasks(counter: Counter, prefix: str) -> list[Any]:
    """Define the shared task and four tasks that need it (visible in their code)."""
    from nolead import Task, uses

    @Task(name=f"{prefix}:shared")
    def shared() -> int:
        counter.hit()
        return 10

    def consumer(number: int) -> Any:
        @Task(name=f"{prefix}:consumer{number}")
        def consume() -> int:
            return uses(shared) + number

        return consume

    return [consumer(number) for number in range(CONSUMERS)]


def runtime_tasks(counter: Counter, prefix: str) -> list[Any]:
    """Define the shared task and four tasks that reach it only at run time."""
    from nolead import Task, uses

    @Task(name=f"{prefix}:shared")
    def shared() -> int:
        counter.hit()
        time.sleep(0.001)
        return 10

    def consumer(number: int, reach: bool) -> Any:
        @Task(name=f"{prefix}:consumer{number}")
        def consume() -> int:
            if reach:  # not looked ahead into: the dependency shows up at run time
                return uses(shared) + number
            return number

        return consume

    return [consumer(number, True) for number in range(CONSUMERS)]


EXPECTED = {f"consumer{n}": 10 + n for n in range(CONSUMERS)}


def run_trials(label: str, opts: Options, trial: Any) -> dict[str, Any]:
    """Run ``trial(counter) -> results`` many times; return the row with the counts."""
    count = trials(opts)
    times: list[float] = []
    runs: dict[int, int] = {}
    wrong = 0
    error = None
    begin_all = time.perf_counter()
    try:
        for _ in range(count):
            counter = Counter()
            begin = time.perf_counter()
            results = trial(counter)
            times.append((time.perf_counter() - begin) * 1e3)
            runs[counter.runs] = runs.get(counter.runs, 0) + 1
            if sorted(results) != sorted(EXPECTED.values()):
                wrong += 1
    except Exception as exc:
        error = short_error(exc)
    once = runs.get(1, 0)
    log(
        f"    {label:<56} exactly once in {once}/{len(times)}; runs seen {runs}"
        f"  ({time.perf_counter() - begin_all:.1f} s)"
    )
    return make_row(
        f"{count:,} trials",
        label,
        times,
        "ms/trial",
        kind=REFERENCE if label == DASK else "nolead",
        primary=label == STATIC,
        error=error,
        note=f"shared task ran exactly once in {once}/{len(times)} trials; wrong results: {wrong}",
        extra={"exactly_once": once, "trials": len(times), "runs_seen": runs, "wrong": wrong},
    )


def measure_shared(argument: str, opts: Options) -> Section:
    """Child side: the two nolead variants, then Dask."""
    from nolead import configure, parallel, reset_pipeline

    section = Section("shared")
    configure(reset=True)

    holder: dict[str, Any] = {}
    fixed_counter = Counter()
    fixed = static_tasks(fixed_counter, "static")

    def static_trial(counter: Counter) -> list[int]:
        reset_pipeline()
        fixed_counter.runs = 0
        results = list(parallel(fixed).values())
        counter.runs = fixed_counter.runs
        return results

    def runtime_trial(counter: Counter) -> list[int]:
        reset_pipeline()
        holder["tasks"] = runtime_tasks(counter, f"runtime{next(_rounds)}")
        return list(parallel(holder["tasks"]).values())

    def dask_trial(counter: Counter) -> list[int]:
        import dask

        def shared() -> int:
            counter.hit()
            return 10

        def consume(value: int, number: int) -> int:
            return value + number

        base = dask.delayed(shared, pure=False)()
        parts = [dask.delayed(consume, pure=False)(base, n) for n in range(CONSUMERS)]
        return list(dask.compute(*parts, scheduler="threads"))

    section.add(run_trials(STATIC, opts, static_trial))
    section.add(run_trials(RUNTIME, opts, runtime_trial))
    section.add(run_trials(DASK, opts, dask_trial))
    return section


def evaluate_shared(
    rows: list[dict[str, Any]], extra: dict[str, Any], opts: Options
) -> list[dict[str, Any]]:
    """Target: the shared task runs exactly once in 100 % of trials (both variants)."""
    checks = []
    case = f"{trials(opts):,} trials"
    for system in (STATIC, RUNTIME):
        row = find_row(rows, case, system)
        if row is None or "extra" not in row:
            checks.append(check(case, system, "exactly once in 100% of trials", "missing", None))
            continue
        data = row["extra"]
        share = data["exactly_once"] / data["trials"] * 100 if data["trials"] else 0.0
        met = data["trials"] == trials(opts) and data["exactly_once"] == data["trials"]
        checks.append(
            check(
                case,
                system,
                "the shared task runs exactly once in 100% of trials",
                f"{share:.1f}% ({data['exactly_once']}/{data['trials']}; runs seen "
                f"{data['runs_seen']}; wrong results {data['wrong']})",
                met and not data["wrong"],
                short="once: 100%",
            )
        )
    return checks


WORKLOAD = Workload(
    id="shared",
    title="shared dependency under parallel(): runs exactly once",
    about="Share of trials in which a dependency shared by four parallel tasks ran once.",
    children=lambda opts: ["shared"],
    measure=measure_shared,
    evaluate=evaluate_shared,
)
