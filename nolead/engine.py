"""Running tasks: the result store, the current task, ``uses()`` and ``run_task()``.

Mechanisms (see docs/concepts.md for the user's view):

- **Result store with single flight.**  Results are kept per (task, canonical parameters)
  key.  The first caller of a key claims it and computes it; concurrent callers wait for
  that computation and get its result, or its exception.  A failed computation leaves
  nothing in the store, so a later call tries again.
- **Current task** is a context variable holding the running task's frame, so ``uses()``
  knows its caller in worker threads, for named tasks and for functions that share a
  name.  Contexts are copied into worker threads.
- **Dependencies first, without recursion.**  Before a key is computed, its known
  upstream closure (see :mod:`nolead.graph`) is computed bottom-up in a loop, so the
  ``uses()`` calls inside find their results ready.  Dependencies only discovered at run
  time are computed inline; when that nesting gets deep on one thread, the computation
  moves to a fresh thread (fresh stack), so no chain ever hits the recursion limit.
- **Cycles** known from the code are refused before anything runs.  At run time, a
  thread about to wait checks the wait-for graph (which thread waits for which) and
  raises :class:`CycleError` instead of waiting for itself.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar, overload

from nolead import config, graph
from nolead.errors import CycleError, TaskParameterError, UnknownTaskError
from nolead.log import logger
from nolead.task import TaskFunction, TaskSpec, resolve

__all__ = [
    "call_directly",
    "compute",
    "current_frame",
    "done",
    "reset_pipeline",
    "run_task",
    "uses",
]

T = TypeVar("T")

PENDING, DONE, FAILED = 0, 1, 2
# Task bodies nested on one thread before run-time dependencies move to a fresh thread.
MAX_INLINE_DEPTH = 40
_INFO = 20
_ERROR = 40

# The global lock guards the wait-for graph (cycle detection).  A key is claimed with one
# atomic ``dict.setdefault`` (no lock).  Settling an entry and registering to be woken by
# it take the entry's lock, one of several striped locks, so threads working on
# different keys do not queue on one lock (with the GIL, a contended lock turns into a
# convoy of context switches).
_lock = threading.Lock()
_STRIPE_MASK = 63
_stripes = [threading.Lock() for _ in range(_STRIPE_MASK + 1)]
# key -> the result, or the _Run of a computation still running.  Finished results are
# stored bare (no wrapper object per result), which keeps long runs light on the GC.
_results: dict[tuple[Any, Any], Any] = {}
# thread ident -> the entry or group that thread is blocked on (for cycle detection)
_blocked: dict[int, Any] = {}
_get_ident = threading.get_ident
_MISSING: Any = object()


class _Run:
    """One run of a task body: its frame while it runs, and its entry in the result store.

    As a *frame* it is what ``uses()`` inside the body records edges against (``spec``,
    ``key``, ``parent``, ``depth``, ``deps``).  As an *entry* it stands in the result store
    for the computation in flight, owned by the computing thread, until it settles to
    done or failed.  One object serves both, so running a task allocates one object, not
    two.  A plain call of a task function (no caching) uses it as a frame only.
    """

    __slots__ = (
        "deps",
        "depth",
        "key",
        "lock",
        "owner",
        "parent",
        "spec",
        "state",
        "value",
        "waiters",
    )

    def __init__(
        self, spec: TaskSpec, key: Any, parent: _Run | None, depth: int, owner: int
    ) -> None:
        self.spec = spec
        self.key = key
        self.parent = parent
        self.depth = depth
        self.deps: dict[Any, Any] | None = None
        # guards state and waiters between settling and registering a waiter
        self.lock = _stripes[id(self) >> 4 & _STRIPE_MASK]
        self.owner = owner
        self.state = PENDING
        self.value: Any = None
        # callables run when the entry settles (a waiting thread's lock.release, ...)
        self.waiters: list[Callable[[], Any]] | None = None


class NeedDependency(BaseException):
    """Raised in a worker process when a task needs a result that was not shipped.

    It travels back to the parent (a ``BaseException``, so a task's ``except Exception``
    does not swallow it), which computes the dependency, records the edge and sends the
    task again.

    Attributes:
        target: The needed task's result key, or its name when the worker cannot resolve it.
        kwargs: The keyword arguments it was asked with.
        reply: What the worker observed before stopping (filled by the worker).
    """

    def __init__(self, target: Any, kwargs: dict[str, Any] | None, reply: Any = None) -> None:
        super().__init__(target, kwargs, reply)
        self.target = target
        self.kwargs = kwargs
        self.reply = reply

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.target, self.kwargs, self.reply))


_current: contextvars.ContextVar[_Run | None] = contextvars.ContextVar(
    "nolead_current_task", default=None
)


def current_frame() -> _Run | None:
    """Return the frame of the task running in this context, or ``None``."""
    return _current.get()


@overload
def uses(task: Callable[..., T], /, **params: Any) -> T: ...
@overload
def uses(task: str, /, **params: Any) -> Any: ...


def uses(task: Any, /, **params: Any) -> Any:
    """Return the result of an upstream task, running it first if needed.

    Inside a task, this also records that the current task depends on ``task`` with
    these parameters.  Results are cached per (task, parameters) until
    :func:`reset_pipeline`.

    Args:
        task: The upstream task function, or its name.
        **params: Keyword arguments for the upstream task.

    Returns:
        The upstream task's result.

    Raises:
        UnknownTaskError: When ``task`` names no registered task.
        TaskParameterError: When the parameters do not fit the task's signature.
        CycleError: When the task (indirectly) needs itself.
    """
    if type(task) is TaskFunction:
        spec = task.__nolead_task__
    else:
        try:
            spec = resolve(task)
        except UnknownTaskError:
            if config.in_worker:
                raise NeedDependency(task, params or None) from None
            raise
    key = None if params else spec.key0
    if key is None:
        key = spec.key(params)
    frame = _current.get()
    if frame is not None and frame.key is not None:
        deps = frame.deps
        if deps is None:
            deps = frame.deps = graph.observed_deps(frame.key)
        if key not in deps:
            deps[key] = params or None
            graph.edge_added()
    value = _results.get(key, _MISSING)
    if value is not _MISSING and type(value) is not _Run:
        return value
    return _obtain(key, params, frame)


@overload
def run_task(task: Callable[..., T], /, **params: Any) -> T: ...
@overload
def run_task(task: str, /, **params: Any) -> Any: ...


def run_task(task: Any, /, **params: Any) -> Any:
    """Run a task (after what it is known to need) and return its result.

    Called inside another task it behaves exactly like :func:`uses`.

    Args:
        task: The task function, or its name.
        **params: Keyword arguments for the task.

    Returns:
        The task's result (cached per parameters until :func:`reset_pipeline`).

    Raises:
        UnknownTaskError: When ``task`` names no registered task.
        TaskParameterError: When the parameters do not fit the task's signature.
        CycleError: When the task (indirectly) needs itself.
    """
    return uses(task, **params)


def done(result: T = None) -> T:  # type: ignore[assignment]
    """Return ``result``: a readable way to end a task (``return done(value)``)."""
    return result


def reset_pipeline() -> None:
    """Forget every cached result, so the next run computes everything again.

    What nolead learned about the pipeline's shape (edges and parallel groups seen at
    run time) is kept.  Do not call it while tasks are running.
    """
    with _lock:
        _results.clear()
    transport = sys.modules.get("nolead.transport")
    if transport is not None:
        transport.forget()
    if logger.isEnabledFor(10):
        logger.debug("Pipeline results cleared")


def cached_counts() -> dict[Any, int]:
    """Return how many finished results each task spec has in the store."""
    counts: dict[Any, int] = {}
    for (spec, _), value in list(_results.items()):
        if type(value) is not _Run:
            counts[spec] = counts.get(spec, 0) + 1
    return counts


def offer(key: tuple[Any, Any], value: Any) -> None:
    """Cache a result computed elsewhere (a worker process), unless one is already there."""
    _results.setdefault(key, value)


def finished_items() -> list[tuple[Any, Any]]:
    """Return every cached ``(key, result)``."""
    return [(key, value) for key, value in list(_results.items()) if type(value) is not _Run]


def is_done(key: tuple[Any, Any]) -> bool:
    """Return True when ``key``'s result is cached."""
    value = _results.get(key, _MISSING)
    return value is not _MISSING and type(value) is not _Run


