"""nolead-json: the pipeline graph as node-link JSON, read back with networkx."""

from __future__ import annotations

import enum
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import time
import venv
import warnings
from functools import partial
from importlib.metadata import distribution, entry_points
from pathlib import Path
from typing import Any

import networkx as nx
import nolead_json
import pytest
from nolead_json import render_json, to_node_link

import nolead
from nolead import plugins
from nolead.graphmodel import Edge, ParallelGroup, PipelineGraph, TaskInfo

PLUGIN_DIR = Path(__file__).resolve().parent.parent
REPO = PLUGIN_DIR.parent.parent


def read(text: str) -> nx.MultiDiGraph:
    """Parse renderer output the way the README tells users to."""
    graph = nx.node_link_graph(json.loads(text), edges="links")
    assert isinstance(graph, nx.MultiDiGraph)
    return graph


def strict_loads(text: str) -> Any:
    """``json.loads`` that refuses the non-standard ``NaN``/``Infinity`` constants."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _rows() -> int:
    return 4


def make_pipeline(prefix: str) -> list[str]:
    """Define a small pipeline (uses with and without params, parallel, a static-only edge).

    Returns:
        The task names, in registration order.
    """

    @nolead.Task(name=f"{prefix}load")
    def load(rows: int = 3, scale: float = 1.0) -> list[float]:
        """Load the rows."""
        return [i * scale for i in range(rows)]

    @nolead.Task(name=f"{prefix}total")
    def total() -> float:
        return sum(nolead.uses(load, rows=5)) + sum(nolead.uses(load, rows=2, scale=0.5))

    @nolead.Task(name=f"{prefix}largest", executor="serial")
    def largest() -> float:
        return float(max(nolead.uses(f"{prefix}load")))  # computed name: seen at run time only

    @nolead.Task(name=f"{prefix}later")
    def later() -> int:
        return len(nolead.uses(load, rows=_rows()))  # never run: arguments unknown

    @nolead.Task(name=f"{prefix}report")
    def report() -> dict[str, float]:
        return nolead.parallel([total, largest])

    return [f"{prefix}{name}" for name in ("load", "total", "largest", "later", "report")]


def test_real_pipeline_reads_back_with_networkx() -> None:
    """Nodes, multi-edges with params and flags, and parallel groups survive the round trip."""
    names = make_pipeline("nj_")
    load, total, largest, later, report = names
    assert nolead.run_task(report) == {total: 10.5, largest: 2.0}

    graph = read(render_json(nolead.build_graph(names)))

    assert list(graph.nodes) == names
    assert graph.nodes[load] == {
        "function": f"{__name__}.make_pipeline.<locals>.load",
        "signature": "(rows: int = 3, scale: float = 1.0) -> list[float]",
        "executor": None,
        "doc": "Load the rows.",
        "cached_results": 3,  # rows=5; rows=2, scale=0.5; defaults
    }
    assert graph.nodes[largest]["executor"] == "serial"
    assert graph.nodes[later]["cached_results"] == 0

    edges = {
        (
            up,
            down,
            key,
            json.dumps(data["params"]),
            data["parallel"],
            data["static"],
            data["observed"],
        )
        for up, down, key, data in graph.edges(keys=True, data=True)
    }
    assert edges == {
        (load, total, 0, '{"rows": 2, "scale": 0.5}', False, True, True),
        (load, total, 1, '{"rows": 5}', False, True, True),
        (load, largest, 0, "{}", False, False, True),
        (load, later, 0, "null", False, True, False),
        (total, report, 0, "{}", True, True, True),
        (largest, report, 0, "{}", True, True, True),
    }
    assert graph.number_of_edges(load, total) == 2
    assert graph.graph["parallel_groups"] == [
        {"caller": report, "tasks": [total, largest], "static": True, "observed": True}
    ]
    assert graph.graph["format"] == "nolead-json"
    assert graph.graph["format_version"] == nolead_json.FORMAT_VERSION == 1


def test_default_networkx_call_reads_the_same_graph() -> None:
    """``edges`` repeats ``links``, so ``node_link_graph(data)`` needs no keyword."""
    names = make_pipeline("nd_")
    nolead.run_task(names[-1])
    data = strict_loads(render_json(nolead.build_graph(names)))
    assert data["edges"] == data["links"]
    assert list(data)[:5] == ["directed", "multigraph", "graph", "nodes", "links"]

    with warnings.catch_warnings():
        # networkx 3.4 and 3.5 warn that their default is about to change; 3.6+ do not.
        warnings.simplefilter("ignore", FutureWarning)
        default = nx.node_link_graph(data)
    by_links = nx.node_link_graph(data, edges="links")
    by_edges = nx.node_link_graph(data, edges="edges")
    assert isinstance(default, nx.MultiDiGraph)
    for other in (by_links, by_edges):
        assert nx.utils.graphs_equal(default, other)
        assert list(default.edges(keys=True, data=True)) == list(other.edges(keys=True, data=True))


HOSTILE_NAMES = [
    'say "hi"',
    "back\\slash \\n not a newline",
    "line\nbreak\ttab\rreturn",
    "nul\x00byte \x1b[31m escape",
    "ünïcødé 名前 🚀 e\u0301",
    "right\u202eto-left \u200b zero-width \u2028 line-sep",
    "</script><!-- {}[]:,",
    "lone \ud800 surrogate",
]


def test_hostile_task_names_survive(tmp_path: Path) -> None:
    """Quotes, escapes, control characters, unicode and lone surrogates round-trip exactly."""

    def make(name: str) -> Any:
        @nolead.Task(name=name)
        def source(tag: str = "") -> str:
            return tag

        return source

    sources = [make(name) for name in HOSTILE_NAMES]

    @nolead.Task(name="nh_user")
    def user() -> int:
        return sum(
            len(nolead.uses(source, tag=f"{i} «{HOSTILE_NAMES[i]}»"))
            for i, source in enumerate(sources)
        )

    nolead.run_task(user)
    path = Path(
        nolead.generate_dependency_graph(
            tmp_path / "hostile.json", include_tasks=[*HOSTILE_NAMES, "nh_user"]
        )
    )
    raw = path.read_bytes()
    text = raw.decode("utf-8")  # strict: the file is valid UTF-8
    assert "🚀" in text and "名前" in text  # non-ASCII kept as is
    assert "\\ud800" in text  # the lone surrogate is escaped

    graph = read(text)
    assert list(graph.nodes) == [*HOSTILE_NAMES, "nh_user"]
    tags = {up: data["params"]["tag"] for up, _, data in graph.edges(data=True)}
    assert tags == {name: f"{i} «{name}»" for i, name in enumerate(HOSTILE_NAMES)}


class Colour(enum.Enum):
    """An enum: its members are not JSON values (nor is an IntEnum member)."""

    RED = 1


class Point:
    """A hashable object with a custom repr."""

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __repr__(self) -> str:
        return f"Point({self.x}, {self.y})"


NATIVE_VALUES: list[Any] = [
    "text",
    7,
    1.5,
    True,
    None,
    [1, 2.5, None, False, "x", [{"deep": "ok"}]],
    {"b": 1, "a": [2, {"c": None}]},
]
FALLBACK_VALUES: list[tuple[Any, Any]] = [
    ((1, "a"), "(1, 'a')"),
    ((), "()"),
    (frozenset({"b", "a", "c"}), "frozenset({'a', 'b', 'c'})"),
    ({10, 9, 2}, "{2, 9, 10}"),
    (b"\x00\xff", "b'\\x00\\xff'"),
    (float("nan"), "nan"),
    (float("-inf"), "-inf"),
    (Colour.RED, "<Colour.RED: 1>"),
    (Point(1, 2), "Point(1, 2)"),
    ({1: "a"}, "{1: 'a'}"),
    (complex(1, 2), "(1+2j)"),
    ([1, (2, 3), {"k": {"s"}}], [1, "(2, 3)", {"k": "{'s'}"}]),
]


def test_non_json_params_fall_back_to_repr() -> None:
    """JSON-native values are kept as they are; anything else becomes its repr()."""

    @nolead.Task(name="nr_source")
    def source(tag: Any = None) -> int:
        return 1

    values = [*NATIVE_VALUES, *(value for value, _ in FALLBACK_VALUES)]

    @nolead.Task(name="nr_user")
    def user() -> int:
        return sum(nolead.uses(source, tag=value) for value in values)

    nolead.run_task(user)
    text = render_json(nolead.build_graph(["nr_source", "nr_user"]))
    data = strict_loads(text)  # no NaN or Infinity constants
    written = [link["params"]["tag"] for link in data["links"]]
    expected = [*NATIVE_VALUES, *(shown for _, shown in FALLBACK_VALUES)]
    canonical = partial(json.dumps, sort_keys=True)
    assert sorted(map(canonical, written)) == sorted(map(canonical, expected))
    assert sorted(link["key"] for link in data["links"]) == list(range(len(values)))
    # True and 1, or 1.5 and "1.5", stay distinct JSON values
    assert True in written and 7 in written and 1.5 in written


def test_exotic_values_in_a_hand_built_graph() -> None:
    """Cycles, failing reprs and names known only from edges or groups are handled."""

    class NoRepr:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    graph = PipelineGraph(
        tasks=("a",),
        edges=(
            Edge("a", "outside", {"z": cyclic, "y": NoRepr(), "x": [math.inf]}, observed=True),
            Edge("elsewhere", "a", None, static=True),
        ),
        parallel_groups=(ParallelGroup(["grouped", "a"], None, observed=True),),
        task_info={"a": TaskInfo("a", "mod.a", "()", cached_results=2)},
    )
    text = render_json(graph)
    data = strict_loads(text)
    assert data["links"][0]["params"] == {
        "x": ["inf"],
        "y": f"<{__name__}.test_exotic_values_in_a_hand_built_graph.<locals>.NoRepr object"
        " (repr failed)>",
        "z": [1, "[1, [...]]"],
    }
    assert list(data["links"][0]["params"]) == ["x", "y", "z"]  # parameter names sorted
    assert data["links"][1]["params"] is None
    empty = dict.fromkeys(["function", "signature", "executor", "doc", "cached_results"])
    assert data["nodes"] == [
        {
            "id": "a",
            "function": "mod.a",
            "signature": "()",
            "executor": None,
            "doc": None,
            "cached_results": 2,
        },
        {"id": "outside", **empty},
        {"id": "elsewhere", **empty},
        {"id": "grouped", **empty},
    ]
    assert data["graph"]["parallel_groups"] == [
        {"caller": None, "tasks": ["grouped", "a"], "static": False, "observed": True}
    ]
    assert set(read(text).edges()) == {("a", "outside"), ("elsewhere", "a")}


def test_empty_graph() -> None:
    """A graph with no tasks is still a readable document."""
    graph = PipelineGraph(tasks=(), edges=(), parallel_groups=(), task_info={})
    assert to_node_link(graph)["nodes"] == []
    assert read(render_json(graph)).number_of_nodes() == 0


def test_output_is_deterministic_and_strict() -> None:
    """Renders are identical, end with one newline, and do not depend on the hash seed."""
    names = make_pipeline("ns_")
    nolead.run_task(names[-1])
    first = render_json(nolead.build_graph(names))
    assert first == render_json(nolead.build_graph(names))
    assert first.endswith("}\n") and not first.endswith("\n\n")
    strict_loads(first)

    script = textwrap.dedent(
        """
        import sys
        import nolead
        from nolead_json import render_json

        @nolead.Task()
        def source(columns=frozenset()):
            return len(columns)

        @nolead.Task()
        def user():
            return nolead.uses(source, columns={"alpha", "beta", "gamma", "delta", "eps"})

        nolead.run_task(user)
        sys.stdout.write(render_json(nolead.build_graph()))
        """
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    params = strict_loads(outputs.pop())["links"][0]["params"]
    assert params == {"columns": "{'alpha', 'beta', 'delta', 'eps', 'gamma'}"}


def test_entry_point_is_declared() -> None:
    """The installed distribution announces ``json = nolead_json`` in the ``nolead`` group."""
    declared = [ep for ep in distribution("nolead-json").entry_points if ep.group == "nolead"]
    assert [(ep.name, ep.value) for ep in declared] == [("json", "nolead_json")]
    found = {ep.name: ep for ep in entry_points(group="nolead")}
    assert found["json"].load() is nolead_json


def test_nolead_finds_the_plugin_by_suffix(tmp_path: Path) -> None:
    """nolead loads the entry point itself: a ``.json`` path writes JSON, no code change."""
    assert plugins.renderer_info("json").renderer is render_json
    assert plugins.renderer_info("json").plugin == "json"
    by_suffix = plugins.renderer_for(".JSON")
    assert by_suffix is not None and by_suffix.name == "json"

    names = make_pipeline("nf_")
    nolead.run_task(names[1])
    path = nolead.generate_dependency_graph(tmp_path / "graph.json", include_tasks=names[:2])
    graph = read(Path(path).read_text(encoding="utf-8"))
    assert list(graph.edges(keys=True)) == [(names[0], names[1], 0), (names[0], names[1], 1)]

    other = nolead.generate_dependency_graph(
        tmp_path / "graph.out", include_tasks=names[:2], output_format="json"
    )
    assert Path(other).read_text(encoding="utf-8") == Path(path).read_text(encoding="utf-8")


USER_SCRIPT = """\
import sys

