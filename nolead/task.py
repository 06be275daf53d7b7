"""Tasks: the ``@Task()`` decorator, task specifications and name resolution."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from nolead.errors import NotATaskError, UnknownTaskError
from nolead.params import Binder

__all__ = [
    "Task",
    "TaskFunction",
    "TaskSpec",
    "all_specs",
    "lookup",
    "registry_version",
    "resolve",
    "task_name",
]

F = TypeVar("F", bound=Callable[..., Any])

# name -> spec, in registration order.  Re-registering a name replaces the spec in place.
_registry: dict[str, TaskSpec] = {}
_version = 0


class TaskSpec:
    """Everything the engine knows about one task.

    Attributes:
        name: The task's name (the function's ``__name__`` unless ``@Task(name=...)``).
        func: The undecorated function.
        wrapper: The decorated function users hold.
        executor: The executor this task asked for, or ``None`` for the configured default.
        binder: Binds keyword arguments to ``func``'s signature.
    """

    __slots__ = (
        "__weakref__",
        "binder",
        "executor",
        "func",
        "key0",
        "name",
        "observed0",
        "prefetch",
        "remote",
        "remote_generation",
        "signature",
        "static",
        "wrapper",
    )

    def __init__(self, name: str, func: Callable[..., Any], executor: str | None) -> None:
        self.name = name
        self.func = func
        self.executor = executor
        self.binder = Binder(name, func)
        # The result key for a call without parameters, built once (None: some are required).
        self.key0: tuple[TaskSpec, Any] | None = None
        if self.binder.default_key is not None:
            self.key0 = (self, self.binder.default_key)
        self.wrapper: Callable[..., Any] = func
        # Caches filled lazily by nolead.discovery and nolead.graph: (registry version, value).
        self.static: Any = None
        self.prefetch: Any = None
        # Whether the body runs in another process, decided under settings generation
        # remote_generation (-1: not decided yet); see nolead.config.
        self.remote = False
        self.remote_generation = -1
        self.observed0: Any = None  # nolead.graph's record of edges seen from key0
        self.signature: str | None = None  # the signature as text, for graphs

    def key(self, params: dict[str, Any]) -> tuple[TaskSpec, Any]:
        """Return the result key for calling this task with ``params``.

        Raises:
            TaskParameterError: When ``params`` do not fit the signature.
        """
        if not params and self.key0 is not None:
            return self.key0
        return (self, self.binder.bind(params))

    @property
    def qualname(self) -> str:
        """The function's ``module.qualname``."""
        module = getattr(self.func, "__module__", None) or "?"
        return f"{module}.{getattr(self.func, '__qualname__', self.name)}"

    def __repr__(self) -> str:
        return f"<task {self.name!r} ({self.qualname})>"

    def __reduce__(self) -> tuple[Any, ...]:
        # A spec travels to worker processes as its task function (see TaskFunction).
        return (_spec_of, (self.wrapper,))


def _spec_of(wrapper: Any) -> TaskSpec:
    return cast(TaskSpec, wrapper.__nolead_task__)


class Task:
    """Decorator that registers a function as a pipeline task.

    ``@Task()`` names the task after the function; ``@Task(name="x")`` gives it another
    name.  The decorated function can still be called directly: it runs its body every
    time (no caching), with ``uses()`` working inside.

    Args:
        name: The task's name; defaults to the function's ``__name__``.
        executor: Name of the executor this task runs on (for example ``"process"``);
            ``None`` uses the configured default.

    Raises:
        TypeError: When ``name`` or ``executor`` is not a string, or the decorated object
            is not callable.
    """

    def __init__(self, name: str | None = None, *, executor: str | None = None) -> None:
        if callable(name):
            raise TypeError("Task must be called before decorating: write @Task(), not @Task")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Task name must be a string, not {type(name).__name__}")
        if executor is not None and not isinstance(executor, str):
            raise TypeError(f"Task executor must be a name (str), not {type(executor).__name__}")
        self.name = name
        self.executor = executor

    def __call__(self, func: F) -> F:
        if not callable(func):
            raise TypeError(f"@Task() decorates functions, not {type(func).__name__} objects")
        name = self.name if self.name is not None else getattr(func, "__name__", None)
        if not isinstance(name, str):
            raise TypeError(f"cannot name a task after {func!r}; pass @Task(name=...)")
        spec = TaskSpec(name, func, self.executor)
        wrapper = TaskFunction(spec)
        spec.wrapper = wrapper
        _register(spec)
        return cast(F, wrapper)


