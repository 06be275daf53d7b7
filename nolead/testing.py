"""Test helpers for nolead users and plugin authors (a pytest plugin).

Installing nolead registers this module with pytest (entry point ``pytest11``), which
makes these fixtures available in any test suite:

- ``nolead_pipeline``: an empty result cache and default settings for one test.
- ``nolead_plugin``: ``nolead_plugin(obj, name=None)`` registers a plugin object (a
  module or instance with ``@nolead.hookimpl`` functions) for the current test only.

and the :class:`ExecutorContract` class: subclass it in your tests, set ``executor`` to
your executor's registered name, and every behaviour nolead promises for executors is
checked against it::

    from nolead.testing import ExecutorContract

    class TestMyExecutor(ExecutorContract):
        executor = "my-executor"

The contract's tasks count their runs in a file, so it works for executors whose work
runs in other processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import nolead
from nolead import plugins

__all__ = ["ExecutorContract", "RunCounter", "nolead_pipeline", "nolead_plugin"]


@pytest.fixture
def nolead_pipeline() -> Iterator[None]:
    """Give the test an empty result cache and default settings, and clean up after it."""
    nolead.reset_pipeline()
    nolead.configure(reset=True)
    yield
    nolead.reset_pipeline()
    nolead.configure(reset=True)


@pytest.fixture
def nolead_plugin() -> Iterator[Callable[..., str]]:
    """Return a function that registers a plugin until the end of the test."""
    registered: list[str] = []

    def register(plugin: Any, name: str | None = None) -> str:
        registered.append(plugins.register_plugin(plugin, name=name))
        return registered[-1]

    yield register
    for name in reversed(registered):
        plugins.unregister_plugin(name)


class RunCounter:
    """Counts task runs by appending lines to a file (works across processes).

    Args:
        directory: Where to keep the count file.
    """

    def __init__(self, directory: Path) -> None:
        self.path = str(directory / "runs.log")

    def hit(self, name: str) -> None:
        """Record one run of ``name``."""
        line = (name.replace("\n", " ") + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)  # one small O_APPEND write: atomic between processes
        finally:
            os.close(fd)

    def counts(self) -> dict[str, int]:
        """Return how many runs each name recorded."""
        result: dict[str, int] = {}
        if not os.path.exists(self.path):
            return result
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                name = line.rstrip("\n")
                result[name] = result.get(name, 0) + 1
        return result


class ExecutorContract:
    """Behaviour every executor must have.  Subclass and set ``executor``.

    Attributes:
        executor: The registered name of the executor under test.
        max_workers: Workers to configure it with.
    """

    executor: str = "thread"
    max_workers: int = 4

    @pytest.fixture(autouse=True)
    def _use_executor(self) -> Iterator[None]:
        nolead.reset_pipeline()
        nolead.configure(reset=True)
        nolead.configure(executor=self.executor, max_workers=self.max_workers)
        yield
        nolead.reset_pipeline()
        nolead.configure(reset=True)

    @pytest.fixture
    def counter(self, tmp_path: Path) -> RunCounter:
        """A run counter shared with the tasks (also across processes)."""
        return RunCounter(tmp_path)

    def test_results_in_given_order(self) -> None:
        """parallel() returns every result keyed by task name, in the order given."""
        tasks = [_constant(f"contract_order_{i}", i * i) for i in range(6)]
        result = nolead.parallel(list(reversed(tasks)))
        assert list(result) == [f"contract_order_{i}" for i in reversed(range(6))]
        assert result == {f"contract_order_{i}": i * i for i in range(6)}

    def test_shared_dependency_runs_once(self, counter: RunCounter) -> None:
        """Tasks of one group that use the same upstream task see one run of it."""

        @nolead.Task(name="contract_shared_base")
        def base() -> list[int]:
            counter.hit("base")
            return [1, 2, 3]

        def user(index: int) -> Any:
            @nolead.Task(name=f"contract_shared_user_{index}")
            def task() -> int:
                counter.hit(f"user{index}")
                return sum(nolead.uses(base)) * index

            return task

        users = [user(i) for i in range(8)]
        result = nolead.parallel(users)
        assert result == {f"contract_shared_user_{i}": 6 * i for i in range(8)}
        counts = counter.counts()
        assert counts["base"] == 1
        assert all(counts[f"user{i}"] == 1 for i in range(8))

    def test_results_are_cached_across_calls(self, counter: RunCounter) -> None:
        """A second parallel() over the same tasks reuses the cached results."""

        @nolead.Task(name="contract_cached")
        def cached() -> str:
            counter.hit("cached")
            return "value"

        assert nolead.parallel([cached]) == {"contract_cached": "value"}
        assert nolead.parallel(["contract_cached"]) == {"contract_cached": "value"}
        assert counter.counts() == {"cached": 1}

    def test_failure_names_task_and_chains_cause(self) -> None:
        """A failing task reaches the caller as TaskFailedError chained to the original."""

        @nolead.Task(name="contract_fails")
        def fails() -> None:
            raise ValueError("broken on purpose")

        ok = _constant("contract_fine", 1)
        with pytest.raises(nolead.TaskFailedError) as caught:
            nolead.parallel([ok, fails])
        error = caught.value
        assert error.task == "contract_fails"
        assert "contract_fails" in str(error)
        assert isinstance(error.__cause__, ValueError)
        assert "broken on purpose" in str(error.__cause__)
        # Nothing half-done is cached: the failing task runs again next time.
        with pytest.raises(nolead.TaskFailedError):
            nolead.parallel([fails])

    def test_nested_parallel(self) -> None:
        """parallel() inside tasks run by parallel() works, three levels deep."""

        def leaf(path: str) -> Any:
            return _constant(f"contract_leaf_{path}", len(path))

        def middle(path: str) -> Any:
            leaves = [leaf(f"{path}{i}") for i in range(3)]

            @nolead.Task(name=f"contract_middle_{path}")
            def task() -> int:
                return sum(nolead.parallel(leaves).values())

            return task

        middles = [middle(str(i)) for i in range(3)]

        @nolead.Task(name="contract_top")
        def top() -> int:
            return sum(nolead.parallel(middles).values())

        assert nolead.run_task(top) == 3 * 3 * 2

    def test_run_parallel_passes_shared_kwargs(self) -> None:
        """run_parallel() gives every task the shared keyword arguments."""

        @nolead.Task(name="contract_scale")
        def scale(factor: int, offset: int = 0) -> int:
            return 10 * factor + offset

        @nolead.Task(name="contract_echo")
        def echo(factor: int, **rest: Any) -> tuple[int, list[str]]:
            return factor, sorted(rest)

        result = nolead.run_parallel([scale, echo], factor=3, offset=1)
        assert result == {"contract_scale": 31, "contract_echo": (3, ["offset"])}

    def test_uses_inside_tasks_records_edges(self) -> None:
        """uses() inside tasks returns upstream results and the graph records the edge."""
        base = _constant("contract_edge_base", 5)
        name = "contract_edge_base"

        @nolead.Task(name="contract_edge_user")
        def user(scale: int = 2) -> int:
            value: int = nolead.uses(name)  # a name: only known at run time
            return value * scale

        assert nolead.parallel([user]) == {"contract_edge_user": 10}
        edges = nolead.build_graph().dependencies("contract_edge_user")
        assert [(e.upstream, e.observed) for e in edges] == [("contract_edge_base", True)]
        assert base is not None


def _constant(name: str, value: Any) -> Any:
    """Return a new task called ``name`` that returns ``value``."""

    @nolead.Task(name=name)
    def task() -> Any:
        return value

    return task
