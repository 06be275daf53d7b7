"""The ``dot`` renderer: the pipeline graph in the Graphviz DOT language.

Render the result with Graphviz, e.g. ``dot -Tpng pipeline.dot -o pipeline.png``.
Tasks are rounded boxes, edges point from a task to the task that needs it, and each
``parallel()`` call is drawn as a dashed cluster around its tasks.  Edges from parallel
tasks to their caller are dashed and bold; edges known only from the source code (not
seen while running) are grey.

pydot is imported only when a graph is rendered, so importing this plugin stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nolead.gcpause import pausing
from nolead.graphmodel import PipelineGraph
from nolead.hookspecs import hookimpl

__all__ = ["dot_quote", "render_dot"]

_FONT = '"Helvetica,Arial,sans-serif"'
_TASK_FILL = '"#e8f0fe"'
_TASK_BORDER = '"#4a6fa5"'
_PARALLEL_FILL = '"#fff4e0"'
_PARALLEL_BORDER = '"#c77700"'
_UNKNOWN_FILL = '"#f2f2f2"'
_STATIC_ONLY_COLOR = '"#9a9a9a"'
_EDGE_COLOR = '"#555555"'

_NAMED_ESCAPES = {"\t": "t", "\r": "r"}


def dot_quote(text: str) -> str:
    """Quote text as a DOT string whose Graphviz label shows that text.

    The rules, applied character by character:

    - ``\\`` becomes ``\\\\`` and ``"`` becomes ``\\"`` (DOT string syntax; Graphviz
      shows an escaped backslash as one backslash, so ``\\N``, ``\\G``, ``\\l`` and
      friends in a name are never taken as Graphviz escapes).
    - ``&`` becomes ``&amp;``: Graphviz decodes HTML entities even in plain labels, so a
      name such as ``&lt;`` would otherwise show as ``<``.
    - A newline becomes ``\\n``, a centred line break in the label.
    - Any other non-printable character (see ``str.isprintable()``: carriage return, tab,
      other control and format characters, separators other than the space, surrogates,
      unassigned code points) is shown as its Python escape, e.g. ``\\r``, ``\\t``,
      ``\\x00`` or ``\\u200b``.  It is written as ``\\\\`` (a literal backslash) followed
      by the escape letter as a numeric character reference and the hexadecimal digits,
      e.g. ``\\\\&#114;`` for a carriage return.  The reference keeps the DOT text
      decodable: it differs from a name that really contains a backslash and an ``r``
      (``\\\\r``).  A bare ``\\r`` or ``\\l`` would be a Graphviz line break instead.

    Everything else, including the space, ``<``, ``>``, braces and any printable unicode,
    is kept as is.  The result is always enclosed in double quotes, so it is never read
    as a keyword, a number or an HTML label.

    Args:
        text: The text to quote.

    Returns:
        A double-quoted DOT string.
    """
    parts = ['"']
    for char in text:
        if char == "\\":
            parts.append("\\\\")
        elif char == '"':
            parts.append('\\"')
        elif char == "&":
            parts.append("&amp;")
        elif char == "\n":
            parts.append("\\n")
        elif char.isprintable():
            parts.append(char)
        else:
            parts.append(_escape_unprintable(char))
    parts.append('"')
    return "".join(parts)


def _escape_unprintable(char: str) -> str:
    """Return the DOT text that shows a non-printable character as a Python escape.

    Args:
        char: A single non-printable character other than a newline.

    Returns:
        ``\\\\&#116;`` (shows ``\\t``), ``\\\\&#114;`` (``\\r``), ``\\\\&#120;HH``
        (``\\xHH``), ``\\\\&#117;HHHH`` (``\\uHHHH``) or ``\\\\&#85;HHHHHHHH``
        (``\\UHHHHHHHH``), with lower-case hexadecimal digits.
    """
    code = ord(char)
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        letter, digits = named, ""
    elif code < 0x100:
        letter, digits = "x", f"{code:02x}"
    elif code < 0x10000:
        letter, digits = "u", f"{code:04x}"
    else:
        letter, digits = "U", f"{code:08x}"
    return f"\\\\&#{ord(letter)};{digits}"


@pausing  # pydot's objects all live until the text is made
def render_dot(graph: PipelineGraph) -> str:
    """Render the graph as a Graphviz DOT document.

    Args:
        graph: The pipeline graph to draw.

    Returns:
        The DOT source.
    """
    import pydot  # type: ignore[import-untyped,unused-ignore]

    ids = graph.node_ids("task")
    known = set(graph.tasks)

    dot = pydot.Dot("pipeline", graph_type="digraph")
    dot.set("rankdir", "LR")
    dot.set("fontname", _FONT)
    dot.set_node_defaults(
        shape="box",
        style='"rounded,filled"',
        fillcolor=_TASK_FILL,
        color=_TASK_BORDER,
        fontname=_FONT,
    )
    dot.set_edge_defaults(color=_EDGE_COLOR, fontname=_FONT, fontsize="10")

    for name, node_id in ids.items():
        node_attributes: dict[str, Any] = {"label": dot_quote(name)}
        if graph.in_parallel_group(name):
            node_attributes.update(fillcolor=_PARALLEL_FILL, color=_PARALLEL_BORDER)
        elif name not in known:
            node_attributes.update(fillcolor=_UNKNOWN_FILL)
        dot.add_node(pydot.Node(node_id, **node_attributes))

    # Graphviz cannot place one node in two clusters that are not nested, so a task that
    # belongs to several parallel groups is drawn inside the first of them only.
    placed: set[str] = set()
    for index, group in enumerate(graph.parallel_groups):
        label = "parallel" if group.caller is None else f"parallel (called by {group.caller})"
        # A subgraph whose name starts with "cluster" is drawn as a box around its nodes.
        cluster = pydot.Subgraph(
            f"cluster_parallel_{index}",
            label=dot_quote(label),
            style='"rounded,dashed"',
            color=_PARALLEL_BORDER,
            fontcolor=_PARALLEL_BORDER,
            fontname=_FONT,
        )
        for name in group:
            if name not in placed:
                placed.add(name)
                cluster.add_node(pydot.Node(ids[name]))
        dot.add_subgraph(cluster)

    for edge in graph.edges:
        attributes: dict[str, Any] = {}
        if edge.label:
            attributes["label"] = dot_quote(edge.label)
        if edge.parallel:
            attributes["style"] = '"dashed,bold"'
        if edge.static and not edge.observed:
            attributes.update(color=_STATIC_ONLY_COLOR, fontcolor=_STATIC_ONLY_COLOR)
        dot.add_edge(pydot.Edge(ids[edge.upstream], ids[edge.downstream], **attributes))

    text: str = dot.to_string()
    return text


@hookimpl
def nolead_register_renderers(register: Callable[..., Any]) -> None:
    """Register the ``dot`` renderer for ``.dot`` and ``.gv`` files.

    Args:
        register: The registration callback given by the plugin manager.
    """
    register(
        "dot",
        render_dot,
        suffixes=(".dot", ".gv"),
        description="Graphviz DOT source, with parallel groups drawn as dashed clusters",
    )
