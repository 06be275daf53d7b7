"""The process executor: real worker processes, hybrid runs, shipping, failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

import pytest

import nolead
from nolead.testing import RunCounter

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def counter(tmp_path: Path) -> RunCounter:
    """Counts runs through a file, across processes."""
    return RunCounter(tmp_path)


@pytest.fixture
def processes() -> None:
    """Make the process executor the default for this test."""
    nolead.configure(executor="process", max_workers=2)


def test_process_tasks_run_in_other_processes(processes: None) -> None:
    """Bodies run in worker processes; workers are reused across calls."""

    def make(index: int) -> Any:
        @nolead.Task(name=f"proc_pid_{index}")
        def pid() -> int:
            return os.getpid()

        return pid

    first = nolead.parallel([make(i) for i in range(4)])
    assert os.getpid() not in first.values()
    nolead.reset_pipeline()
    second = nolead.parallel([make(i) for i in range(4)])
    assert set(second.values()) <= set(first.values()) | set(second.values())
    assert len(set(first.values()) | set(second.values())) <= 2  # max_workers=2, kept warm


def test_run_task_of_a_process_task(processes: None, counter: RunCounter) -> None:
    """run_task() ships a process task and its known upstream results."""

    @nolead.Task(name="proc_base")
    def base() -> list[int]:
        counter.hit("base")
        return [1, 2, 3]

    @nolead.Task(name="proc_total")
    def total(scale: int = 1) -> tuple[int, int]:
        counter.hit("total")
        return sum(nolead.uses(base)) * scale, os.getpid()

    value, pid = nolead.run_task(total, scale=2)
    assert value == 12 and pid != os.getpid()
    assert nolead.run_task("proc_total", scale=2)[0] == 12  # cached in the parent
    assert counter.counts() == {"base": 1, "total": 1}


def test_hybrid_threads_and_processes(counter: RunCounter) -> None:
    """Thread and process tasks depend on each other; shared upstream runs once."""

    @nolead.Task(name="hyb_load")
    def load() -> list[int]:
        counter.hit("load")
        return list(range(10))

    @nolead.Task(name="hyb_square", executor="process")
    def square() -> tuple[list[int], int]:
        counter.hit("square")
        return [x * x for x in nolead.uses(load)], os.getpid()

    @nolead.Task(name="hyb_cube", executor="process")
    def cube() -> tuple[list[int], int]:
        counter.hit("cube")
        return [x**3 for x in nolead.uses(load)], os.getpid()

    @nolead.Task(name="hyb_io")
    def io() -> tuple[int, int]:
        counter.hit("io")
        return len(nolead.uses(load)), threading.get_ident()

    @nolead.Task(name="hyb_report")
    def report() -> dict[str, Any]:
        results = nolead.parallel([square, cube, io])
        return {
            "square": sum(results["hyb_square"][0]),
            "cube": sum(results["hyb_cube"][0]),
            "io": results["hyb_io"][0],
            "pids": {results["hyb_square"][1], results["hyb_cube"][1]},
        }

    result = nolead.run_task(report)
    pids = result.pop("pids")
    assert os.getpid() not in pids
    nolead.reset_pipeline()
    nolead.configure(executor="serial")
    expected = nolead.run_task(report)
    expected.pop("pids")
    assert result == expected == {"square": 285, "cube": 2025, "io": 10}
    counts = counter.counts()
    # once in the hybrid run, once in the serial reference run
    assert counts == {"load": 2, "square": 2, "cube": 2, "io": 2}


def test_dependency_discovered_in_the_worker(processes: None, counter: RunCounter) -> None:
    """A dependency only known at run time is computed once, in the parent, and recorded."""

    @nolead.Task(name="dyn_source")
    def source(n: int = 3) -> list[int]:
        counter.hit(f"source{n}")
        return list(range(n))

    name = "dyn_" + "source"  # not a literal: invisible to static discovery

    def consumer(index: int) -> Any:
        @nolead.Task(name=f"dyn_consumer_{index}")
        def consume() -> int:
            counter.hit(f"consumer{index}")
            return sum(nolead.uses(name, n=5)) + index

        return consume

    consumers = [consumer(i) for i in range(3)]
    assert nolead.parallel(consumers) == {f"dyn_consumer_{i}": 10 + i for i in range(3)}
    assert counter.counts()["source5"] == 1
    edges = nolead.build_graph().dependencies("dyn_consumer_0")
    assert [(e.upstream, dict(e.params or {}), e.observed) for e in edges] == [
        ("dyn_source", {"n": 5}, True)
    ]
    # The edge is now known: after a reset the source is shipped up front (no restart).
    nolead.reset_pipeline()
    before = counter.counts()
    assert nolead.parallel(consumers) == {f"dyn_consumer_{i}": 10 + i for i in range(3)}
    after = counter.counts()
    assert after["source5"] == before["source5"] + 1
    assert all(after[f"consumer{i}"] == before[f"consumer{i}"] + 1 for i in range(3))


def test_parallel_inside_a_process_task_runs_in_that_worker(processes: None) -> None:
    """parallel() called inside a process task runs its tasks in that worker process."""

    def leaf(index: int) -> Any:
        @nolead.Task(name=f"inner_leaf_{index}")
        def task() -> int:
            return os.getpid()

        return task

    leaves = [leaf(i) for i in range(3)]

    @nolead.Task(name="inner_outer")
    def outer() -> tuple[int, set[int]]:
        return os.getpid(), set(nolead.parallel(leaves).values())

    outer_pid, leaf_pids = nolead.run_task(outer)
    assert outer_pid != os.getpid()
    assert leaf_pids == {outer_pid}
    groups = nolead.build_graph().parallel_groups
    assert any(g.caller == "inner_outer" and len(g) == 3 for g in groups)


def test_exception_in_worker_names_task_with_remote_traceback(processes: None) -> None:
    """A worker's exception reaches the caller naming the task, remote traceback chained."""

    @nolead.Task(name="proc_raises")
    def raises() -> None:
        raise KeyError("missing thing")

    with pytest.raises(nolead.TaskFailedError) as caught:
        nolead.parallel([raises])
    assert caught.value.task == "proc_raises"
    original = caught.value.__cause__
    assert isinstance(original, KeyError)
    text = "".join(traceback.format_exception(original))
    assert "raises" in text and "missing thing" in text
    assert "Traceback" in str(original.__cause__)  # the worker's own traceback


