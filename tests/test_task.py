"""The ``@Task()`` decorator: naming, referring to tasks, direct calls, re-registration."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import nolead
from nolead import Task, parallel, reset_pipeline, run_parallel, run_task, uses


def _observed_edges(*names: str) -> set[tuple[str, str]]:
    """Return ``(upstream, downstream)`` of the observed edges among ``names``."""
    graph = nolead.build_graph(include_tasks=list(names))
    return {(edge.upstream, edge.downstream) for edge in graph.edges if edge.observed}


def test_task_is_named_after_the_function() -> None:
    """``@Task()`` registers the function under its ``__name__``."""

    @Task()
    def tk_plain_name() -> str:
        """Docstring kept."""
        return "plain"

    assert run_task("tk_plain_name") == "plain"
    assert parallel([tk_plain_name]) == {"tk_plain_name": "plain"}
    assert tk_plain_name.__name__ == "tk_plain_name"
    assert tk_plain_name.__doc__ == "Docstring kept."


def test_task_with_explicit_name() -> None:
    """``@Task(name=...)`` registers under that name, not the function's."""

    @Task(name="tk-explicit name")
    def tk_function_name() -> int:
        return 7

    assert run_task("tk-explicit name") == 7
    assert run_task(tk_function_name) == 7
    assert parallel([tk_function_name]) == {"tk-explicit name": 7}
    with pytest.raises(nolead.UnknownTaskError):
        run_task("tk_function_name")


def test_referring_by_function_or_name_shares_the_cached_result() -> None:
    """``run_task``/``uses`` by function and by name hit the same cache entry."""
    runs: list[int] = []

    @Task(name="tk_ref_base")
    def base(x: int = 1) -> int:
        runs.append(x)
        return x * 10

    @Task(name="tk_ref_by_fn")
    def by_fn() -> int:
        return uses(base) + uses(base, x=2)

    @Task(name="tk_ref_by_name")
    def by_name() -> int:
        return uses("tk_ref_base") + uses("tk_ref_base", x=2)

    assert run_task(by_fn) == 30
    assert run_task("tk_ref_by_name") == 30
    assert run_task("tk_ref_base") == 10
    assert run_task(base, x=2) == 20
    assert sorted(runs) == [1, 2]


def test_parallel_and_run_parallel_accept_functions_and_names_mixed() -> None:
    """A parallel list may mix task functions and names; results are keyed by name."""

    @Task(name="tk_mix_a")
    def a(k: int = 0) -> str:
        return f"a{k}"

    @Task(name="tk_mix_b")
    def b(k: int = 0) -> str:
        return f"b{k}"

    assert parallel([a, "tk_mix_b"]) == {"tk_mix_a": "a0", "tk_mix_b": "b0"}
    assert run_parallel(["tk_mix_a", b], k=3) == {"tk_mix_a": "a3", "tk_mix_b": "b3"}


def test_print_task_info_and_include_tasks_accept_functions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``print_task_info`` and ``include_tasks`` work with a function as well as a name."""

    @Task(name="tk_info_up")
    def up() -> int:
        return 1

    @Task(name="tk_info_down")
    def down() -> int:
        return uses(up) + 1

    @Task(name="tk_info_other")
    def other() -> int:
        return 0

    nolead.print_task_info(down)  # type: ignore[arg-type]
    by_function = capsys.readouterr().out
    nolead.print_task_info("tk_info_down")
    by_name = capsys.readouterr().out
    assert by_function == by_name
    assert "tk_info_down" in by_name
    assert "tk_info_up" in by_name

    out = tmp_path / "g.txt"
    nolead.generate_dependency_graph(out, include_tasks=[up, down])  # type: ignore[list-item]
    text = out.read_text(encoding="utf-8")
    assert "tk_info_up" in text
    assert "tk_info_down" in text
    assert "tk_info_other" not in text
    graph = nolead.build_graph(include_tasks=[down, "tk_info_up"])  # type: ignore[list-item]
    assert set(graph.tasks) == {"tk_info_up", "tk_info_down"}


def test_direct_call_runs_the_body_every_time() -> None:
    """Calling a decorated function runs its body each time, even when a result is cached."""
    runs: list[int] = []

    @Task(name="tk_direct_body")
    def body(x: int = 1) -> int:
        runs.append(x)
        return x + 1

    assert run_task(body) == 2
    assert body() == 2
    assert body() == 2
    assert body(5) == 6
    assert body(x=6) == 7
    assert runs == [1, 1, 1, 5, 6]


def test_direct_call_supports_uses_inside() -> None:
    """``uses()`` works inside a directly called task body, at top level and in threads."""
    base_runs: list[int] = []

    @Task(name="tk_direct_base")
    def base() -> int:
        base_runs.append(1)
        return 40

    @Task(name="tk_direct_user")
    def user(extra: int = 2) -> int:
        return uses(base) + uses("tk_direct_base") + extra

    assert user() == 82
    assert user(extra=0) == 80
    results: list[int] = []
    thread = threading.Thread(target=lambda: results.append(user()))
    thread.start()
    thread.join(10)
    assert results == [82]
    assert base_runs == [1]  # uses() inside the direct calls is cached as usual


def test_direct_call_from_another_task_records_a_dependency() -> None:
    """A task calling another task's function directly depends on it in the graph."""

    @Task(name="tk_called_helper")
    def helper(n: int = 1) -> int:
        return n

    @Task(name="tk_calling_task")
    def caller() -> int:
        return helper() + helper(n=2)

    assert ("tk_called_helper", "tk_calling_task") not in _observed_edges(
        "tk_called_helper", "tk_calling_task"
    )
    assert run_task(caller) == 3
    assert ("tk_called_helper", "tk_calling_task") in _observed_edges(
        "tk_called_helper", "tk_calling_task"
    )


