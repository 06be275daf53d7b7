"""Hook specifications: what a nolead plugin can implement.

A plugin is a module (or object) with functions decorated by :data:`hookimpl` whose
names match the specifications below.  Built-in executors and renderers are plugins
too (see ``nolead/default_plugins/``).  Third-party plugins are found through the
``nolead`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

__all__ = ["hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("nolead")
hookimpl = pluggy.HookimplMarker("nolead")


@hookspec
def nolead_register_executors(register: Callable[..., Any]) -> None:
    """Register executors by calling ``register`` once per executor.

    ``register(name, factory, *, crosses_process=False, default_max_workers=None,
    max_workers_limit=None, description="")``:

    - ``name``: the name users pick it by (``configure(executor=name)``,
      ``@Task(executor=name)``, ``NOLEAD_EXECUTOR``).
    - ``factory``: ``factory(max_workers)`` returning a ``concurrent.futures.Executor``;
      ``max_workers`` is the configured worker count or ``default_max_workers``.
    - ``crosses_process``: True when submitted work runs in another process, so the
      task, its arguments, its upstream results and its result must be pickled.
    - ``default_max_workers``: workers when the user configured none (``None``: the
      number of CPUs).
    - ``max_workers_limit``: the most workers the executor can use, whatever is
      configured (``1`` for an executor that runs everything in the calling thread).
    - ``description``: one line for listings.

    Args:
        register: The callback described above.
    """


@hookspec
def nolead_register_renderers(register: Callable[..., Any]) -> None:
    """Register graph renderers by calling ``register`` once per output format.

    ``register(name, renderer, *, suffixes=(), description="")``:

    - ``name``: the format name (``generate_dependency_graph(output_format=name)``).
    - ``renderer``: a callable taking a :class:`nolead.PipelineGraph` and returning the
      file content as ``str`` (written as UTF-8) or ``bytes``.
    - ``suffixes``: file suffixes (with the dot, e.g. ``".dot"``) that select this format
      when no ``output_format`` is given.
    - ``description``: one line for listings.

    Args:
        register: The callback described above.
    """
