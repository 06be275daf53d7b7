"""The engine: result cache, current task, single flight, failures, deep chains, cycles, logs."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import nolead
from nolead import (
    CycleError,
    LogLevel,
    Task,
    UnknownTaskError,
    configure_logging,
    done,
    parallel,
    reset_pipeline,
    run_task,
    uses,
)
from nolead import task as task_module


class _Counter:
    """Counts executions per key under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[Any, int] = {}

    def hit(self, key: Any = None) -> int:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]

    def __getitem__(self, key: Any) -> int:
        with self.lock:
            return self.counts.get(key, 0)

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.counts.values())


def _edges(*names: str) -> set[tuple[str, str, bool, bool]]:
    """Return ``(upstream, downstream, static, observed)`` for edges among ``names``."""
    graph = nolead.build_graph(include_tasks=list(names))
    return {(e.upstream, e.downstream, e.static, e.observed) for e in graph.edges}


@pytest.fixture
def forget_new_tasks() -> Iterator[None]:
    """Unregister the tasks a test defines (for tests that register thousands of them).

    Task names are global and never forgotten by nolead, so a test that registers a
    100,000-task chain would otherwise slow down every later whole-graph snapshot.
    """
    saved = dict(task_module._registry)
    yield
    task_module._registry.clear()
    task_module._registry.update(saved)
    task_module._version += 1
    from nolead import graph

    for key in [key for key in graph._observed if key[0].name not in saved]:
        graph._observed.pop(key, None)


# --------------------------------------------------------------------------- caching


def test_results_are_cached_until_reset() -> None:
    """A task runs once per parameter set until ``reset_pipeline()``."""
    counter = _Counter()

    @Task(name="en_cached")
    def cached() -> list[int]:
        counter.hit()
        return [1, 2]

    first = run_task(cached)
    assert run_task(cached) is first
    assert run_task("en_cached") is first
    assert counter.total == 1
    reset_pipeline()
    second = run_task(cached)
    assert second == [1, 2]
    assert second is not first
    assert counter.total == 2


def test_upstream_is_cached_for_every_downstream() -> None:
    """Two downstream tasks using one upstream share a single execution."""
    counter = _Counter()

    @Task(name="en_up_once")
    def up() -> int:
        counter.hit()
        return 3

    @Task(name="en_down_a")
    def down_a() -> int:
        return uses(up) + 1

    @Task(name="en_down_b")
    def down_b() -> int:
        return uses("en_up_once") + 2

    assert run_task(down_a) == 4
    assert run_task(down_b) == 5
    assert counter.total == 1


def test_done_returns_its_argument() -> None:
    """``done(value)`` returns the value; ``done()`` returns ``None``."""
    marker = object()
    assert done(marker) is marker
    assert done() is None

    @Task(name="en_done")
    def finished() -> dict[str, int]:
        return done({"n": 1})

    @Task(name="en_done_none")
    def nothing() -> None:
        return done()

    assert run_task(finished) == {"n": 1}
    assert run_task(nothing) is None


# --------------------------------------------------------------------- current task


def test_uses_records_edges_against_named_tasks() -> None:
    """An edge seen at run time belongs to the task's registered name."""

    @Task(name="en_named_up")
    def upstream() -> int:
        return 1

    @Task(name="en named down")
    def downstream() -> int:
        name = "en_named" + "_up"
        return uses(name) + 1

    assert run_task(downstream) == 2
    assert ("en_named_up", "en named down", False, True) in _edges("en_named_up", "en named down")


def _make_worker(name: str, upstream: str) -> Any:
    """Make a task whose function is always called ``worker``."""

    @Task(name=name)
    def worker() -> str:
        return uses(upstream + "")

    return worker


def test_functions_sharing_a_name_record_their_own_edges() -> None:
    """Two tasks whose functions are both named ``worker`` keep separate edges."""

    @Task(name="en_same_up1")
    def up1() -> str:
        return "one"

    @Task(name="en_same_up2")
    def up2() -> str:
        return "two"

    w1 = _make_worker("en_same_w1", "en_same_up1")
    w2 = _make_worker("en_same_w2", "en_same_up2")
    assert w1.__name__ == w2.__name__ == "worker"
    assert run_task(w1) == "one"
    assert run_task(w2) == "two"
    edges = {
        (u, d)
        for u, d, _, observed in _edges("en_same_up1", "en_same_up2", "en_same_w1", "en_same_w2")
        if observed
    }
    assert edges == {("en_same_up1", "en_same_w1"), ("en_same_up2", "en_same_w2")}


