"""Tests for the built-in ``text`` and ``dot`` graph renderers."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pluggy
import pydot  # type: ignore[import-untyped,unused-ignore]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nolead import hookspecs
from nolead.default_plugins import dot as dot_plugin
from nolead.default_plugins import text as text_plugin
from nolead.default_plugins.dot import dot_quote, render_dot
from nolead.default_plugins.text import render_text
from nolead.graphmodel import Edge, ParallelGroup, PipelineGraph

REPO = Path(__file__).resolve().parents[1]
HAS_DOT = shutil.which("dot") is not None
needs_graphviz = pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' is not installed")
# pydot's parser module uses pyparsing names that newer pyparsing deprecates; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pydot.dot_parser")

# fmt: off
HOSTILE = [
    'quote"inside', '"', '""', "back\\slash", "trailing\\", "\\", "\\\\", "\\N", "\\G", "\\l",
    "\\r", "\\n", "line\nbreak", "\n", "ends\n", "cr\rreturn", "tab\there", "{braces}", "}",
    "<html>", "<b>bold</b>", "node", "edge", "graph", "subgraph", "strict", "digraph", "Node",
    " ", "", "  two  spaces ", "é", "中文", "😀 emoji", "a;b=c [x]", "-> arrow", "--",
    "# hash", "// slash", "/* c */", "123", "1.5", "-1", "it's", "&lt;", "&amp;", "R&D",
    "&#92;r", "nul\x00", "bell\x07", "del\x7f", "next\x85line", "sep\u2028", "zw\u200bsp",
    "lone\udc80", "\\&#116;",
]
# fmt: on


def example_graph() -> PipelineGraph:
    """The seed's example: load_data feeds process1/process2, run in parallel by final_task."""
    return PipelineGraph(
        tasks=("load_data", "process1", "process2", "final_task"),
        edges=(
            Edge("load_data", "process1", static=True, observed=True),
            Edge("load_data", "process2", params={"batch": 3, "mode": "fast"}, observed=True),
            Edge("process1", "final_task", parallel=True, static=True, observed=True),
            Edge("process2", "final_task", parallel=True, static=True),
        ),
        parallel_groups=(ParallelGroup(["process1", "process2"], "final_task", observed=True),),
        task_info={},
    )


