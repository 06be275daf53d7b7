"""Plans of runs from an empty cache are kept, and dropped when the graph changes."""

from __future__ import annotations

from typing import Any

from nolead import Task, graph, reset_pipeline, run_task, uses


def chain_of(prefix: str, length: int, log: list[str]) -> Any:
    """Define ``length`` tasks, each using the one before; return the last."""
    previous: Any = None
    for index in range(length):
        previous = link(f"{prefix}{index}", previous, log)
    return previous


def link(name: str, previous: Any, log: list[str]) -> Any:
    @Task(name=name)
    def step() -> int:
        log.append(name)
        return 0 if previous is None else uses(previous) + 1

    return step


def test_a_run_from_scratch_is_planned_once_and_reused() -> None:
    log: list[str] = []
    last = chain_of("plan_a", 5, log)
    assert run_task(last) == 4
    reset_pipeline()
    log.clear()
    assert run_task(last) == 4
    kept = graph._plans[last.__nolead_task__.key0]
    reset_pipeline()
    assert run_task(last) == 4
    assert graph._plans[last.__nolead_task__.key0] is kept  # reused, not planned again
    assert log == [f"plan_a{i}" for i in range(5)] * 2  # dependencies first, each once


def test_a_new_edge_seen_at_run_time_replans() -> None:
    log: list[str] = []
    wanted = {"extra": False}

    @Task(name="plan_b_extra")
    def extra() -> int:
        log.append("extra")
        return 10

    @Task(name="plan_b_base")
    def base() -> int:
        log.append("base")
        return 1

    @Task(name="plan_b_top")
    def top() -> int:
        log.append("top")
        total = uses(base)
        if wanted["extra"]:
            total += uses(extra)
        return total

    assert run_task(top) == 1
    reset_pipeline()
    assert run_task(top) == 1  # planned: base, then top
    wanted["extra"] = True
    reset_pipeline()
    assert run_task(top) == 11  # extra met inside top's body: a new edge
    log.clear()
    reset_pipeline()
    assert run_task(top) == 11
    # The new plan runs extra before top's body, as an observed dependency.
    assert log.index("extra") < log.index("top")
    assert sorted(log) == ["base", "extra", "top"]


def test_registering_a_task_replans() -> None:
    log: list[str] = []
    last = chain_of("plan_c", 3, log)
    run_task(last)
    reset_pipeline()
    run_task(last)
    kept = graph._plans[last.__nolead_task__.key0]
    chain_of("plan_c_other", 1, log)
    reset_pipeline()
    run_task(last)
    assert graph._plans[last.__nolead_task__.key0] is not kept


def test_cached_results_are_not_recomputed_by_a_kept_plan() -> None:
    log: list[str] = []
    last = chain_of("plan_d", 4, log)
    run_task(last)
    reset_pipeline()
    run_task(last)  # the plan of a run from scratch is now kept
    reset_pipeline()
    log.clear()
    assert run_task("plan_d1") == 1
    assert log == ["plan_d0", "plan_d1"]
    log.clear()
    assert run_task(last) == 3  # plan_d0 and plan_d1 are cached: not run again
    assert log == ["plan_d2", "plan_d3"]


def test_plans_kept_are_bounded() -> None:
    log: list[str] = []
    lasts = [chain_of(f"plan_e{n}_", 2, log) for n in range(graph._PLANS_KEPT + 10)]
    for last in lasts:
        reset_pipeline()
        run_task(last)
    for last in lasts:
        reset_pipeline()
        run_task(last)
    assert len(graph._plans) <= graph._PLANS_KEPT