def test_uses_in_parallel_worker_threads_records_edges_against_the_right_task() -> None:
    """``uses()`` inside tasks run on pool threads is attributed to those tasks."""
    barrier = threading.Barrier(2, timeout=10)
    threads: dict[str, int] = {}

    @Task(name="en_pw_up_a")
    def up_a() -> str:
        return "a"

    @Task(name="en_pw_up_b")
    def up_b() -> str:
        return "b"

    def make(name: str, upstream: str) -> Any:
        @Task(name=name)
        def member() -> str:
            barrier.wait()  # both members run at once: one is on a pool thread
            threads[name] = threading.get_ident()
            return uses(f"{upstream}")

        return member

    make("en_pw_a", "en_pw_up_a")
    make("en_pw_b", "en_pw_up_b")

    @Task(name="en_pw_caller")
    def caller() -> dict[str, Any]:
        return parallel(["en_pw_a", "en_pw_b"])

    assert run_task(caller) == {"en_pw_a": "a", "en_pw_b": "b"}
    assert len(set(threads.values())) == 2  # so at least one ran on a pool thread
    edges = {
        (u, d)
        for u, d, _, observed in _edges(
            "en_pw_up_a", "en_pw_up_b", "en_pw_a", "en_pw_b", "en_pw_caller"
        )
        if observed
    }
    assert ("en_pw_up_a", "en_pw_a") in edges
    assert ("en_pw_up_b", "en_pw_b") in edges
    assert ("en_pw_up_a", "en_pw_b") not in edges
    assert ("en_pw_up_b", "en_pw_a") not in edges
    assert ("en_pw_up_a", "en_pw_caller") not in edges
    assert ("en_pw_up_b", "en_pw_caller") not in edges
    assert ("en_pw_a", "en_pw_caller") in edges
    assert ("en_pw_b", "en_pw_caller") in edges


def test_uses_outside_any_task_records_no_edge() -> None:
    """Top-level ``run_task``/``uses`` calls do not invent a downstream task."""

    @Task(name="en_top_up")
    def up() -> int:
        return 1

    assert uses(up) == 1
    assert _edges("en_top_up") == set()


# ---------------------------------------------------------------------- single flight


@pytest.mark.timeout(60)
def test_shared_dependency_runs_once_under_simultaneous_requests() -> None:
    """Many threads asking for one key at the same moment run it exactly once (x200)."""
    callers = 8
    trials = 200
    counter = _Counter()

    @Task(name="en_sf_shared")
    def shared(trial: int) -> tuple[int, int]:
        count = counter.hit(trial)
        if trial % 2:
            time.sleep(0.0005)  # half the trials keep the others waiting a little
        return (trial, count)

    barrier = threading.Barrier(callers, timeout=20)

    def call(trial: int) -> tuple[int, int]:
        barrier.wait()
        return run_task(shared, trial=trial)  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=callers) as pool:
        for trial in range(trials):
            results = list(pool.map(call, [trial] * callers))
            assert results == [(trial, 1)] * callers, f"trial {trial}: {results}"
    assert all(counter[trial] == 1 for trial in range(trials)), counter.counts


@pytest.mark.timeout(60)
def test_shared_dependency_inside_tasks_runs_once() -> None:
    """Tasks started together that each ``uses()`` one dependency share its single run."""
    callers = 6
    counter = _Counter()

    @Task(name="en_sf_dep")
    def dep(trial: int) -> int:
        counter.hit(trial)
        time.sleep(0.001)
        return trial

    def make(index: int) -> Any:
        @Task(name=f"en_sf_user{index}")
        def user(trial: int) -> int:
            return uses(f"en_sf_{'dep'}", trial=trial) + index

        return user

    users = [make(i) for i in range(callers)]
    for trial in range(30):
        barrier = threading.Barrier(callers, timeout=20)

        def call(user: Any, trial: int = trial, barrier: threading.Barrier = barrier) -> int:
            barrier.wait()
            return run_task(user, trial=trial)  # type: ignore[no-any-return]

        with ThreadPoolExecutor(max_workers=callers) as pool:
            results = list(pool.map(call, users))
        assert results == [trial + i for i in range(callers)]
        assert counter[trial] == 1


