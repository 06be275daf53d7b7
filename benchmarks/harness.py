"""The measuring side of the suite: options, benches, rows, checks and profiles.

A *bench* is one system running one case of a workload: something to call, what to do
(untimed) before each call, and how to turn seconds into the row's unit.  Running a bench
gives a *row* of samples.  A *section* is one workload's rows plus the *checks* that
compare nolead's figures with its targets (made by the parent process once every child
of the workload has reported).

Everything is plain data (dicts and lists) once it leaves a bench, so that a child process
can hand its section to the parent as JSON.
"""

from __future__ import annotations

import cProfile
import gc
import os
import pstats
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MICRO = "\u00b5"  # the micro sign, kept out of the source as a literal (ruff RUF001)
US = f"{MICRO}s"

# Kinds of rows.  Ratios (nolead / peer) are given on "peer" and "reference" rows; each
# case has at most one "primary" nolead row, the one its peers are compared with.
NOLEAD = "nolead"
PEER = "peer"
REFERENCE = "reference"


@dataclass
class Options:
    """How a run was asked for (shared by the parent and its children).

    Attributes:
        quick: Small sizes and fewer repetitions (the CI smoke run, under a minute).
        reps: Repetitions of every bench, overriding the mode's defaults (``None``: the
            defaults, see :attr:`micro`, :attr:`light` and :attr:`heavy`).
    """

    quick: bool = False
    reps: int | None = None

    @property
    def light(self) -> int:
        """Repetitions of a bench that takes well under a second."""
        if self.reps is not None:
            return self.reps
        return 3 if self.quick else 7

    @property
    def micro(self) -> int:
        """Repetitions of a bench that takes milliseconds (noise needs more samples)."""
        if self.reps is not None:
            return self.reps
        return 3 if self.quick else 15

    @property
    def heavy(self) -> int:
        """Repetitions of a bench that takes a second or more (or a fresh process)."""
        if self.reps is not None:
            return self.reps
        return 3 if self.quick else 5

    def pick(self, quick: Any, full: Any) -> Any:
        """Return ``quick`` in quick mode, ``full`` otherwise."""
        return quick if self.quick else full

    def to_argv(self) -> list[str]:
        """Command-line arguments that recreate these options in a child process."""
        argv = ["--quick"] if self.quick else []
        if self.reps is not None:
            argv += ["--reps", str(self.reps)]
        return argv


UNIT_SCALE = {"s": 1.0, "ms": 1e3, US: 1e6}


@dataclass
class Bench:
    """One system on one case of a workload.

    Attributes:
        case: The case within the workload, e.g. ``"N=1,000"``.
        system: Who runs it, e.g. ``"nolead"`` or ``"ThreadPoolExecutor submit+result"``.
        run: The timed call.
        kind: ``NOLEAD``, ``PEER`` or ``REFERENCE``.
        primary: True for the nolead row the case's peers are compared with.
        unit: ``"s"``, ``"ms"`` or ``"µs"``, optionally followed by ``/task`` etc.
        per: The count the time is divided by (tasks, links...).
        reps: Timed repetitions.
        warmup: Untimed calls before timing (pools started, caches filled).
        setup: Called once, untimed, before the warm-up.
        before_each: Called untimed before every call, warm-up included.
        teardown: Called once at the end, even after an error.
        check: Called with the last result; raises when the result is wrong.
        note: Shown beside the row.
        self_timed: ``run`` times itself and returns the seconds to record (work done in
            another process, timed there without its start-up).
        threads: Profile nolead's pool threads too (see :func:`profile_call`).
        limits: Exception types that are a finding about the system (a peer that cannot
            run the case, e.g. ``RecursionError``), not a fault of the suite: the row shows
            the error, marked as a limitation, and the run still succeeds.
    """

    case: str
    system: str
    run: Callable[[], Any]
    kind: str = NOLEAD
    primary: bool = False
    unit: str = "s"
    per: float = 1.0
    reps: int = 5
    warmup: int = 1
    setup: Callable[[], Any] | None = None
    before_each: Callable[[], Any] | None = None
    teardown: Callable[[], Any] | None = None
    check: Callable[[Any], Any] | None = None
    note: str = ""
    self_timed: bool = False
    threads: bool = False
    limits: tuple[type[BaseException], ...] = ()

    @property
    def key(self) -> str:
        """How the parent names this bench when it asks a child to profile it."""
        return f"{self.case} | {self.system}"


