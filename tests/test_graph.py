"""The pipeline graph after running, graph files, and ``print_task_info``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import nolead
from nolead import (
    PipelineGraph,
    Task,
    UnknownRendererError,
    UnknownTaskError,
    generate_dependency_graph,
    parallel,
    print_task_info,
    run_parallel,
    run_task,
    uses,
)

_NAMES = ("gr_load", "gr_clean", "gr_stats", "gr_plots", "gr_report", "gr_unrelated")


@pytest.fixture
def pipeline() -> dict[str, Any]:
    """A small pipeline with plain, parameterised and parallel dependencies."""

    @Task(name="gr_load")
    def load(source: str = "db") -> list[int]:
        """Load the raw numbers."""
        return [1, 2, 3]

    @Task(name="gr_clean")
    def clean() -> list[int]:
        return [x * 2 for x in uses(load)]

    @Task(name="gr_stats")
    def stats(scale: int = 1) -> int:
        return sum(uses(clean)) * scale

    @Task(name="gr_plots")
    def plots(scale: int = 1) -> str:
        return f"plot{len(uses(clean)) * scale}"

    @Task(name="gr_report")
    def report() -> dict[str, Any]:
        return run_parallel([stats, plots], scale=2)

    @Task(name="gr_unrelated")
    def unrelated() -> int:
        return 0

    return {"load": load, "clean": clean, "report": report}


def _graph() -> PipelineGraph:
    return nolead.build_graph(include_tasks=list(_NAMES))


def _pairs(graph: PipelineGraph) -> set[tuple[str, str, bool]]:
    return {(e.upstream, e.downstream, e.parallel) for e in graph.edges}


def test_graph_lists_tasks_edges_and_groups(pipeline: dict[str, Any]) -> None:
    """The snapshot holds tasks in registration order, edges and the parallel group."""
    graph = _graph()
    assert graph.tasks == _NAMES
    assert _pairs(graph) == {
        ("gr_load", "gr_clean", False),
        ("gr_clean", "gr_stats", False),
        ("gr_clean", "gr_plots", False),
        ("gr_stats", "gr_report", True),
        ("gr_plots", "gr_report", True),
    }
    groups = [g for g in graph.parallel_groups if g.caller == "gr_report"]
    assert [tuple(g) for g in groups] == [("gr_stats", "gr_plots")]
    assert graph.task_info["gr_load"].doc == "Load the raw numbers."
    assert graph.task_info["gr_load"].signature.startswith("(source: str = 'db')")


def test_edges_after_running_show_the_params_passed(pipeline: dict[str, Any]) -> None:
    """After a run, edges are observed and carry the parameters passed along them."""
    assert run_task(pipeline["report"]) == {"gr_stats": 24, "gr_plots": "plot6"}
    graph = _graph()
    for member in ("gr_stats", "gr_plots"):
        edges = graph.dependencies("gr_report")
        (edge,) = [e for e in edges if e.upstream == member]
        assert edge.params == {"scale": 2}
        assert edge.parallel and edge.static and edge.observed
    (clean_edge,) = [e for e in graph.dependencies("gr_clean") if e.upstream == "gr_load"]
    assert clean_edge.params == {}
    assert clean_edge.static and clean_edge.observed
    assert graph.task_info["gr_stats"].cached_results == 1
    assert graph.task_info["gr_unrelated"].cached_results == 0


def test_run_time_params_replace_unknown_static_params() -> None:
    """A static edge with unreadable params shows the params passed once it has run."""

    @Task(name="gr_rt_up")
    def up(n: int = 0) -> int:
        return n

    @Task(name="gr_rt_down")
    def down() -> int:
        count = len("abc")
        return uses(up, n=count)

    before = nolead.build_graph(["gr_rt_up", "gr_rt_down"]).edges
    assert [(e.params, e.static, e.observed) for e in before] == [(None, True, False)]
    assert run_task(down) == 3
    after = nolead.build_graph(["gr_rt_up", "gr_rt_down"]).edges
    assert [(e.params, e.static, e.observed) for e in after] == [({"n": 3}, True, True)]
    assert after[0].label == "n=3"


def test_one_edge_per_parameter_set() -> None:
    """Using an upstream with two parameter sets gives two edges."""

    @Task(name="gr_multi_up")
    def up(n: int = 0) -> int:
        return n

    @Task(name="gr_multi_down")
    def down() -> int:
        return sum(uses(up, n=k) for k in (1, 2))

    run_task(down)
    edges = nolead.build_graph(["gr_multi_up", "gr_multi_down"]).edges
    observed = sorted(e.label for e in edges if e.observed)
    assert observed == ["n=1", "n=2"]


def test_parallel_outside_any_task_is_a_group_without_caller() -> None:
    """``parallel()`` at top level records a group whose caller is ``None``."""

    @Task(name="gr_top_a")
    def a() -> int:
        return 1

    @Task(name="gr_top_b")
    def b() -> int:
        return 2

    parallel([a, b])
    graph = nolead.build_graph(["gr_top_a", "gr_top_b"])
    assert graph.edges == ()
    assert any(
        tuple(g) == ("gr_top_a", "gr_top_b") and g.caller is None for g in graph.parallel_groups
    )


# ------------------------------------------------------------------------- graph files


@pytest.mark.parametrize(
    ("filename", "kind"),
    [
        ("graph.txt", "text"),
        ("graph.TXT", "text"),
        ("graph.dot", "dot"),
        ("graph.gv", "dot"),
        ("graph.unknownsuffix", "dot"),
        ("graph", "dot"),
    ],
)
def test_format_follows_the_suffix(
    pipeline: dict[str, Any], tmp_path: Path, filename: str, kind: str
) -> None:
    """``.txt`` gives text, ``.dot``/``.gv`` and anything else give DOT."""
    path = tmp_path / filename
    returned = generate_dependency_graph(path, include_tasks=list(_NAMES))
    assert Path(returned) == path
    content = path.read_text(encoding="utf-8")
    if kind == "text":
        assert content.startswith("Pipeline Dependency Graph")
        assert "digraph" not in content
    else:
        assert "digraph" in content
        assert "Pipeline Dependency Graph\n===" not in content
    assert "gr_report" in content


def test_output_format_wins_over_the_suffix(pipeline: dict[str, Any], tmp_path: Path) -> None:
    """An explicit ``output_format`` is used whatever the suffix says."""
    as_text = tmp_path / "graph.dot"
    generate_dependency_graph(as_text, include_tasks=list(_NAMES), output_format="text")
    assert as_text.read_text(encoding="utf-8").startswith("Pipeline Dependency Graph")
    as_dot = tmp_path / "graph.txt"
    generate_dependency_graph(as_dot, include_tasks=list(_NAMES), output_format="dot")
    assert "digraph" in as_dot.read_text(encoding="utf-8")


def test_unknown_format_is_refused(pipeline: dict[str, Any], tmp_path: Path) -> None:
    """An unknown ``output_format`` raises ``UnknownRendererError`` and writes nothing."""
    path = tmp_path / "graph.out"
    with pytest.raises(UnknownRendererError) as info:
        generate_dependency_graph(path, output_format="no-such-format")
    assert "no-such-format" in str(info.value)
    assert "dot" in str(info.value)
    assert "text" in str(info.value)
    assert not path.exists()


def test_default_output_file_is_dot(
    pipeline: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without arguments the graph goes to ``pipeline_graph.dot`` in DOT."""
    monkeypatch.chdir(tmp_path)
    assert generate_dependency_graph(include_tasks=list(_NAMES)) == "pipeline_graph.dot"
    assert "digraph" in (tmp_path / "pipeline_graph.dot").read_text(encoding="utf-8")