# ----------------------------------------------------------------------------- failures


def test_failure_leaves_nothing_cached() -> None:
    """A task that raised is run again by the next call; a later success is cached."""
    counter = _Counter()

    @Task(name="en_flaky")
    def flaky() -> str:
        if counter.hit() == 1:
            raise RuntimeError("first attempt fails")
        return "ok"

    with pytest.raises(RuntimeError, match="first attempt fails"):
        run_task(flaky)
    assert run_task(flaky) == "ok"
    assert run_task(flaky) == "ok"
    assert counter.total == 2


def test_failure_of_an_upstream_is_not_cached_either() -> None:
    """When an upstream fails, neither it nor its downstream task is cached."""
    counter = _Counter()

    @Task(name="en_fail_up")
    def up() -> int:
        if counter.hit("up") == 1:
            raise ValueError("upstream broke")
        return 1

    @Task(name="en_fail_down")
    def down() -> int:
        counter.hit("down")
        return uses(up) + 1

    with pytest.raises(ValueError, match="upstream broke"):
        run_task(down)
    assert run_task(down) == 2
    assert counter["up"] == 2


@pytest.mark.timeout(30)
def test_concurrent_waiters_all_get_the_exception() -> None:
    """Threads waiting on a failing computation all receive its exception."""
    callers = 6
    counter = _Counter()
    arrived = threading.Semaphore(0)

    @Task(name="en_fail_waited")
    def failing() -> str:
        if counter.hit() > 1:
            return "a later run succeeds"
        for _ in range(callers):  # every caller is about to ask for this result
            assert arrived.acquire(timeout=10)
        time.sleep(0.3)  # ... and has had time to start waiting for it
        raise KeyError("shared failure")

    def call() -> Any:
        arrived.release()
        try:
            return run_task(failing)
        except KeyError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=callers) as pool:
        outcomes = [f.result(timeout=20) for f in [pool.submit(call) for _ in range(callers)]]
    assert all(isinstance(o, KeyError) for o in outcomes), outcomes
    assert counter.total == 1
    assert run_task(failing) == "a later run succeeds"


# -------------------------------------------------------------------------- deep chains


def _make_link(index: int, previous: Any) -> Any:
    @Task(name=f"en_chain{index}")
    def link() -> int:
        return uses(previous) + 1

    return link


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("forget_new_tasks")
def test_hundred_thousand_deep_chain() -> None:
    """A 100,000-deep ``uses()`` chain runs without touching the recursion limit."""
    limit = sys.getrecursionlimit()

    @Task(name="en_chain0")
    def first() -> int:
        return 0

    last: Any = first
    for index in range(1, 100_000):
        last = _make_link(index, last)
    assert run_task(last) == 99_999
    assert sys.getrecursionlimit() == limit
    assert run_task("en_chain50000") == 50_000  # cached along the way


def _make_dynamic_link(index: int) -> Any:
    @Task(name=f"en_dyn{index}")
    def link() -> int:
        return uses(f"en_dyn{index - 1}") + 1

    return link


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("forget_new_tasks")
def test_dynamic_chain_of_three_thousand() -> None:
    """A chain only discoverable at run time (f-string names) completes, twice."""
    limit = sys.getrecursionlimit()
    depth = 3_000

    @Task(name="en_dyn0")
    def first() -> int:
        return 0

    links = [_make_dynamic_link(index) for index in range(1, depth + 1)]
    assert nolead.build_graph(include_tasks=["en_dyn1", "en_dyn0"]).edges == ()
    assert run_task(links[-1]) == depth
    assert sys.getrecursionlimit() == limit
    reset_pipeline()  # the second run knows the chain from the first
    assert run_task(links[-1]) == depth
    assert sys.getrecursionlimit() == limit


# ------------------------------------------------------------------------------- cycles


def test_static_cycle_is_refused_before_anything_runs() -> None:
    """``a`` uses ``b`` uses ``a``: ``CycleError`` naming both; neither body runs."""
    counter = _Counter()

    @Task(name="en_cyc_a")
    def a() -> int:
        counter.hit("a")
        return uses(b)

    @Task(name="en_cyc_b")
    def b() -> int:
        counter.hit("b")
        return uses(a)

    with pytest.raises(CycleError) as info:
        run_task(a)
    assert {"en_cyc_a", "en_cyc_b"} <= set(info.value.cycle)
    assert "en_cyc_a" in str(info.value)
    assert "en_cyc_b" in str(info.value)
    assert counter.total == 0
    with pytest.raises(CycleError):
        run_task("en_cyc_b")
    assert counter.total == 0


