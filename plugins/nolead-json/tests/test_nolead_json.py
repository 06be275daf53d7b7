"""nolead-json: the graph as node-link JSON, read back with networkx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import venv
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from nolead_json import render_json

import nolead

PLUGIN_DIR = Path(__file__).resolve().parent.parent
REPO = PLUGIN_DIR.parent.parent


def _pipeline(prefix: str) -> Any:
    @nolead.Task(name=f"{prefix}load")
    def load(rows: int = 3) -> list[int]:
        return list(range(rows))

    @nolead.Task(name=f"{prefix}total")
    def total() -> int:
        return sum(nolead.uses(load, rows=5))

    @nolead.Task(name=f"{prefix}largest")
    def largest() -> int:
        return max(nolead.uses(f"{prefix}load"))

    @nolead.Task(name=f"{prefix}report")
    def report() -> dict[str, int]:
        return nolead.parallel([total, largest])

    return report


def _read(text: str) -> nx.MultiDiGraph:
    return nx.node_link_graph(json.loads(text), edges="links")


def test_graph_reads_back_with_networkx() -> None:
    """Nodes, edges with parameters and parallel flags, and groups survive the round trip."""
    report = _pipeline("j_")
    assert nolead.run_task(report) == {"j_total": 10, "j_largest": 2}
    names = ["j_load", "j_total", "j_largest", "j_report"]
    graph = _read(render_json(nolead.build_graph(names)))
    assert isinstance(graph, nx.MultiDiGraph)
    assert list(graph.nodes) == names
    edges = {
        (up, down, data["label"], data["parallel"]) for up, down, data in graph.edges(data=True)
    }
    assert edges == {
        ("j_load", "j_total", "rows=5", False),
        ("j_load", "j_largest", "", False),
        ("j_total", "j_report", "", True),
        ("j_largest", "j_report", "", True),
    }
    params = [d["params"] for u, v, d in graph.edges(data=True) if (u, v) == ("j_load", "j_total")]
    assert params == [{"rows": 5}]
    assert graph.graph["parallel_groups"] == [
        {"caller": "j_report", "tasks": ["j_total", "j_largest"]}
    ]
    assert graph.nodes["j_total"]["parallel"] is True
    assert graph.nodes["j_load"]["cached_results"] == 2  # rows=3 and rows=5


def test_hostile_names_and_values_survive() -> None:
    """Quotes, newlines and unicode in names; values JSON cannot hold become their repr."""
    odd = 'say "hi"\n<br> ünï 🚀'

    @nolead.Task(name=odd)
    def source(tag: Any = None) -> int:
        return 1

    @nolead.Task(name="j_odd_user")
    def user() -> int:
        return int(nolead.uses(odd, tag=frozenset({1}))) + int(nolead.uses(odd, tag=(1, "a")))

    nolead.run_task(user)
    graph = _read(render_json(nolead.build_graph([odd, "j_odd_user"])))
    assert set(graph.nodes) == {odd, "j_odd_user"}
    labels = sorted(json.dumps(d["params"]) for _, _, d in graph.edges(data=True))
    assert labels == ['{"tag": "frozenset({1})"}', '{"tag": [1, "a"]}']
    assert sorted(k for _, _, k in graph.edges(keys=True)) == [0, 1]


def test_output_is_deterministic_json_text() -> None:
    """Two renders are identical, end with a newline and keep non-ASCII as is."""
    _pipeline("jd_")
    names = ["jd_load", "jd_total", "jd_largest", "jd_report"]
    first = render_json(nolead.build_graph(names))
    assert first == render_json(nolead.build_graph(names))
    assert first.endswith("\n")
    static = [link for link in json.loads(first)["links"] if link["static"]]
    assert static and all(not link["observed"] for link in static)


def test_entry_point_is_declared() -> None:
    """The installed package announces itself in the nolead entry-point group."""
    found = {ep.name: ep.value for ep in entry_points(group="nolead")}
    assert found.get("json") == "nolead_json"


def test_json_suffix_selects_the_plugin(tmp_path: Path) -> None:
    """With the plugin installed, a .json path writes JSON with no code change."""
    _pipeline("js_")
    path = nolead.generate_dependency_graph(
        tmp_path / "graph.json", include_tasks=["js_load", "js_total"]
    )
    graph = _read(Path(path).read_text(encoding="utf-8"))
    assert list(graph.edges()) == [("js_load", "js_total")]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_end_to_end_in_a_fresh_environment(tmp_path: Path) -> None:
    """pip-install nolead and the plugin into a new venv; a .json graph just works."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    quiet = ["--quiet", "--disable-pip-version-check"]
    for target in (REPO, PLUGIN_DIR):
        subprocess.run(
            [str(python), "-m", "pip", "install", *quiet, str(target)], check=True, timeout=500
        )
    script = tmp_path / "pipeline.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from nolead import Task, generate_dependency_graph, run_task, uses

            @Task()
            def numbers():
                return [1, 2, 3]

            @Task()
            def total():
                return sum(uses(numbers))

            run_task(total)
            print(generate_dependency_graph(sys.argv[1]))
            """
        )
    )
    out = tmp_path / "g.json"
    done = subprocess.run(
        [str(python), str(script), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("NOLEAD_")},
    )
    assert done.stdout.strip() == str(out)
    graph = _read(out.read_text(encoding="utf-8"))
    assert list(graph.nodes) == ["numbers", "total"]
    assert [(u, v, d["static"], d["observed"]) for u, v, d in graph.edges(data=True)] == [
        ("numbers", "total", True, True)
    ]
    assert sys.executable != str(python)
