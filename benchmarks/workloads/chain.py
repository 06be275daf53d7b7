"""Chain: each task ``uses()`` the one before, 1,000 / 10,000 / 100,000 links deep.

Deep chains are where recursion-based schedulers fall over (stack depth) or go
quadratic.  For nolead three figures are kept apart, per link:

- *defining* the tasks (``@Task()`` on each link's function), timed on its own;
- the *first run* after defining, which also pays for static discovery (reading each
  task's code once);
- a *run after* ``reset_pipeline()`` — the primary figure, the one the targets apply to:
  what re-running a known pipeline costs.

Peers: a plain Python loop (the floor), Dask's threaded scheduler on a graph written as
a dict (builds in linear time, so it reaches 100,000), ``dask.delayed`` chained the
idiomatic way (its construction is quadratic, so only up to 10,000), and a pipefunc
``Pipeline`` called sequentially (its construction takes seconds per thousand
functions, so only the smallest depth).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from benchmarks import work
from benchmarks.harness import (
    PEER,
    REFERENCE,
    US,
    Bench,
    GcWatch,
    Options,
    Section,
    Workload,
    check,
    find_row,
    join_notes,
    log,
    make_row,
    median_of,
    over,
    profile_call,
    short_error,
)

UNIT = f"{US}/link"
AFTER_RESET = "nolead run after reset_pipeline()"
FIRST_RUN = "nolead first run after defining"
DEFINING = "nolead defining the tasks"
PER_LINK_LIMIT = 10.0
GROWTH_LIMIT = 1.5
DELAYED_MAX = 10_000

_rounds = itertools.count()


def depths(opts: Options) -> tuple[int, ...]:
    """Chain depths for this mode."""
    return opts.pick((100, 1_000), (1_000, 10_000, 100_000))


def case_name(depth: int) -> str:
    """The case label of a chain ``depth`` links long."""
    return f"depth={depth:,}"


def define_chain(depth: int) -> Any:
    """Define a fresh chain of ``depth`` nolead tasks; return the last one.

    Every call uses new names, so each chain is defined from scratch.
    """
    from nolead import Task, uses

    prefix = f"chain{depth}-{next(_rounds)}"

    def link(number: int, previous: Any) -> Any:
        @Task(name=f"{prefix}:{number}")
        def step() -> int:
            return uses(previous) + 1

        return step

    @Task(name=f"{prefix}:0")
    def start() -> int:
        return 0

    last = start
    for number in range(1, depth):
        last = link(number, last)
    return last


def expect(depth: int) -> Any:
    """A check that the chain's result is ``depth - 1``."""

    def verify(result: Any) -> None:
        if result != depth - 1:
            raise AssertionError(f"chain of {depth} gave {result!r}")

    return verify


def nolead_rows(depth: int, opts: Options) -> list[dict[str, Any]]:
    """Define, first-run and re-run chains of ``depth``; return the three nolead rows."""
    from nolead import reset_pipeline, run_task

    case = case_name(depth)
    scale = 1e6 / depth
    rounds = opts.heavy
    reruns = opts.micro if depth <= 10_000 else opts.heavy
    defining: list[float] = []
    first: list[float] = []
    after: list[float] = []
    error = None
    started = time.perf_counter()
    first_gc, after_gc = GcWatch(), GcWatch()
    try:
        for number in range(rounds):
            begin = time.perf_counter()
            last = define_chain(depth)
            defining.append((time.perf_counter() - begin) * scale)
            reset_pipeline()
            with first_gc:
                begin = time.perf_counter()
                result = run_task(last)
                first.append((time.perf_counter() - begin) * scale)
            expect(depth)(result)
            if number == 0:
                # Re-runs on the first chain, before more chains fill the heap; the first
                # two are warm-up.
                for _ in range(2):
                    reset_pipeline()
                    run_task(last)
                for _ in range(reruns):
                    reset_pipeline()
                    with after_gc:
                        begin = time.perf_counter()
                        result = run_task(last)
                        after.append((time.perf_counter() - begin) * scale)
                    expect(depth)(result)
    except Exception as exc:  # e.g. RecursionError: the chain did not complete
        error = short_error(exc)
    log(
        f"    {case:<28} nolead: define {_median(defining)}, first {_median(first)}, "
        f"after reset {_median(after)} {UNIT}"
        + (f"; ERROR {error}" if error else "")
        + f"  ({time.perf_counter() - started:.1f} s)"
    )
    return [
        make_row(
            case,
            AFTER_RESET,
            after,
            UNIT,
            primary=True,
            error=error,
            note=join_notes(
                "primary figure: the targets apply to it; the first chain, re-run",
                after_gc.note(),
            ),
            extra=after_gc.summary(),
        ),
        make_row(
            case,
            FIRST_RUN,
            first,
            UNIT,
            error=error,
            note=join_notes(
                f"one fresh chain per repetition (includes static discovery); {rounds} chains",
                first_gc.note(),
            ),
            extra=first_gc.summary(),
        ),
        make_row(
            case,
            DEFINING,
            defining,
            UNIT,
            error=error,
            note="@Task() on every link, timed apart from running",
        ),
    ]


