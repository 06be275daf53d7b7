"""The ``mermaid`` renderer: the pipeline graph as a Mermaid flowchart.

Mermaid diagrams are drawn by GitHub, GitLab and many documentation tools straight from
the source text, e.g. in a Markdown block fenced with ```` ```mermaid ````; the Mermaid
CLI (``mmdc -i pipeline.mmd -o pipeline.svg``) draws them too.  The output looks like::

    flowchart LR
        t0("load_data")
        t1("process1")
        t2("process2")
        t3("final_task")
        subgraph g0 ["parallel (called by final_task)"]
            t1
            t2
        end
        t0 --> t1
        t0 -->|"batch=3, mode='fast'"| t2
        t1 -.-> t3
        t2 -.-> t3
        classDef task fill:#e8f0fe,stroke:#4a6fa5
        ...

Tasks are rounded boxes with synthetic node IDs (``t0``, ``t1``, ... in task order), so
no task name is ever read as Mermaid syntax.  Edges point from a task to the task that
needs it and carry the parameters passed along them.  Each ``parallel()`` call is a
dashed subgraph (``g0``, ``g1``, ...) around its tasks; edges from parallel tasks to their
caller are dotted; edges known only from the source code (not seen while running) are
grey.  The same colours as the ``dot`` renderer are used.

Labels are written for Mermaid's default HTML labels (see :func:`mermaid_quote`).  With
SVG text labels instead (``htmlLabels: false``), Mermaid 10 to 12 show entity codes such
as ``#34;`` literally, so names with quotes, ``<``, ``#`` and the like look escaped there.
Very large pipelines may exceed Mermaid's own limits (by default 50,000 characters of
source and 500 edges), which Mermaid reports instead of drawing the diagram.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nolead.default_plugins.text import escape_text
from nolead.gcpause import pausing
from nolead.graphmodel import PipelineGraph
from nolead.hookspecs import hookimpl

__all__ = ["mermaid_quote", "render_mermaid"]

_INDENT = "    "
_TASK_STYLE = "fill:#e8f0fe,stroke:#4a6fa5"
_PARALLEL_STYLE = "fill:#fff4e0,stroke:#c77700"
_UNKNOWN_STYLE = "fill:#f2f2f2,stroke:#4a6fa5"
_GROUP_STYLE = "fill:none,stroke:#c77700,stroke-dasharray:5 5,color:#c77700"
_STATIC_ONLY_STYLE = "stroke:#9a9a9a,color:#9a9a9a"

# Characters always written as Mermaid entity codes (``#60;`` for ``<``), because Mermaid
# or the browser would otherwise read them as something other than text:
#   " ends the string; ` makes a Markdown string; < > & are HTML; # starts an entity code
#   and ; ends one; % starts a %%{...}%% directive; : lets Mermaid's pre-parse strip the
#   ";" of an entity on a line with "style" or "classDef", and forms "fa:fa-..." icons;
#   $ starts "$$...$$" maths; | delimits edge text; and \ followed by "n" would be read
#   as a line break.
_ENTITY_CHARS = frozenset('"`<>&#;%:$|\\')
# While drawing, Mermaid stands for an entity code such as "#60;" with a placeholder,
# "ﬂ°°60¶ß", and at the end turns every "ﬂ°°", "ﬂ°" and "¶ß" in the drawing back into
# "&#", "&" and ";", even those that came from a label: a task named "ﬂ°lt¶ß" would show
# as "<".  An empty HTML element between the two characters keeps these pairs apart
# without changing what the label shows.
_PLACEHOLDER_PAIRS = frozenset({"ﬂ°", "¶ß"})
_PAIR_BREAK = "<span></span>"
_LINE_BREAK = "<br>"
_NO_BREAK_SPACE = "#160;"


def mermaid_quote(text: str) -> str:
    """Quote text as a Mermaid string (node, edge or subgraph label) that shows that text.

    Mermaid decodes entity codes such as ``#60;`` in labels, so the rules, applied
    character by character, are:

    - ``"``, backtick, ``<``, ``>``, ``&``, ``#``, ``;``, ``%``, ``:``, ``$``, ``|`` and
      ``\\`` become decimal entity codes, e.g. ``#34;`` for ``"``.  So no name can end
      the string or inject HTML, a directive, an icon, maths or an entity code.
    - ``<span></span>`` is put between ``ﬂ`` and ``°`` and between ``¶`` and ``ß``:
      Mermaid uses these pairs in placeholders for entity codes and would turn them into
      ``&`` and ``;`` wherever they appear.
    - A newline becomes ``<br>``, a line break in the label.
    - Any other non-printable character (see ``str.isprintable()``: tab, carriage return,
      other control and format characters, separators other than the space, surrogates,
      unassigned code points) is shown as its Python escape, e.g. ``\\t``, ``\\x00`` or
      ``\\u200b``, like the ``text`` renderer does (the backslash as ``#92;``).
    - A space at the start or end of a line, or next to another space, becomes a
      no-break space (``#160;``): Mermaid trims labels and HTML collapses runs of spaces,
      and either would change what the label shows.  Other spaces stay.
    - An empty text becomes ``" "``, which Mermaid shows as an empty label (``""`` is a
      syntax error).

    Everything else, including ``[]{}()``, ``*``, ``_``, ``'`` and any printable unicode,
    is kept as is: inside a quoted string Mermaid reads them as text, and keywords such as
    ``end`` or ``subgraph`` are plain text too.

    Args:
        text: The text to quote.

    Returns:
        A double-quoted Mermaid string.
    """
    if not text:
        return '" "'
    lines = text.split("\n")
    return '"' + _LINE_BREAK.join(_quote_line(line) for line in lines) + '"'


def _quote_line(line: str) -> str:
    """Encode one line of a label (a text without newlines) for :func:`mermaid_quote`.

    Args:
        line: The text of the line.

    Returns:
        The encoded line.
    """
    shown = escape_text(line)  # non-printable characters as visible Python escapes
    parts = []
    last = len(shown) - 1
    for index, char in enumerate(shown):
        if char == " ":
            keep = 0 < index < last and shown[index - 1] != " " and shown[index + 1] != " "
            parts.append(" " if keep else _NO_BREAK_SPACE)
        elif char in _ENTITY_CHARS:
            parts.append(f"#{ord(char)};")
        else:
            parts.append(char)
            if shown[index : index + 2] in _PLACEHOLDER_PAIRS:
                parts.append(_PAIR_BREAK)
    return "".join(parts)


@pausing  # the lines and indexes made here all live until the text is joined
def render_mermaid(graph: PipelineGraph) -> str:
    """Render the graph as a Mermaid flowchart.

    Args:
        graph: The pipeline graph to draw.

    Returns:
        The Mermaid source, ending with a newline.
    """
    ids = graph.node_ids("t")
    known = set(graph.tasks)
    lines = ["flowchart LR"]
    classes: dict[str, list[str]] = {"task": [], "parallel": [], "unknown": [], "group": []}

    for name, node_id in ids.items():
        lines.append(f"{_INDENT}{node_id}({mermaid_quote(name)})")
        if graph.in_parallel_group(name):
            classes["parallel"].append(node_id)
        elif name not in known:
            classes["unknown"].append(node_id)
        else:
            classes["task"].append(node_id)

    # A node can be in one subgraph only, so a task that belongs to several parallel
    # groups is drawn inside the first of them; a group left with no task is not drawn.
    placed: set[str] = set()
    for index, group in enumerate(graph.parallel_groups):
        members = [name for name in dict.fromkeys(group) if name not in placed]
        if not members:
            continue
        placed.update(members)
        title = "parallel" if group.caller is None else f"parallel (called by {group.caller})"
        lines.append(f"{_INDENT}subgraph g{index} [{mermaid_quote(title)}]")
        lines.extend(f"{_INDENT * 2}{ids[name]}" for name in members)
        lines.append(f"{_INDENT}end")
        classes["group"].append(f"g{index}")

    static_only: list[str] = []
    for number, edge in enumerate(graph.edges):
        arrow = "-.->" if edge.parallel else "-->"
        if edge.label:
            arrow += f"|{mermaid_quote(edge.label)}|"
        lines.append(f"{_INDENT}{ids[edge.upstream]} {arrow} {ids[edge.downstream]}")
        if edge.static and not edge.observed:
            static_only.append(str(number))

    styles = {
        "task": _TASK_STYLE,
        "parallel": _PARALLEL_STYLE,
        "unknown": _UNKNOWN_STYLE,
        "group": _GROUP_STYLE,
    }
    for class_name, members in classes.items():
        if members:
            lines.append(f"{_INDENT}classDef {class_name} {styles[class_name]}")
            lines.append(f"{_INDENT}class {','.join(members)} {class_name}")
    if static_only:
        lines.append(f"{_INDENT}linkStyle {','.join(static_only)} {_STATIC_ONLY_STYLE}")
    return "\n".join(lines) + "\n"


@hookimpl
def nolead_register_renderers(register: Callable[..., Any]) -> None:
    """Register the ``mermaid`` renderer for ``.mmd`` files.

    Args:
        register: The registration callback given by the plugin manager.
    """
    register(
        "mermaid",
        render_mermaid,
        suffixes=(".mmd",),
        description="Mermaid flowchart, with parallel groups drawn as dashed subgraphs",
    )