from nolead import Task, generate_dependency_graph, parallel, run_task, uses


@Task()
def numbers(n=3):
    return list(range(n))


@Task()
def total():
    return sum(uses(numbers, n=4))


@Task()
def largest():
    return max(uses(numbers))


@Task()
def report():
    return parallel([total, largest])


print(run_task(report))
print(generate_dependency_graph(sys.argv[1]))
"""


def _copy_project(source: Path, target: Path, package: str) -> Path:
    """Copy what pip needs to build a project, so no build files land in the checkout."""
    target.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(source / name, target / name)
    shutil.copytree(
        source / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
    )
    return target


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_end_to_end_pip_install_in_a_fresh_venv(tmp_path: Path) -> None:
    """In a new venv, ``pip install`` of the plugin alone turns ``g.json`` into JSON.

    nolead is installed first and the user's script (which never mentions the plugin)
    writes ``g.json`` as DOT, nolead's default.  After ``pip install`` of the plugin the
    same script writes node-link JSON with the expected nodes, links and groups.
    """
    started = time.monotonic()
    nolead_src = _copy_project(REPO, tmp_path / "src" / "nolead", "nolead")
    plugin_src = _copy_project(PLUGIN_DIR, tmp_path / "src" / "nolead-json", "nolead_json")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NOLEAD_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    work = tmp_path / "work"  # the script's folder: nothing importable next to it
    work.mkdir()
    script = work / "pipeline.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    output = work / "g.json"

    def run(*args: str | Path, timeout: float) -> str:
        done = subprocess.run(
            [str(python), *map(str, args)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done.stdout

    run("-m", "pip", "install", "--quiet", nolead_src, timeout=400)
    assert run(script, output, timeout=120).splitlines() == [
        "{'total': 6, 'largest': 2}",
        str(output),
    ]
    assert output.read_text(encoding="utf-8").lstrip().startswith("digraph")

    run("-m", "pip", "install", "--quiet", plugin_src, timeout=400)
    location = run("-c", "import nolead_json; print(nolead_json.__file__)", timeout=60)
    assert Path(location.strip()).is_relative_to(env_dir)  # the venv's copy, not ours
    assert run(script, output, timeout=120).splitlines()[-1] == str(output)

    graph = read(output.read_text(encoding="utf-8"))
    assert list(graph.nodes) == ["numbers", "total", "largest", "report"]
    assert graph.nodes["numbers"]["function"] == "__main__.numbers"
    assert {
        (up, down, json.dumps(data["params"]), data["parallel"])
        for up, down, data in graph.edges(data=True)
    } == {
        ("numbers", "total", '{"n": 4}', False),
        ("numbers", "largest", "{}", False),
        ("total", "report", "{}", True),
        ("largest", "report", "{}", True),
    }
    assert graph.graph["parallel_groups"] == [
        {"caller": "report", "tasks": ["total", "largest"], "static": True, "observed": True}
    ]
    print(f"end-to-end install and run took {time.monotonic() - started:.1f} s")