@pytest.mark.timeout(20)
def test_dynamic_cycle_is_detected() -> None:
    """A cycle through names built at run time raises ``CycleError`` instead of hanging."""

    @Task(name="en_dcyc_a")
    def a() -> int:
        return uses("en_dcyc_" + "b")

    @Task(name="en_dcyc_b")
    def b() -> int:
        return uses("en_dcyc_" + "a")

    with pytest.raises(CycleError) as info:
        run_task(a)
    assert {"en_dcyc_a", "en_dcyc_b"} <= set(info.value.cycle)
    with pytest.raises(CycleError):  # nothing was left half-computed
        run_task(b)


@pytest.mark.timeout(20)
def test_dynamic_cycle_through_three_tasks_in_threads() -> None:
    """A run-time cycle entered from two threads at once never hangs."""

    def make(name: str, target: str) -> None:
        @Task(name=name)
        def step() -> int:
            time.sleep(0.05)
            return uses(f"{target}")

    make("en_tcyc_a", "en_tcyc_b")
    make("en_tcyc_b", "en_tcyc_c")
    make("en_tcyc_c", "en_tcyc_a")

    def call(name: str) -> BaseException | None:
        try:
            run_task(name)
        except CycleError as exc:
            return exc
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(call, ["en_tcyc_a", "en_tcyc_b"]))
    assert all(isinstance(o, CycleError) for o in outcomes), outcomes


@pytest.mark.timeout(20)
def test_self_cycle() -> None:
    """A task using itself, statically or by a run-time name, is a cycle."""
    counter = _Counter()

    @Task(name="en_self_static")
    def static_self() -> int:
        counter.hit()
        return uses("en_self_static")

    @Task(name="en_self_dynamic")
    def dynamic_self() -> int:
        return uses("en_self_" + "dynamic")

    with pytest.raises(CycleError) as info:
        run_task(static_self)
    assert info.value.cycle[0] == info.value.cycle[-1] == "en_self_static"
    assert counter.total == 0
    with pytest.raises(CycleError) as info:
        run_task(dynamic_self)
    assert "en_self_dynamic" in info.value.cycle


@pytest.mark.timeout(20)
@pytest.mark.parametrize("slow_first", [False, True])
def test_cycle_across_parallel(slow_first: bool) -> None:
    """A task inside ``parallel()`` that uses the caller is a cycle, not a deadlock."""

    @Task(name="en_pcyc_slow")
    def slow() -> int:
        time.sleep(0.2)
        return 0

    @Task(name="en_pcyc_inner")
    def inner() -> int:
        return uses("en_pcyc_" + "caller")

    members = ["en_pcyc_slow", "en_pcyc_inner"] if slow_first else ["en_pcyc_inner"]

    @Task(name="en_pcyc_caller")
    def caller() -> dict[str, Any]:
        return parallel(members)

    with pytest.raises(CycleError) as info:
        run_task(caller)
    assert {"en_pcyc_caller", "en_pcyc_inner"} <= set(info.value.cycle)
    with pytest.raises(CycleError):  # again: nothing was left half-computed
        run_task(caller)


@pytest.mark.timeout(20)
def test_static_cycle_across_parallel() -> None:
    """The parallel member uses the caller by a literal: still a ``CycleError``."""

    @Task(name="en_spcyc_inner")
    def inner() -> int:
        return uses("en_spcyc_caller")

    @Task(name="en_spcyc_caller")
    def caller() -> dict[str, Any]:
        return parallel([inner])

    with pytest.raises(CycleError) as info:
        run_task(caller)
    assert {"en_spcyc_caller", "en_spcyc_inner"} <= set(info.value.cycle)


# ----------------------------------------------------------------------- unknown names


def test_unknown_task_name_suggests_close_names() -> None:
    """An unknown name raises ``UnknownTaskError`` (a ``ValueError``) with suggestions."""

    @Task(name="en_loader_task")
    def loader() -> int:
        return 1

    with pytest.raises(UnknownTaskError) as info:
        run_task("en_loader_tsak")
    error = info.value
    assert isinstance(error, ValueError)
    assert error.name == "en_loader_tsak"
    assert "en_loader_task" in error.suggestions
    assert "en_loader_tsak" in str(error)
    assert "en_loader_task" in str(error)


