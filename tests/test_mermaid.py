"""Tests for the built-in ``mermaid`` graph renderer.

Besides checking the Mermaid source as text, the diagrams are drawn by the real
``mermaid`` npm package (pinned in ``tests/browser/package-lock.json``) in headless
Chromium, once for the whole module: one page renders every diagram with
``tests/browser/harness.js`` and reports, as JSON, the text each node, edge and subgraph
label shows, which is compared with the task names and parameters.  Those tests are
skipped when ``chromium`` or ``npm`` is not installed; the npm packages are installed with
``npm ci`` when missing.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import nolead
from nolead import hookspecs, plugins
from nolead.default_plugins import mermaid as mermaid_plugin
from nolead.default_plugins.mermaid import mermaid_quote, render_mermaid
from nolead.default_plugins.text import escape_text
from nolead.graphmodel import Edge, ParallelGroup, PipelineGraph
from tests.test_renderers import example_graph

REPO = Path(__file__).resolve().parents[1]
BROWSER_DIR = REPO / "tests" / "browser"
MERMAID_JS = BROWSER_DIR / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
HARNESS_JS = BROWSER_DIR / "harness.js"
CHROMIUM = shutil.which("chromium")
NPM = shutil.which("npm")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Run the page's timers without waiting for them in real time; the harness's
    # rendering is not held back by it (virtual time stands still while scripts run).
    "--virtual-time-budget=600000",
]
MISSING = [name for name, path in [("chromium", CHROMIUM), ("npm", NPM)] if path is None]
SKIP_REASON = (
    f"drawing Mermaid diagrams needs {' and '.join(MISSING)}: install Chromium "
    "(apt-get install chromium) and Node.js with npm (for the mermaid package)"
)
needs_browser = pytest.mark.skipif(bool(MISSING), reason=SKIP_REASON)

# fmt: off
HOSTILE = [
    # Mermaid string syntax, entity codes and its internal entity placeholders
    'quote"inside', '"', '""', '"]', '")', '"|', "`tick`", "```", '"`md`"', "#", "# hash",
    "#35;", "#quot;", "#60;b#62;", "&#60;", "&lt;", "&amp;", "R&D", "a;b", ";", "pipe|pipe",
    "|", "ﬂ°°60¶ß", "ﬂ°lt¶ß", "¶ß", "Straße 25°",
    # HTML and scripts
    "<html>", "<b>bold</b>", "<br>", "<script>window.noleadPwned = true</script>",
    '<img src="x" onerror="window.noleadPwned = true">', "</p></span></div>",
    # directives, comments, keywords, statements, icons, maths, Markdown
    "%%", "%% comment", '%%{init: {"theme": "dark"}}%%', "%%{wrap}%%", "end", "graph",
    "subgraph", "flowchart LR", "click t0 call alert()", "style", "classDef", "linkStyle",
    "style t0 fill:#f00;", "classDef x fill:#f00;", "fa:fa-car", "$$x^2$$", "$", "a-->b",
    "-->", "---", "==>", "-.->", "A@{ shape: circle }", "*em* _em_ **strong** ~~del~~",
    "[brackets]", "{braces}", "(parens)", "])}", "[(", "((", "it's", "\\", "back\\slash",
    "trailing\\", "\\n", "1.5", "-1",
    # whitespace, line breaks, control and format characters, unicode
    " ", "", "  two  spaces ", " lead", "trail ", "line\nbreak", "\n", "ends\n", "\nstarts",
    "a\n\nb", " \n ", "cr\rreturn", "tab\there", "nul\x00", "bell\x07", "del\x7f",
    "next\x85line", "sep\u2028", "zw\u200bsp", "nbsp\xa0", "rtl\u202eevil", "bom\ufeff",
    "lone\udc80", "é", "中文", "😀 emoji", "👩‍👩‍👧", "ﷺ", "a" * 40,
    "many words that are long enough to wrap inside one node box",
]
# Pieces the random names below are built from, next to arbitrary characters.
NASTY_PIECES = [
    '"', "`", "<", ">", "&", "#", ";", "%%", "%%{", ":", "|", "$$", "\\", "\n", " ", "  ",
    "ﬂ°°", "ﬂ°", "¶ß", "#60;", "&lt;", "<br>", "end", "style", "classDef", "fa:fa-", "\x00",
    "\r", "\t", "\u2028", "\udc80", "\xa0", "😀",
]
# fmt: on
BROWSER_CONFIGS = {  # securityLevel "sandbox" draws into an iframe, out of the harness's reach
    "strict": {"securityLevel": "strict"},  # Mermaid's default
    "antiscript": {"securityLevel": "antiscript"},
    "loose": {"securityLevel": "loose"},
}


class _MultiLine:
    """A parameter value whose ``repr()`` spans two lines."""

    def __repr__(self) -> str:
        return "[1\n 2]"


def chain_graph(names: list[str], values: list[Any]) -> PipelineGraph:
    """Tasks named ``names`` in a chain, each edge carrying one parameter from ``values``.

    Every other edge is parallel and every third edge is known from the code only; the
    first half of the tasks form a parallel group called by the last task.
    """
    edges = []
    for i, (up, down) in enumerate(itertools.pairwise(names)):
        key, value = str(values[i % len(values)]), values[-1 - i % len(values)]
        edges.append(Edge(up, down, {key: value}, parallel=i % 2 == 0, static=i % 3 == 0))
    group = ParallelGroup(names[: max(1, len(names) // 2)], names[-1])
    return PipelineGraph(tuple(names), tuple(edges), (group,), {})


def shown(text: str) -> str:
    """What a label should show for ``text``: lines kept, unprintables as escapes."""
    return "\n".join(escape_text(line) for line in text.split("\n"))


def unquote(quoted: str) -> str:
    """Decode a Mermaid string written by ``mermaid_quote`` to the text its label shows.

    Strict: anything ``mermaid_quote`` must never write (a raw ``"``, ``#``, ``<`` other
    than ``<br>``, ``%``, a pair of characters of Mermaid's entity placeholders, a space
    Mermaid would trim or HTML would collapse, ...) raises, so this checks the encoding.
    """
    assert quoted[0] == quoted[-1] == '"' and len(quoted) >= 3, quoted
    body = quoted[1:-1]
    if body == " ":  # the empty text
        return ""
    assert not re.search(r"^ | $|  |<br> | <br>", body), body
    assert "ﬂ°" not in body and "¶ß" not in body, body  # Mermaid's placeholder pieces
    out, i = [], 0
    while i < len(body):
        entity = re.compile(r"#(\d+);").match(body, i)
        if entity:
            out.append(chr(int(entity[1])))
            assert out[-1] in '"`<>&#;%:$|\\\xa0', entity[0]
            i = entity.end()
        elif body.startswith("<br>", i):
            out.append("\n")
            i += 4
        elif body.startswith("<span></span>", i):
            assert body[i - 1 : i + 14] in ("ﬂ<span></span>°", "¶<span></span>ß"), body
            i += 13
        else:
            assert body[i] not in '"`<>&#;%:$|\\', (body[i], body)
            assert body[i].isprintable(), repr(body[i])
            out.append(body[i])
            i += 1
    return "".join(out).replace("\xa0", " ")


def node_lines(source: str) -> dict[str, str]:
    """Map each node ID declared in ``source`` to its decoded label."""
    return {m[1]: unquote(m[2]) for m in re.finditer(r'^    (t\d+)\(("[^"]*")\)$', source, re.M)}


# --- the Mermaid source ----------------------------------------------------------------


def test_exact_output_of_example() -> None:
    assert render_mermaid(example_graph()) == (
        "flowchart LR\n"
        '    t0("load_data")\n'
        '    t1("process1")\n'
        '    t2("process2")\n'
        '    t3("final_task")\n'
        '    subgraph g0 ["parallel (called by final_task)"]\n'
        "        t1\n"
        "        t2\n"
        "    end\n"
        "    t0 --> t1\n"
        "    t0 -->|\"batch=3, mode='fast'\"| t2\n"
        "    t1 -.-> t3\n"
        "    t2 -.-> t3\n"
        "    classDef task fill:#e8f0fe,stroke:#4a6fa5\n"
        "    class t0,t3 task\n"
        "    classDef parallel fill:#fff4e0,stroke:#c77700\n"
        "    class t1,t2 parallel\n"
        "    classDef group fill:none,stroke:#c77700,stroke-dasharray:5 5,color:#c77700\n"
        "    class g0 group\n"
        "    linkStyle 3 stroke:#9a9a9a,color:#9a9a9a\n"
    )


def test_empty_graph() -> None:
    assert render_mermaid(PipelineGraph((), (), (), {})) == "flowchart LR\n"


def test_parallel_edges_are_dotted_and_plain_edges_are_not() -> None:
    graph = PipelineGraph(
        ("a", "b", "c"), (Edge("a", "c"), Edge("b", "c", {"k": 1}, parallel=True)), (), {}
    )
    source = render_mermaid(graph)
    assert re.search(r"^    t0 --> t2$", source, re.M)
    assert re.search(r'^    t1 -\.->\|"k=1"\| t2$', source, re.M)
    assert "linkStyle" not in source  # no static-only edge
    assert "subgraph" not in source


def test_static_only_edges_are_grey() -> None:
    edges = (
        Edge("a", "b", params=None, static=True),
        Edge("a", "b", params={"x": 1}, static=True, observed=True),
        Edge("b", "c", static=True, parallel=True),
        Edge("a", "c", observed=True),
    )
    source = render_mermaid(PipelineGraph(("a", "b", "c"), edges, (), {}))
    links = re.findall(r"^    (t\d \S+ t\d)$", source, re.M)
    assert links == ["t0 --> t1", 't0 -->|"x=1"| t1', "t1 -.-> t2", "t0 --> t2"]
    assert source.endswith("\n    linkStyle 0,2 stroke:#9a9a9a,color:#9a9a9a\n")


def test_task_in_two_groups_is_drawn_in_first_subgraph_only() -> None:
    groups = (
        ParallelGroup(["a", "b", "a"]),
        ParallelGroup(["b", "c"], "d"),
        ParallelGroup(["c"], "d"),  # nothing left to place: no subgraph
    )
    graph = PipelineGraph(("a", "b", "c", "d"), (Edge("b", "d", parallel=True),), groups, {})
    source = render_mermaid(graph)
    subgraphs = re.findall(r'^    subgraph (g\d+) \[("[^"]*")\]\n((?:        t\d+\n)*)    end$',
                           source, re.M)  # fmt: skip
    assert [(sid, unquote(title), members.split()) for sid, title, members in subgraphs] == [
        ("g0", "parallel", ["t0", "t1"]),
        ("g1", "parallel (called by d)", ["t2"]),
    ]
    assert source.count("subgraph") == source.count("\n    end\n") == 2
    assert "    class t0,t1,t2 parallel\n" in source
    assert "    class g0,g1 group\n" in source


def test_names_outside_tasks_get_nodes() -> None:
    graph = PipelineGraph(
        ("a",), (Edge("ghost", "a", static=True),), (ParallelGroup(["spook"], "a"),), {}
    )
    source = render_mermaid(graph)
    assert node_lines(source) == {"t0": "a", "t1": "ghost", "t2": "spook"}
    assert "    class t1 unknown\n" in source
    assert "    class t2 parallel\n" in source  # parallel wins over unknown, as in DOT


def test_output_is_deterministic() -> None:
    graph = chain_graph(HOSTILE, HOSTILE)
    assert render_mermaid(graph) == render_mermaid(chain_graph(HOSTILE, HOSTILE))


def test_hostile_names_never_leave_their_strings() -> None:
    """Node IDs are synthetic; every line is one of the few statements the renderer writes."""
    graph = chain_graph(HOSTILE, [*HOSTILE, _MultiLine()])
    source = render_mermaid(graph)
    string = r'"[^"]*"'
    statement = re.compile(
        rf"flowchart LR|    t\d+\({string}\)|    subgraph g\d+ \[{string}\]|        t\d+|    end"
        rf"|    t\d+ (-->|-\.->)(\|{string}\|)? t\d+|    classDef \w+ [-\w:#,. ]+"
        r"|    class [tg\d,]+ \w+|    linkStyle [\d,]+ [-\w:#,]+"
    )
    lines = source.splitlines()
    assert all(statement.fullmatch(line) for line in lines), [
        line for line in lines if not statement.fullmatch(line)
    ]
    assert node_lines(source) == {f"t{i}": shown(name) for i, name in enumerate(HOSTILE)}
    labels = [unquote(m) for m in re.findall(r"-->\|(\"[^\"]*\")\|", source)]
    assert labels == [shown(edge.label) for edge in graph.edges if not edge.parallel]
    source.encode("utf-8")  # no lone surrogate left: the file can be written


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("load_data", '"load_data"'),
        ("", '" "'),
        (" ", '"#160;"'),
        ("  two  spaces ", '"#160;#160;two#160;#160;spaces#160;"'),
        ("a b", '"a b"'),
        ('say "hi"', '"say #34;hi#34;"'),
        ("<b>&amp;</b>", '"#60;b#62;#38;amp#59;#60;/b#62;"'),
        ("#35;", '"#35;35#59;"'),
        ("%%{init}%%", '"#37;#37;{init}#37;#37;"'),
        ("fa:fa-car", '"fa#58;fa-car"'),
        ("ﬂ°°60¶ß", '"ﬂ<span></span>°°60¶<span></span>ß"'),
        ("ﬂ ° ¶ ß ß¶°ﬂ", '"ﬂ ° ¶ ß ß¶°ﬂ"'),
        ("line\nbreak", '"line<br>break"'),
        ("tab\t\x00\\", '"tab#92;t#92;x00#92;"'),
        ("中文 😀", '"中文 😀"'),
        ("end", '"end"'),
        ("[x] {y} (z) 'q' *s* _u_", "\"[x] {y} (z) 'q' *s* _u_\""),
    ],
)
def test_mermaid_quote(text: str, quoted: str) -> None:
    assert mermaid_quote(text) == quoted
    assert unquote(quoted) == shown(text)


any_char = st.characters(exclude_categories=())  # surrogates too
nasty_text = st.lists(
    st.one_of(st.text(any_char, max_size=4), st.sampled_from(NASTY_PIECES)), max_size=6
).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(text=nasty_text)
def test_mermaid_quote_round_trips_random_text(text: str) -> None:
    quoted = mermaid_quote(text)
    assert unquote(quoted) == shown(text)
    quoted.encode("utf-8")


# --- plugin wiring ---------------------------------------------------------------------


def test_plugin_registers_renderer() -> None:
    manager = pluggy.PluginManager("nolead")
    manager.add_hookspecs(hookspecs)
    manager.register(mermaid_plugin)
    calls: list[tuple[str, Any, dict[str, Any]]] = []
    manager.hook.nolead_register_renderers(register=lambda n, r, **kw: calls.append((n, r, kw)))
    [(name, renderer, kw)] = calls
    assert (name, renderer, kw["suffixes"]) == ("mermaid", render_mermaid, (".mmd",))
    assert kw["description"]


def test_importing_the_plugin_imports_nothing_new() -> None:
    code = (
        "import sys; import nolead.default_plugins.text; before = set(sys.modules); "
        "import nolead.default_plugins.mermaid; "
        "new = set(sys.modules) - before - {'nolead.default_plugins.mermaid'}; "
        "assert not new, sorted(new)"
    )
    cmd = [sys.executable, "-c", code]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def mermaid_registered() -> Iterator[None]:
    """Make sure the ``mermaid`` renderer is registered: built in, or registered here."""
    if plugins.renderer_for(".mmd") is not None:
        yield
        return
    name = plugins.register_plugin(mermaid_plugin, name="nolead.default_plugins.mermaid")
    try:
        yield
    finally:
        plugins.unregister_plugin(name)


def test_generate_dependency_graph_writes_mmd(mermaid_registered: None, tmp_path: Path) -> None:
    """A ``.mmd`` file gets the Mermaid flowchart of the pipeline, parameters included."""

    @nolead.Task(name="mm_load")
    def load(source: str = "db") -> list[int]:
        return [1, 2, 3]

    @nolead.Task(name="mm_double")
    def double() -> list[int]:
        return [2 * x for x in nolead.uses(load, source="<file>")]

    @nolead.Task(name="mm_total")
    def total() -> int:
        return sum(nolead.uses(double))

    @nolead.Task(name="mm_report")
    def report() -> dict[str, Any]:
        return nolead.run_parallel([double, total])

    names = ["mm_load", "mm_double", "mm_total", "mm_report"]
    nolead.run_task(report)
    path = tmp_path / "x.mmd"
    assert nolead.generate_dependency_graph(path, include_tasks=names) == str(path)
    source = path.read_text(encoding="utf-8")
    assert source == render_mermaid(nolead.build_graph(include_tasks=names))
    assert source.startswith("flowchart LR\n")
    assert node_lines(source) == {f"t{i}": name for i, name in enumerate(names)}
    assert "    t0 -->|\"source='#60;file#62;'\"| t1\n" in source
    assert '    subgraph g0 ["parallel (called by mm_report)"]\n' in source
    assert "    t2 -.-> t3\n" in source
    assert plugins.renderer_info("mermaid").renderer is render_mermaid


# --- drawn by Mermaid in headless Chromium ---------------------------------------------


def random_graphs() -> list[PipelineGraph]:
    """About 30 small graphs of random, nasty names and parameters (deterministic)."""
    graphs: list[PipelineGraph] = []

    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate])  # fmt: skip
    @given(
        names=st.lists(nasty_text, min_size=1, max_size=4, unique=True),
        values=st.lists(nasty_text, min_size=1, max_size=3),
    )
    def collect(names: list[str], values: list[str]) -> None:
        graphs.append(chain_graph(names, values))

    collect()
    return graphs


def browser_cases() -> dict[str, tuple[PipelineGraph, dict[str, Any]]]:
    """Every graph drawn in the browser, by case name, with the Mermaid config to use."""
    structure = PipelineGraph(
        ("a", "b", "c", "d"),
        (Edge("a", "b", {"n": 1}), Edge("b", "d", parallel=True), Edge("c", "d", static=True),
         Edge("ghost", "a")),
        (ParallelGroup(["a", "b"]), ParallelGroup(["b", "c"], "d")),
        {},
    )  # fmt: skip
    cases = {
        "example": (example_graph(), BROWSER_CONFIGS["strict"]),
        "structure": (structure, BROWSER_CONFIGS["strict"]),
        "empty": (PipelineGraph((), (), (), {}), BROWSER_CONFIGS["strict"]),
    }
    hostile = chain_graph(HOSTILE, [*HOSTILE, _MultiLine()])
    for config_name, config in BROWSER_CONFIGS.items():
        cases[f"hostile-{config_name}"] = (hostile, config)
    for number, graph in enumerate(random_graphs()):
        cases[f"random-{number}"] = (graph, BROWSER_CONFIGS["strict"])
    return cases


def ensure_mermaid_installed() -> None:
    """Run ``npm ci`` in tests/browser unless the pinned mermaid is installed already."""
    lock = json.loads((BROWSER_DIR / "package-lock.json").read_text(encoding="utf-8"))
    pinned = lock["packages"]["node_modules/mermaid"]["version"]
    installed = BROWSER_DIR / "node_modules" / "mermaid" / "package.json"
    if MERMAID_JS.is_file() and installed.is_file():
        version = json.loads(installed.read_text(encoding="utf-8"))["version"]
        if version == pinned:
            return
    assert NPM is not None
    cmd = [NPM, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    result = subprocess.run(
        cmd, cwd=BROWSER_DIR, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    assert MERMAID_JS.is_file(), f"npm ci did not install {MERMAID_JS}"


def render_in_chromium(diagrams: list[dict[str, Any]], workdir: Path) -> dict[str, Any]:
    """Draw Mermaid sources in one headless Chromium run; return the harness's report."""
    data = json.dumps(diagrams, ensure_ascii=True).replace("</", "<\\/")
    page = workdir / "page.html"
    page.write_text(
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>pending</title></head>\n'
        '<body><pre id="result"></pre>\n'
        f'<script src="{MERMAID_JS.as_uri()}"></script>\n'
        f"<script>window.NOLEAD_DIAGRAMS = {data};</script>\n"
        f'<script src="{HARNESS_JS.as_uri()}"></script>\n'
        "</body></html>\n",
        encoding="utf-8",
    )
    assert CHROMIUM is not None
    cmd = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={workdir / 'profile'}", "--dump-dom",
           page.as_uri()]  # fmt: skip
    try:
        result = subprocess.run(
            cmd, capture_output=True, text=True, encoding="utf-8", timeout=180, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("chromium did not finish drawing the diagrams within 180 s")
    found = re.search(r'<pre id="result">(.*?)</pre>', result.stdout, re.S)
    assert result.returncode == 0 and found and found[1], (
        f"chromium exited with {result.returncode} and no report; stderr:\n" + result.stderr[-3000:]
    )
    report: dict[str, Any] = json.loads(html.unescape(found[1]))
    assert "harnessError" not in report, report
    assert re.search(r"<title>done</title>", result.stdout), "harness did not finish"
    return report


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each browser case's graph, source and report (``report["error"]`` if refused)."""
    if MISSING:
        pytest.skip(SKIP_REASON)
    ensure_mermaid_installed()
    cases = browser_cases()
    sources = {name: render_mermaid(graph) for name, (graph, _) in cases.items()}
    diagrams = [{"source": sources[name], "config": config} for name, (_, config) in cases.items()]
    report = render_in_chromium(diagrams, tmp_path_factory.mktemp("mermaid"))
    assert report["pwned"] is False, "a script in a task name ran in the browser"
    assert len(report["diagrams"]) == len(cases)
    return {
        name: (graph, sources[name], result)
        for (name, (graph, _)), result in zip(cases.items(), report["diagrams"])
    }


def check_drawing(graph: PipelineGraph, source: str, result: dict[str, Any]) -> None:
    """Check that Mermaid drew ``graph`` from ``source`` and shows every name and label."""
    assert "error" not in result, f"{result['error']}\nsource:\n{source}"
    assert result["svg"] > 0
    names = [*graph.tasks, *(n for e in graph.edges for n in (e.upstream, e.downstream))]
    names.extend(name for group in graph.parallel_groups for name in group)
    ids = {name: f"t{i}" for i, name in enumerate(dict.fromkeys(names))}
    assert len(result["nodes"]) == len(ids)
    nodes = {node_id: text.replace("\xa0", " ") for node_id, text in result["nodes"].items()}
    for name, node_id in ids.items():
        assert nodes[node_id] == shown(name), (name, nodes[node_id])
    edges = {edge["id"]: edge for edge in result["edges"]}
    assert len(edges) == len(result["edges"]) == len(graph.edges)
    for edge in graph.edges:
        drawn_edge = edges[f"L_{ids[edge.upstream]}_{ids[edge.downstream]}_0"]
        label = (drawn_edge["label"] or "").replace("\xa0", " ")
        assert label == shown(edge.label), (edge, label)
        assert ("edge-pattern-dotted" in drawn_edge["classes"].split()) == edge.parallel
        assert ("#9a9a9a" in (drawn_edge["style"] or "")) == (edge.static and not edge.observed)
    for index, group in enumerate(graph.parallel_groups):
        title = result["clusters"].get(f"g{index}")
        if title is not None or index == 0:  # the first group always has tasks to draw
            caller = "" if group.caller is None else f" (called by {shown(group.caller)})"
            assert title.replace("\xa0", " ") == f"parallel{caller}"


@needs_browser
def test_browser_draws_example(drawn: dict[str, Any]) -> None:
    graph, source, result = drawn["example"]
    check_drawing(graph, source, result)
    assert result["nodes"] == {f"t{i}": name for i, name in enumerate(graph.tasks)}
    assert result["clusters"] == {"g0": "parallel (called by final_task)"}
    assert {g: set(members) for g, members in result["members"].items()} == {"g0": {"t1", "t2"}}
    labels = {edge["id"]: edge["label"] for edge in result["edges"]}
    assert labels["L_t0_t2_0"] == "batch=3, mode='fast'"


@needs_browser
def test_browser_draws_subgraphs_and_unknown_tasks(drawn: dict[str, Any]) -> None:
    graph, source, result = drawn["structure"]
    check_drawing(graph, source, result)
    assert result["nodes"] == {"t0": "a", "t1": "b", "t2": "c", "t3": "d", "t4": "ghost"}
    assert result["clusters"] == {"g0": "parallel", "g1": "parallel (called by d)"}
    members = {g: set(nodes) for g, nodes in result["members"].items()}
    assert members == {"g0": {"t0", "t1"}, "g1": {"t2"}}


@needs_browser
def test_browser_draws_empty_graph(drawn: dict[str, Any]) -> None:
    _, _, result = drawn["empty"]
    assert "error" not in result, result
    assert result["nodes"] == result["clusters"] == {}


@needs_browser
@pytest.mark.parametrize("config_name", list(BROWSER_CONFIGS))
def test_browser_shows_hostile_names(drawn: dict[str, Any], config_name: str) -> None:
    graph, source, result = drawn[f"hostile-{config_name}"]
    check_drawing(graph, source, result)
    assert set(result["nodes"]) == {f"t{i}" for i in range(len(HOSTILE))}
    assert set(result["members"]["g0"]) == {f"t{i}" for i in range(len(HOSTILE) // 2)}


@needs_browser
def test_browser_shows_random_names(drawn: dict[str, Any]) -> None:
    cases = [case for name, case in drawn.items() if name.startswith("random-")]
    assert len(cases) >= 20
    for graph, source, result in cases:
        check_drawing(graph, source, result)
