"""nolead-json: the pipeline graph as node-link JSON, readable by networkx.

Installing the package is all it takes.  It declares the entry point ``json`` in the
``nolead`` group, so nolead loads it on its own and registers the ``json`` format for
``.json`` files: ``generate_dependency_graph("pipeline.json")`` writes JSON, and
``output_format="json"`` selects it for any file name.

The document is networkx's *node-link* format for a directed multigraph (two tasks can
be linked more than once, once per parameter set)::

    {
      "directed": true,
      "multigraph": true,
      "graph": {
        "name": "nolead pipeline",
        "format": "nolead-json",
        "format_version": 1,
        "parallel_groups": [
          {"caller": "report", "tasks": ["total", "largest"], "static": true, "observed": true}
        ]
      },
      "nodes": [
        {"id": "load", "function": "pipeline.load", "signature": "(rows=3)",
         "executor": null, "doc": "Load the rows.", "cached_results": 1},
        ...
      ],
      "links": [
        {"source": "load", "target": "total", "key": 0, "params": {"rows": 5},
         "parallel": false, "static": true, "observed": true},
        ...
      ],
      "edges": [... the same list as "links" ...]
    }

- ``nodes`` lists the graph's tasks in order, then any name that appears only in an edge
  or a parallel group (its task fields are ``null``).
- ``links`` lists the edges in the graph's order.  ``key`` numbers the links between the
  same two tasks from 0.  ``params`` is ``null`` when the edge was found in the code and
  its arguments are only known at run time, ``{}`` when none were passed.
- ``edges`` repeats ``links`` so that ``networkx.node_link_graph(data)`` works with no
  keyword in every networkx 3.x: up to 3.5 it reads ``"links"`` by default (3.4 and 3.5
  with a ``FutureWarning``), from 3.6 on it reads ``"edges"``.
  ``node_link_graph(data, edges="links")`` (networkx >= 3.4) reads the same graph.

Parameter values are written as they are when JSON holds them natively: ``str``,
``int``, finite ``float``, ``bool`` and ``None`` (exactly those types, not subclasses
such as enums), and lists and dicts whose keys are all ``str``, recursively.  Any other
value (tuples, sets, bytes, non-finite floats, other objects, a list or dict met again
inside itself) is written as the string ``repr(value)``, with the members of sets sorted
so that the text is the same in every run (an object whose ``repr()`` shows its memory
address still differs from run to run).

The output is strict JSON and deterministic: keys in the fixed order shown above (the
names inside ``params`` sorted), lists in the graph's order, two-space indent, non-ASCII
text kept as is, and a trailing newline.  A lone surrogate in a name or a value, which
UTF-8 cannot encode, is written as a ``\\uXXXX`` escape.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nolead.hookspecs import hookimpl

if TYPE_CHECKING:
    from nolead.graphmodel import PipelineGraph

__all__ = ["FORMAT_VERSION", "nolead_register_renderers", "render_json", "to_node_link"]

__version__ = "0.1.0"

FORMAT_VERSION = 1
"""Version of the document layout, written as ``graph.format_version``."""

_NODE_FIELDS = ("function", "signature", "executor", "doc", "cached_results")
_SCALARS = (str, int, bool, type(None))
_CONTAINERS = (list, tuple, dict, set, frozenset)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_value(value: Any, _open: frozenset[int] = frozenset()) -> Any:
    """Return ``value`` as JSON can hold it: as is, or as its ``repr()``.

    Args:
        value: A parameter value.
        _open: The ids of the containers being converted around ``value`` (cycle guard).

    Returns:
        ``value`` itself for a JSON-native scalar, a converted copy for a list or a dict
        with ``str`` keys (the copy of a dict has its keys sorted), and ``repr(value)``
        for anything else.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is float:
        return value if math.isfinite(value) else _repr(value)
    if id(value) in _open:
        return _repr(value)
    if isinstance(value, list):
        inner = _open | {id(value)}
        return [_json_value(item, inner) for item in value]
    if isinstance(value, dict) and all(type(key) is str for key in value):
        inner = _open | {id(value)}
        return {key: _json_value(value[key], inner) for key in sorted(value)}
    return _repr(value)


