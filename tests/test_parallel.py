"""``parallel()`` and ``run_parallel()``: the behaviours the seed document promises, and more."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import nolead
from nolead import (
    NotATaskError,
    ParallelUsageError,
    Task,
    TaskFailedError,
    TaskParameterError,
    UnknownExecutorError,
    UnknownTaskError,
    parallel,
    run_parallel,
    run_task,
    uses,
)

_ids = itertools.count()


class _Log:
    """A thread-safe list of events."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[Any] = []

    def add(self, event: Any) -> None:
        with self.lock:
            self.events.append(event)

    def count(self, event: Any) -> int:
        with self.lock:
            return self.events.count(event)

    def index(self, event: Any) -> int:
        with self.lock:
            return self.events.index(event)


class _ThreadSampler:
    """Samples ``threading.active_count()`` about every millisecond in the background."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, threading.active_count())
            time.sleep(0.001)

    def __enter__(self) -> _ThreadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _wait_for_idle_nolead_threads(timeout: float = 10.0) -> None:
    """Wait until threads of discarded nolead pools have exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(t.name.startswith("nolead") for t in threading.enumerate()):
            return
        time.sleep(0.01)


def _sleeper(name: str, seconds: float, log: _Log | None = None) -> Any:
    @Task(name=name)
    def sleeper() -> str:
        if log is not None:
            log.add(threading.get_ident())
        time.sleep(seconds)
        return name

    return sleeper


# -------------------------------------------------------------------- seed behaviours


def test_results_are_keyed_by_name_in_the_order_given() -> None:
    """The result dict maps task names to results, in the order of the list."""
    for index in range(5):

        @Task(name=f"pa_order_{index}")
        def member(index: int = index) -> dict[str, int]:
            time.sleep(0.01 * (5 - index))  # finish in reverse order
            return {"value": index}

    names = [f"pa_order_{i}" for i in (3, 0, 4, 1, 2)]
    results = parallel(names)
    assert list(results) == names
    assert results == {name: {"value": int(name[-1])} for name in names}


def test_seed_combined_task_example() -> None:
    """The seed's first example: a task combining two parallel results."""

    @Task(name="pa_task1")
    def task1() -> dict[str, str]:
        return {"result": "data from task1"}

    @Task(name="pa_task2")
    def task2() -> dict[str, str]:
        return {"result": "data from task2"}

    @Task(name="pa_combined_task")
    def combined_task() -> dict[str, str]:
        results = parallel([task1, task2])
        return {"combined": f"{results['pa_task1']['result']} + {results['pa_task2']['result']}"}

    assert run_task(combined_task) == {"combined": "data from task1 + data from task2"}


@pytest.mark.parametrize("executor", ["thread", "serial"])
def test_seed_shared_dependency_runs_once_and_first(executor: str) -> None:
    """``load_data`` used by both parallel tasks runs once, before either starts."""
    nolead.configure(executor=executor)
    log = _Log()

    @Task(name="pa_load_data")
    def load_data() -> dict[str, list[int]]:
        log.add("load_data")
        time.sleep(0.05)
        return {"data": [1, 2, 3, 4, 5]}

    @Task(name="pa_process1")
    def process1() -> dict[str, int]:
        log.add("process1")
        data = uses(load_data)
        return {"sum": sum(data["data"])}

    @Task(name="pa_process2")
    def process2() -> dict[str, int]:
        log.add("process2")
        data = uses(load_data)
        product = 1
        for value in data["data"]:
            product *= value
        return {"product": product}

    @Task(name="pa_final_task")
    def final_task() -> dict[str, int]:
        results = parallel([process1, process2])
        return {"sum": results["pa_process1"]["sum"], "product": results["pa_process2"]["product"]}

    assert run_task(final_task) == {"sum": 15, "product": 120}
    assert log.count("load_data") == 1
    assert log.index("load_data") < log.index("process1")
    assert log.index("load_data") < log.index("process2")


