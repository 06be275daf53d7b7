"""``parallel()`` and ``run_parallel()``: run a group of tasks concurrently.

A call builds a small DAG: the listed tasks plus their known upstream closure (static
edges and edges observed earlier), minus what is already cached.  Nodes become ready
when their dependencies finish; ready nodes run on the executor each task asks for
(the configured default unless ``@Task(executor=...)``).

For in-process executors the group is *drained*: the calling thread and up to
``max_workers - 1`` jobs submitted to the executor pop ready nodes and run them.  A
caller therefore never sits idle while its own tasks wait for a pool thread, which is
what keeps nested ``parallel()`` deadlock-free on a bounded pool without adding
threads.  When nothing is ready, the caller waits on the group's condition.

Executors whose work crosses a process boundary get one submission per node (see
:mod:`nolead.remote`), and their results are settled in this process.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

from nolead import config, engine, graph
from nolead.errors import CycleError, NotATaskError, ParallelUsageError, TaskFailedError
from nolead.log import logger
from nolead.params import canonical
from nolead.task import TaskFunction, TaskSpec, resolve

__all__ = ["parallel", "run_parallel"]

_NOT_RUN: Any = object()


class _ThreadState(threading.local):
    group: _Group | None = None  # the group whose node this thread is running


_thread = _ThreadState()


def parallel(tasks: Iterable[Any]) -> dict[str, Any]:
    """Run tasks concurrently and return ``{task name: result}`` in the order given.

    Upstream tasks they are known to need run first (shared ones once, independent ones
    concurrently).  Called inside a task, the call is recorded as a parallel group and the
    calling task depends on each listed task.

    Args:
        tasks: Task functions or task names.  An empty list returns ``{}``.

    Returns:
        The results keyed by task name, in the order of ``tasks``.

    Raises:
        TaskFailedError: When a task fails; names it and is chained to the original
            exception.  Tasks not yet started are not started.
        CycleError: When the tasks' known dependencies form a cycle (before running).
        ParallelUsageError: When a task appears twice in the list.
        NotATaskError: When an item is not a task (or ``tasks`` is not a list of them).
        UnknownTaskError: When a name matches no task.
    """
    return _run_group(tasks, {})


def run_parallel(tasks: Iterable[Any], /, **shared: Any) -> dict[str, Any]:
    """Like :func:`parallel`, passing the same keyword arguments to every task.

    Args:
        tasks: Task functions or task names.
        **shared: Keyword arguments given to each task; each task's signature must
            accept them (its defaults fill the rest).

    Returns:
        The results keyed by task name, in the order of ``tasks``.

    Raises:
        TaskParameterError: Before running anything, when a task does not accept one of
            the arguments (the error names the task and the argument).
        TaskFailedError, CycleError, ParallelUsageError, NotATaskError, UnknownTaskError:
            As for :func:`parallel`.
    """
    return _run_group(tasks, shared)


def _run_group(tasks: Iterable[Any], shared: dict[str, Any]) -> dict[str, Any]:
    specs = _resolve_list(tasks)
    if not specs:
        return {}
    if shared:
        keys = [spec.key(shared) for spec in specs]
    else:
        keys = [spec.key0 or spec.key(shared) for spec in specs]
    parent = engine.current_frame()
    graph.observe_group(
        parent.spec if parent is not None else None,
        tuple(specs),
        canonical(shared) if shared else None,
        shared,
    )
    plan = graph.closure(keys, shared or None, engine.is_done, engine.active_chain(parent))
    if not plan.keys:
        computed: dict[Any, Any] = {}
    else:
        group = _Group(plan, parent, keys)
        try:
            values = group.run()
        finally:
            group.detach()
        if plan.keys == keys:  # ran exactly the list (keys compare by identity first)
            return dict(zip([spec.name for spec in specs], values))
        computed = dict(zip(plan.keys, values))
    results = {}
    for key in keys:
        value = computed.get(key, _NOT_RUN)
        results[key[0].name] = _value_of(key, shared, parent) if value is _NOT_RUN else value
    return results


def _value_of(key: Any, kwargs: dict[str, Any], parent: Any) -> Any:
    """Return a listed task's result cached before the call."""
    if engine.is_done(key):
        return engine.cached_value(key)
    # Reset while the group ran: compute it here rather than lose it.
    depth = parent.depth + 1 if parent is not None else 0
    return engine.compute(key, kwargs, parent, depth)