def scale_of(unit: str) -> float:
    """Return the factor that turns seconds into ``unit`` (its part before any ``/``)."""
    return UNIT_SCALE[unit.split("/")[0]]


def make_row(
    case: str,
    system: str,
    samples: list[float],
    unit: str,
    *,
    kind: str = NOLEAD,
    primary: bool = False,
    note: str = "",
    error: str | None = None,
    limitation: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a row: the samples (already in ``unit``) with their median, min and max.

    ``limitation`` marks an ``error`` that is a finding about the system measured rather
    than a fault of the suite (see :attr:`Bench.limits`).
    """
    row: dict[str, Any] = {
        "case": case,
        "system": system,
        "kind": kind,
        "primary": primary,
        "unit": unit,
        "reps": len(samples),
        "samples": [float(s) for s in samples],
        "median": statistics.median(samples) if samples else None,
        "min": min(samples) if samples else None,
        "max": max(samples) if samples else None,
        "note": note,
        "error": error,
        "limitation": bool(error) and limitation,
    }
    if extra:
        row["extra"] = extra
    return row


def log(message: str) -> None:
    """Print progress on stderr (stdout is kept for the table)."""
    print(message, file=sys.stderr, flush=True)


def short_error(exc: BaseException) -> str:
    """One line naming an exception, for a row that could not be measured."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


class GcWatch:
    """Counts the garbage collector's runs (and their time) while it is installed.

    The collector stays enabled during the benches, as in real programs; this only says
    how much of a figure it accounts for (a full, generation-2 collection over a large
    heap can double a repetition's time, which shows as a bimodal spread).
    """

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.seconds = 0.0
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.collections[info["generation"]] += 1
            self.seconds += time.perf_counter() - self._began

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)

    def summary(self) -> dict[str, Any]:
        """The counts per generation and the total time, for a row's ``extra``."""
        return {"gc_collections": list(self.collections), "gc_seconds": round(self.seconds, 6)}

    def note(self) -> str:
        """A few words for the row's note when full collections happened."""
        if not self.collections[2]:
            return ""
        return (
            f"gc: {self.collections[2]} full collection(s), {self.seconds * 1e3:.0f} ms "
            "in gc over the timed runs"
        )


def join_notes(*parts: str) -> str:
    """Join the non-empty parts of a note."""
    return "; ".join(part for part in parts if part)


