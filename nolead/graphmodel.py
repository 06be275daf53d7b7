"""The pipeline graph handed to renderers: a read-only snapshot, part of the public API.

A renderer plugin receives a :class:`PipelineGraph` and turns it into text or bytes.
The snapshot holds plain strings and small value objects only, so a renderer never
touches the engine's live state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

__all__ = ["Edge", "ParallelGroup", "PipelineGraph", "TaskInfo", "format_params"]


@dataclass(frozen=True, slots=True)
class Edge:
    """A dependency: ``downstream`` needs the result of ``upstream``.

    Attributes:
        upstream: Name of the task whose result is needed.
        downstream: Name of the task that needs it (the caller of ``uses()`` or ``parallel()``).
        params: The keyword arguments passed to the upstream task along this edge, as given;
            empty when none were passed; ``None`` when the edge is known only from the code
            and its arguments cannot be read without running it.
        parallel: True when the upstream task was run by ``parallel()``/``run_parallel()``
            from the downstream task.
        static: True when the edge was found in the downstream task's source code.
        observed: True when the edge was seen while running the pipeline.
    """

    upstream: str
    downstream: str
    params: Mapping[str, Any] | None = field(default_factory=dict)
    parallel: bool = False
    static: bool = False
    observed: bool = False

    @property
    def label(self) -> str:
        """The parameters as ``name=value`` pairs, or ``""`` when there are none or unknown."""
        return format_params(self.params)


class ParallelGroup(tuple[str, ...]):
    """The tasks of one ``parallel()`` call, in the order given: a tuple of task names.

    Attributes:
        caller: Name of the task that called ``parallel()``, or ``None`` when it was called
            outside any task.
        static: True when the call was found in the caller's source code.
        observed: True when the call was seen while running the pipeline.
    """

    caller: str | None
    static: bool
    observed: bool

    def __new__(
        cls,
        tasks: tuple[str, ...] | list[str],
        caller: str | None = None,
        *,
        static: bool = False,
        observed: bool = False,
    ) -> ParallelGroup:
        group = super().__new__(cls, tuple(tasks))
        group.caller = caller
        group.static = static
        group.observed = observed
        return group

    def __repr__(self) -> str:
        return f"ParallelGroup({list(self)!r}, caller={self.caller!r})"


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """What is known about one task.

    Attributes:
        name: The task's name.
        function: The decorated function's ``module.qualname``.
        signature: The function's parameters, as Python would print them: ``"(x, y=2)"``.
        executor: The executor the task asked for with ``@Task(executor=...)``, or ``None``
            when it runs on the configured default.
        doc: The first line of the function's docstring, or ``None``.
        cached_results: How many results of this task (one per parameter set) are cached now.
    """

    name: str
    function: str
    signature: str
    executor: str | None = None
    doc: str | None = None
    cached_results: int = 0


@dataclass(frozen=True)
class PipelineGraph:
    """A snapshot of the pipeline: tasks, dependency edges and parallel groups.

    Attributes:
        tasks: Task names in registration order.
        edges: Dependency edges between those tasks, ordered by downstream task (in task
            order), then by upstream task, then by parameters.
        parallel_groups: Each ``parallel()`` call (static or observed) as a group of names.
        task_info: Per-task details, keyed by task name.
    """

    tasks: tuple[str, ...]
    edges: tuple[Edge, ...]
    parallel_groups: tuple[ParallelGroup, ...]
    task_info: Mapping[str, TaskInfo]

    def dependencies(self, name: str) -> list[Edge]:
        """Return the edges into ``name`` (what it needs), in edge order."""
        return list(self._edges_into.get(name, ()))

    def dependents(self, name: str) -> list[Edge]:
        """Return the edges out of ``name`` (what needs it), in edge order."""
        return list(self._edges_out_of.get(name, ()))

    @cached_property
    def _edges_into(self) -> dict[str, list[Edge]]:
        index: dict[str, list[Edge]] = {}
        for edge in self.edges:
            index.setdefault(edge.downstream, []).append(edge)
        return index

    @cached_property
    def _edges_out_of(self) -> dict[str, list[Edge]]:
        index: dict[str, list[Edge]] = {}
        for edge in self.edges:
            index.setdefault(edge.upstream, []).append(edge)
        return index

    @cached_property
    def _grouped(self) -> frozenset[str]:
        return frozenset(name for group in self.parallel_groups for name in group)

    def node_ids(self, prefix: str) -> dict[str, str]:
        """Give every name a synthetic, stable identifier: ``prefix0``, ``prefix1``, ...

        Tasks are numbered in ``tasks`` order; names that appear only in edges or parallel
        groups (outside ``include_tasks``, say) follow, in order of first appearance.
        Renderers use these as node identifiers so that no task name ever needs to be a
        valid identifier of the output format.

        Args:
            prefix: Text put before each number.

        Returns:
            A mapping from name to identifier.
        """
        ids: dict[str, str] = {}
        names = list(self.tasks)
        for edge in self.edges:
            names.extend((edge.upstream, edge.downstream))
        for group in self.parallel_groups:
            names.extend(group)
        for name in names:
            if name not in ids:
                ids[name] = f"{prefix}{len(ids)}"
        return ids

    def in_parallel_group(self, name: str) -> bool:
        """Return True when ``name`` belongs to at least one parallel group."""
        return name in self._grouped

    def __iter__(self) -> Iterator[str]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)


def format_params(params: Mapping[str, Any] | None) -> str:
    """Format edge parameters for a label: ``"a=1, b='x'"``; ``""`` when none or unknown.

    Args:
        params: The parameters, or ``None`` when unknown.

    Returns:
        The parameters as ``name=repr(value)`` pairs joined by ``", "``.
    """
    if not params:
        return ""
    return ", ".join(f"{key}={value!r}" for key, value in params.items())