def _resolve_list(tasks: Iterable[Any]) -> list[TaskSpec]:
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Iterable):
        raise NotATaskError(
            f"parallel() takes a list of tasks, not {type(tasks).__name__}: "
            "write parallel([task_a, task_b])"
        )
    specs = []
    for position, item in enumerate(tasks):
        if type(item) is TaskFunction:
            specs.append(item.__nolead_task__)
            continue
        try:
            specs.append(resolve(item))
        except NotATaskError as exc:
            raise NotATaskError(f"item {position} of the parallel list: {exc}") from None
    if len({spec.name for spec in specs}) == len(specs):
        return specs
    seen: set[str] = set()
    repeated: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            repeated.add(spec.name)
        seen.add(spec.name)
    if repeated:
        raise ParallelUsageError(
            "a task may appear only once in a parallel list (results are keyed by task "
            f"name); repeated: {', '.join(repr(name) for name in sorted(repeated))}"
        )
    return specs


class _Lane:
    """The ready nodes of one executor.

    In-process lanes are drained by the caller and by jobs submitted to the executor;
    remote lanes (executors that cross a process boundary) are dispatched by the caller,
    one submission per node, and settled by completion callbacks.
    """

    __slots__ = ("ready", "remote", "slot")

    def __init__(self, slot: Any, remote: bool) -> None:
        self.slot = slot
        self.remote = remote
        self.ready: deque[int] = deque()


