"""Graph output: ``generate_dependency_graph()`` and ``print_task_info()``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from nolead import engine, graph, plugins
from nolead.graphmodel import PipelineGraph
from nolead.task import resolve

__all__ = ["build_graph", "generate_dependency_graph", "print_task_info", "render_graph"]

DEFAULT_FORMAT = "dot"


def build_graph(include_tasks: Iterable[str] | None = None) -> PipelineGraph:
    """Return a snapshot of the pipeline graph (what renderers receive).

    Args:
        include_tasks: Names of the tasks to keep; ``None`` keeps all.

    Raises:
        UnknownTaskError: When ``include_tasks`` names a task that does not exist.
    """
    names = None
    if include_tasks is not None:
        if isinstance(include_tasks, str):
            include_tasks = [include_tasks]
        names = [resolve(name).name for name in include_tasks]
    return graph.snapshot(names, engine.cached_counts())


def render_graph(
    output_format: str = DEFAULT_FORMAT, include_tasks: Iterable[str] | None = None
) -> str | bytes:
    """Render the pipeline graph with a registered renderer and return the content.

    Args:
        output_format: A registered format name (``"dot"``, ``"text"``, ...).
        include_tasks: Names of the tasks to keep; ``None`` keeps all.

    Raises:
        UnknownRendererError: When no plugin registered ``output_format``.
    """
    info = plugins.renderer_info(output_format)
    return info.renderer(build_graph(include_tasks))


def generate_dependency_graph(
    output_file: str | os.PathLike[str] = "pipeline_graph.dot",
    include_tasks: Iterable[str] | None = None,
    output_format: str | None = None,
) -> str:
    """Write the pipeline's dependency graph to a file.

    The format is ``output_format`` when given; otherwise it follows the file's suffix
    (``.dot``/``.gv`` DOT, ``.txt`` text, and whatever suffixes plugins registered);
    otherwise DOT.  The graph can be drawn before any run (edges found in the code) and
    after (edges seen at run time too, with the parameters passed).

    Args:
        output_file: Where to write.
        include_tasks: Names of the tasks to draw; ``None`` draws all.
        output_format: A registered format name, e.g. ``"dot"``, ``"text"``.

    Returns:
        The path written, as a string.

    Raises:
        UnknownRendererError: When ``output_format`` is not a registered format.
        UnknownTaskError: When ``include_tasks`` names an unknown task.
    """
    path = Path(output_file)
    if output_format is None:
        by_suffix = plugins.renderer_for(path.suffix) if path.suffix else None
        output_format = by_suffix.name if by_suffix is not None else DEFAULT_FORMAT
    content = render_graph(output_format, include_tasks)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    from nolead.log import logger

    logger.info("Dependency graph (%s) written to %s", output_format, path)
    return str(output_file)


def print_task_info(task_name: str) -> None:
    """Print what is known about one task: function, dependencies, dependents, groups.

    Args:
        task_name: The task's name (a task function works too).

    Raises:
        UnknownTaskError: When no task has that name (with the closest names).
    """
    name = resolve(task_name).name
    snapshot = build_graph()
    info = snapshot.task_info[name]
    deps = snapshot.dependencies(name)
    users = snapshot.dependents(name)
    lines = [f"Task: {name}", f"Function: {info.function}{info.signature}"]
    if info.doc:
        lines.append(f"Description: {info.doc}")
    if info.executor:
        lines.append(f"Executor: {info.executor}")
    lines.append(f"Cached results: {info.cached_results}")
    groups = [g for g in snapshot.parallel_groups if name in g]
    if groups:
        lines.append("Parallel Groups:")
        for group in groups:
            caller = f" (called by {group.caller})" if group.caller else ""
            lines.append(f"  - {', '.join(group)}{caller}")
    lines.append(f"Dependencies ({len(deps)}):")
    lines.extend(_edge_line(edge.upstream, edge.parallel, edge.label) for edge in deps)
    lines.append(f"Dependents ({len(users)}):")
    lines.extend(_edge_line(edge.downstream, edge.parallel, edge.label) for edge in users)
    print("\n".join(lines))


def _edge_line(other: str, parallel: bool, label: str) -> str:
    marker = " [parallel]" if parallel else ""
    params = f" (params: {label})" if label else ""
    return f"  - {other}{marker}{params}"