def test_seed_example_pipeline() -> None:
    """The seed's complete example pipeline gives the documented result."""

    @Task(name="pa_ex_load_data")
    def load_data() -> dict[str, list[int]]:
        return {"raw_data": [1, 2, 3, 4, 5]}

    @Task(name="pa_ex_preprocess")
    def preprocess() -> dict[str, list[int]]:
        data = uses(load_data)
        return {"processed": [x * 2 for x in data["raw_data"]]}

    @Task(name="pa_ex_calculate_sum")
    def calculate_sum() -> dict[str, int]:
        return {"sum": sum(uses(preprocess)["processed"])}

    @Task(name="pa_ex_calculate_average")
    def calculate_average() -> dict[str, float]:
        values = uses(preprocess)["processed"]
        return {"average": sum(values) / len(values)}

    @Task(name="pa_ex_generate_report")
    def generate_report() -> dict[str, float]:
        results = parallel([calculate_sum, calculate_average])
        return {
            "sum": results["pa_ex_calculate_sum"]["sum"],
            "average": results["pa_ex_calculate_average"]["average"],
        }

    assert run_task(generate_report) == {"sum": 30, "average": 6.0}


@pytest.mark.timeout(30)
def test_upstream_dependencies_run_first_shared_once_independent_concurrently() -> None:
    """Known upstreams: shared ones once, independent ones at the same time, all first."""
    log = _Log()
    upstream_barrier = threading.Barrier(2, timeout=5)
    member_barrier = threading.Barrier(2, timeout=5)

    @Task(name="pa_up_shared")
    def shared() -> int:
        log.add("shared")
        return 1

    @Task(name="pa_up_left")
    def left_source() -> int:
        log.add("left_source")
        upstream_barrier.wait()  # BrokenBarrierError if the upstreams ran one by one
        return 10

    @Task(name="pa_up_right")
    def right_source() -> int:
        log.add("right_source")
        upstream_barrier.wait()
        return 100

    @Task(name="pa_up_left_member")
    def left() -> int:
        log.add("left")
        member_barrier.wait()
        return uses(shared) + uses(left_source)

    @Task(name="pa_up_right_member")
    def right() -> int:
        log.add("right")
        member_barrier.wait()
        return uses(shared) + uses(right_source)

    results = parallel([left, right])
    assert results == {"pa_up_left_member": 11, "pa_up_right_member": 101}
    assert log.count("shared") == 1
    first_member = min(log.index("left"), log.index("right"))
    for upstream in ("shared", "left_source", "right_source"):
        assert log.index(upstream) < first_member


def test_empty_list_returns_empty_dict() -> None:
    """``parallel([])`` and ``run_parallel([])`` return ``{}``."""
    assert parallel([]) == {}
    assert run_parallel([], x=1) == {}
    assert parallel(iter(())) == {}


def test_duplicate_task_is_refused() -> None:
    """A task listed twice (by function or name) raises ``ParallelUsageError``."""
    log = _Log()

    @Task(name="pa_dup")
    def dup() -> int:
        log.add("dup")
        return 1

    for tasks in ([dup, dup], [dup, "pa_dup"], ["pa_dup", "pa_dup"]):
        with pytest.raises(ParallelUsageError, match="pa_dup") as info:
            parallel(tasks)
        assert isinstance(info.value, ValueError)
    assert log.events == []


def test_non_task_items_are_refused_with_their_position() -> None:
    """Items that are not tasks raise ``NotATaskError`` (a ``TypeError``) naming the position."""

    @Task(name="pa_real")
    def real() -> int:
        return 1

    def pa_not_decorated() -> int:
        return 2

    with pytest.raises(NotATaskError) as info:
        parallel([real, None])
    assert isinstance(info.value, TypeError)
    assert "item 1" in str(info.value)
    with pytest.raises(NotATaskError) as info:
        parallel([real, real.__wrapped__, "pa_real"])  # type: ignore[attr-defined]
    assert "item 1" in str(info.value)
    with pytest.raises(NotATaskError) as info:
        parallel(["pa_real", 3.5, pa_not_decorated])
    assert "item 1" in str(info.value)
    with pytest.raises(NotATaskError) as info:
        parallel([pa_not_decorated])
    assert "item 0" in str(info.value)
    assert "pa_not_decorated" in str(info.value)


def test_string_instead_of_list_is_refused() -> None:
    """``parallel("name")`` is a mistake for ``parallel(["name"])``."""

    @Task(name="pa_str")
    def single() -> int:
        return 1

    with pytest.raises(NotATaskError):
        parallel("pa_str")
    with pytest.raises(NotATaskError):
        run_parallel("pa_str")
    with pytest.raises(NotATaskError):
        parallel(single)  # type: ignore[arg-type]