class _Run:
    """One bench being measured: its samples so far, and its error if it failed."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.scale = scale_of(bench.unit) / bench.per
        self.samples: list[float] = []
        self.error: str | None = None
        self.limitation = False
        self.watch = GcWatch()
        self.result: Any = None
        self.took = 0.0

    def guard(self, step: Callable[[], Any]) -> bool:
        """Run one step; on an exception record it (the suite goes on) and return False."""
        if self.error is not None:
            return False
        begin = time.perf_counter()
        try:
            step()
            return True
        except self.bench.limits as exc:  # a finding about the system, not a suite fault
            self.error, self.limitation, self.samples = short_error(exc), True, []
        except Exception as exc:
            self.error = short_error(exc)
            log(traceback.format_exc())
        finally:
            self.took += time.perf_counter() - begin
        return False

    def prepare(self) -> None:
        """Collect the garbage earlier benches left, then setup and warm-up (untimed)."""
        bench = self.bench
        gc.collect()
        if bench.setup is not None:
            bench.setup()
        for _ in range(bench.warmup):
            if bench.before_each is not None:
                bench.before_each()
            self.result = bench.run()

    def once(self) -> None:
        """One timed repetition."""
        bench = self.bench
        if bench.before_each is not None:
            bench.before_each()
        with self.watch:
            begin = time.perf_counter()
            self.result = bench.run()
            seconds = time.perf_counter() - begin
        if bench.self_timed:
            seconds = float(self.result)
        self.samples.append(seconds * self.scale)

    def verify(self) -> None:
        """Check the last result."""
        if self.bench.check is not None:
            self.bench.check(self.result)

    def teardown(self) -> None:
        """Release what setup took, even after an error."""
        if self.bench.teardown is not None:
            try:
                self.bench.teardown()
            except Exception as exc:
                self.error = self.error or short_error(exc)

    def row(self) -> dict[str, Any]:
        """Log a line and return the row."""
        bench = self.bench
        status = f"median {_fmt(self.samples)} {bench.unit}"
        if self.error:
            status = f"{'cannot run it' if self.limitation else 'error'}: {self.error}"
        log(f"    {bench.case:<28} {bench.system:<44} {status}  ({self.took:.1f} s)")
        return make_row(
            bench.case,
            bench.system,
            self.samples,
            bench.unit,
            kind=bench.kind,
            primary=bench.primary,
            note=join_notes(bench.note, self.watch.note()),
            error=self.error,
            limitation=self.limitation,
            extra=self.watch.summary(),
        )


def measure(bench: Bench) -> dict[str, Any]:
    """Run a bench: setup, warm-up, timed repetitions; return its row.

    An exception is caught and recorded on the row (``error``), so one failing system
    does not stop the workload.
    """
    run = _Run(bench)
    if run.guard(run.prepare):
        for _ in range(bench.reps):
            if not run.guard(run.once):
                break
        run.guard(run.verify)
    run.teardown()
    return run.row()


def measure_interleaved(benches: list[Bench]) -> list[dict[str, Any]]:
    """Measure several benches with their repetitions taking turns.

    Every bench is set up and warmed up first; then round *r* runs repetition *r* of each
    bench in turn.  When the machine's speed drifts (a shared or throttled machine), every
    system sees the same drift, so ratios between them stay fair.  Each bench's pools stay
    alive, idle, while the others run.
    """
    runs = [_Run(bench) for bench in benches]
    for run in runs:
        run.guard(run.prepare)
    for index in range(max((bench.reps for bench in benches), default=0)):
        for run in runs:
            if index < run.bench.reps:
                run.guard(run.once)
    for run in runs:
        run.guard(run.verify)
    for run in reversed(runs):
        run.teardown()
    rows = [run.row() for run in runs]
    for row in rows:
        row["interleaved"] = True
    return rows


def _fmt(samples: list[float]) -> str:
    return f"{statistics.median(samples):.4g}" if samples else "-"


def profile_call(bench: Bench, top: int = 10) -> dict[str, Any]:
    """Profile one call of ``bench`` (after its setup and warm-up) with cProfile.

    cProfile follows one thread.  For a bench with ``threads`` set, nolead's thread pool
    is replaced after the warm-up (see :func:`renew_nolead_pool`) so that its new threads
    start under a profiler of their own, and their profiles are merged with the calling
    thread's; cumulative times then include the time those threads spent waiting.

    Returns:
        ``{"total_s", "runs", "threads", "functions", "by_self"}``: the ``top``
        functions by cumulative time, and by time spent in the function itself.
    """
    if bench.setup is not None:
        bench.setup()
    for _ in range(bench.warmup):
        if bench.before_each is not None:
            bench.before_each()
        bench.run()
    helpers = ThreadProfiles()
    if bench.threads:
        renew_nolead_pool()
        threading.setprofile(helpers.bootstrap)
    profiler = cProfile.Profile()
    try:
        if bench.before_each is not None:
            bench.before_each()
        begin = time.perf_counter()
        profiler.enable()
        bench.run()
        profiler.disable()
        total = time.perf_counter() - begin
    finally:
        if bench.threads:
            threading.setprofile(None)  # type: ignore[arg-type]
            renew_nolead_pool()
            helpers.join()
        if bench.teardown is not None:
            bench.teardown()
    stats = pstats.Stats(profiler)
    for other in helpers.finished():
        stats.add(other)
    found: dict[str, Any] = {
        "total_s": total,
        "runs": 1,
        "threads": 1 + len(helpers.finished()),
        "functions": top_functions(stats, top),
        "by_self": top_functions(stats, top, by="tottime_s"),
    }
    if bench.threads:
        found["caveat"] = (
            "all threads: the profiled run starts a fresh pool (thread start-up included), "
            "and cumulative times add up over threads, waits included"
        )
    return found


class ThreadProfiles:
    """Starts a cProfile profiler in every thread created while it is installed."""

    def __init__(self) -> None:
        self.profiles: list[tuple[threading.Thread, cProfile.Profile]] = []
        self._lock = threading.Lock()

    def bootstrap(self, frame: Any, event: str, arg: Any) -> None:
        """``threading.setprofile`` hook: replaces itself with a profiler of the thread."""
        profiler = cProfile.Profile()
        with self._lock:
            self.profiles.append((threading.current_thread(), profiler))
        profiler.enable()

    def join(self, timeout: float = 10.0) -> None:
        """Wait for the profiled threads to end (their pool was shut down)."""
        deadline = time.perf_counter() + timeout
        for thread, _ in self.profiles:
            thread.join(max(0.0, deadline - time.perf_counter()))

    def finished(self) -> list[cProfile.Profile]:
        """The profiles of the threads that have ended (safe to read)."""
        return [profiler for thread, profiler in self.profiles if not thread.is_alive()]


def renew_nolead_pool() -> None:
    """Make nolead start new pool threads: same settings, executors discarded."""
    from nolead import configure

    current = configure()
    configure(reset=True)
    configure(executor=current["executor"], max_workers=current["max_workers"])
    for thread in threading.enumerate():
        if thread.name.startswith("nolead") and thread is not threading.current_thread():
            thread.join(5.0)


# Frames that only say "a thread was alive" (their cumulative time is its lifetime).
_THREAD_PLUMBING = {
    ("threading.py", "_bootstrap"),
    ("threading.py", "_bootstrap_inner"),
    ("threading.py", "run"),
    ("thread.py", "_worker"),
    ("~", "<method 'get' of '_queue.SimpleQueue' objects>"),  # an idle pool thread
}


def top_functions(stats: pstats.Stats, top: int, by: str = "cumtime_s") -> list[dict[str, Any]]:
    """Return the ``top`` functions by ``by`` (``cumtime_s`` or ``tottime_s``).

    This harness's own frames and thread start-up plumbing are left out.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    entries = []
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in raw.items():
        if filename.startswith(here) or "_lsprof.Profiler" in name:
            continue
        if (os.path.basename(filename), name) in _THREAD_PLUMBING:
            continue
        entries.append(
            {
                "function": f"{_short_path(filename)}:{line}({name})",
                "ncalls": ncalls,
                "tottime_s": round(tottime, 6),
                "cumtime_s": round(cumtime, 6),
            }
        )
    entries.sort(key=lambda item: item[by], reverse=True)
    return entries[:top]