def _median(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[len(ordered) // 2]:.3g}"


def peer_benches(depth: int, opts: Options) -> tuple[list[Bench], dict[str, Any]]:
    """The peers on a chain of ``depth``, and the state their setups fill.

    Building times land in the state as ``"built ..."`` entries (seconds).
    """
    case = case_name(depth)
    state: dict[str, Any] = {}

    def plain_loop() -> int:
        value = 0
        for _ in range(depth - 1):
            value = work.increment(value)
        return value

    def build_graph_dict() -> None:
        graph: dict[str, Any] = {"o0": 0}
        for number in range(1, depth):
            graph[f"o{number}"] = (work.increment, f"o{number - 1}")
        state["graph"] = graph

    def dask_graph() -> Any:
        from dask.threaded import get

        return get(state["graph"], f"o{depth - 1}")

    benches = [
        Bench(
            case,
            "plain Python loop",
            plain_loop,
            kind=REFERENCE,
            unit=UNIT,
            per=depth,
            reps=opts.light,
            check=expect(depth),
            note="value = increment(value), depth times: the floor",
        ),
        Bench(
            case,
            "dask threaded get, graph dict",
            dask_graph,
            kind=PEER,
            unit=UNIT,
            per=depth,
            reps=opts.light if depth <= 10_000 else opts.heavy,
            setup=build_graph_dict,
            warmup=0,
            check=expect(depth),
            note="{'o1': (increment, 'o0'), ...} built once, outside the timing",
        ),
    ]
    if depth <= DELAYED_MAX:

        def dask_delayed() -> Any:
            import dask

            return dask.compute(state["delayed"], scheduler="threads")[0]

        benches.append(
            Bench(
                case,
                "dask.delayed chain, threads",
                dask_delayed,
                kind=PEER,
                unit=UNIT,
                per=depth,
                reps=opts.light if depth <= 1_000 else opts.heavy,
                setup=lambda: state.update(delayed=_build_delayed(depth, state)),
                warmup=0,
                check=expect(depth),
                note="built once outside the timing; see its building row",
            )
        )
    if depth == depths(opts)[0]:
        # Building a pipefunc Pipeline takes seconds per thousand functions: smallest only.

        def pipeline() -> Any:
            if "pipeline" not in state:
                state["pipeline"] = _build_pipefunc(depth, state)
            return state["pipeline"]

        def pipefunc_map() -> Any:
            result = state["pipeline"].map(
                {"o0": 0}, parallel=False, storage="dict", show_progress=False
            )
            return result[f"o{depth - 1}"].output

        benches += [
            Bench(
                case,
                "pipefunc Pipeline call, sequential",
                lambda: state["pipeline"](f"o{depth - 1}", o0=0),
                kind=PEER,
                unit=UNIT,
                per=depth,
                reps=opts.light,
                setup=pipeline,
                check=expect(depth),
                note="pipeline(output, o0=0); built once outside the timing",
                limits=(RecursionError,),
            ),
            Bench(
                case,
                "pipefunc Pipeline.map, sequential",
                pipefunc_map,
                kind=PEER,
                unit=UNIT,
                per=depth,
                reps=opts.light,
                setup=pipeline,
                check=expect(depth),
                note="parallel=False; the same Pipeline object",
            ),
        ]
    return benches, state


def _build_delayed(depth: int, state: dict[str, Any]) -> Any:
    import dask

    begin = time.perf_counter()
    value: Any = 0
    for _ in range(depth - 1):
        value = dask.delayed(work.increment, pure=False)(value)
    state["built dask.delayed chain"] = time.perf_counter() - begin
    return value


def _build_pipefunc(depth: int, state: dict[str, Any]) -> Any:
    from pipefunc import Pipeline, pipefunc

    begin = time.perf_counter()
    functions: list[Any] = [
        pipefunc(output_name=f"o{number}", renames={"value": f"o{number - 1}"})(work.increment)
        for number in range(1, depth)
    ]
    pipeline = Pipeline(functions)
    state["built pipefunc Pipeline"] = time.perf_counter() - begin
    return pipeline


def measure_chain(argument: str, opts: Options) -> Section:
    """Child side: nolead first (clean heap), then the peers, depth by depth."""
    section = Section("chain")
    for depth in depths(opts):
        for row in nolead_rows(depth, opts):
            section.add(row)
    for depth in depths(opts):
        benches, state = peer_benches(depth, opts)
        for bench in benches:
            built = {k for k in state if k.startswith("built ")}
            section.bench(bench)
            for label, seconds in list(state.items()):
                if label.startswith("built ") and label not in built:
                    section.add(
                        make_row(
                            bench.case,
                            label.removeprefix("built ") + " (building)",
                            [seconds * 1e6 / depth],
                            UNIT,
                            kind=REFERENCE,
                            note="timed once (construction cost grows faster than linearly)",
                        )
                    )
    return section


def profile_chain(argument: str, key: str, opts: Options) -> dict[str, Any]:
    """Profile nolead on one depth: a first run, or a run after reset."""
    from nolead import reset_pipeline, run_task

    case, system = (part.strip() for part in key.split("|", 1))
    depth = next(d for d in depths(opts) if case_name(d) == case)
    state: dict[str, Any] = {}
    bench = Bench(
        case,
        system,
        lambda: run_task(state["last"]),
        setup=lambda: state.update(last=define_chain(depth)),
        before_each=reset_pipeline,
        warmup=1 if system == AFTER_RESET else 0,
    )
    return profile_call(bench)


def evaluate_chain(
    rows: list[dict[str, Any]], extra: dict[str, Any], opts: Options
) -> list[dict[str, Any]]:
    """Targets: completes; <= 10 µs per link; per link at the deepest <= 1.5x the shallowest."""
    checks = []
    measured = depths(opts)
    for depth in measured:
        case = case_name(depth)
        row = find_row(rows, case, AFTER_RESET)
        first = find_row(rows, case, FIRST_RUN)
        ok = row is not None and not row["error"] and first is not None and not first["error"]
        checks.append(
            check(
                case,
                AFTER_RESET,
                "completes (no recursion error, right result) on every run",
                "completed" if ok else f"failed: {row and row['error']}",
                ok if row is not None else None,
                short="completes",
            )
        )
        value = median_of(row)
        if value is not None:
            checks.append(
                check(
                    case,
                    AFTER_RESET,
                    f"<= {PER_LINK_LIMIT:.0f} {US} per link (run after reset)",
                    f"{value:.2f} {UNIT}; first run {median_of(first) or 0:.2f} {UNIT}",
                    value <= PER_LINK_LIMIT,
                    margin=over(value, PER_LINK_LIMIT),
                    profile=f"{case} | {AFTER_RESET}",
                    short=f"<=10{US}",
                )
            )
    small, large = measured[0], measured[-1]
    low = median_of(find_row(rows, case_name(small), AFTER_RESET))
    high = median_of(find_row(rows, case_name(large), AFTER_RESET))
    if low and high:
        growth = high / low
        low_first = median_of(find_row(rows, case_name(small), FIRST_RUN))
        high_first = median_of(find_row(rows, case_name(large), FIRST_RUN))
        first_growth = f"{high_first / low_first:.2f}" if low_first and high_first else "-"
        checks.append(
            check(
                case_name(large),
                AFTER_RESET,
                f"per-link cost at {large:,} within {GROWTH_LIMIT}x of {small:,}",
                f"{high:.2f} / {low:.2f} = {growth:.2f}x (first runs: {first_growth}x)",
                growth <= GROWTH_LIMIT,
                margin=over(growth, GROWTH_LIMIT),
                profile=f"{case_name(large)} | {AFTER_RESET}",
                short=f"<={GROWTH_LIMIT}x of {small:,}",
            )
        )
    return checks


WORKLOAD = Workload(
    id="chain",
    title="chain: each task uses() the previous one",
    about=(
        "Per-link cost of a linear chain of uses() calls, 1,000 to 100,000 deep: does it "
        "complete, and does the cost per link stay flat as the chain grows?"
    ),
    children=lambda opts: ["chain"],
    measure=measure_chain,
    evaluate=evaluate_chain,
    profile=profile_chain,
)
