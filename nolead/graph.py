"""The dependency graph: static edges, edges observed at run time, and parallel groups.

The engine records what it observes here (one dict operation per ``uses()`` call), and
asks two questions: what must run before a given (task, parameters) key — its *known
upstream closure* — and, for renderers, what the whole graph looks like now.

What was observed survives :func:`nolead.reset_pipeline` (it describes the code, not
the data), so a second run after a reset schedules its dependencies first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from nolead import discovery, gcpause
from nolead import task as _task
from nolead.errors import CycleError, TaskParameterError

if TYPE_CHECKING:
    from nolead.graphmodel import Edge, ParallelGroup, PipelineGraph

__all__ = [
    "Dep",
    "Plan",
    "closure",
    "closure_order",
    "observe",
    "observe_group",
    "observed_deps",
    "prefetch",
    "snapshot",
]

# A result key: (spec, canonical parameters).
Key = tuple[Any, Any]
# A dependency to run: (key, keyword arguments as given, or None for none).
Dep = tuple[Key, Any]

# downstream key -> {upstream key: keyword arguments as given, or None for none}
_observed: dict[Key, dict[Key, Any]] = {}
# downstream key -> {key of a task function called directly: kwargs} (graph only)
_calls: dict[Key, dict[Key, Any]] = {}
# (caller spec or None, target specs, shared canonical params) -> shared kwargs as given
_groups: dict[tuple[Any, tuple[Any, ...], Any], dict[str, Any]] = {}
_groups_lock = threading.Lock()
# Bumped whenever an observed edge is added or forgotten (see full_order).
_edges_version = 0
# root key -> (registry version, edges version, its full closure order): the plans of
# runs started from an empty result cache, reused while the graph stays the same.
_plans: dict[Key, tuple[int, int, list[Dep]]] = {}
_plans_lock = threading.Lock()
_PLANS_KEPT = 32


def observed_deps(key: Key) -> dict[Key, Any]:
    """Return the live record of upstream keys observed for ``key`` (created when missing).

    Whoever adds an edge to it calls :func:`edge_added`.
    """
    spec = key[0]
    if key is spec.key0:  # kept on the spec too: one lookup less on every run
        deps = spec.observed0
        if deps is None:
            deps = spec.observed0 = _observed.setdefault(key, {})
        return deps  # type: ignore[no-any-return]
    deps = _observed.get(key)
    if deps is None:
        deps = _observed.setdefault(key, {})
    return deps


def observe(down: Key, up: Key, kwargs: Any) -> None:
    """Record that ``down`` needed ``up`` (called with ``kwargs``), unless already known."""
    deps = observed_deps(down)
    if up not in deps:
        deps[up] = kwargs
        edge_added()


def edge_added() -> None:
    """Note that an observed edge was added (known closures may have grown)."""
    global _edges_version
    _edges_version += 1


def observe_group(caller: Any, specs: tuple[Any, ...], shared: Any, kwargs: dict[str, Any]) -> None:
    """Record a ``parallel()``/``run_parallel()`` call made by ``caller`` (a spec or None)."""
    group_key = (caller, specs, shared)
    if group_key not in _groups:
        with _groups_lock:
            _groups.setdefault(group_key, dict(kwargs))


def observe_call(down: Key, up: Key, kwargs: dict[str, Any] | None) -> None:
    """Record that task ``down`` called task function ``up`` directly (drawn, not prefetched)."""
    calls = _calls.get(down)
    if calls is None:
        calls = _calls.setdefault(down, {})
    calls.setdefault(up, kwargs)


def forget_observations() -> None:
    """Drop every observed edge and group (a worker does this before each task)."""
    for deps in list(_observed.values()):
        deps.clear()  # emptied, not dropped: specs keep a reference to theirs
    _calls.clear()
    edge_added()
    with _groups_lock:
        _groups.clear()


def observed_items() -> list[tuple[Key, dict[Key, Any]]]:
    """Return the observed edges as ``(downstream key, {upstream key: kwargs})``."""
    return list(_observed.items())


def observed_groups() -> list[tuple[Any, tuple[Any, ...], Any, dict[str, Any]]]:
    """Return the observed parallel groups as ``(caller, specs, shared key, kwargs)``."""
    with _groups_lock:
        return [(*key, kwargs) for key, kwargs in _groups.items()]


def prefetch(key: Key) -> list[Dep]:
    """Return the dependencies known to be needed by ``key`` before it runs.

    These are the task's unconditional static ``uses()`` calls with literal arguments,
    plus the ``uses()`` calls observed in earlier runs of the same key.

    Args:
        key: ``(spec, canonical parameters)``.

    Returns:
        ``(key, keyword arguments)`` for each dependency.
    """
    cached = key[0].prefetch
    static: list[Dep]
    static_keys: frozenset[Key]
    if cached is not None and cached[0] == _task._version:
        static, static_keys = cached[1]
    else:
        static, static_keys = _static_prefetch(key[0])
    seen = _observed.get(key)
    if not seen or static_keys.issuperset(seen):
        return static
    deps = list(static)
    deps.extend(item for item in list(seen.items()) if item[0] not in static_keys)
    return deps


def _static_prefetch(spec: Any) -> tuple[list[Dep], frozenset[Key]]:
    version = _task.registry_version()
    deps: list[Dep] = []
    for call in discovery.static_calls(spec):
        if call.kind != "uses" or not call.unconditional or call.params is None:
            continue
        target = call.targets[0]
        if isinstance(target, str):
            continue  # names a task that is not registered (yet)
        try:
            deps.append((target.key(call.params), call.params or None))
        except TaskParameterError:
            continue  # the run itself will report the bad parameters
    result = (deps, frozenset(dep[0] for dep in deps))
    spec.prefetch = (version, result)
    return result


def closure_order(
    roots: list[Dep], is_done: Callable[[Key], bool], active: dict[Key, list[str]] | None = None
) -> list[Dep]:
    """Order the known upstream closure of ``roots`` so that dependencies come first.

    Keys for which ``is_done`` is true are left out, together with what only they need.
    The walk is iterative, so chains of any depth work.

    Args:
        roots: The keys to run, with their keyword arguments.
        is_done: Tells whether a key's result is already cached.
        active: Keys being computed by the calling chain of tasks, each with the task names
            from it down to the caller; reaching one of them is a cycle.

    Returns:
        The dependencies in an order where each comes after all it needs (roots included).

    Raises:
        CycleError: When the known edges form a cycle.
    """
    return [dep for dep, _ in _walk(roots, is_done, False, active or {})]


def full_order(root: Dep) -> list[Dep]:
    """Return :func:`closure_order` of ``root`` as if nothing were cached.

    The order is kept per root key and reused until a task is registered or an edge is
    observed, so a pipeline run again from an empty cache (after ``reset_pipeline()``)
    is planned once, not on every run.  Only valid when no result is cached: otherwise
    the closure must leave out what cached results make unnecessary.

    Raises:
        CycleError: When the known edges form a cycle.
    """
    version, edges = _task._version, _edges_version
    kept = _plans.get(root[0])
    if kept is not None and kept[0] == version and kept[1] == edges:
        return kept[2]
    order = [dep for dep, _ in _walk([root], _never_done, False, {})]
    with _plans_lock:
        if len(_plans) >= _PLANS_KEPT:
            del _plans[next(iter(_plans))]
        _plans[root[0]] = (version, edges, order)
    return order


def _never_done(key: Key) -> bool:
    return False


class Plan(NamedTuple):
    """What one ``parallel()`` call runs: parallel lists, one entry per node.

    Attributes:
        keys: The result keys, each after all it needs.
        kwargs: The keyword arguments to call each with (``None`` for none).
        deps: Each node's dependencies as indices into ``keys``; ``None`` when no node has
            any (a plain fan-out).
    """

    keys: list[Key]
    kwargs: list[Any]
    deps: list[Sequence[int]] | None


def closure(
    keys: list[Key],
    kwargs: Any,
    is_done: Callable[[Key], bool],
    active: dict[Key, list[str]] | None = None,
) -> Plan:
    """Plan running ``keys`` (all with ``kwargs``) after their known upstream closure.

    Like :func:`closure_order`, with each node's dependencies as indices.

    Raises:
        CycleError: When the known edges form a cycle.
    """
    for key in keys:
        if prefetch(key):
            order = _walk([(key, kwargs) for key in keys], is_done, True, active or {})
            return Plan(
                [dep[0] for dep, _ in order], [dep[1] for dep, _ in order], [d for _, d in order]
            )
    # A plain fan-out: nothing known upstream of any of them.
    if active:
        for key in keys:
            if key in active:
                raise CycleError([*active[key], key[0].name])
    todo = [key for key in keys if not is_done(key)]
    return Plan(todo, [kwargs] * len(todo), None)


_ON_PATH = -1
_NO_DEPS: tuple[int, ...] = ()


def _walk(
    roots: list[Dep],
    is_done: Callable[[Key], bool],
    with_edges: bool,
    active: dict[Key, list[str]],
) -> list[tuple[Dep, Sequence[int]]]:
    """Iterative depth-first post-order over known dependencies (cycle-checked)."""
    order: list[tuple[Dep, Sequence[int]]] = []
    position: dict[Key, int] = {}  # finished keys -> index in order; _ON_PATH while visiting
    no_edges: list[int] = []
    for root in roots:
        if root[0] in position:
            continue
        if root[0] in active:
            raise CycleError([*active[root[0]], root[0][0].name])
        position[root[0]] = _ON_PATH
        # Each stack item: [dependency, its known dependencies, next one to look at, edges]
        stack: list[list[Any]] = [[root, prefetch(root[0]), 0, [] if with_edges else no_edges]]
        while stack:
            item = stack[-1]
            deps = item[1]
            at = item[2]
            while at < len(deps):
                child = deps[at]
                at += 1
                seen = position.get(child[0])
                if seen is None:
                    if child[0] in active:
                        path = [entry[0][0][0].name for entry in stack]
                        raise CycleError([*active[child[0]], *path, child[0][0].name])
                    if is_done(child[0]):
                        continue
                    child_deps = prefetch(child[0])
                    if not child_deps:  # nothing known upstream: finished at once
                        position[child[0]] = len(order)
                        if with_edges:
                            item[3].append(len(order))
                        order.append((child, _NO_DEPS))
                        continue
                    item[2] = at
                    position[child[0]] = _ON_PATH
                    stack.append([child, child_deps, 0, [] if with_edges else no_edges])
                    break
                if seen == _ON_PATH:
                    raise CycleError(_cycle(stack, child[0]))
                if with_edges:
                    item[3].append(seen)
            else:
                stack.pop()
                key = item[0][0]
                position[key] = len(order)
                if with_edges and stack:
                    stack[-1][3].append(len(order))
                order.append((item[0], item[3]))
    return order


def _cycle(stack: list[list[Any]], closing: Key) -> list[str]:
    keys = [item[0][0] for item in stack]
    start = keys.index(closing)
    return [key[0].name for key in keys[start:]] + [closing[0].name]


@gcpause.pausing  # every object made here lives until the snapshot is returned
def snapshot(
    include: Iterable[str] | None = None, cached: dict[Any, int] | None = None
) -> PipelineGraph:
    """Build the graph renderers see.

    Args:
        include: Task names to keep (``None``: all registered tasks).
        cached: Number of cached results per spec, for ``TaskInfo.cached_results``.

    Returns:
        The current :class:`PipelineGraph`.
    """
    from nolead.graphmodel import PipelineGraph, TaskInfo

    specs = _task.all_specs()
    if include is not None:
        wanted = set(include)
        specs = [s for s in specs if s.name in wanted]
    position = {spec: i for i, spec in enumerate(specs)}
    edges = _EdgeSet(position)
    groups: dict[tuple[Any, ...], ParallelGroup] = {}

    for spec in specs:
        for call in discovery.static_calls(spec):
            targets = [t for t in call.targets if not isinstance(t, str) and t in position]
            params = call.params
            for target in targets:
                edges.add(target, spec, params, parallel=call.kind == "parallel", static=True)
            if call.kind == "parallel" and targets:
                _add_group(groups, spec, targets, static=True)
    for (down, _), ups in [*_observed.items(), *_calls.items()]:
        if down in position:
            for (up, _), kwargs in list(ups.items()):
                if up in position:
                    edges.add(up, down, kwargs or {}, parallel=False, static=False)
    for (caller, targets_all, _), kwargs in list(_groups.items()):
        if caller is not None and caller not in position:
            continue
        targets = [t for t in targets_all if t in position]
        if not targets:
            continue
        if caller is not None:
            for target in targets:
                edges.add(target, caller, kwargs, parallel=True, static=False)
        _add_group(groups, caller, targets, static=False)

    counts = cached or {}
    info = {
        spec.name: TaskInfo(
            name=spec.name,
            function=spec.qualname,
            signature=_signature(spec),
            executor=spec.executor,
            doc=_first_line(getattr(spec.func, "__doc__", None)),
            cached_results=counts.get(spec, 0),
        )
        for spec in specs
    }
    return PipelineGraph(
        tasks=tuple(spec.name for spec in specs),
        edges=edges.result(),
        parallel_groups=tuple(groups.values()),
        task_info=info,
    )


def _add_group(
    groups: dict[tuple[Any, ...], ParallelGroup], caller: Any, targets: list[Any], static: bool
) -> None:
    from nolead.graphmodel import ParallelGroup

    key = (caller, *targets)
    existing = groups.get(key)
    groups[key] = ParallelGroup(
        [t.name for t in targets],
        caller.name if caller is not None else None,
        static=static or bool(existing and existing.static),
        observed=not static or bool(existing and existing.observed),
    )


class _EdgeSet:
    """Merges static and observed edges that describe the same dependency.

    A static edge whose arguments cannot be read (``params=None``) merges into the
    observed edges between the same two tasks, which know the arguments.
    """

    def __init__(self, position: dict[Any, int]) -> None:
        self.position = position
        # (up, down, parallel) -> {parameter identity or None: [params, static, observed]}
        self.edges: dict[tuple[Any, Any, bool], dict[Any, list[Any]]] = {}

    def add(
        self, up: Any, down: Any, params: dict[str, Any] | None, parallel: bool, static: bool
    ) -> None:
        variants = self.edges.setdefault((up, down, parallel), {})
        label = None if params is None else _params_id(up, params)
        entry = variants.get(label)
        if entry is None:
            entry = variants[label] = [params, False, False]
        entry[1 if static else 2] = True

    def result(self) -> tuple[Edge, ...]:
        from nolead.graphmodel import Edge

        merged: list[tuple[tuple[int, int, str], Edge]] = []
        for (up, down, parallel), variants in self.edges.items():
            unknown = variants.pop(None, None) if len(variants) > 1 else None
            for params, static, observed in variants.values():
                if unknown is not None:
                    static = static or unknown[1]
                    observed = observed or unknown[2]
                edge = Edge(up.name, down.name, params, parallel, static, observed)
                merged.append(((self.position[down], self.position[up], edge.label), edge))
        merged.sort(key=lambda item: item[0])
        return tuple(edge for _, edge in merged)


def _params_id(spec: Any, params: dict[str, Any]) -> Any:
    try:
        return spec.binder.bind(params)
    except TaskParameterError:
        return repr(sorted(params.items(), key=lambda item: item[0]))


def _signature(spec: Any) -> str:
    """Return the task function's signature as text (kept once its annotations evaluate)."""
    if spec.signature is not None:
        return spec.signature  # type: ignore[no-any-return]
    import inspect

    try:
        spec.signature = text = str(inspect.signature(spec.func, eval_str=True))
        return text
    except Exception:  # annotations that cannot be evaluated (yet): show them as written
        try:
            return str(inspect.signature(spec.func))
        except (TypeError, ValueError):
            return "(...)"


def _first_line(doc: str | None) -> str | None:
    if not doc:
        return None
    lines = doc.strip().splitlines()
    return lines[0].strip() if lines else None
