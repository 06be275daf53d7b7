"""Nested: an 8 x 8 x 8 tree of ``parallel()`` calls whose 512 leaves sleep 0.05 s.

The root task runs ``parallel()`` over 8 tasks, each of those over 8 more, and each of
those over 8 leaves.  On a bounded pool, nesting is where schedulers either deadlock
(every thread waits for children that have no thread left to run on) or cheat by adding
threads.  Two figures per pool size:

- wall time, against the ideal ``leaves x 0.05 s / max_workers`` (the pool kept busy);
- *peak extra threads*: ``threading.active_count()`` sampled about every millisecond by a
  sampler thread during the runs, minus the count before the pool existed.

Measured with ``configure(max_workers=8)`` and with the default pool (64).  The
reference rows run the same 512 sleeps flat on a ``ThreadPoolExecutor`` of the same size:
what a pool of that size can do at best.  No peer runs nested fan-outs natively on a
bounded pool, so there are no peer rows.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks import work
from benchmarks.harness import (
    REFERENCE,
    Bench,
    Options,
    Section,
    Workload,
    check,
    find_row,
    log,
    make_row,
    measure,
    median_of,
    over,
    profile_call,
    short_error,
)

DEFAULT_POOL = 64
NESTED = "nolead nested parallel()"
THREADS = "nolead peak extra threads"


def shape(opts: Options) -> tuple[int, float]:
    """Fan-out per level and leaf sleep for this mode."""
    return opts.pick((4, 0.01), (8, 0.05))


def pools(opts: Options) -> tuple[int | None, ...]:
    """The pool sizes measured (``None``: nolead's default)."""
    return (8, None)


def case_name(opts: Options, workers: int | None) -> str:
    """The case label for a pool size."""
    fan, leaf = shape(opts)
    size = f"max_workers={workers}" if workers else f"default pool ({DEFAULT_POOL})"
    return f"{fan}x{fan}x{fan}, {leaf} s leaves, {size}"


def build_tree(prefix: str, fan: int, leaf_seconds: float) -> Any:
    """Define the tree's tasks; return the root."""
    from nolead import Task, parallel

    def leaf(name: str) -> Any:
        @Task(name=f"{prefix}:leaf:{name}")
        def sleeper() -> float:
            return work.nap(leaf_seconds)

        return sleeper

    def branch(name: str, children: list[Any]) -> Any:
        @Task(name=f"{prefix}:branch:{name}")
        def gather() -> float:
            return sum(parallel(children).values())

        return gather

    middles = []
    for a in range(fan):
        inners = [
            branch(f"{a}.{b}", [leaf(f"{a}.{b}.{c}") for c in range(fan)]) for b in range(fan)
        ]
        middles.append(branch(f"{a}", inners))
    return branch("root", middles)


class Sampler:
    """Samples ``threading.active_count()`` about every millisecond in its own thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            count = threading.active_count()
            if count > self.peak:
                self.peak = count
            time.sleep(0.001)

    def start(self) -> Sampler:
        """Start sampling."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling and wait for the sampler thread."""
        self._stop.set()
        self._thread.join()

    def restart_peak(self) -> None:
        """Forget the peak seen so far."""
        self.peak = threading.active_count()


def settle(limit: float = 3.0) -> int:
    """Wait until the thread count stops changing (old pools exiting); return it."""
    deadline = time.perf_counter() + limit
    last = threading.active_count()
    stable_since = time.perf_counter()
    while time.perf_counter() < deadline:
        time.sleep(0.01)
        now = threading.active_count()
        if now != last:
            last, stable_since = now, time.perf_counter()
        elif time.perf_counter() - stable_since > 0.2:
            break
    return last


def nolead_rows(workers: int | None, opts: Options) -> list[dict[str, Any]]:
    """Run the tree ``opts.heavy`` times on a fresh pool; return wall and thread rows."""
    from nolead import configure, reset_pipeline, run_task

    fan, leaf_seconds = shape(opts)
    case = case_name(opts, workers)
    configure(reset=True)
    if workers is not None:
        configure(max_workers=workers)
    root = build_tree(f"tree{workers}", fan, leaf_seconds)
    sampler = Sampler().start()
    baseline = settle()
    walls: list[float] = []
    peaks: list[float] = []
    error = None
    begin_all = time.perf_counter()
    try:
        for _ in range(opts.heavy):
            reset_pipeline()
            sampler.restart_peak()
            begin = time.perf_counter()
            result = run_task(root)
            walls.append(time.perf_counter() - begin)
            peaks.append(float(sampler.peak - baseline))
            expected = fan**3 * leaf_seconds
            if abs(result - expected) > 1e-6:
                raise AssertionError(f"tree gave {result}, expected {expected}")
    except Exception as exc:
        error = short_error(exc)
    finally:
        sampler.stop()
    log(
        f"    {case:<44} walls {[round(w, 3) for w in walls]}, extra threads {peaks}"
        f"  ({time.perf_counter() - begin_all:.1f} s)"
    )
    note = f"baseline {baseline} threads (sampler included) before the pool existed"
    return [
        make_row(case, NESTED, walls, "s", primary=True, error=error),
        make_row(
            case,
            THREADS,
            peaks,
            "threads",
            error=error,
            note=note,
            extra={"baseline": baseline},
        ),
    ]


def flat_bench(workers: int | None, opts: Options) -> Bench:
    """The reference: the same leaves, flat, on a thread pool of the same size."""
    fan, leaf_seconds = shape(opts)
    size = workers or DEFAULT_POOL
    state: dict[str, Any] = {}

    def run() -> list[float]:
        futures = [state["pool"].submit(work.nap, leaf_seconds) for _ in range(fan**3)]
        return [future.result() for future in futures]

    return Bench(
        case_name(opts, workers),
        f"ThreadPoolExecutor({size}), the {fan**3} leaves flat",
        run,
        kind=REFERENCE,
        reps=opts.heavy,
        setup=lambda: state.update(pool=ThreadPoolExecutor(max_workers=size)),
        teardown=lambda: state["pool"].shutdown(),
        note="no nesting: the best a pool of this size can do",
    )


def measure_nested(argument: str, opts: Options) -> Section:
    """Child side of the nested workload."""
    section = Section("nested")
    for workers in pools(opts):
        try:
            for row in nolead_rows(workers, opts):
                section.add(row)
        except Exception as exc:
            section.add(make_row(case_name(opts, workers), NESTED, [], "s", error=short_error(exc)))
        section.add(measure(flat_bench(workers, opts)))
    return section


def profile_nested(argument: str, key: str, opts: Options) -> dict[str, Any]:
    """Profile one nolead run of the tree (the pool threads included)."""
    from nolead import configure, reset_pipeline, run_task

    fan, leaf_seconds = shape(opts)
    workers = next(w for w in pools(opts) if key.startswith(case_name(opts, w)))
    state: dict[str, Any] = {}

    def setup() -> None:
        configure(reset=True)
        if workers is not None:
            configure(max_workers=workers)
        state["root"] = build_tree("profiled", fan, leaf_seconds)

    bench = Bench(
        "",
        "",
        lambda: run_task(state["root"]),
        setup=setup,
        before_each=reset_pipeline,
        threads=True,
    )
    return profile_call(bench)


def evaluate_nested(
    rows: list[dict[str, Any]], extra: dict[str, Any], opts: Options
) -> list[dict[str, Any]]:
    """Targets: peak extra threads <= max_workers + 2; wall <= 1.1 x the ideal."""
    fan, leaf_seconds = shape(opts)
    leaves = fan**3
    checks = []
    for workers in pools(opts):
        case = case_name(opts, workers)
        size = workers or DEFAULT_POOL
        system = NESTED
        threads = find_row(rows, case, THREADS)
        suffix = "" if workers else " (the default pool, reported too)"
        if threads is None or threads["error"] or not threads["samples"]:
            checks.append(check(case, system, "peak extra threads", "missing", None))
        else:
            peak = max(threads["samples"])
            checks.append(
                check(
                    case,
                    THREADS,
                    f"peak extra threads <= max_workers + 2 = {size + 2}{suffix}",
                    f"{peak:.0f} (max over {len(threads['samples'])} runs; "
                    f"median {threads['median']:.0f})",
                    peak <= size + 2,
                    margin=over(peak, size + 2),
                    short=f"<={size + 2}",
                )
            )
        wall = median_of(find_row(rows, case, system))
        best = leaves * leaf_seconds / size
        if wall is None:
            checks.append(check(case, system, "wall <= 1.1x ideal", "missing", None))
            continue
        checks.append(
            check(
                case,
                system,
                f"wall <= 1.1 x ({leaves} leaves x {leaf_seconds} s / {size} workers = "
                f"{best:.3f} s){suffix}",
                f"{wall:.3f} s = {wall / best:.2f}x the ideal",
                wall <= 1.1 * best,
                margin=over(wall, 1.1 * best),
                profile=f"{case} | {system}",
                short="<=1.1x ideal",
            )
        )
    return checks


WORKLOAD = Workload(
    id="nested",
    title="nested: 8 x 8 x 8 tree of parallel(), leaves sleep 0.05 s",
    about="Wall time and thread count of nested parallel() calls on a bounded pool.",
    children=lambda opts: ["nested"],
    measure=measure_nested,
    evaluate=evaluate_nested,
    profile=profile_nested,
)
