"""Static discovery: edges found in task code before anything runs, and what runs ahead."""

from __future__ import annotations

import threading
import types
from typing import Any

import nolead
from nolead import Edge, PipelineGraph, Task, parallel, run_parallel, run_task, uses


def _graph(*names: str) -> PipelineGraph:
    return nolead.build_graph(include_tasks=list(names))


def _find(graph: PipelineGraph, upstream: str, downstream: str) -> list[Edge]:
    return [e for e in graph.edges if e.upstream == upstream and e.downstream == downstream]


def _only(graph: PipelineGraph, upstream: str, downstream: str) -> Edge:
    edges = _find(graph, upstream, downstream)
    assert len(edges) == 1, (upstream, downstream, graph.edges)
    return edges[0]


class _Log:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[str] = []

    def add(self, event: str) -> None:
        with self.lock:
            self.events.append(event)


def test_uses_of_a_function_is_a_static_edge() -> None:
    """``uses(fn)`` is an edge before any run, with empty params."""
    log = _Log()

    @Task(name="ds_fn_up")
    def up() -> int:
        log.add("up")
        return 1

    @Task(name="ds_fn_down")
    def down() -> int:
        log.add("down")
        return uses(up)

    graph = _graph("ds_fn_up", "ds_fn_down")
    assert graph.tasks == ("ds_fn_up", "ds_fn_down")
    edge = _only(graph, "ds_fn_up", "ds_fn_down")
    assert edge.static is True
    assert edge.observed is False
    assert edge.parallel is False
    assert edge.params == {}
    assert log.events == []  # building the graph ran nothing


def test_uses_of_a_literal_name_is_a_static_edge() -> None:
    """``uses("name")`` resolves the literal to the registered task."""

    @Task(name="ds lit up")
    def up() -> int:
        return 1

    @Task(name="ds_lit_down")
    def down() -> int:
        return uses("ds lit up")

    edge = _only(_graph("ds lit up", "ds_lit_down"), "ds lit up", "ds_lit_down")
    assert edge.static and not edge.observed


def test_literal_name_registered_later_is_found() -> None:
    """A literal naming a task defined after the user is resolved once it exists."""

    @Task(name="ds_late_down")
    def down() -> int:
        return uses("ds_late_up")

    assert _graph("ds_late_down").edges == ()

    @Task(name="ds_late_up")
    def up() -> int:
        return 2

    assert _only(_graph("ds_late_up", "ds_late_down"), "ds_late_up", "ds_late_down").static


def test_uses_of_a_module_attribute_is_a_static_edge() -> None:
    """``uses(module.fn)`` is resolved through the module object."""

    @Task(name="ds_mod_up")
    def up() -> int:
        return 3

    module = types.ModuleType("ds_fake_module")
    module.up = up  # type: ignore[attr-defined]

    @Task(name="ds_mod_down")
    def down() -> int:
        return uses(module.up)

    @Task(name="ds_mod_down_nolead")
    def down_prefixed() -> int:
        return nolead.uses(module.up) + 1

    graph = _graph("ds_mod_up", "ds_mod_down", "ds_mod_down_nolead")
    assert _only(graph, "ds_mod_up", "ds_mod_down").static
    assert _only(graph, "ds_mod_up", "ds_mod_down_nolead").static
    assert run_task(down_prefixed) == 4


def _closure_factory(upstream: Any, name: str) -> Any:
    @Task(name=name)
    def user() -> int:
        return uses(upstream) * 2

    return user


def test_closure_variables_are_resolved() -> None:
    """A task made by a factory resolves the upstream held in its closure."""

    @Task(name="ds_clo_up_a")
    def up_a() -> int:
        return 1

    @Task(name="ds_clo_up_b")
    def up_b() -> int:
        return 2

    _closure_factory(up_a, "ds_clo_user_a")
    _closure_factory(up_b, "ds_clo_user_b")
    graph = _graph("ds_clo_up_a", "ds_clo_up_b", "ds_clo_user_a", "ds_clo_user_b")
    pairs = {(e.upstream, e.downstream) for e in graph.edges}
    assert pairs == {("ds_clo_up_a", "ds_clo_user_a"), ("ds_clo_up_b", "ds_clo_user_b")}


def test_parallel_call_gives_parallel_edges_and_a_group() -> None:
    """``parallel([a, b])`` makes parallel edges to the caller and a ``ParallelGroup``."""

    @Task(name="ds_par_a")
    def a() -> int:
        return 1

    @Task(name="ds_par_b")
    def b() -> int:
        return 2

    @Task(name="ds_par_caller")
    def caller() -> int:
        return sum(parallel([a, "ds_par_b"]).values())

    graph = _graph("ds_par_a", "ds_par_b", "ds_par_caller")
    for member in ("ds_par_a", "ds_par_b"):
        edge = _only(graph, member, "ds_par_caller")
        assert edge.parallel is True
        assert edge.static is True
        assert edge.params == {}
    groups = [g for g in graph.parallel_groups if g.caller == "ds_par_caller"]
    assert len(groups) == 1
    assert tuple(groups[0]) == ("ds_par_a", "ds_par_b")
    assert groups[0].static is True
    assert graph.in_parallel_group("ds_par_a")
    assert not graph.in_parallel_group("ds_par_caller")