def test_unknown_name_is_refused() -> None:
    """An unknown name in the list raises ``UnknownTaskError`` before anything runs."""
    log = _Log()

    @Task(name="pa_known")
    def known() -> int:
        log.add("known")
        return 1

    with pytest.raises(UnknownTaskError, match="pa_unknown"):
        parallel([known, "pa_unknown"])
    assert log.events == []


# ------------------------------------------------------------------------ run_parallel


def test_run_parallel_passes_shared_keyword_arguments() -> None:
    """Each task receives the shared keywords; its own signature supplies the rest."""

    @Task(name="pa_rp_scale")
    def scale(factor: int, offset: int = 1) -> int:
        return factor * 10 + offset

    @Task(name="pa_rp_echo")
    def echo(factor: int, **rest: Any) -> tuple[int, tuple[str, ...]]:
        return factor, tuple(sorted(rest))

    @Task(name="pa_rp_kw")
    def keyword_only(*, factor: int, label: str = "x") -> str:
        return f"{label}{factor}"

    results = run_parallel([scale, echo, keyword_only], factor=3)
    assert results == {"pa_rp_scale": 31, "pa_rp_echo": (3, ()), "pa_rp_kw": "x3"}
    assert run_task(scale, factor=3) == 31  # cached with the same key
    assert run_parallel([scale, echo], factor=2, offset=5) == {
        "pa_rp_scale": 25,
        "pa_rp_echo": (2, ("offset",)),
    }


def test_run_parallel_refuses_a_task_that_lacks_the_parameter() -> None:
    """A task without the shared parameter fails the call before anything runs."""
    log = _Log()

    @Task(name="pa_rp_ok")
    def ok(x: int) -> int:
        log.add("ok")
        return x

    @Task(name="pa_rp_no_x")
    def no_x() -> int:
        log.add("no_x")
        return 0

    with pytest.raises(TaskParameterError) as info:
        run_parallel([ok, no_x], x=1)
    assert info.value.task == "pa_rp_no_x"
    assert info.value.parameter == "x"
    assert "pa_rp_no_x" in str(info.value)
    assert log.events == []


# --------------------------------------------------------------------------- failures


@pytest.mark.timeout(20)
def test_failure_names_the_task_and_chains_the_original() -> None:
    """``TaskFailedError`` names the failed task; ``__cause__`` is the original exception."""

    @Task(name="pa_fail_ok")
    def ok() -> int:
        return 1

    @Task(name="pa_fail_bad")
    def bad() -> int:
        raise ZeroDivisionError("division in pa_fail_bad")

    with pytest.raises(TaskFailedError) as info:
        parallel([ok, bad])
    error = info.value
    assert error.task == "pa_fail_bad"
    assert "pa_fail_bad" in str(error)
    cause = error.__cause__
    assert isinstance(cause, ZeroDivisionError)
    assert str(cause) == "division in pa_fail_bad"
    assert cause.__traceback__ is not None
    frames = []
    tb = cause.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert frames[-1] == "bad"


@pytest.mark.timeout(20)
def test_failure_in_a_dependency_names_the_listed_task_and_the_origin() -> None:
    """When a listed task's upstream fails, the error names the listed task and the origin."""

    @Task(name="pa_dep_fail_base")
    def base() -> int:
        raise ValueError("base broke")

    @Task(name="pa_dep_fail_user")
    def user() -> int:
        return uses(base) + 1

    with pytest.raises(TaskFailedError) as info:
        parallel([user])
    assert info.value.task == "pa_dep_fail_user"
    assert info.value.origin == "pa_dep_fail_base"
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("executor", "workers"), [("serial", None), ("thread", 1)])
def test_failure_stops_tasks_not_yet_started(executor: str, workers: int | None) -> None:
    """With one lane, the first task failing means the later ones never start."""
    nolead.configure(executor=executor, max_workers=workers)
    log = _Log()
    uid = next(_ids)

    @Task(name=f"pa_stop_bad{uid}")
    def bad() -> None:
        log.add("bad")
        raise RuntimeError("stop here")

    def later(index: int) -> Any:
        @Task(name=f"pa_stop_later{uid}_{index}")
        def task() -> int:
            log.add(index)
            return index

        return task

    laters = [later(i) for i in range(4)]
    with pytest.raises(TaskFailedError) as info:
        parallel([bad, *laters])
    assert info.value.task == f"pa_stop_bad{uid}"
    assert log.events == ["bad"]
    # a later successful run works
    assert parallel(laters) == {f"pa_stop_later{uid}_{i}": i for i in range(4)}


