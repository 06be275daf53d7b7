"""The ``text`` renderer: a plain-text listing of the pipeline graph.

The output lists the parallel task groups (when there are any) and then every task with
the tasks it depends on, one entry per line::

    Pipeline Dependency Graph
    =========================

    Parallel Task Groups:
      Group 1: process1, process2 (called by final_task)

    Task: load_data
      Dependencies: None

    Task: process1 [parallel]
      Dependencies:
        - load_data

Characters that are not printable (newlines, tabs, other control and format characters)
are shown as Python-style escapes such as ``\\n`` or ``\\x00`` so that every entry stays
on one line; printable text, including any unicode, is shown as is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nolead.gcpause import pausing
from nolead.graphmodel import Edge, PipelineGraph
from nolead.hookspecs import hookimpl

__all__ = ["escape_text", "render_text"]

TITLE = "Pipeline Dependency Graph"

_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def escape_text(text: str) -> str:
    """Replace every non-printable character with a visible Python-style escape.

    A character is non-printable when ``str.isprintable()`` says so (control, format and
    separator characters other than the ASCII space, unassigned code points, surrogates).
    Backslashes are left alone, so the result is meant for reading, not for decoding.

    Args:
        text: The text to show.

    Returns:
        The text with, e.g., a newline shown as ``\\n`` and a NUL shown as ``\\x00``.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape_char(char) for char in text)


def _escape_char(char: str) -> str:
    """Return the Python-style escape of one character, such as ``\\t`` or ``\\u200b``.

    Args:
        char: A single character.

    Returns:
        ``\\t``, ``\\n`` or ``\\r`` for those three, else ``\\xHH``, ``\\uHHHH`` or
        ``\\UHHHHHHHH`` (lower-case hexadecimal), as ``repr()`` writes them.
    """
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _dependency_line(edge: Edge) -> str:
    """Format one incoming edge as an indented list item.

    Args:
        edge: An edge into the task being listed.

    Returns:
        ``"    - upstream"`` plus the ``[parallel]``, ``(params: ...)`` and ``(static)``
        markers that apply.
    """
    line = f"    - {escape_text(edge.upstream)}"
    if edge.parallel:
        line += " [parallel]"
    if edge.label:
        line += f" (params: {escape_text(edge.label)})"
    if edge.static and not edge.observed:
        line += " (static)"
    return line


@pausing  # the lines and indexes made here all live until the text is joined
def render_text(graph: PipelineGraph) -> str:
    """Render the graph as human-readable text.

    Args:
        graph: The pipeline graph to show.

    Returns:
        The listing, ending with a newline.
    """
    lines = [TITLE, "=" * len(TITLE), ""]

    if graph.parallel_groups:
        lines.append("Parallel Task Groups:")
        for number, group in enumerate(graph.parallel_groups, start=1):
            members = ", ".join(escape_text(name) for name in group) or "(no tasks)"
            line = f"  Group {number}: {members}"
            if group.caller is not None:
                line += f" (called by {escape_text(group.caller)})"
            lines.append(line)
        lines.append("")

    if not graph.tasks:
        lines.extend(["No tasks.", ""])

    for name in graph.tasks:
        header = f"Task: {escape_text(name)}"
        if graph.in_parallel_group(name):
            header += " [parallel]"
        lines.append(header)
        dependencies = graph.dependencies(name)
        if dependencies:
            lines.append("  Dependencies:")
            lines.extend(_dependency_line(edge) for edge in dependencies)
        else:
            lines.append("  Dependencies: None")
        lines.append("")

    return "\n".join(lines[:-1]) + "\n"


@hookimpl
def nolead_register_renderers(register: Callable[..., Any]) -> None:
    """Register the ``text`` renderer for ``.txt`` files.

    Args:
        register: The registration callback given by the plugin manager.
    """
    register(
        "text",
        render_text,
        suffixes=(".txt",),
        description="Plain-text listing of tasks, dependencies and parallel groups",
    )