def cached_value(key: tuple[Any, Any]) -> Any:
    """Return the cached result of ``key`` (which must be done)."""
    return _results[key]


def call_directly(spec: TaskSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run a task's body as a plain call (what calling the decorated function does).

    Nothing is cached, but ``uses()`` inside works and, when called from another task,
    the call is recorded as a dependency of it.
    """
    parent = _current.get()
    named = kwargs
    if args:
        named = dict(zip(spec.binder.names, args, strict=False))
        named.update(kwargs)
    try:
        key = spec.key(named)
    except TaskParameterError:
        key = None  # let the call itself raise Python's own TypeError
    if key is not None and parent is not None and parent.key is not None:
        graph.observe_call(parent.key, key, named or None)
    frame = _Run(spec, key, parent, parent.depth + 1 if parent is not None else 0, 0)
    token = _current.set(frame)
    try:
        return spec.func(*args, **kwargs)
    finally:
        _current.reset(token)


def _obtain(key: tuple[Any, Any], kwargs: dict[str, Any] | None, parent: _Run | None) -> Any:
    """Compute a key on this thread, running its known upstream closure first."""
    if config.in_worker:
        raise NeedDependency(key, kwargs or None)
    depth = parent.depth + 1 if parent is not None else 0
    logging_on = logger.isEnabledFor(_INFO)
    if graph.prefetch(key):
        if parent is None and not _results:  # a run from scratch: its plan may be known
            order = graph.full_order((key, kwargs))
        else:
            order = graph.closure_order([(key, kwargs)], is_done, active_chain(parent))
        for dep_key, dep_kwargs in order:
            if dep_key is not key:
                compute(dep_key, dep_kwargs, parent, depth, logging_on)
    return compute(key, kwargs, parent, depth, logging_on)


def compute(
    key: tuple[Any, Any],
    kwargs: dict[str, Any] | None,
    parent: _Run | None,
    depth: int,
    logging_on: bool = False,
) -> Any:
    """Return the result of ``key``: cached, awaited from another thread, or computed here.

    Args:
        key: ``(spec, canonical parameters)``.
        kwargs: The keyword arguments to call the task with.
        parent: The frame that needs the result (``None`` at top level).
        depth: How many task bodies are already nested on this thread.
        logging_on: Whether INFO messages are wanted (checked once per run by the caller,
            so logging that is off costs nothing per task).

    Returns:
        The result.

    Raises:
        CycleError: When waiting would mean waiting for this very thread.
        BaseException: Whatever the task raised.
    """
    run = _Run(key[0], key, parent, depth, _get_ident())
    found = _results.setdefault(key, run)  # the claim: atomic, so one thread wins it
    if found is not run:
        return _await(found, parent) if type(found) is _Run else found
    if depth > MAX_INLINE_DEPTH:
        return _run_on_fresh_thread(run, kwargs, logging_on)
    return _run_body(run, kwargs, logging_on)


def _run_body(run: _Run, kwargs: dict[str, Any] | None, logging_on: bool) -> Any:
    """Run a claimed key's task body in this thread and settle its entry."""
    spec = run.spec
    if logging_on:
        logger.info("Running task: %s", spec.name)
    if spec.remote_generation == config.generation:  # decided under the current settings
        elsewhere = spec.remote
    else:
        elsewhere = config.runs_in_other_process(spec)
    token = _current.set(run)
    try:
        if elsewhere:
            from nolead import remote

            value = remote.run_sync(run, kwargs, config.executor_for(spec))
        elif kwargs:
            value = spec.func(**kwargs)
        else:
            value = spec.func()
    except BaseException as exc:
        _current.reset(token)
        _settle(run, run.key, FAILED, _tag(exc, spec))
        if logger.isEnabledFor(_ERROR):
            logger.error("Task %r failed: %s: %s", spec.name, type(exc).__name__, exc)
        raise
    _current.reset(token)
    _settle(run, run.key, DONE, value)
    if logging_on:
        logger.info("Completed task: %s", spec.name)
    return value


def _tag(exc: BaseException, spec: TaskSpec) -> BaseException:
    """Remember on the exception which task body raised it first."""
    if getattr(exc, "__nolead_task__", None) is None:
        try:
            exc.__nolead_task__ = spec.name  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            pass
    return exc


def _settle(entry: _Run, key: Any, state: int, value: Any) -> None:
    if _results.get(key) is entry:  # only this entry's owner replaces it
        if state == DONE:
            _results[key] = value
        else:
            _results.pop(key, None)
    lock = entry.lock
    lock.acquire()  # (cheaper than a with statement on this hot path)
    try:
        entry.value = value
        entry.state = state
        waiters = entry.waiters
        entry.waiters = None
    finally:
        lock.release()
    if waiters:
        for waiter in waiters:
            waiter()


def active_chain(frame: _Run | None) -> dict[Any, list[str]]:
    """Map each key computed by ``frame``'s chain of callers to the names from it to ``frame``."""
    frames: list[_Run] = []
    while frame is not None:
        frames.append(frame)
        frame = frame.parent
    frames.reverse()
    names = [f.spec.name for f in frames]
    return {f.key: names[i:] for i, f in enumerate(frames) if f.key is not None}


def provide(down: tuple[Any, Any], need: NeedDependency, parent: _Run | None) -> None:
    """Compute here what a worker asked for, and record it as a dependency of ``down``.

    Raises:
        UnknownTaskError: When the worker asked for a name no task has.
        BaseException: Whatever computing the dependency raised.
    """
    target = need.target
    key = resolve(target).key(need.kwargs or {}) if isinstance(target, str) else target
    graph.observe(down, key, need.kwargs)
    if not is_done(key):
        _obtain(key, need.kwargs, parent)


def claim(key: tuple[Any, Any]) -> tuple[int, Any]:
    """Claim a key for a computation that runs elsewhere (no thread owns it).

    Returns:
        ``(DONE, result)`` when cached; ``(PENDING, entry)`` when another computation is in
        flight; ``(FAILED, entry)`` — meaning *claimed*: the caller must compute the key
        and :func:`settle` the entry.
    """
    entry = _Run(key[0], key, None, 0, 0)
    found = _results.setdefault(key, entry)
    if found is entry:
        return FAILED, entry
    if type(found) is _Run:
        return PENDING, found
    return DONE, found


def settle(entry: _Run, key: tuple[Any, Any], error: BaseException | None, value: Any) -> None:
    """Settle a claimed entry with a result, or with the exception that replaced it."""
    if error is None:
        _settle(entry, key, DONE, value)
    else:
        _settle(entry, key, FAILED, _tag(error, key[0]))


def when_settled(entry: _Run, callback: Callable[[], Any]) -> None:
    """Call ``callback`` once the entry settles (now, if it already has)."""
    with entry.lock:
        if entry.state == PENDING:
            if entry.waiters is None:
                entry.waiters = []
            entry.waiters.append(callback)
            return
    callback()


def outcome(entry: _Run) -> tuple[BaseException | None, Any]:
    """Return ``(exception or None, result)`` of a settled entry."""
    if entry.state == DONE:
        return None, entry.value
    return entry.value, None


def _await(entry: _Run, parent: _Run | None) -> Any:
    """Wait for an entry another thread computes (or raise CycleError if that is us)."""
    if entry.state == PENDING:
        me = _get_ident()
        with _lock:
            cycle = _find_cycle(me, entry) if entry.state == PENDING else None
            if cycle is not None:
                raise CycleError(_cycle_names(parent, cycle))
            _blocked[me] = entry
        waiter: threading.Lock | None = threading.Lock()
        waiter.acquire()  # type: ignore[union-attr]
        with entry.lock:
            if entry.state == PENDING:
                if entry.waiters is None:
                    entry.waiters = []
                entry.waiters.append(waiter.release)  # type: ignore[union-attr]
            else:
                waiter = None
        if waiter is not None:
            waiter.acquire()
        _blocked.pop(me, None)
    if entry.state == DONE:
        return entry.value
    raise entry.value


def _run_on_fresh_thread(run: _Run, kwargs: dict[str, Any] | None, logging_on: bool) -> Any:
    """Run a claimed key on a new thread (fresh stack) and wait for it here."""
    context = contextvars.copy_context()
    run.depth = 0

    def body() -> None:
        run.owner = _get_ident()
        try:
            context.run(_run_body, run, kwargs, logging_on)
        except BaseException:  # settled on the entry; the waiting thread re-raises it
            pass

    me = _get_ident()
    waiter = threading.Lock()
    waiter.acquire()
    with run.lock:
        run.waiters = [waiter.release]
    with _lock:
        _blocked[me] = run
    threading.Thread(target=body, name=f"nolead-deep-{run.spec.name}", daemon=True).start()
    waiter.acquire()
    _blocked.pop(me, None)
    if run.state == DONE:
        return run.value
    raise run.value


def block_on(group: Any, parent: _Run | None) -> None:
    """Record that this thread waits for a group's running tasks; refuse a cycle.

    Raises:
        CycleError: When one of those tasks (indirectly) waits for this thread.
    """
    me = _get_ident()
    with _lock:
        cycle = _find_cycle(me, group)
        if cycle is not None:
            raise CycleError(_cycle_names(parent, cycle))
        _blocked[me] = group


def unblock() -> None:
    """Forget that this thread waits (see :func:`block_on`)."""
    _blocked.pop(_get_ident(), None)


def _waited_threads(target: Any) -> list[tuple[int, TaskSpec]]:
    """Threads whose progress ``target`` (an entry or a group) waits for, with their task."""
    if isinstance(target, _Run):
        # A settled entry's waiters are waking up: it no longer holds anyone.
        return [(target.owner, target.spec)] if target.state == PENDING else []
    return list(target.running.items())


def _find_cycle(me: int, target: Any) -> list[TaskSpec] | None:
    """Depth-first search of the wait-for graph from ``target`` back to thread ``me``.

    Must be called with ``_lock`` held.  Returns the tasks along the cycle (the ones
    waited for, in order), or ``None``.
    """
    seen: set[int] = set()
    stack: list[tuple[list[TaskSpec], Any]] = [([], target)]
    while stack:
        path, waited = stack.pop()
        for thread, spec in _waited_threads(waited):
            trail = [*path, spec]
            if thread == me:
                return trail
            if thread in seen:
                continue
            seen.add(thread)
            blocked = _blocked.get(thread)
            if blocked is not None:
                stack.append((trail, blocked))
    return None


def _cycle_names(parent: _Run | None, waited: list[TaskSpec]) -> list[str]:
    """Name a cycle: the waiting task, what it waits for, and back down this thread's chain."""
    if parent is None:
        return [spec.name for spec in waited] + [waited[0].name]
    closing = waited[-1]
    chain: list[str] = []
    frame: _Run | None = parent
    while frame is not None and frame.spec is not closing:
        chain.append(frame.spec.name)
        frame = frame.parent
    start = parent.spec.name
    return [start, *[spec.name for spec in waited], *reversed(chain)]