@pytest.mark.parametrize("output_format", ["dot", "text"])
def test_output_is_deterministic(
    pipeline: dict[str, Any], tmp_path: Path, output_format: str
) -> None:
    """Two calls give byte-identical files, before and after running."""
    first, second = tmp_path / "one", tmp_path / "two"
    for _ in range(2):
        generate_dependency_graph(first, include_tasks=list(_NAMES), output_format=output_format)
        generate_dependency_graph(second, include_tasks=list(_NAMES), output_format=output_format)
        assert first.read_bytes() == second.read_bytes()
        run_task(pipeline["report"])
    # the whole graph (every registered task) is deterministic as well
    generate_dependency_graph(first, output_format=output_format)
    generate_dependency_graph(second, output_format=output_format)
    assert first.read_bytes() == second.read_bytes()


def test_text_output_describes_the_pipeline(pipeline: dict[str, Any], tmp_path: Path) -> None:
    """The text format lists the parallel group, marks its tasks and their dependencies."""
    run_task(pipeline["report"])
    path = tmp_path / "graph.txt"
    generate_dependency_graph(path, include_tasks=list(_NAMES))
    text = path.read_text(encoding="utf-8")
    assert "Parallel Task Groups:" in text
    assert "gr_stats, gr_plots (called by gr_report)" in text
    assert "Task: gr_stats [parallel]" in text
    assert "Task: gr_load\n  Dependencies: None" in text
    assert "    - gr_stats [parallel] (params: scale=2)" in text