def test_unknown_task_name_inside_a_task() -> None:
    """``uses()`` of an unknown name inside a task raises ``UnknownTaskError`` too."""

    @Task(name="en_uses_unknown")
    def user() -> int:
        return uses("en_no_such_task_anywhere")

    with pytest.raises(UnknownTaskError, match="en_no_such_task_anywhere"):
        run_task(user)


# ------------------------------------------------------------------------------ logging


@pytest.fixture
def restore_logging() -> Iterator[logging.Logger]:
    """Remove the handlers a test's ``configure_logging()`` added to the nolead logger."""
    logger = logging.getLogger("nolead")
    handlers = list(logger.handlers)
    level = logger.level
    yield logger
    for handler in list(logger.handlers):
        if handler not in handlers:
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(level)


def _logged_task(name: str) -> Callable[..., Any]:
    @Task(name=name)
    def logged() -> int:
        return 1

    return logged


def test_nothing_is_printed_without_logging_configured(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With logging left alone, running (and failing) tasks prints nothing."""
    _logged_task("en_quiet")

    @Task(name="en_quiet_fail")
    def fails() -> None:
        raise ValueError("quiet failure")

    run_task("en_quiet")
    parallel(["en_quiet"])
    with pytest.raises(ValueError):
        run_task(fails)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


@pytest.mark.timeout(60)
def test_nothing_is_printed_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """A program that never configures logging sees no nolead output at all."""
    script = tmp_path / "quiet.py"
    script.write_text(
        textwrap.dedent(
            """
            import nolead

            @nolead.Task()
            def up():
                return 1

            @nolead.Task()
            def bad():
                raise ValueError("boom")

            @nolead.Task()
            def top():
                return nolead.parallel([up])

            nolead.run_task(top)
            try:
                nolead.parallel([bad, up])
            except nolead.TaskFailedError:
                pass
            nolead.build_graph()
            print("END")
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=50
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "END\n"
    assert result.stderr == ""


def test_configure_logging_info_prints_start_and_finish(
    capsys: pytest.CaptureFixture[str], restore_logging: logging.Logger
) -> None:
    """``configure_logging(LogLevel.INFO)`` prints a line when a task starts and ends."""
    task = _logged_task("en_logged_info")
    configure_logging(LogLevel.INFO)
    run_task(task)
    run_task(task)  # cached: no second start/finish
    lines = [line for line in capsys.readouterr().out.splitlines() if "en_logged_info" in line]
    assert len(lines) == 2, lines
    assert all("INFO" in line for line in lines)


def test_configure_logging_twice_does_not_duplicate_lines(
    capsys: pytest.CaptureFixture[str], restore_logging: logging.Logger
) -> None:
    """Configuring twice replaces the handler: each message appears once."""
    task = _logged_task("en_logged_twice")
    configure_logging(LogLevel.INFO)
    configure_logging(LogLevel.INFO, format_str="%(levelname)s|%(message)s")
    run_task(task)
    lines = [line for line in capsys.readouterr().out.splitlines() if "en_logged_twice" in line]
    assert len(lines) == 2, lines
    assert all(line.startswith("INFO|") for line in lines)


def test_configure_logging_warning_hides_task_progress(
    capsys: pytest.CaptureFixture[str], restore_logging: logging.Logger
) -> None:
    """A level above INFO leaves out the per-task lines."""
    task = _logged_task("en_logged_warning")
    configure_logging(LogLevel.WARNING)
    run_task(task)
    assert "en_logged_warning" not in capsys.readouterr().out


def test_configure_logging_writes_the_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: logging.Logger
) -> None:
    """``log_file=`` writes the same lines to the file."""
    task = _logged_task("en_logged_file")
    log_file = tmp_path / "nolead.log"
    configure_logging(LogLevel.INFO, log_file=str(log_file))
    run_task(task)
    for handler in restore_logging.handlers:
        handler.flush()
    written = [line for line in log_file.read_text().splitlines() if "en_logged_file" in line]
    printed = [line for line in capsys.readouterr().out.splitlines() if "en_logged_file" in line]
    assert len(written) == 2, written
    assert written == printed