def test_run_parallel_with_literal_params() -> None:
    """``run_parallel([a, b], x=1)`` edges carry the literal parameters."""

    @Task(name="ds_rp_a")
    def a(x: int = 0) -> int:
        return x

    @Task(name="ds_rp_b")
    def b(x: int = 0) -> int:
        return -x

    @Task(name="ds_rp_caller")
    def caller() -> int:
        return sum(run_parallel([a, b], x=1).values())

    graph = _graph("ds_rp_a", "ds_rp_b", "ds_rp_caller")
    for member in ("ds_rp_a", "ds_rp_b"):
        edge = _only(graph, member, "ds_rp_caller")
        assert edge.parallel is True
        assert edge.params == {"x": 1}
        assert edge.label == "x=1"


def test_literal_params_are_shown_and_non_literal_params_are_unknown() -> None:
    """Literal keyword arguments are read; anything else gives ``params is None``."""

    @Task(name="ds_params_up")
    def up(x: Any = 0, tag: str = "") -> Any:
        return x

    @Task(name="ds_params_literal")
    def literal() -> Any:
        return uses(up, x=[1, 2], tag="t")

    @Task(name="ds_params_computed")
    def computed() -> Any:
        value = 40 + 2
        return uses(up, x=value)

    graph = _graph("ds_params_up", "ds_params_literal", "ds_params_computed")
    assert _only(graph, "ds_params_up", "ds_params_literal").params == {"x": [1, 2], "tag": "t"}
    unknown = _only(graph, "ds_params_up", "ds_params_computed")
    assert unknown.params is None
    assert unknown.label == ""
    assert unknown.static and not unknown.observed


def test_run_time_only_edges_appear_after_running() -> None:
    """``uses(name_var)`` is not visible statically, and is observed after a run."""

    @Task(name="ds_rt_up")
    def up() -> int:
        return 5

    @Task(name="ds_rt_down")
    def down() -> int:
        name = "ds_rt_" + "up"
        return uses(name)

    assert _find(_graph("ds_rt_up", "ds_rt_down"), "ds_rt_up", "ds_rt_down") == []
    assert run_task(down) == 5
    edge = _only(_graph("ds_rt_up", "ds_rt_down"), "ds_rt_up", "ds_rt_down")
    assert edge.observed is True
    assert edge.static is False


def test_static_edge_later_observed_is_both() -> None:
    """A static edge seen at run time is ``static=True, observed=True`` (one edge)."""

    @Task(name="ds_both_up")
    def up() -> int:
        return 1

    @Task(name="ds_both_down")
    def down() -> int:
        return uses(up) + 1

    before = _only(_graph("ds_both_up", "ds_both_down"), "ds_both_up", "ds_both_down")
    assert (before.static, before.observed) == (True, False)
    run_task(down)
    after = _only(_graph("ds_both_up", "ds_both_down"), "ds_both_up", "ds_both_down")
    assert (after.static, after.observed) == (True, True)
    nolead.reset_pipeline()  # what was observed describes the code: it stays
    kept = _only(_graph("ds_both_up", "ds_both_down"), "ds_both_up", "ds_both_down")
    assert (kept.static, kept.observed) == (True, True)


def test_conditional_uses_is_static_but_not_run_ahead() -> None:
    """A ``uses()`` inside a false ``if`` is drawn, but its upstream never runs."""
    log = _Log()
    enabled = False

    @Task(name="ds_cond_up")
    def up() -> int:
        log.add("up")
        return 1

    @Task(name="ds_cond_down")
    def down() -> int:
        log.add("down")
        if enabled:
            return uses(up)
        return 0

    edge = _only(_graph("ds_cond_up", "ds_cond_down"), "ds_cond_up", "ds_cond_down")
    assert edge.static and not edge.observed
    assert run_task(down) == 0
    assert log.events == ["down"]
    nolead.reset_pipeline()
    assert run_task(down) == 0
    assert log.events == ["down", "down"]