def _short_path(filename: str) -> str:
    for marker in ("/nolead/", "/site-packages/", "/lib/python"):
        index = filename.rfind(marker)
        if index >= 0:
            return filename[index + 1 :]
    return filename


def spin(seconds: float = 1.0) -> None:
    """Keep one CPU busy for a while, untimed, so that it is up to speed when timing starts.

    The parent waits for an idle machine before each child; on many machines (and virtual
    machines) an idle CPU slows down, and the first milliseconds of work then run slower.
    """
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(1000))


def gc_state() -> dict[str, Any]:
    """Describe the garbage collector as the benches ran (left enabled on purpose)."""
    return {"enabled": gc.isenabled(), "thresholds": list(gc.get_threshold())}


@dataclass
class Section:
    """One workload's results as a child process reports them.

    Attributes:
        id: Short name of the workload, e.g. ``"fanout-thread"``.
        rows: The rows, in the order measured.
        extra: Figures a workload's checks need besides the rows.
    """

    id: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, row: dict[str, Any]) -> dict[str, Any]:
        """Append a row and return it."""
        self.rows.append(row)
        return row

    def bench(self, bench: Bench) -> dict[str, Any]:
        """Measure a bench and append its row."""
        return self.add(measure(bench))

    def to_json(self) -> dict[str, Any]:
        """Plain data for the parent."""
        return {"id": self.id, "rows": self.rows, "extra": self.extra}