def test_direct_call_body_runs_once_per_call_on_a_later_run() -> None:
    """A direct call recorded as a dependency is not also run ahead of the caller later.

    Direct calls are not cached; after ``reset_pipeline()`` a second run must run the
    helper's body exactly as many times as the caller calls it, like the first run.
    """
    runs: list[str] = []

    @Task(name="tk_direct_rerun_helper")
    def helper() -> int:
        runs.append("helper")
        return 1

    @Task(name="tk_direct_rerun_caller")
    def caller() -> int:
        return helper() + helper()

    assert run_task(caller) == 2
    assert runs == ["helper", "helper"]
    reset_pipeline()
    runs.clear()
    assert run_task(caller) == 2
    assert runs == ["helper", "helper"]


def test_reregistering_a_name_replaces_the_task() -> None:
    """A new definition with the same name replaces the old one, cached result included."""

    @Task(name="tk_rereg")
    def first() -> str:
        return "first"

    assert run_task("tk_rereg") == "first"

    @Task(name="tk_rereg")
    def second() -> str:
        return "second"

    assert run_task("tk_rereg") == "second"
    assert run_task(second) == "second"
    assert parallel(["tk_rereg"]) == {"tk_rereg": "second"}
    graph = nolead.build_graph()
    assert graph.tasks.count("tk_rereg") == 1
    assert graph.task_info["tk_rereg"].function.endswith("second")


def test_reregistered_upstream_is_used_by_name() -> None:
    """A downstream task using an upstream by name picks up the replacement."""

    @Task(name="tk_rereg_up")
    def up_v1() -> int:
        return 1

    @Task(name="tk_rereg_down")
    def down() -> int:
        return uses("tk_rereg_up") * 100

    assert run_task(down) == 100
    reset_pipeline()

    @Task(name="tk_rereg_up")
    def up_v2() -> int:
        return 2

    assert run_task(down) == 200


def test_task_without_parentheses_is_an_error() -> None:
    """``@Task`` (without calling it) fails loudly instead of producing a broken task."""
    with pytest.raises(TypeError, match=r"@Task\(\)"):

        @Task  # type: ignore[arg-type]
        def tk_no_parens() -> None:
            return None


@pytest.mark.parametrize("bad_name", [3, b"name", ["x"], 1.5])
def test_task_name_must_be_a_string(bad_name: Any) -> None:
    """A non-string name is refused when the decorator is created."""
    with pytest.raises(TypeError, match="name"):
        Task(name=bad_name)


def test_task_decorates_only_callables() -> None:
    """Decorating something that is not callable is a ``TypeError``."""
    with pytest.raises(TypeError):
        Task()(42)  # type: ignore[type-var]


def test_undecorated_function_is_not_a_task() -> None:
    """Passing a plain function where a task is expected raises ``NotATaskError``."""

    def tk_plain_function() -> int:
        return 1

    with pytest.raises(nolead.NotATaskError, match="tk_plain_function"):
        run_task(tk_plain_function)
    with pytest.raises(TypeError):
        uses(tk_plain_function)
    with pytest.raises(nolead.NotATaskError):
        run_task(42)
