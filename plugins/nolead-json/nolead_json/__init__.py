"""nolead-json: write nolead's pipeline graph as node-link JSON.

Installing this package is all it takes: it declares an entry point in the ``nolead``
group, so ``generate_dependency_graph("pipeline.json")`` writes JSON (and
``output_format="json"`` selects it for any file name).

The document is networkx's *node-link* format for a directed multigraph (two tasks can
be linked more than once, with different parameters)::

    {"directed": true, "multigraph": true,
     "graph": {"name": "nolead pipeline", "parallel_groups": [{"caller": ..., "tasks": [...]}]},
     "nodes": [{"id": "load", "function": ..., "signature": ..., "executor": ..., ...}],
     "links": [{"source": "load", "target": "clean", "key": 0, "params": {"n": 3},
                "parallel": false, "static": true, "observed": true}]}

Read it back with ``networkx.node_link_graph(data, edges="links")``.  Parameter values
that JSON cannot hold (tuples stay lists; sets, objects…) are written as their
``repr()``; ``params`` is ``null`` for an edge found in the code whose arguments are only
known at run time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from nolead import hookimpl

__all__ = ["nolead_register_renderers", "render_json", "to_node_link"]

__version__ = "0.1.0"


def _jsonable(value: Any) -> Any:
    """Return ``value`` if JSON can hold it as is, converting containers; else its repr."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
        )
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
        return {key: _jsonable(item) for key, item in value.items()}
    return repr(value)


def to_node_link(graph: Any) -> dict[str, Any]:
    """Convert a ``nolead.PipelineGraph`` into a node-link dictionary.

    Args:
        graph: The pipeline graph a renderer receives.

    Returns:
        A dictionary that ``json.dumps`` accepts and
        ``networkx.node_link_graph(..., edges="links")`` reads.
    """
    nodes = []
    for name in graph.tasks:
        info = graph.task_info[name]
        nodes.append(
            {
                "id": name,
                "function": info.function,
                "signature": info.signature,
                "executor": info.executor,
                "doc": info.doc,
                "cached_results": info.cached_results,
                "parallel": graph.in_parallel_group(name),
            }
        )
    keys: dict[tuple[str, str], int] = {}
    links = []
    for edge in graph.edges:
        pair = (edge.upstream, edge.downstream)
        keys[pair] = keys.get(pair, -1) + 1
        links.append(
            {
                "source": edge.upstream,
                "target": edge.downstream,
                "key": keys[pair],
                "params": None if edge.params is None else _jsonable(dict(edge.params)),
                "label": edge.label,
                "parallel": edge.parallel,
                "static": edge.static,
                "observed": edge.observed,
            }
        )
    groups = [{"caller": group.caller, "tasks": list(group)} for group in graph.parallel_groups]
    return {
        "directed": True,
        "multigraph": True,
        "graph": {"name": "nolead pipeline", "parallel_groups": groups},
        "nodes": nodes,
        "links": links,
    }


def render_json(graph: Any) -> str:
    """Render the graph as node-link JSON text (UTF-8, deterministic, ending in a newline)."""
    return json.dumps(to_node_link(graph), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


@hookimpl
def nolead_register_renderers(register: Callable[..., Any]) -> None:
    """Register the ``json`` format for ``.json`` files."""
    register(
        "json",
        render_json,
        suffixes=(".json",),
        description="node-link JSON, readable by networkx.node_link_graph",
    )