def test_exception_from_run_task_is_the_original(processes: None) -> None:
    """run_task() of a failing process task raises the task's own exception type."""

    @nolead.Task(name="proc_value_error")
    def bad() -> None:
        raise ValueError("bad value")

    with pytest.raises(ValueError, match="bad value"):
        nolead.run_task(bad)


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_worker_that_dies_names_the_task_and_next_run_works(processes: None, how: str) -> None:
    """A worker killed mid-task gives WorkerCrashedError naming the task; nolead recovers."""

    @nolead.Task(name=f"proc_dies_{how}")
    def dies() -> None:
        time.sleep(0.05)
        if how == "exit":
            os._exit(3)
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(nolead.TaskFailedError) as caught:
        nolead.parallel([dies])
    assert isinstance(caught.value.__cause__, nolead.WorkerCrashedError)
    assert f"proc_dies_{how}" in str(caught.value.__cause__)

    @nolead.Task(name="proc_after_crash")
    def fine() -> int:
        return os.getpid()

    assert nolead.run_task(fine) != os.getpid()


def test_unpicklable_argument_names_task_and_type(processes: None) -> None:
    """An argument that cannot be pickled is reported with the task and its type."""

    @nolead.Task(name="proc_takes_lock")
    def takes(lock: Any = None) -> str:
        return "never"

    with pytest.raises(nolead.TaskFailedError) as caught:
        nolead.run_parallel([takes], lock=threading.Lock())
    error = caught.value.__cause__
    assert isinstance(error, nolead.TaskPicklingError)
    assert "proc_takes_lock" in str(error) and "'lock'" in str(error) and "lock" in str(error)


def test_unpicklable_result_names_task_and_type(processes: None) -> None:
    """A result that cannot be pickled back is reported with the task and its type."""

    @nolead.Task(name="proc_returns_lock")
    def returns() -> Any:
        return threading.Lock()

    with pytest.raises(nolead.TaskFailedError) as caught:
        nolead.parallel([returns])
    error = caught.value.__cause__
    assert isinstance(error, nolead.TaskPicklingError)
    assert "proc_returns_lock" in str(error) and "lock" in str(error)


def test_unpicklable_function_names_task(processes: None) -> None:
    """A task whose function cannot be pickled is reported before anything runs."""
    lock = threading.Lock()

    @nolead.Task(name="proc_closes_over_lock")
    def closes() -> bool:
        return lock.locked()

    with pytest.raises(nolead.TaskFailedError) as caught:
        nolead.parallel([closes])
    error = caught.value.__cause__
    assert isinstance(error, nolead.TaskPicklingError)
    assert "proc_closes_over_lock" in str(error) and "function" in str(error)


def test_large_result_travels_out_of_band(processes: None) -> None:
    """A large buffer reaches two process tasks intact and comes back intact."""

    @nolead.Task(name="big_make")
    def make() -> bytes:
        return bytes(range(256)) * (3 << 12)  # 3 MiB

    @nolead.Task(name="big_left")
    def left() -> int:
        return sum(nolead.uses(make)[:1000])

    @nolead.Task(name="big_echo")
    def echo() -> bytes:
        return nolead.uses(make)[::-1]

    results = nolead.parallel([left, echo])
    expected = bytes(range(256)) * (3 << 12)
    assert results["big_left"] == sum(expected[:1000])
    assert results["big_echo"] == expected[::-1]


def _run_script(tmp_path: Path, code: str, env: dict[str, str] | None = None) -> str:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_tasks_defined_in_main_of_a_script(tmp_path: Path) -> None:
    """Tasks defined in a script's __main__ run in worker processes (by value)."""
    stdout = _run_script(
        tmp_path,
        """
        import os
        import nolead

        @nolead.Task()
        def numbers():
            return list(range(100))

        @nolead.Task(executor="process")
        def total():
            return sum(nolead.uses(numbers)), os.getpid()

        @nolead.Task(executor="process")
        def largest():
            return max(nolead.uses(numbers)), os.getpid()

        if __name__ == "__main__":
            results = nolead.parallel([total, largest])
            pids = {results["total"][1], results["largest"][1]}
            print(results["total"][0], results["largest"][0], os.getpid() in pids)
        """,
    )
    assert stdout.split() == ["4950", "99", "False"]


def _marked_processes(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if marker.encode() in handle.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to list processes")
def test_no_orphan_workers_after_exit(tmp_path: Path) -> None:
    """Worker processes end when the program that started them exits."""
    marker = f"NOLEAD_ORPHAN_CHECK={uuid.uuid4().hex}"
    name, value = marker.split("=")
    stdout = _run_script(
        tmp_path,
        """
        import os
        import nolead

        nolead.configure(executor="process", max_workers=2)

        @nolead.Task()
        def pid():
            return os.getpid()

        print(nolead.run_task(pid))
        """,
        env={name: value},
    )
    worker = int(stdout.split()[0])
    deadline = time.monotonic() + 30
    while _marked_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _marked_processes(marker) == []
    assert not os.path.exists(f"/proc/{worker}")
