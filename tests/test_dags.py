"""Property test: random DAGs run each (task, parameters) once and match plain evaluation."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nolead

_ids = itertools.count()

# A node: list of dependencies (upstream index, parameter k, "uses" or "group").
Node = list[tuple[int, int, str]]


@st.composite
def dags(draw: Any) -> list[Node]:
    """Random DAGs: node i may depend on any j < i, with a parameter and a mode."""
    size = draw(st.integers(min_value=1, max_value=10))
    nodes: list[Node] = []
    for index in range(size):
        deps: Node = []
        if index:
            chosen = draw(st.lists(st.integers(0, index - 1), unique=True, max_size=min(index, 4)))
            for upstream in chosen:
                k = draw(st.sampled_from([0, 0, 1, 2]))
                mode = draw(st.sampled_from(["uses", "uses", "group"]))
                deps.append((upstream, k, mode))
        nodes.append(deps)
    return nodes


def _reference(nodes: list[Node]) -> dict[tuple[int, int], int]:
    """Evaluate the DAG with plain recursion and a memo: the expected results."""
    memo: dict[tuple[int, int], int] = {}

    def value(index: int, k: int) -> int:
        if (index, k) not in memo:
            total = index * 1000 + k
            for upstream, upstream_k, _ in nodes[index]:
                total += value(upstream, upstream_k) * (index + 1)
            memo[(index, k)] = total
        return memo[(index, k)]

    for index in range(len(nodes)):
        for k in (0, 1, 2):
            value(index, k)
    return memo


def _build(nodes: list[Node], runs: dict[tuple[int, int], int], lock: threading.Lock) -> list[Any]:
    prefix = f"dag{next(_ids)}_"
    tasks: list[Any] = []
    for index, deps in enumerate(nodes):
        tasks.append(_make_task(prefix, index, deps, tasks, runs, lock))
    return tasks


def _make_task(
    prefix: str,
    index: int,
    deps: Node,
    tasks: list[Any],
    runs: dict[tuple[int, int], int],
    lock: threading.Lock,
) -> Any:
    @nolead.Task(name=f"{prefix}{index}")
    def task(k: int = 0) -> int:
        with lock:
            runs[(index, k)] = runs.get((index, k), 0) + 1
        total = index * 1000 + k
        grouped: dict[int, list[int]] = {}
        for upstream, upstream_k, mode in deps:
            if mode == "group":
                grouped.setdefault(upstream_k, []).append(upstream)
            else:
                total += nolead.uses(tasks[upstream], k=upstream_k) * (index + 1)
        for upstream_k, members in sorted(grouped.items()):
            if upstream_k == 0:
                results = nolead.parallel([tasks[m] for m in members])
            else:
                results = nolead.run_parallel([tasks[m] for m in members], k=upstream_k)
            assert list(results) == [f"{prefix}{m}" for m in members]
            total += sum(results.values()) * (index + 1)
        return total

    return task


@pytest.mark.parametrize("executor", ["thread", "serial"])
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(nodes=dags(), roots=st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True))
def test_random_dag_runs_each_key_once(executor: str, nodes: list[Node], roots: list[int]) -> None:
    """Every (task, parameters) runs exactly once per run; results equal plain evaluation."""
    nolead.reset_pipeline()
    nolead.configure(executor=executor, max_workers=4)
    runs: dict[tuple[int, int], int] = {}
    lock = threading.Lock()
    tasks = _build(nodes, runs, lock)
    expected = _reference(nodes)
    chosen = sorted({r % len(nodes) for r in roots})

    results = nolead.parallel([tasks[i] for i in chosen])
    assert results == {tasks[i].__nolead_task__.name: expected[(i, 0)] for i in chosen}
    assert all(count == 1 for count in runs.values()), runs

    # A second run over every node reuses the cache: nothing runs twice.
    again = nolead.parallel(tasks)
    assert again == {tasks[i].__nolead_task__.name: expected[(i, 0)] for i in range(len(tasks))}
    assert all(count == 1 for count in runs.values()), runs

    # After a reset, run_task from the last node recomputes exactly once per key.
    nolead.reset_pipeline()
    runs.clear()
    assert nolead.run_task(tasks[-1]) == expected[(len(tasks) - 1, 0)]
    assert all(count == 1 for count in runs.values()), runs