def test_other_conditional_positions_are_not_run_ahead() -> None:
    """Loops, ``try``/``except``, ternaries, ``and``/``or`` and code after a return."""
    log = _Log()

    def upstream(name: str) -> Any:
        @Task(name=name)
        def task() -> int:
            log.add(name)
            return 1

        return task

    in_loop = upstream("ds_pos_loop")
    in_except = upstream("ds_pos_except")
    in_ternary = upstream("ds_pos_ternary")
    in_bool = upstream("ds_pos_bool")
    after_return = upstream("ds_pos_after")
    items: list[int] = []
    flag = False

    @Task(name="ds_pos_down")
    def down() -> int:
        log.add("down")
        total = 0
        for _ in items:
            total += uses(in_loop)
        try:
            total += 1
        except ValueError:
            total += uses(in_except)
        total += uses(in_ternary) if flag else 0
        total += flag and uses(in_bool)
        if not flag:
            return total
        return uses(after_return)

    names = ["ds_pos_loop", "ds_pos_except", "ds_pos_ternary", "ds_pos_bool", "ds_pos_after"]
    graph = _graph(*names, "ds_pos_down")
    for name in names:
        assert _only(graph, name, "ds_pos_down").static
    assert run_task(down) == 1
    assert log.events == ["down"]


def test_unconditional_static_dependencies_run_before_the_body() -> None:
    """Known unconditional upstreams finish before the downstream body starts."""
    log = _Log()

    @Task(name="ds_first_a")
    def a() -> int:
        log.add("a")
        return 1

    @Task(name="ds_first_b")
    def b() -> int:
        log.add("b")
        return uses(a) + 1

    @Task(name="ds_first_c")
    def c() -> int:
        log.add("c start")
        value = uses(b) + uses("ds_first_a")
        log.add("c end")
        return value

    assert run_task(c) == 3
    assert log.events == ["a", "b", "c start", "c end"]


def test_observed_dependencies_run_first_on_the_next_run() -> None:
    """An edge learnt at run time makes the upstream run ahead on the next run."""
    log = _Log()

    @Task(name="ds_learn_up")
    def up() -> int:
        log.add("up")
        return 1

    @Task(name="ds_learn_down")
    def down() -> int:
        log.add("down start")
        return uses("ds_learn_" + "up")

    run_task(down)
    assert log.events == ["down start", "up"]
    nolead.reset_pipeline()
    log.events.clear()
    run_task(down)
    assert log.events == ["up", "down start"]


def test_discovery_before_any_run_for_a_parallel_pipeline() -> None:
    """The seed's pipeline is fully drawn before it ever runs."""

    @Task(name="ds_seed_load")
    def load() -> list[int]:
        return [1, 2, 3]

    @Task(name="ds_seed_p1")
    def p1() -> int:
        return sum(uses(load))

    @Task(name="ds_seed_p2")
    def p2() -> int:
        return len(uses(load))

    @Task(name="ds_seed_final")
    def final() -> dict[str, Any]:
        return parallel([p1, p2])

    names = ("ds_seed_load", "ds_seed_p1", "ds_seed_p2", "ds_seed_final")
    graph = _graph(*names)
    pairs = {(e.upstream, e.downstream, e.parallel) for e in graph.edges}
    assert pairs == {
        ("ds_seed_load", "ds_seed_p1", False),
        ("ds_seed_load", "ds_seed_p2", False),
        ("ds_seed_p1", "ds_seed_final", True),
        ("ds_seed_p2", "ds_seed_final", True),
    }
    assert all(e.static and not e.observed for e in graph.edges)


_SHADOW_LOG = _Log()


@Task(name="ds_shadow_global")
def ds_shadow_global() -> str:
    _SHADOW_LOG.add("global")
    return "global"


@Task(name="ds_shadow_other")
def ds_shadow_other() -> str:
    _SHADOW_LOG.add("other")
    return "other"


def test_local_variable_shadowing_a_task_is_not_that_task() -> None:
    """A local name that hides a global task is not resolved to the global task."""
    _SHADOW_LOG.events.clear()

    @Task(name="ds_shadow_local_user")
    def user() -> str:
        ds_shadow_global = ds_shadow_other
        return uses(ds_shadow_global)

    graph = _graph("ds_shadow_global", "ds_shadow_other", "ds_shadow_local_user")
    assert _find(graph, "ds_shadow_global", "ds_shadow_local_user") == []
    assert run_task(user) == "other"
    assert _SHADOW_LOG.events == ["other"]  # the global task was not run ahead


def test_parameter_shadowing_a_task_is_not_that_task() -> None:
    """A parameter named like a global task refers to the argument, not the task."""
    _SHADOW_LOG.events.clear()

    @Task(name="ds_shadow_param_user")
    def user(ds_shadow_global: str = "ds_shadow_other") -> str:
        return uses(ds_shadow_global)

    graph = _graph("ds_shadow_global", "ds_shadow_other", "ds_shadow_param_user")
    assert _find(graph, "ds_shadow_global", "ds_shadow_param_user") == []
    assert run_task(user) == "other"
    assert _SHADOW_LOG.events == ["other"]