class TaskFunction:
    """What ``@Task()`` returns: the function, usable as a task reference.

    Calling it runs the body directly (no caching; ``uses()`` works inside).  It carries
    the function's name, docstring, module and signature (``functools.wraps``), and
    pickles by reference when its module can be imported, or by value (the function and
    the task's name) otherwise — so tasks defined in ``__main__`` or inside functions
    can be sent to worker processes.
    """

    # The spec in a slot of its own: uses() reads it without a dictionary lookup.
    __slots__ = ("__dict__", "__nolead_task__", "__weakref__")

    def __init__(self, spec: TaskSpec) -> None:
        functools.update_wrapper(self, spec.func)
        self.__nolead_task__ = spec

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from nolead import engine

        return engine.call_directly(self.__nolead_task__, args, kwargs)

    def __repr__(self) -> str:
        return f"<task {self.__nolead_task__.name!r} ({self.__nolead_task__.qualname})>"

    def __reduce__(self) -> tuple[Any, ...]:
        spec = self.__nolead_task__
        place = _importable(self)
        if place is not None:
            return (_import_task, place)
        return (_rebuild_task, (spec.name, spec.func, spec.executor))


def _importable(wrapper: TaskFunction) -> tuple[str, str] | None:
    """Return (module, qualname) when importing finds this very object there."""
    module_name = getattr(wrapper, "__module__", None)
    qualname = getattr(wrapper, "__qualname__", "")
    if not module_name or module_name == "__main__" or "<" in qualname:
        return None
    import sys

    found: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return (module_name, qualname) if found is wrapper else None


def _import_task(module_name: str, qualname: str) -> TaskFunction:
    import importlib

    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    return cast(TaskFunction, found)


def _rebuild_task(name: str, func: Callable[..., Any], executor: str | None) -> TaskFunction:
    """Re-create a task received by value, reusing an identical registered one."""
    existing = _registry.get(name)
    if (
        existing is not None
        and getattr(existing.func, "__code__", None) is not None
        and existing.func.__code__ == getattr(func, "__code__", None)
    ):
        return cast(TaskFunction, existing.wrapper)
    return cast(TaskFunction, Task(name, executor=executor)(func))


def _register(spec: TaskSpec) -> None:
    global _version
    _registry[spec.name] = spec
    _version += 1
    from nolead.log import logger

    if logger.isEnabledFor(10):
        logger.debug("Registered task %r (%s)", spec.name, spec.qualname)


def registry_version() -> int:
    """Return a number that changes whenever a task is registered."""
    return _version


def all_specs() -> list[TaskSpec]:
    """Return the registered tasks in registration order."""
    return list(_registry.values())


def resolve(ref: Any) -> TaskSpec:
    """Return the task a function or name refers to.

    Args:
        ref: A decorated task function or a registered task name.

    Returns:
        The task's specification.

    Raises:
        UnknownTaskError: For a name no task has (with the closest registered names).
        NotATaskError: For anything else.
    """
    if type(ref) is str:
        spec = _registry.get(ref)
        if spec is None:
            raise UnknownTaskError(ref, difflib.get_close_matches(ref, list(_registry), n=3))
        return spec
    spec = getattr(ref, "__nolead_task__", None)
    if spec is None:
        if callable(ref):
            raise NotATaskError(
                f"{getattr(ref, '__qualname__', ref)!r} is not a task; decorate it with @Task()"
            )
        raise NotATaskError(
            f"expected a task function or a task name, got {type(ref).__name__}: {ref!r}"
        )
    return cast(TaskSpec, spec)


def task_name(ref: Any) -> str:
    """Return the name of the task ``ref`` refers to (see :func:`resolve`)."""
    return resolve(ref).name


def lookup(name: str) -> TaskSpec | None:
    """Return the registered task called ``name``, or ``None``."""
    return _registry.get(name)
