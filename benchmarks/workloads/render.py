"""Rendering: the graph of a 1,000- and a 10,000-task pipeline as text, DOT and Mermaid.

The pipeline is a layered DAG: layers of 99 tasks, each ``uses()`` two tasks of the layer
above, plus one task per layer that runs its whole layer with ``parallel()``; it is run
once (serial executor) so that the graph holds edges seen in the code and at run time,
parallel groups and cached results.  Each size runs in its own interpreter, so the
registry holds just that pipeline.

``build_graph()`` (the snapshot renderers receive) is timed on its own, then each
renderer on the same snapshot (``renderer_info(name).renderer(graph)``: no file is
written).  Linearity is judged on the time per task, 10,000 against 1,000.  A renderer
that is not registered (Mermaid, until it lands) shows as n/a.  There is no peer: the
others draw graphs through Graphviz or matplotlib, which would be timed instead.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.harness import (
    US,
    Bench,
    Options,
    Section,
    Workload,
    check,
    find_row,
    log,
    make_row,
    median_of,
    over,
    profile_from,
)

WIDTH = 99  # tasks per layer that use the layer above; +1 parallel() task per layer
RENDERERS = ("text", "dot", "mermaid")
BUILD = "nolead build_graph()"
LIMIT_S = 1.0
LINEAR = 1.5  # per-task time at the large size within 1.5x of the small one


def sizes(opts: Options) -> tuple[int, ...]:
    """Graph sizes (tasks) for this mode."""
    return opts.pick((200, 1_000), (1_000, 10_000))


def case_name(tasks: int) -> str:
    """The case label of a graph of ``tasks`` tasks."""
    return f"{tasks:,} tasks"


def renderer_label(name: str) -> str:
    """The row label of a renderer."""
    return f"nolead render {name}"


def build_pipeline(tasks: int) -> int:
    """Define and run the layered pipeline; return the number of tasks defined."""
    from nolead import Task, configure, parallel, run_task, uses

    layers = max(1, tasks // (WIDTH + 1))

    def node(layer: int, index: int, above: list[Any]) -> Any:
        if not above:

            @Task(name=f"L{layer}:n{index}")
            def source() -> int:
                return index

            return source
        left, right = above[index], above[(index + 1) % len(above)]

        @Task(name=f"L{layer}:n{index}")
        def combine() -> int:
            return uses(left) + uses(right)

        return combine

    def gather(layer: int, members: list[Any]) -> Any:
        @Task(name=f"L{layer}:all")
        def run_layer() -> int:
            return len(parallel(members))

        return run_layer

    above: list[Any] = []
    gatherers = []
    for layer in range(layers):
        current = [node(layer, index, above) for index in range(WIDTH)]
        gatherers.append(gather(layer, current))
        above = current
    configure(executor="serial")
    for task in gatherers:
        run_task(task)
    return layers * (WIDTH + 1)


def benches(tasks: int, opts: Options) -> list[Bench]:
    """``build_graph()`` and each registered renderer on the same snapshot."""
    from nolead import build_graph
    from nolead.errors import UnknownRendererError
    from nolead.plugins import renderer_info

    case = case_name(tasks)
    state: dict[str, Any] = {}

    def snapshot() -> None:
        state["graph"] = build_graph()

    found = [
        Bench(
            case,
            BUILD,
            build_graph,
            unit="ms",
            reps=opts.light,
            note="the snapshot renderers receive",
        )
    ]
    for name in RENDERERS:
        try:
            render = renderer_info(name).renderer
        except UnknownRendererError:
            continue

        def run(render: Any = render) -> Any:
            return render(state["graph"])

        found.append(
            Bench(
                case,
                renderer_label(name),
                run,
                unit="ms",
                reps=opts.light,
                setup=snapshot,
                note="renderer only, on the snapshot above; no file written",
            )
        )
    return found


def measure_render(argument: str, opts: Options) -> Section:
    """Child side: one graph size (the argument is ``render:TASKS``)."""
    from nolead.errors import UnknownRendererError
    from nolead.plugins import renderer_info

    tasks = int(argument.split(":", 1)[1])
    section = Section("render")
    begin = time.perf_counter()
    defined = build_pipeline(tasks)
    log(f"    built and ran a {defined:,}-task pipeline ({time.perf_counter() - begin:.1f} s)")
    section.extra["tasks"] = defined
    for bench in benches(tasks, opts):
        row = section.bench(bench)
        if bench.system != BUILD and not row["error"]:
            output = bench.run()
            row.setdefault("extra", {})["output_chars"] = len(output)
    for name in RENDERERS:
        try:
            renderer_info(name)
        except UnknownRendererError:
            section.add(
                make_row(
                    case_name(tasks),
                    renderer_label(name),
                    [],
                    "ms",
                    note="n/a: no renderer registered under this name (yet)",
                )
            )
    return section


def profile_render(argument: str, key: str, opts: Options) -> dict[str, Any]:
    """Profile ``build_graph()`` or one renderer on one size."""
    tasks = int(argument.split(":", 1)[1])
    build_pipeline(tasks)
    return profile_from(benches(tasks, opts), key)


def evaluate_render(
    rows: list[dict[str, Any]], extra: dict[str, Any], opts: Options
) -> list[dict[str, Any]]:
    """Targets: each renderer <= 1 s at the large size, and linear (per task, large/small)."""
    small, large = sizes(opts)
    checks = []
    for system in (*(renderer_label(n) for n in RENDERERS), BUILD):
        extra_note = " (build_graph: reported beside the renderers)" if system == BUILD else ""
        low_row = find_row(rows, case_name(small), system)
        high_row = find_row(rows, case_name(large), system)
        low, high = median_of(low_row), median_of(high_row)
        case = case_name(large)
        if high is None:
            reason = (high_row or {}).get("note") or (high_row or {}).get("error") or "missing"
            checks.append(check(case, system, f"<= {LIMIT_S:.0f} s", reason, None, short="<=1s"))
            continue
        checks.append(
            check(
                case,
                system,
                f"<= {LIMIT_S:.0f} s for {large:,} tasks{extra_note}",
                f"{high:.1f} ms",
                high <= LIMIT_S * 1e3,
                margin=over(high, LIMIT_S * 1e3),
                profile=f"{case} | {system}",
                short="<=1s",
            )
        )
        if low is None:
            continue
        growth = (high / large) / (low / small)
        checks.append(
            check(
                case,
                system,
                f"linear: per-task time at {large:,} within {LINEAR}x of {small:,}",
                f"{high / large * 1e3:.2f} vs {low / small * 1e3:.2f} {US}/task "
                f"(ratio {growth:.2f})",
                growth <= LINEAR,
                margin=over(growth, LINEAR),
                profile=f"{case} | {system}",
                short="linear",
            )
        )
    return checks


WORKLOAD = Workload(
    id="render",
    title="rendering text, DOT and Mermaid for 1,000 and 10,000 tasks",
    about="build_graph() and each renderer's time, and how it grows with the graph.",
    children=lambda opts: [f"render:{size}" for size in sizes(opts)],
    measure=measure_render,
    evaluate=evaluate_render,
    profile=profile_render,
)