@dataclass(frozen=True)
class Workload:
    """A workload: how to split it into child processes, measure it, and judge it.

    Attributes:
        id: Short name (``--only`` takes these).
        title: One line for the table's section header.
        about: What it measures and why (for the JSON and the docs).
        children: Returns the child arguments (``id`` or ``id:parameter``); each runs in
            a fresh interpreter, so no workload sees another one's tasks or pools.
        measure: Child side: measures one child argument and returns its section.
        evaluate: Parent side: ``(rows, extra, options) -> checks`` once every child
            reported.
        profile: Child side: ``(argument, bench key, options) -> profile``, or ``None``
            when this workload cannot be profiled.
    """

    id: str
    title: str
    about: str
    children: Callable[[Options], list[str]]
    measure: Callable[[str, Options], Section]
    evaluate: Callable[[list[dict[str, Any]], dict[str, Any], Options], list[dict[str, Any]]]
    profile: Callable[[str, str, Options], dict[str, Any]] | None = None


def profile_from(benches: list[Bench], key: str) -> dict[str, Any]:
    """Profile the bench called ``key`` among ``benches``.

    Raises:
        KeyError: When no bench has that key.
    """
    for bench in benches:
        if bench.key == key:
            return profile_call(bench)
    raise KeyError(f"no bench {key!r}; known: {[b.key for b in benches]}")


def find_row(rows: list[dict[str, Any]], case: str, system: str) -> dict[str, Any] | None:
    """Return the row of ``system`` on ``case``, or ``None``."""
    for row in rows:
        if row["case"] == case and row["system"] == system:
            return row
    return None


def check(
    case: str,
    system: str,
    target: str,
    measured: str,
    met: bool | None,
    *,
    margin: str = "",
    note: str = "",
    profile: str | None = None,
    short: str = "",
    report_only: bool = False,
) -> dict[str, Any]:
    """Return a target check.

    Args:
        case: The case (row) the target belongs to.
        system: The nolead row it is read from.
        target: The target as stated.
        measured: What was measured, in words and numbers.
        met: True, False, or ``None`` when it could not be decided (missing data, or a
            figure that is reported only).
        margin: By how much it was met or missed.
        note: Context (an honest ideal, a caveat).
        profile: Key of the bench to profile when the target is missed.
        short: The target in a few characters, for the table.
        report_only: A figure the issue asks to report, with no limit to meet (``met`` is
            ``None`` and it is not counted as undecided).
    """
    return {
        "case": case,
        "system": system,
        "target": target,
        "short": short or target,
        "measured": measured,
        "met": met,
        "margin": margin,
        "note": note,
        "profile_key": profile,
        "report_only": report_only,
    }


def median_of(row: dict[str, Any] | None) -> float | None:
    """Return a row's median, or ``None`` when the row is missing or failed."""
    if row is None or row.get("error") or row.get("median") is None:
        return None
    return float(row["median"])


def over(value: float, limit: float) -> str:
    """Say how far ``value`` is from an upper ``limit`` (``"12% under"``/``"1.4x over"``)."""
    if limit <= 0:
        return ""
    ratio = value / limit
    if ratio <= 1:
        return f"{(1 - ratio) * 100:.0f}% under the limit"
    return f"{ratio:.2f}x the limit ({(ratio - 1) * 100:.0f}% over)"


def under(value: float, floor: float) -> str:
    """Say how far ``value`` is from a lower bound ``floor``."""
    if floor <= 0:
        return ""
    ratio = value / floor
    if ratio >= 1:
        return f"{(ratio - 1) * 100:.0f}% above the floor"
    return f"{(1 - ratio) * 100:.0f}% short of the floor"