def test_include_tasks_filters(pipeline: dict[str, Any], tmp_path: Path) -> None:
    """Only the included tasks, and edges between them, are drawn."""
    path = tmp_path / "graph.txt"
    generate_dependency_graph(path, include_tasks=["gr_load", "gr_clean"])
    text = path.read_text(encoding="utf-8")
    assert "Task: gr_load" in text
    assert "Task: gr_clean" in text
    for excluded in ("gr_stats", "gr_plots", "gr_report", "gr_unrelated"):
        assert excluded not in text
    graph = nolead.build_graph(include_tasks=["gr_clean", "gr_report"])
    assert graph.tasks == ("gr_clean", "gr_report")
    assert graph.edges == ()
    with pytest.raises(UnknownTaskError):
        generate_dependency_graph(path, include_tasks=["gr_no_such_task"])


# ---------------------------------------------------------------------- print_task_info


def _section(output: str, title: str) -> list[str]:
    """Return the ``  - ...`` lines under the line starting with ``title``."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    items = []
    for line in lines[start + 1 :]:
        if not line.startswith("  - "):
            break
        items.append(line[4:])
    return items


def test_print_task_info_lists_dependencies_dependents_and_groups(
    pipeline: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The report shows what a task needs, what needs it, and its parallel groups."""
    print_task_info("gr_clean")
    out = capsys.readouterr().out
    assert "gr_clean" in out.splitlines()[0]
    assert [item.split()[0] for item in _section(out, "Dependencies")] == ["gr_load"]
    assert sorted(item.split()[0] for item in _section(out, "Dependents")) == [
        "gr_plots",
        "gr_stats",
    ]

    run_task(pipeline["report"])
    print_task_info("gr_stats")
    out = capsys.readouterr().out
    groups = _section(out, "Parallel Groups")
    assert len(groups) == 1
    assert "gr_stats" in groups[0]
    assert "gr_plots" in groups[0]
    assert "gr_report" in groups[0]
    dependents = _section(out, "Dependents")
    assert len(dependents) == 1
    assert dependents[0].startswith("gr_report")
    assert "[parallel]" in dependents[0]
    assert "scale=2" in dependents[0]

    print_task_info("gr_unrelated")
    out = capsys.readouterr().out
    assert _section(out, "Dependencies") == []
    assert _section(out, "Dependents") == []
    assert "Parallel Groups" not in out


def test_print_task_info_unknown_name(
    pipeline: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown name raises ``UnknownTaskError`` with a suggestion; nothing is printed."""
    with pytest.raises(UnknownTaskError) as info:
        print_task_info("gr_clena")
    assert "gr_clean" in info.value.suggestions
    assert capsys.readouterr().out == ""
