"""Running task bodies in other processes (executors that cross a process boundary).

What crosses the boundary, and how:

- **Out**: the task (its function, pickled with cloudpickle, so tasks defined in
  ``__main__``, in closures or interactively work), its keyword arguments, and the
  results of the upstream tasks it is known to need.  Those upstream results were
  computed once in this process; each is serialised once (see
  :mod:`nolead.transport`) and reused for every worker that needs it.  Large buffers
  (NumPy arrays and the like) travel through files in shared memory that workers map,
  not through the pipe.
- **Back**: the result, plus what the worker observed: edges and parallel groups, and
  the results of dependencies it had to compute itself because they were not known
  beforehand.  Those are recorded here, so the graph is complete and the next run ships
  them instead.

Inside a worker, nolead runs in *worker mode*: its result cache starts empty for each
task (holding only what was shipped), tasks that ask for a process executor run inline,
and ``parallel()`` runs its tasks on threads of that worker.
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from typing import Any

from nolead import config, engine, graph, transport
from nolead.errors import NoleadError, TaskPicklingError, WorkerCrashedError
from nolead.log import logger

__all__ = ["Job", "run_in_worker", "submit"]


class Job:
    """What a worker needs to run one task body (pickled as a whole by the parent)."""

    __slots__ = ("key", "kwargs", "spool", "upstream")

    def __init__(
        self, key: Any, kwargs: dict[str, Any] | None, upstream: list[Any], spool: str
    ) -> None:
        self.key = key
        self.kwargs = kwargs
        # [(key, shipped value)] for every known upstream dependency
        self.upstream = upstream
        # the parent's shared-memory directory, for large buffers of the reply
        self.spool = spool

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.key, self.kwargs, self.upstream, self.spool)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.key, self.kwargs, self.upstream, self.spool = state


def submit(slot: Any, key: Any, kwargs: dict[str, Any] | None) -> Future[Any]:
    """Ship a task body to a process executor; the future resolves to the unpacked reply.

    Args:
        slot: The live executor (``plugins.ExecutorSlot``) to submit to.
        key: The task's result key; its known dependencies must already be cached.
        kwargs: Its keyword arguments.

    Returns:
        A future whose result is the task's result (observations already recorded).

    Raises:
        TaskPicklingError: When the task, an argument or an upstream result cannot be
            pickled (names the task and the object's type).
    """
    upstream = [(dep_key, transport.shipped(dep_key)) for dep_key, _ in graph.prefetch(key)]
    payload = transport.dumps_job(Job(key, kwargs, upstream, transport.spool_directory()))
    raw = slot.executor.submit(run_in_worker, payload)
    result: Future[Any] = Future()

    def finish(done: Future[Any]) -> None:
        try:
            reply = done.result()
        except engine.NeedDependency as need:
            if need.reply is not None:
                _record(need.reply)
            result.set_exception(need)
            return
        except BaseException as exc:
            result.set_exception(_explain(exc, key[0].name, slot))
            return
        try:
            value = _unpack(reply)
        except BaseException as exc:
            result.set_exception(exc)
            return
        result.set_result(value)

    raw.add_done_callback(finish)
    result.cancel_source = raw  # type: ignore[attr-defined]
    return result


def run_sync(frame: Any, kwargs: dict[str, Any] | None, executor_name: str) -> Any:
    """Run one task body in a worker process and wait for its result.

    When the worker needs a result nobody knew about, it is computed here, the edge is
    recorded, and the task is sent again (its body starts over in the worker).
    """
    from nolead import plugins

    asked: list[Any] = []
    while True:
        slot = plugins.executor_slot(executor_name)
        try:
            return submit(slot, frame.key, kwargs).result()
        except engine.NeedDependency as need:
            check_new_need(frame.key, need, asked)
            engine.provide(frame.key, need, frame)


def check_new_need(key: Any, need: Any, asked: list[Any]) -> None:
    """Refuse to loop when a worker asks twice for the same dependency.

    Raises:
        NoleadError: Naming the task and the dependency.
    """
    if need.target in asked:
        what = need.target if isinstance(need.target, str) else need.target[0].name
        raise NoleadError(
            f"Task {key[0].name!r}: its worker asked twice for {what!r}, which was sent to it; "
            "the task may be reaching a different task object of the same name"
        )
    asked.append(need.target)


def _explain(exc: BaseException, name: str, slot: Any) -> BaseException:
    """Turn executor-level failures into errors that say which task and why."""
    kind = type(exc).__name__
    if kind in ("TerminatedWorkerError", "BrokenProcessPool", "ShutdownExecutorError"):
        from nolead import plugins

        plugins.discard_executors([slot.info.name])  # the next run gets a fresh pool
        crashed = WorkerCrashedError(
            f"the worker process running task {name!r} died before returning a result "
            f"({kind}: {exc}); the pool is restarted for the next run"
        )
        crashed.__cause__ = exc
        return crashed
    if "pickl" in str(exc).lower() and not isinstance(exc, TaskPicklingError):
        pickling = TaskPicklingError(name, f"could not be sent to or from a worker: {exc}")
        pickling.__cause__ = exc
        return pickling
    return exc


def _unpack(reply: bytes) -> Any:
    value, *observations = transport.loads(reply)
    _record(observations)
    return value


def _record(observations: Any) -> None:
    observed, groups, computed = observations
    for down, ups in observed:
        for up, up_kwargs in ups:
            graph.observe(down, up, up_kwargs)
    for caller, specs, shared, kwargs in groups:
        graph.observe_group(caller, specs, shared, kwargs)
    for key, result in computed:
        engine.offer(key, result)


def _observations(shipped: set[Any], own: Any) -> tuple[Any, Any, Any]:
    observed = [(down, list(ups.items())) for down, ups in graph.observed_items() if ups]
    computed = [
        (key, result)
        for key, result in engine.finished_items()
        if key not in shipped and key != own
    ]
    return observed, graph.observed_groups(), computed


def run_in_worker(payload: bytes) -> bytes:
    """Worker side: run one task body and return the pickled reply.

    Returns:
        ``(result, observed edges, observed groups, results computed here)`` pickled.

    Raises:
        BaseException: Whatever the task raised (pickled back by the executor).
        TaskPicklingError: When the result cannot be pickled.
    """
    config.enter_worker_mode()
    job: Job = transport.loads_job(payload)
    transport.use_spool_directory(job.spool)
    engine.reset_pipeline()
    graph.forget_observations()
    shipped = set()
    for dep_key, value in job.upstream:
        engine.offer(dep_key, value)
        shipped.add(dep_key)
    try:
        value = engine.compute(job.key, job.kwargs, None, 0, logger.isEnabledFor(20))
    except engine.NeedDependency as need:
        need.reply = _observations(shipped, job.key)
        raise
    reply = (value, *_observations(shipped, job.key))
    try:
        return transport.dumps(reply)
    except Exception as exc:
        raise TaskPicklingError(
            job.key[0].name,
            f"its result (a {type(value).__name__}) could not be pickled to send it back "
            f"from worker process {os.getpid()}: {type(exc).__name__}: {exc}",
        ) from None