def hostile_graph(names: list[str], values: list[str]) -> PipelineGraph:
    """A chain of tasks named ``names``, each edge carrying a hostile parameter.

    The first half of the tasks form a parallel group called by the last task.
    """
    edges = tuple(  # Edge(upstream, downstream, params, parallel, static)
        Edge(up, down, {values[i % len(values)]: values[~i % len(values)]}, i % 2 == 0, i % 3 == 0)
        for i, (up, down) in enumerate(itertools.pairwise(names))
    )
    group = ParallelGroup(names[: max(1, len(names) // 2)], names[-1])
    return PipelineGraph(tuple(names), edges, (group,), {})


def unescape(quoted: str) -> str:
    """Decode a DOT string written by ``dot_quote`` back to the original text.

    Strict: anything ``dot_quote`` never writes (a stray ``&``, an unknown escape, a raw
    non-printable character) raises, so the test also checks the encoding itself.
    """
    assert quoted[0] == quoted[-1] == '"', quoted
    body, out, i = quoted[1:-1], [], 0
    widths = {"t": 0, "r": 0, "x": 2, "u": 4, "U": 8}
    while i < len(body):
        shown = re.compile(r"\\\\&#(\d+);").match(body, i)
        if shown:
            letter = chr(int(shown[1]))
            digits = body[shown.end() : shown.end() + widths[letter]]
            assert re.fullmatch("[0-9a-f]*", digits), digits
            out.append({"t": "\t", "r": "\r"}.get(letter) or chr(int(digits, 16)))
            i = shown.end() + widths[letter]
        elif body[i] == "\\":
            out.append({"\\": "\\", '"': '"', "n": "\n"}[body[i + 1]])
            i += 2
        elif body[i] == "&":
            assert body.startswith("&amp;", i), body[i:]
            out.append("&")
            i += 5
        else:
            assert body[i].isprintable() and body[i] != '"', repr(body[i])
            out.append(body[i])
            i += 1
    return "".join(out)


def shown_text(text: str) -> str:
    """What Graphviz should display for ``text``, line breaks removed."""
    return "".join(c if c.isprintable() else "" if c == "\n" else repr(c)[1:-1] for c in text)


def parse(source: str) -> Any:
    graphs = pydot.graph_from_dot_data(source)
    assert graphs is not None and len(graphs) == 1
    return graphs[0]


def task_labels(parsed: Any) -> dict[str, str]:
    return {
        node.get_name(): unescape(node.get("label"))
        for node in parsed.get_nodes()
        if node.get_name().startswith("task")
    }


def edge_labels(parsed: Any) -> list[str]:
    ends = edges_by_end(parsed).values()
    return sorted(unescape(attrs["label"]) for attrs in itertools.chain(*ends) if "label" in attrs)


def edges_by_end(parsed: Any) -> dict[tuple[str, str], list[dict[str, Any]]]:
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for edge in parsed.get_edges():
        found.setdefault((edge.get_source(), edge.get_destination()), []).append(
            edge.get_attributes()
        )
    return found


def run_dot(source: str) -> bytes:
    """Render ``source`` to SVG with Graphviz; fail on any error or warning."""
    cmd = ["dot", "-Tsvg"]
    result = subprocess.run(
        cmd, input=source.encode(), capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert result.stderr == b"", result.stderr.decode("utf-8", "replace")
    return result.stdout


def svg_texts(svg: bytes, kind: str) -> dict[str, str]:
    """Map each SVG node/edge/cluster title to its label text, lines joined."""
    ns = "{http://www.w3.org/2000/svg}"
    texts = {}
    for group in ET.fromstring(svg).iter(f"{ns}g"):  # also checks the XML is well-formed
        if group.get("class") == kind:
            title = group.findtext(f"{ns}title", "")
            lines = [t.text or "" for t in group.iter(f"{ns}text")]
            texts[title] = "".join(lines).replace("\xa0", " ")
    return texts


def check_svg_shows(graph: PipelineGraph, source: str) -> bytes:
    """Render ``source`` with Graphviz and check every task and edge label it shows."""
    svg = run_dot(source)
    nodes = svg_texts(svg, "node")
    for index, name in enumerate(graph.tasks):
        assert nodes[f"task{index}"] == shown_text(name)
    edges = svg_texts(svg, "edge")
    ids = {name: f"task{index}" for index, name in enumerate(graph.tasks)}
    for edge in graph.edges:
        assert edges[f"{ids[edge.upstream]}->{ids[edge.downstream]}"] == shown_text(edge.label)
    return svg


# --- text renderer ---------------------------------------------------------------------


def test_text_exact_output() -> None:
    assert render_text(example_graph()) == (
        "Pipeline Dependency Graph\n"
        "=========================\n"
        "\n"
        "Parallel Task Groups:\n"
        "  Group 1: process1, process2 (called by final_task)\n"
        "\n"
        "Task: load_data\n"
        "  Dependencies: None\n"
        "\n"
        "Task: process1 [parallel]\n"
        "  Dependencies:\n"
        "    - load_data\n"
        "\n"
        "Task: process2 [parallel]\n"
        "  Dependencies:\n"
        "    - load_data (params: batch=3, mode='fast')\n"
        "\n"
        "Task: final_task\n"
        "  Dependencies:\n"
        "    - process1 [parallel]\n"
        "    - process2 [parallel] (static)\n"
    )


def test_text_empty_graph() -> None:
    expected = "Pipeline Dependency Graph\n=========================\n\nNo tasks.\n"
    assert render_text(PipelineGraph((), (), (), {})) == expected


def test_text_without_parallel_groups_has_no_group_section() -> None:
    graph = PipelineGraph(("a", "b"), (Edge("a", "b", params=None, static=True),), (), {})
    out = render_text(graph)
    assert "Parallel Task Groups:" not in out
    assert "[parallel]" not in out
    assert "    - a (static)\n" in out


def test_text_groups_numbered_without_caller() -> None:
    groups = (ParallelGroup(["a", "b"]), ParallelGroup(["b", "c"], "d"))
    out = render_text(PipelineGraph(("a", "b", "c", "d"), (), groups, {}))
    assert "  Group 1: a, b\n  Group 2: b, c (called by d)\n" in out
    assert out.count("[parallel]") == 3


def test_text_escapes_control_characters() -> None:
    name = "multi\nline\ttab\r\x00\u2028é中文😀 \\ok"
    edge = Edge("up\nstream", name, params={"k\ney": "v\nal", "arr": _MultiLine()})
    out = render_text(PipelineGraph((name,), (edge,), (ParallelGroup([name], "x\ny"),), {}))
    assert "Task: multi\\nline\\ttab\\r\\x00\\u2028é中文😀 \\ok [parallel]\n" in out
    assert "  Group 1: multi\\nline\\ttab\\r\\x00\\u2028é中文😀 \\ok (called by x\\ny)\n" in out
    assert "    - up\\nstream (params: k\\ney='v\\nal', arr=[1\\n 2])\n" in out
    assert len(out.splitlines()) == 9


class _MultiLine:
    def __repr__(self) -> str:
        return "[1\n 2]"


# --- DOT renderer ----------------------------------------------------------------------


def test_dot_structure_of_example() -> None:
    source = render_dot(example_graph())
    assert source == render_dot(example_graph())
    parsed = parse(source)
    assert parsed.get_type() == "digraph"
    assert parsed.get("rankdir") == "LR"
    assert task_labels(parsed) == {f"task{i}": name for i, name in enumerate(example_graph())}
    (cluster,) = parsed.get_subgraphs()
    assert cluster.get_name() == "cluster_parallel_0"
    assert "dashed" in unescape(cluster.get("style"))
    assert unescape(cluster.get("label")) == "parallel (called by final_task)"
    assert [node.get_name() for node in cluster.get_nodes()] == ["task1", "task2"]

    edges = edges_by_end(parsed)
    assert set(edges) == {(f"task{a}", f"task{b}") for a, b in [(0, 1), (0, 2), (1, 3), (2, 3)]}
    assert edges[("task0", "task1")] == [{}]
    assert unescape(edges[("task0", "task2")][0]["label"]) == "batch=3, mode='fast'"
    assert "style" not in edges[("task0", "task2")][0]
    for end in [("task1", "task3"), ("task2", "task3")]:
        assert unescape(edges[end][0]["style"]) == "dashed,bold"
    assert "color" in edges[("task2", "task3")][0]  # static-only: drawn lighter
    assert "color" not in edges[("task1", "task3")][0]


def test_dot_task_in_two_groups_is_drawn_in_first_cluster_only() -> None:
    groups = (ParallelGroup(["a", "b"]), ParallelGroup(["b", "c"], "d"))
    graph = PipelineGraph(("a", "b", "c", "d"), (Edge("b", "d", parallel=True),), groups, {})
    first, second = parse(render_dot(graph)).get_subgraphs()
    assert (first.get_name(), second.get_name()) == ("cluster_parallel_0", "cluster_parallel_1")
    assert [node.get_name() for node in first.get_nodes()] == ["task0", "task1"]
    assert [node.get_name() for node in second.get_nodes()] == ["task2"]  # not task1 again
    assert unescape(first.get("label")) == "parallel"
    assert unescape(second.get("label")) == "parallel (called by d)"


def test_dot_names_outside_tasks_get_nodes() -> None:
    graph = PipelineGraph(("a",), (Edge("ghost", "a", static=True),), (), {})
    assert task_labels(parse(render_dot(graph))) == {"task0": "a", "task1": "ghost"}


@pytest.mark.parametrize("name", HOSTILE)
def test_dot_quote_round_trips(name: str) -> None:
    assert unescape(dot_quote(name)) == name


def test_dot_hostile_names_round_trip_through_pydot() -> None:
    graph = hostile_graph(HOSTILE, HOSTILE)
    source = render_dot(graph)
    assert source == render_dot(graph)
    parsed = parse(source)
    assert task_labels(parsed) == {f"task{i}": name for i, name in enumerate(HOSTILE)}
    assert edge_labels(parsed) == sorted(edge.label for edge in graph.edges)
    # Node IDs are synthetic: no task name (e.g. "node", "strict") ever becomes an ID.
    ids = {node.get_name() for node in parsed.get_nodes()} - {"node", "edge", "graph"}
    assert all(re.fullmatch(r"task\d+", node_id) for node_id in ids), ids


@needs_graphviz
def test_graphviz_accepts_example() -> None:
    graph = example_graph()
    svg = check_svg_shows(graph, render_dot(graph))
    assert set(svg_texts(svg, "node").values()) == set(graph.tasks)
    assert svg_texts(svg, "cluster") == {"cluster_parallel_0": "parallel (called by final_task)"}


@needs_graphviz
def test_graphviz_accepts_and_shows_hostile_names() -> None:
    graph = hostile_graph(HOSTILE, HOSTILE)
    source = render_dot(graph)
    svg = check_svg_shows(graph, source)
    # fmt: off
    for fragment in ["&lt;html&gt;", "&lt;b&gt;bold&lt;/b&gt;", "&amp;lt;", "R&amp;D", "\\N",
                     "trailing\\", "中文", "😀 emoji", "nul\\x00", "cr\\rreturn"]:
        assert fragment.encode() in svg, fragment
    # fmt: on


names_strategy = st.lists(st.text(max_size=12), min_size=1, max_size=6, unique=True)
values_strategy = st.lists(st.text(max_size=12), min_size=1, max_size=3)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(names=names_strategy, values=values_strategy)
def test_dot_round_trips_random_text(names: list[str], values: list[str]) -> None:
    graph = hostile_graph(names, values)
    source = render_dot(graph)
    parsed = parse(source)
    assert task_labels(parsed) == {f"task{i}": name for i, name in enumerate(names)}
    assert edge_labels(parsed) == sorted(edge.label for edge in graph.edges if edge.label)
    (cluster,) = parsed.get_subgraphs()
    assert unescape(cluster.get("label")) == f"parallel (called by {names[-1]})"
    if HAS_DOT:
        check_svg_shows(graph, source)


# --- plugin wiring ---------------------------------------------------------------------


def test_plugins_register_renderers() -> None:
    manager = pluggy.PluginManager("nolead")
    manager.add_hookspecs(hookspecs)
    manager.register(text_plugin)
    manager.register(dot_plugin)
    calls: list[tuple[str, Any, dict[str, Any]]] = []
    manager.hook.nolead_register_renderers(register=lambda n, r, **kw: calls.append((n, r, kw)))
    found = {name: (renderer, kw["suffixes"]) for name, renderer, kw in calls}
    assert found == {"text": (render_text, (".txt",)), "dot": (render_dot, (".dot", ".gv"))}
    assert all(kw["description"] for _, _, kw in calls)


def test_importing_dot_plugin_does_not_import_pydot() -> None:
    code = (
        "import sys; import nolead.default_plugins.dot, nolead.default_plugins.text; "
        "assert 'pydot' not in sys.modules, 'pydot imported'"
    )
    cmd = [sys.executable, "-c", code]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
