"""Settings: built-in defaults < environment < ``configure()`` < per-task choice.

Environment variables (read when first needed, and again after ``configure(reset=True)``):

- ``NOLEAD_EXECUTOR``: name of the default executor (``thread`` unless set).
- ``NOLEAD_MAX_WORKERS``: worker count for every executor (each executor's own default
  unless set).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from nolead.errors import ConfigurationError

__all__ = ["configure", "default_executor", "max_workers"]

DEFAULT_EXECUTOR = "thread"

_lock = threading.Lock()
_executor: str | None = None
_max_workers: int | None = None
_env_read = False
# Bumped whenever settings or the executor registry change (invalidates per-task caches).
generation = 0
# True inside a worker process of an executor that crosses process boundaries.
in_worker = False


def _read_env() -> None:
    global _env_read, _executor, _max_workers
    if _env_read:
        return
    name = os.environ.get("NOLEAD_EXECUTOR", "").strip()
    workers = os.environ.get("NOLEAD_MAX_WORKERS", "").strip()
    if _executor is None and name:
        from nolead import plugins
        from nolead.errors import UnknownExecutorError

        try:
            plugins.executor_info(name)
        except UnknownExecutorError as exc:
            raise ConfigurationError(f"NOLEAD_EXECUTOR={name!r}: {exc}") from None
        _executor = name
    if _max_workers is None and workers:
        _max_workers = _check_workers(workers, "NOLEAD_MAX_WORKERS")
    _env_read = True


def _check_workers(value: Any, source: str) -> int:
    number = 0
    if isinstance(value, str) and source.startswith("NOLEAD_"):
        number = int(value) if value.isdigit() else 0
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    if number < 1:
        raise ConfigurationError(f"{source} must be a positive whole number, got {value!r}")
    return number


def configure(
    *,
    executor: str | None = None,
    max_workers: int | None = None,
    reset: bool = False,
) -> dict[str, Any]:
    """Choose how nolead runs tasks.

    Arguments left as ``None`` keep their current value.  A task's own
    ``@Task(executor=...)`` still wins over the default chosen here.

    Args:
        executor: Name of the default executor (``"thread"``, ``"serial"``, or one a plugin
            registered).
        max_workers: Worker threads/processes per executor.
        reset: Forget earlier ``configure()`` calls first and read the environment again.

    Returns:
        The settings now in force: ``{"executor": ..., "max_workers": ...}``
        (``max_workers`` is ``None`` when each executor uses its own default).

    Raises:
        UnknownExecutorError: For an executor name no plugin registered (the message lists
            the registered ones).
        ConfigurationError: For a ``max_workers`` that is not a positive whole number.
    """
    global _executor, _max_workers, _env_read
    from nolead import plugins

    if executor is not None:
        if not isinstance(executor, str):
            raise ConfigurationError(f"executor must be a name (str), got {executor!r}")
        plugins.executor_info(executor)  # validates the name
    workers = None if max_workers is None else _check_workers(max_workers, "max_workers")
    with _lock:
        if reset:
            _executor = None
            _max_workers = None
            _env_read = False
        _read_env()
        changed = (executor is not None and executor != _executor) or (
            workers is not None and workers != _max_workers
        )
        if executor is not None:
            _executor = executor
        if workers is not None:
            _max_workers = workers
        current = {"executor": _executor or DEFAULT_EXECUTOR, "max_workers": _max_workers}
    if changed or reset:
        plugins.discard_executors()
        bump()
    return current


def bump() -> None:
    """Invalidate what was derived from the settings or the executor registry."""
    global generation
    generation += 1


def enter_worker_mode() -> None:
    """Mark this process as a worker: process tasks run inline, parallel() uses threads."""
    global in_worker
    if not in_worker:
        in_worker = True
        bump()


def executor_for(spec: Any) -> str:
    """Return the executor name a task runs on (its own choice, else the default)."""
    return spec.executor or default_executor()


def runs_in_other_process(spec: Any) -> bool:
    """Return True when a task's body must be shipped to another process to run.

    Decided by what the executor's plugin registered (``crosses_process``), cached per
    task until the settings or the registry change.
    """
    if spec.remote_generation == generation:
        return spec.remote  # type: ignore[no-any-return]
    from nolead import plugins

    remote = not in_worker and plugins.executor_info(executor_for(spec)).crosses_process
    spec.remote = remote
    spec.remote_generation = generation
    return remote


def default_executor() -> str:
    """Return the name of the default executor."""
    if not _env_read:
        with _lock:
            _read_env()
    return _executor or DEFAULT_EXECUTOR


def max_workers() -> int | None:
    """Return the configured worker count, or ``None`` for each executor's default."""
    if not _env_read:
        with _lock:
            _read_env()
    return _max_workers