@pytest.mark.timeout(20)
def test_failure_keeps_siblings_cached_and_not_the_failed_task() -> None:
    """Siblings that finished stay cached; the failed task runs again on the next call."""
    log = _Log()
    finished = threading.Semaphore(0)
    attempts = _Log()

    def good(name: str) -> Any:
        @Task(name=name)
        def task() -> str:
            log.add(name)
            finished.release()
            return name

        return task

    ok1 = good("pa_keep_ok1")
    ok2 = good("pa_keep_ok2")

    @Task(name="pa_keep_bad")
    def bad() -> str:
        attempts.add("bad")
        if len(attempts.events) == 1:
            for _ in range(2):  # both siblings have run
                assert finished.acquire(timeout=10)
            raise OSError("transient")
        return "recovered"

    with pytest.raises(TaskFailedError) as info:
        parallel([ok1, bad, ok2])
    assert info.value.task == "pa_keep_bad"
    assert isinstance(info.value.__cause__, OSError)
    results = parallel([ok1, bad, ok2])
    assert results == {
        "pa_keep_ok1": "pa_keep_ok1",
        "pa_keep_bad": "recovered",
        "pa_keep_ok2": "pa_keep_ok2",
    }
    assert log.count("pa_keep_ok1") == 1
    assert log.count("pa_keep_ok2") == 1
    assert len(attempts.events) == 2


@pytest.mark.timeout(20)
def test_failure_on_the_calling_thread_while_a_sibling_still_runs_does_not_hang() -> None:
    """The caller's own task fails while a sibling runs on a pool thread: no hang.

    The thread that calls ``parallel()`` helps run its tasks; whichever member runs on
    it fails at once, while the member on a pool thread is still busy and then succeeds.
    """
    caller = threading.get_ident()
    log = _Log()

    def member(name: str) -> Any:
        @Task(name=name)
        def task(trial: int) -> str:
            barrier.wait()  # both members are running
            if threading.get_ident() == caller:
                raise LookupError(f"{name} failed on the calling thread")
            time.sleep(0.2)
            log.add(name)
            return name

        return task

    first = member("pa_hang_first")
    second = member("pa_hang_second")
    for trial in range(3):
        barrier = threading.Barrier(2, timeout=5)
        with pytest.raises(TaskFailedError) as info:
            run_parallel([first, second], trial=trial)
        assert isinstance(info.value.__cause__, LookupError)
        assert info.value.task in ("pa_hang_first", "pa_hang_second")
    assert len(log.events) == 3  # the pool-thread sibling finished every time