def _repr(value: Any, _open: frozenset[int] = frozenset()) -> str:
    """Return ``repr(value)``, written the same way in every run.

    Lists, tuples, dicts, sets and frozensets (exactly those types) are written as
    ``repr()`` writes them, except that the members of a set are sorted (numbers by
    value, then everything else by representation), so the text does not depend on
    string hashing.  A container met again inside itself is written ``[...]``,
    ``{...}`` or ``...``.  When ``repr()`` fails, a placeholder naming the type is used.

    Args:
        value: Any object.
        _open: The ids of the containers being written around ``value`` (cycle guard).

    Returns:
        The representation.
    """
    kind = type(value)
    if kind not in _CONTAINERS:
        try:
            return repr(value)
        except Exception:
            return f"<{kind.__module__}.{kind.__qualname__} object (repr failed)>"
    if id(value) in _open:
        return "[...]" if kind is list else "{...}" if kind is dict else "..."
    inner = _open | {id(value)}
    if kind is dict:
        return (
            "{" + ", ".join(f"{_repr(k, inner)}: {_repr(v, inner)}" for k, v in value.items()) + "}"
        )
    parts = [_repr(item, inner) for item in value]
    if kind is list:
        return "[" + ", ".join(parts) + "]"
    if kind is tuple:
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if not parts:
        return f"{kind.__name__}()"
    ordered = sorted(zip(value, parts), key=_member_order)
    body = "{" + ", ".join(text for _, text in ordered) + "}"
    return body if kind is set else f"frozenset({body})"


def _member_order(member: tuple[Any, str]) -> tuple[int, Any, str]:
    """Sort key for a set member: finite numbers by value first, then the rest by text.

    Args:
        member: The member and its representation.

    Returns:
        A key that orders any mix of members the same way in every run.
    """
    value, text = member
    kind = type(value)
    if kind in (int, bool) or (kind is float and math.isfinite(value)):
        return (0, value, text)
    return (1, 0, text)


def _names(graph: PipelineGraph) -> list[str]:
    """Return every name in the graph: tasks in order, then the rest by first appearance.

    Args:
        graph: The pipeline graph.

    Returns:
        The names, each once.
    """
    names = dict.fromkeys(graph.tasks)
    for edge in graph.edges:
        names.update(dict.fromkeys((edge.upstream, edge.downstream)))
    for group in graph.parallel_groups:
        names.update(dict.fromkeys(group))
    return list(names)


def to_node_link(graph: PipelineGraph) -> dict[str, Any]:
    """Convert a pipeline graph into a node-link dictionary (see the module docstring).

    Args:
        graph: The pipeline graph a renderer receives.

    Returns:
        A dictionary that ``json.dumps`` accepts and ``networkx.node_link_graph`` reads as
        a ``MultiDiGraph``.
    """
    nodes: list[dict[str, Any]] = []
    for name in _names(graph):
        info = graph.task_info.get(name)
        node: dict[str, Any] = {"id": name}
        for field in _NODE_FIELDS:
            node[field] = None if info is None else _json_value(getattr(info, field))
        nodes.append(node)

    links: list[dict[str, Any]] = []
    keys: dict[tuple[str, str], int] = {}
    for edge in graph.edges:
        pair = (edge.upstream, edge.downstream)
        keys[pair] = key = keys.get(pair, -1) + 1
        params = None if edge.params is None else dict(edge.params)
        links.append(
            {
                "source": edge.upstream,
                "target": edge.downstream,
                "key": key,
                "params": None if params is None else _json_value(params),
                "parallel": edge.parallel,
                "static": edge.static,
                "observed": edge.observed,
            }
        )

    groups = [
        {
            "caller": group.caller,
            "tasks": list(group),
            "static": group.static,
            "observed": group.observed,
        }
        for group in graph.parallel_groups
    ]
    return {
        "directed": True,
        "multigraph": True,
        "graph": {
            "name": "nolead pipeline",
            "format": "nolead-json",
            "format_version": FORMAT_VERSION,
            "parallel_groups": groups,
        },
        "nodes": nodes,
        "links": links,
        "edges": links,
    }


def render_json(graph: PipelineGraph) -> str:
    """Render the graph as node-link JSON text.

    Args:
        graph: The pipeline graph to write.

    Returns:
        Strict, deterministic JSON (two-space indent, non-ASCII kept as is) ending with a
        newline.
    """
    text = json.dumps(to_node_link(graph), indent=2, ensure_ascii=False, allow_nan=False)
    # A lone surrogate cannot be written as UTF-8; JSON can still carry it as an escape.
    # Surrogates only ever occur inside JSON strings, where the escape is valid.
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text) + "\n"


@hookimpl
def nolead_register_renderers(register: Callable[..., Any]) -> None:
    """Register the ``json`` renderer for ``.json`` files.

    Args:
        register: The registration callback given by the plugin manager.
    """
    register(
        "json",
        render_json,
        suffixes=(".json",),
        description="Node-link JSON of tasks, edges and parallel groups (networkx-readable)",
    )
