"""The nolead error family.

Every error nolead raises on purpose derives from :class:`NoleadError`.  Where an
error replaces a built-in exception that nolead 0.2.0 raised (``ValueError`` for
an unknown task, ``TypeError`` for bad parameters), it also derives from that
built-in, so existing ``except`` clauses keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "ConfigurationError",
    "CycleError",
    "NoleadError",
    "NotATaskError",
    "ParallelUsageError",
    "PluginError",
    "TaskFailedError",
    "TaskParameterError",
    "TaskPicklingError",
    "UnknownExecutorError",
    "UnknownRendererError",
    "UnknownTaskError",
    "WorkerCrashedError",
]


class NoleadError(Exception):
    """Base class of every error raised by nolead itself."""

    # The constructor's arguments, so errors pickle (to cross processes) as they were made.
    _args: tuple[object, ...] | None = None

    def __reduce__(self) -> str | tuple[object, ...]:
        if self._args is None:
            return super().__reduce__()
        state = {k: v for k, v in self.__dict__.items() if k != "_args"}
        return (type(self), self._args, state)


class UnknownTaskError(NoleadError, ValueError):
    """A task was referred to by a name that no registered task has.

    Attributes:
        name: The name that was asked for.
        suggestions: Registered names that are close to it, best first.
    """

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self._args = (name, tuple(suggestions))
        self.name = name
        self.suggestions = tuple(suggestions)
        message = f"Task {name!r} not found"
        if self.suggestions:
            options = " or ".join(repr(s) for s in self.suggestions)
            message += f"; did you mean {options}?"
        else:
            message += "; decorate a function with @Task() to register it"
        super().__init__(message)


class NotATaskError(NoleadError, TypeError):
    """Something that is neither a task function nor a task name was given as a task."""


class TaskParameterError(NoleadError, TypeError):
    """Parameters passed to a task do not fit its signature, or cannot be used as a cache key.

    Attributes:
        task: The task's name.
        parameter: The offending parameter's name, when there is a single one.
    """

    def __init__(self, task: str, message: str, parameter: str | None = None) -> None:
        self._args = (task, message, parameter)
        self.task = task
        self.parameter = parameter
        super().__init__(f"Task {task!r}: {message}")


class CycleError(NoleadError):
    """The dependencies of a task lead back to the task itself.

    Attributes:
        cycle: The task names along the cycle; the first name is repeated at the end.
    """

    def __init__(self, cycle: Iterable[str]) -> None:
        self.cycle = list(cycle)
        self._args = (self.cycle,)
        path = " -> ".join(repr(name) for name in self.cycle)
        super().__init__(
            f"Dependency cycle: {path}; a task cannot depend on itself, directly or through others"
        )


class TaskFailedError(NoleadError):
    """A task run by ``parallel()`` or ``run_parallel()`` raised an exception.

    The original exception is the ``__cause__`` of this error, with its traceback.

    Attributes:
        task: The name of the task of the parallel group that failed.
        origin: The name of the task whose body raised the original exception (the same as
            ``task`` unless the failure came from one of its dependencies).
    """

    def __init__(self, task: str, cause: BaseException, origin: str | None = None) -> None:
        self._args = (task, cause, origin)
        self.task = task
        self.origin = origin or task
        where = "" if self.origin == task else f" (raised in its dependency {self.origin!r})"
        super().__init__(f"Task {task!r} failed{where}: {type(cause).__name__}: {cause}")


class WorkerCrashedError(NoleadError):
    """The process running a task died before it could report a result."""


class TaskPicklingError(NoleadError):
    """A task, one of its arguments, or a result could not be pickled to cross processes.

    Attributes:
        task: The task's name.
    """

    def __init__(self, task: str, message: str) -> None:
        self._args = (task, message)
        self.task = task
        super().__init__(f"Task {task!r}: {message}")


class ParallelUsageError(NoleadError, ValueError):
    """``parallel()`` or ``run_parallel()`` was called with a list it cannot run."""


class ConfigurationError(NoleadError, ValueError):
    """A setting given to ``configure()`` or through the environment is not valid."""


class PluginError(NoleadError):
    """A plugin registered something nolead cannot accept (for example a duplicate name)."""


class UnknownExecutorError(PluginError, ValueError):
    """An executor name that no plugin registered was asked for."""


class UnknownRendererError(PluginError, ValueError):
    """A graph format that no plugin registered was asked for."""