class _Group:
    """One ``parallel()`` call's DAG while it runs."""

    def __init__(self, plan: graph.Plan, parent: Any, roots: list[Any]) -> None:
        self.parent = parent
        self.roots = roots
        self.keys = plan.keys
        self.kwargs = plan.kwargs
        count = len(plan.keys)
        self.waiting = [len(deps) for deps in plan.deps] if plan.deps else [0] * count
        # node -> the nodes waiting for it (only nodes that have some)
        self.dependents: dict[int, list[int]] = {}
        for index, deps in enumerate(plan.deps or ()):
            for dep in deps:
                waiting_for_dep = self.dependents.get(dep)
                if waiting_for_dep is None:
                    self.dependents[dep] = [index]
                else:
                    waiting_for_dep.append(index)
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.total = count
        # next() on a count is atomic under the GIL: finishing a node takes no lock
        self.finished_count = itertools.count(1)
        self.all_done = False
        self.failed: tuple[int, BaseException] | None = None
        # thread ident -> spec of the node it is running (read by cycle detection)
        self.running: dict[int, TaskSpec] = {}
        self.remote_inflight = 0
        self.remote_futures: list[Any] = []
        self.remote_entries: dict[int, Any] = {}
        self.needs: deque[tuple[int, Any]] = deque()
        self.asked: dict[int, list[Any]] = {}
        self.caller_waiting = False
        self.results: list[Any] = [None] * count
        self.lanes: dict[str, _Lane] = {}
        by_choice: dict[str | None, _Lane] = {}  # a task's own executor choice -> lane
        self.node_lane: list[_Lane] = []
        for key in self.keys:
            choice = key[0].executor
            lane = by_choice.get(choice)
            if lane is None:
                lane = by_choice[choice] = self._lane_for(key[0])
            self.node_lane.append(lane)
        self.context = contextvars.copy_context()
        self.logging_on = logger.isEnabledFor(20)
        # Groups started by this group's tasks (a group started inside one of this
        # group's tasks registers itself here), which its caller helps while it waits.
        self.children: list[_Group] = []
        self.outer = _thread.group
        if self.outer is not None:
            self.outer.children.append(self)

    def detach(self) -> None:
        """Leave the enclosing group's children once finished (nothing left to help)."""
        if self.outer is not None:
            try:
                self.outer.children.remove(self)
            except ValueError:
                pass  # pruned already by a helper
            self.outer = None

    def _lane_for(self, spec: TaskSpec) -> _Lane:
        name = config.executor_for(spec)
        lane = self.lanes.get(name)
        if lane is None:
            from nolead import plugins

            info = plugins.executor_info(name)
            if info.crosses_process and config.in_worker:
                # parallel() inside a worker process runs on that worker's threads
                name = config.DEFAULT_EXECUTOR
                lane = self.lanes.get(name)
                if lane is not None:
                    return lane
            slot = plugins.executor_slot(name)
            lane = self.lanes[name] = _Lane(slot, slot.info.crosses_process)
        return lane

    def run(self) -> list[Any]:
        """Run every node; return their results (in node order), or raise the first failure."""
        for index, waiting in enumerate(self.waiting):
            if not waiting:
                self.node_lane[index].ready.append(index)
        for lane in self.lanes.values():
            self._add_drainers(lane, len(lane.ready) - 1)
        depth = self.parent.depth + 1 if self.parent is not None else 0
        while True:
            while self.needs:
                self._provide(*self.needs.popleft())
            for lane in self.lanes.values():
                if lane.remote:
                    self._dispatch(lane)
                else:
                    self._drain(lane, depth)
            with self.lock:
                if self._finished():
                    break
                if self._has_work():
                    continue
            if self.children and self._help(depth):
                continue
            with self.lock:
                if self._finished():
                    break
                if self._has_work():
                    continue
                engine.block_on(self, self.parent)
                self.caller_waiting = True
                try:
                    while not self._finished() and not self._has_work():
                        self.cond.wait()
                finally:
                    self.caller_waiting = False
                    engine.unblock()
        try:
            if self.failed is not None:
                self._raise(*self.failed)
            return self.results
        finally:
            # Completion callbacks of remote futures refer back to this group (a reference
            # cycle): drop the results and futures now, so a large result is freed as soon
            # as the cache lets go of it rather than at the next cyclic collection.
            self.results = []
            self.remote_futures.clear()
            self.remote_entries.clear()

    def _has_work(self) -> bool:
        return bool(self.needs) or any(lane.ready for lane in self.lanes.values())

    def _finished(self) -> bool:
        return self.all_done or (
            self.failed is not None and not self.running and not self.remote_inflight
        )

    def _add_drainers(self, lane: _Lane, wanted: int) -> None:
        if lane.remote:
            return
        for _ in range(min(wanted, lane.slot.workers - 1)):
            lane.slot.executor.submit(self._drain_job, lane, self.context.copy())

    def _drain_job(self, lane: _Lane, context: contextvars.Context) -> None:
        context.run(self._drain, lane, 0)

    def _help(self, depth: int) -> bool:
        """Run one ready node of a group started below this one; return whether one ran.

        The caller of a group would otherwise sit idle while the group's tasks wait for
        the groups they started.  Only nodes of those groups are taken: this group needs
        each of them, so nothing one of them waits for can be held up by this thread
        (that would be a true cycle, refused as always).  Only lanes on an executor this
        group drains itself are helped, so no executor's tasks run on more threads than
        it lends, plus the callers.
        """
        executors = {
            id(lane.slot)
            for lane in self.lanes.values()
            if not lane.remote and lane.slot.workers > 1
        }
        if not executors:
            return False
        pending = [(self, child) for child in self.children]
        while pending:
            owner, group = pending.pop()
            if group.all_done or group.failed is not None:
                try:
                    owner.children.remove(group)
                except ValueError:
                    pass  # another helper pruned it
                continue
            for lane in list(group.lanes.values()):
                if lane.ready and not lane.remote and id(lane.slot) in executors:
                    group._drain(lane, depth + 1, 1)
                    return True
            pending.extend((group, child) for child in group.children)
        return False

    def _drain(self, lane: _Lane, depth: int, limit: int = -1) -> None:
        """Run ready nodes of ``lane`` (at most ``limit``, when not negative) until none is
        left or the group failed."""
        outer = _thread.group
        _thread.group = self  # groups started by these nodes are this group's children
        try:
            self._run_ready(lane.ready, depth, limit)
        finally:
            _thread.group = outer

    def _run_ready(self, ready: deque[int], depth: int, limit: int) -> None:
        running = self.running
        keys = self.keys
        all_kwargs = self.kwargs
        results = self.results
        dependents = self.dependents
        finished = self.finished_count
        total = self.total
        parent = self.parent
        logging_on = self.logging_on
        compute = engine.compute
        me = threading.get_ident()
        while self.failed is None and limit:
            limit -= 1
            try:
                index = ready.popleft()
            except IndexError:
                return
            key = keys[index]
            running[me] = key[0]
            try:
                results[index] = compute(key, all_kwargs[index], parent, depth, logging_on)
            except BaseException as exc:
                self._node_failed(me, index, exc)
                continue
            del running[me]
            last = next(finished) == total
            if last or index in dependents or self.failed is not None:
                self._node_done(index, last)

    def _dispatch(self, lane: _Lane) -> None:
        """Submit every ready node of a remote lane (the caller's job; never blocks)."""

        while self.failed is None:
            try:
                index = lane.ready.popleft()
            except IndexError:
                return
            key = self.keys[index]
            state, found = engine.claim(key)
            if state == engine.DONE:
                self.results[index] = found
                self._node_done(index, next(self.finished_count) == self.total)
                continue
            with self.lock:
                self.remote_inflight += 1
            if state == engine.PENDING:  # computed elsewhere: wait for it without a thread
                engine.when_settled(found, functools.partial(self._remote_settled, index, found))
                continue
            self.remote_entries[index] = found
            self._submit_remote(lane, index)

    def _submit_remote(self, lane: _Lane, index: int) -> None:
        from nolead import remote

        key, kwargs = self.keys[index], self.kwargs[index]
        entry = self.remote_entries[index]
        try:
            future = remote.submit(lane.slot, key, kwargs)
        except BaseException as exc:
            engine.settle(entry, key, exc, None)
            self._remote_settled(index, entry)
            return
        self.remote_futures.append(future)
        future.add_done_callback(functools.partial(self._remote_finished, index, entry, key))

    def _provide(self, index: int, need: Any) -> None:
        """Compute what a worker asked for (caller thread), then send the node again."""
        from nolead import remote

        key = self.keys[index]
        entry = self.remote_entries[index]
        try:
            remote.check_new_need(key, need, self.asked.setdefault(index, []))
            engine.provide(key, need, self.parent)
        except BaseException as exc:
            engine.settle(entry, key, exc, None)
            self._remote_settled(index, entry)
            return
        if self.failed is None:
            self._submit_remote(self.node_lane[index], index)
        else:
            engine.settle(entry, key, self.failed[1], None)
            self._remote_settled(index, entry)

    def _remote_finished(self, index: int, entry: Any, key: Any, future: Any) -> None:
        from concurrent.futures import CancelledError

        if future.cancelled():
            engine.settle(entry, key, CancelledError(f"task {key[0].name!r} cancelled"), None)
        elif isinstance(future.exception(), engine.NeedDependency):
            with self.lock:
                self.needs.append((index, future.exception()))
                if self.caller_waiting:
                    self.cond.notify()
            return
        elif future.exception() is not None:
            engine.settle(entry, key, future.exception(), None)
        else:
            engine.settle(entry, key, None, future.result())
        self._remote_settled(index, entry)

    def _remote_settled(self, index: int, entry: Any) -> None:
        from concurrent.futures import CancelledError

        error, value = engine.outcome(entry)
        self.results[index] = value
        with self.lock:
            self.remote_inflight -= 1
            if self.caller_waiting:
                self.cond.notify()
        if error is None:
            self._node_done(index, next(self.finished_count) == self.total)
        elif not isinstance(error, CancelledError):
            self._node_failed(None, index, error)

    def _node_done(self, index: int, last: bool) -> None:
        """Wake what waited for node ``index``; ``last``: it was the group's last node."""
        dependents = self.dependents.get(index)
        if not dependents:
            if last or self.failed is not None:
                with self.lock:
                    self.all_done = self.all_done or last
                    if self.caller_waiting:
                        self.cond.notify()
            return
        woken: list[int] = []
        with self.lock:
            self.all_done = self.all_done or last
            for dependent in dependents:
                self.waiting[dependent] -= 1
                if not self.waiting[dependent]:
                    woken.append(dependent)
                    self.node_lane[dependent].ready.append(dependent)
            if self.caller_waiting:
                self.cond.notify()
        if len(woken) > 1:
            for lane in {id(self.node_lane[i]): self.node_lane[i] for i in woken}.values():
                self._add_drainers(lane, len(lane.ready) - 1)

    def _node_failed(self, me: int | None, index: int, exc: BaseException) -> None:
        with self.lock:
            if me is not None:
                self.running.pop(me, None)
            first = self.failed is None
            if first:
                self.failed = (index, exc)
            if self.caller_waiting:
                self.cond.notify()
        if first:
            for future in self.remote_futures:  # not started yet: never start
                source = getattr(future, "cancel_source", None)
                if source is not None:
                    source.cancel()

    def _raise(self, index: int, exc: BaseException) -> None:
        if isinstance(exc, CycleError) or not isinstance(exc, Exception):
            raise exc
        failed = self.keys[index][0].name
        origin = getattr(exc, "__nolead_task__", None) or failed
        raise TaskFailedError(self._listed_task_needing(index), exc, origin) from exc

    def _listed_task_needing(self, index: int) -> str:
        """Name the first listed task that is, or (transitively) needs, node ``index``."""
        reached = {index}
        frontier = [index]
        while frontier:
            frontier = [d for i in frontier for d in self.dependents.get(i, ()) if d not in reached]
            reached.update(frontier)
        keys = {self.keys[i] for i in reached}
        for key in self.roots:
            if key in keys:
                return str(key[0].name)
        return str(self.keys[index][0].name)