@pytest.mark.timeout(20)
def test_fast_failure_with_slow_siblings_does_not_hang() -> None:
    """One member fails fast while others still sleep; ``parallel()`` returns promptly."""
    uid = next(_ids)
    for trial in range(6):
        barrier = threading.Barrier(3, timeout=5)

        def slow(name: str, barrier: threading.Barrier = barrier) -> Any:
            @Task(name=name)
            def task() -> str:
                barrier.wait()
                time.sleep(0.1)
                return name

            return task

        @Task(name=f"pa_fast_fail{uid}_{trial}")
        def fails(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            raise ValueError("fast")

        members = [slow(f"pa_fast_slow{uid}_{trial}_{i}") for i in range(2)]
        members.insert(trial % 3, fails)
        with pytest.raises(TaskFailedError) as info:
            parallel(members)
        assert info.value.task == f"pa_fast_fail{uid}_{trial}"


# ------------------------------------------------------------------------ threads & timing


@pytest.mark.timeout(60)
def test_nested_parallel_is_bounded_and_completes() -> None:
    """Three levels of nested ``parallel()`` with fan-out 8 on 4 workers: no extra threads."""
    workers = 4
    nolead.configure(max_workers=workers)
    _wait_for_idle_nolead_threads()
    uid = next(_ids)

    def leaf(path: str) -> Any:
        @Task(name=f"pa_nest{uid}_{path}")
        def task() -> int:
            time.sleep(0.0005)
            return 1

        return task

    def node(path: str, depth: int) -> Any:
        children = [
            (leaf if depth == 2 else lambda p, d=depth: node(p, d + 1))(f"{path}.{i}")
            for i in range(8)
        ]

        @Task(name=f"pa_nest{uid}_{path}")
        def task() -> int:
            return sum(parallel(children).values())

        return task

    top = node("root", 0)
    with _ThreadSampler() as sampler:
        baseline = threading.active_count()
        assert run_task(top) == 8**3
    assert sampler.peak <= baseline + workers + 2, (sampler.peak, baseline)


def help_round(uid: int) -> tuple[bool, bool]:
    """Run ``parallel([long, short])`` on 2 workers; ``long`` starts a group of 8 slow
    leaves, ``short`` one quick leaf.  Return (this thread ran ``short``, it ran a leaf of
    ``long``'s group)."""
    ran_on: dict[str, int] = {}

    def leaf(name: str, seconds: float) -> Any:
        @Task(name=f"pa_help{uid}_{name}")
        def task() -> str:
            ran_on[name] = threading.get_ident()
            time.sleep(seconds)
            return name

        return task

    quick = [leaf("quick", 0.0)]
    slow = [leaf(f"slow{i}", 0.03) for i in range(8)]

    @Task(name=f"pa_help{uid}_short")
    def short() -> int:
        return len(parallel(quick))

    @Task(name=f"pa_help{uid}_long")
    def long() -> int:
        return len(parallel(slow))

    assert parallel([long, short]) == {f"pa_help{uid}_long": 8, f"pa_help{uid}_short": 1}
    caller = threading.get_ident()
    return ran_on["quick"] == caller, caller in {ran_on[f"slow{i}"] for i in range(8)}


def test_a_waiting_caller_helps_the_groups_its_tasks_started() -> None:
    """The caller of an outer group, done with its own part, runs inner groups' tasks."""
    nolead.configure(max_workers=2)
    _wait_for_idle_nolead_threads()
    rounds = [help_round(next(_ids)) for _ in range(10)]
    # Whenever this thread took `short` (its quick leaf done at once), it did not sit
    # waiting for `long` but ran some of the slow leaves of the group `long` started.
    helped = [ran_slow for ran_short, ran_slow in rounds if ran_short]
    assert helped, "the caller never took the short task: the scenario did not happen"
    assert all(helped), rounds


def test_finished_inner_groups_are_not_kept_by_the_outer_group() -> None:
    """A long-running task making many nested calls does not pile up finished groups."""
    from nolead import scheduler

    uid = next(_ids)
    sizes: list[int] = []

    @Task(name=f"pa_detach{uid}_leaf")
    def leaf() -> int:
        return 1

    @Task(name=f"pa_detach{uid}_busy")
    def busy() -> int:
        total = 0
        for _ in range(50):
            nolead.reset_pipeline()  # so that every call really runs a group
            total += sum(parallel([leaf]).values())
            outer = scheduler._thread.group
            assert outer is not None
            sizes.append(len(outer.children))
        return total

    @Task(name=f"pa_detach{uid}_other")
    def other() -> int:
        return 0

    assert parallel([busy, other])[f"pa_detach{uid}_busy"] == 50
    assert max(sizes) == 0


def test_a_waiting_caller_does_not_help_serial_groups() -> None:
    """Tasks of a serial group run on that group's caller only."""
    _wait_for_idle_nolead_threads()
    uid = next(_ids)
    ran_on: list[int] = []

    @Task(name=f"pa_nohelp{uid}_leaf0", executor="serial")
    def leaf0() -> int:
        ran_on.append(threading.get_ident())
        time.sleep(0.02)
        return 0

    @Task(name=f"pa_nohelp{uid}_leaf1", executor="serial")
    def leaf1() -> int:
        ran_on.append(threading.get_ident())
        time.sleep(0.02)
        return 1

    @Task(name=f"pa_nohelp{uid}_inner")
    def inner() -> int:
        return sum(parallel([leaf0, leaf1]).values())

    @Task(name=f"pa_nohelp{uid}_other")
    def other() -> int:
        return 0

    assert parallel([other, inner]) == {f"pa_nohelp{uid}_other": 0, f"pa_nohelp{uid}_inner": 1}
    assert len(set(ran_on)) == 1  # one thread ran both leaves: the inner group's caller


@pytest.mark.timeout(30)
def test_sixty_four_sleeping_tasks_run_concurrently() -> None:
    """64 tasks sleeping 0.2 s finish in well under twice that (after a warm-up)."""
    uid = next(_ids)
    warm = [_sleeper(f"pa_warm{uid}_{i}", 0.01) for i in range(64)]
    parallel(warm)
    tasks = [_sleeper(f"pa_sleep64_{uid}_{i}", 0.2) for i in range(64)]
    start = time.perf_counter()
    results = parallel(tasks)
    elapsed = time.perf_counter() - start
    assert len(results) == 64
    assert elapsed < 1.0, elapsed


@pytest.mark.timeout(30)
def test_pool_threads_are_reused_across_calls() -> None:
    """A second ``parallel()`` call runs on threads that already existed."""
    uid = next(_ids)
    first_log, second_log = _Log(), _Log()
    first = [_sleeper(f"pa_reuse_a{uid}_{i}", 0.05, first_log) for i in range(8)]
    second = [_sleeper(f"pa_reuse_b{uid}_{i}", 0.05, second_log) for i in range(8)]
    parallel(first)
    assert len(set(first_log.events)) > 1  # it really ran on several threads
    time.sleep(0.3)  # let the pool threads go idle
    existing = {thread.ident for thread in threading.enumerate()}
    parallel(second)
    assert set(second_log.events) <= existing | {threading.get_ident()}


# ----------------------------------------------------------------------- configuration


def _distinct_threads(count: int, seconds: float = 0.02) -> set[int]:
    log = _Log()
    uid = next(_ids)
    parallel([_sleeper(f"pa_cfg{uid}_{i}", seconds, log) for i in range(count)])
    return set(log.events)


@pytest.mark.timeout(30)
def test_max_workers_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``NOLEAD_MAX_WORKERS`` bounds the threads used, after ``configure(reset=True)``."""
    monkeypatch.setenv("NOLEAD_MAX_WORKERS", "2")
    settings = nolead.configure(reset=True)
    assert settings["max_workers"] == 2
    threads = _distinct_threads(12)
    assert 1 <= len(threads) <= 2


@pytest.mark.timeout(30)
def test_executor_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``NOLEAD_EXECUTOR=serial`` makes ``parallel()`` run everything on the caller."""
    monkeypatch.setenv("NOLEAD_EXECUTOR", "serial")
    assert nolead.configure(reset=True)["executor"] == "serial"
    assert _distinct_threads(6, 0.0) == {threading.get_ident()}
    monkeypatch.delenv("NOLEAD_EXECUTOR")
    assert nolead.configure(reset=True)["executor"] == "thread"


def test_configure_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``configure()`` arguments win over environment variables."""
    monkeypatch.setenv("NOLEAD_EXECUTOR", "serial")
    monkeypatch.setenv("NOLEAD_MAX_WORKERS", "3")
    nolead.configure(reset=True)
    settings = nolead.configure(executor="thread", max_workers=5)
    assert settings == {"executor": "thread", "max_workers": 5}


def test_unknown_executor_lists_the_known_ones() -> None:
    """An unknown executor name raises ``UnknownExecutorError`` listing thread and serial."""
    with pytest.raises(UnknownExecutorError) as info:
        nolead.configure(executor="no-such-executor")
    message = str(info.value)
    assert "no-such-executor" in message
    assert "thread" in message
    assert "serial" in message
    assert isinstance(info.value, ValueError)
    assert nolead.configure()["executor"] == "thread"  # the bad name was not kept


@pytest.fixture
def _no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("NOLEAD_EXECUTOR", raising=False)
    monkeypatch.delenv("NOLEAD_MAX_WORKERS", raising=False)
    yield


@pytest.mark.usefixtures("_no_env")
@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_bad_max_workers_from_environment(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """A ``NOLEAD_MAX_WORKERS`` that is not a positive integer is a ``ConfigurationError``."""
    monkeypatch.setenv("NOLEAD_MAX_WORKERS", value)
    with pytest.raises(nolead.ConfigurationError, match="NOLEAD_MAX_WORKERS"):
        nolead.configure(reset=True)
    monkeypatch.delenv("NOLEAD_MAX_WORKERS")
    nolead.configure(reset=True)


@pytest.mark.parametrize("value", [0, -2, True, 2.5])
def test_bad_max_workers_in_configure(value: Any) -> None:
    """``configure(max_workers=...)`` refuses anything but a positive whole number."""
    before = nolead.configure()["max_workers"]
    with pytest.raises(nolead.ConfigurationError, match="max_workers"):
        nolead.configure(max_workers=value)
    assert nolead.configure()["max_workers"] == before
