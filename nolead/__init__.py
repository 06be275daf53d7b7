"""nolead: pipelines written as plain decorated functions, run in parallel.

Public API (everything else is internal)::

    from nolead import Task, uses, parallel, run_task

    @Task()
    def load():
        return [1, 2, 3]

    @Task()
    def total():
        return sum(uses(load))

    run_task(total)  # 6
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nolead.config import configure
from nolead.engine import done, reset_pipeline, run_task, uses
from nolead.errors import (
    ConfigurationError,
    CycleError,
    NoleadError,
    NotATaskError,
    ParallelUsageError,
    PluginError,
    TaskFailedError,
    TaskParameterError,
    TaskPicklingError,
    UnknownExecutorError,
    UnknownRendererError,
    UnknownTaskError,
    WorkerCrashedError,
)
from nolead.log import LogLevel, configure_logging
from nolead.scheduler import parallel, run_parallel
from nolead.task import Task

if TYPE_CHECKING:
    from nolead.graphmodel import Edge, ParallelGroup, PipelineGraph, TaskInfo
    from nolead.hookspecs import hookimpl
    from nolead.visualize import build_graph, generate_dependency_graph, print_task_info

__version__ = "0.3.0"

__all__ = [
    "ConfigurationError",
    "CycleError",
    "Edge",
    "LogLevel",
    "NoleadError",
    "NotATaskError",
    "ParallelGroup",
    "ParallelUsageError",
    "PipelineGraph",
    "PluginError",
    "Task",
    "TaskFailedError",
    "TaskInfo",
    "TaskParameterError",
    "TaskPicklingError",
    "UnknownExecutorError",
    "UnknownRendererError",
    "UnknownTaskError",
    "WorkerCrashedError",
    "build_graph",
    "configure",
    "configure_logging",
    "done",
    "generate_dependency_graph",
    "hookimpl",
    "parallel",
    "print_task_info",
    "reset_pipeline",
    "run_parallel",
    "run_task",
    "uses",
]


# Names whose modules load on first use, so that ``import nolead`` stays fast
# (pluggy, dataclasses and the graph code are not needed to run tasks).
_LAZY = {
    "hookimpl": "nolead.hookspecs",
    "Edge": "nolead.graphmodel",
    "ParallelGroup": "nolead.graphmodel",
    "PipelineGraph": "nolead.graphmodel",
    "TaskInfo": "nolead.graphmodel",
    "build_graph": "nolead.visualize",
    "generate_dependency_graph": "nolead.visualize",
    "print_task_info": "nolead.visualize",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nolead' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
