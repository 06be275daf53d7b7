"""The plugin manager: built-in plugins, then entry points of group ``nolead``.

Everything here is lazy: the first time an executor or a renderer is needed, pluggy is
imported, the built-in plugin modules and the third-party entry points are registered,
``check_pending()`` rejects misspelt hook implementations, and each plugin's
``nolead_register_executors``/``nolead_register_renderers`` is called with a
``register`` callback.

Environment:

- ``NOLEAD_DISABLE_PLUGINS``: comma-separated entry-point names not to load, or ``all``
  to load no third-party plugin.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nolead.errors import PluginError, UnknownExecutorError, UnknownRendererError

if TYPE_CHECKING:
    from concurrent.futures import Executor

__all__ = [
    "ExecutorInfo",
    "ExecutorSlot",
    "RendererInfo",
    "discard_executors",
    "executor_info",
    "executor_slot",
    "plugin_manager",
    "register_plugin",
    "renderer_for",
    "renderer_info",
    "reset_manager",
    "unregister_plugin",
]

BUILTIN_PLUGINS = (
    "nolead.default_plugins.threads",
    "nolead.default_plugins.serial",
    "nolead.default_plugins.processes",
    "nolead.default_plugins.text",
    "nolead.default_plugins.dot",
    "nolead.default_plugins.mermaid",
)
ENTRY_POINT_GROUP = "nolead"


@dataclass(frozen=True)
class ExecutorInfo:
    """An executor as a plugin registered it (see ``nolead_register_executors``)."""

    name: str
    factory: Callable[[int], Executor]
    crosses_process: bool
    default_max_workers: int | None
    description: str
    plugin: str
    max_workers_limit: int | None = None


@dataclass(frozen=True)
class RendererInfo:
    """A graph renderer as a plugin registered it (see ``nolead_register_renderers``)."""

    name: str
    renderer: Callable[[Any], str | bytes]
    suffixes: tuple[str, ...]
    description: str
    plugin: str


class ExecutorSlot:
    """A live executor: the registered info, the instance, and its worker count."""

    __slots__ = ("executor", "info", "workers")

    def __init__(self, info: ExecutorInfo, workers: int) -> None:
        self.info = info
        self.workers = workers
        self.executor = info.factory(workers)


_lock = threading.RLock()
_pm: Any = None
_executors: dict[str, ExecutorInfo] | None = None
_renderers: dict[str, RendererInfo] | None = None
_slots: dict[str, ExecutorSlot] = {}


def plugin_manager() -> Any:
    """Return the pluggy ``PluginManager`` (project name ``nolead``), creating it on first use."""
    global _pm
    with _lock:
        if _pm is None:
            import importlib

            import pluggy

            from nolead import hookspecs

            pm = pluggy.PluginManager("nolead")
            pm.add_hookspecs(hookspecs)
            for module_name in BUILTIN_PLUGINS:
                pm.register(importlib.import_module(module_name), name=module_name)
            _load_entry_points(pm)
            _check_pending(pm)
            _pm = pm
        return _pm


def _check_pending(pm: Any) -> None:
    """Turn pluggy's complaint about an unknown hook name into a PluginError."""
    import pluggy

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) if exc.plugin is not None else "?"
        raise PluginError(
            f"plugin {name!r} implements a hook nolead does not define ({exc}); "
            "check the spelling against nolead.hookspecs"
        ) from exc


def reset_manager() -> None:
    """Forget the plugin manager and live executors; the next use loads plugins again."""
    global _pm, _executors, _renderers
    discard_executors()
    with _lock:
        _pm = None
        _executors = _renderers = None
    _changed()


def _changed() -> None:
    from nolead import config

    config.bump()


def _load_entry_points(pm: Any) -> None:
    from importlib.metadata import entry_points

    disabled = {
        name.strip() for name in os.environ.get("NOLEAD_DISABLE_PLUGINS", "").split(",")
    } - {""}
    if "all" in disabled:
        return
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in disabled or pm.has_plugin(entry_point.name):
            continue
        try:
            plugin = entry_point.load()
        except Exception as exc:  # a broken plugin must not break nolead
            warnings.warn(
                f"nolead plugin {entry_point.name!r} ({entry_point.value}) failed to load and "
                f"is skipped: {type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        pm.register(plugin, name=entry_point.name)


def _collect(hook_name: str, make: Callable[..., Any]) -> dict[str, Any]:
    """Call one registration hook of every plugin, each with its own ``register`` callback."""
    pm = plugin_manager()
    found: dict[str, Any] = {}
    for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
        plugin_name = impl.plugin_name

        def register(
            name: str, target: Any, *args: Any, _plugin: str = plugin_name, **kw: Any
        ) -> None:
            if not isinstance(name, str) or not name:
                raise PluginError(f"plugin {_plugin!r} registered a nameless entry: {name!r}")
            if name in found:
                raise PluginError(
                    f"{name!r} is registered twice: by plugin {found[name].plugin!r} and by "
                    f"plugin {_plugin!r}; disable one of them (NOLEAD_DISABLE_PLUGINS)"
                )
            found[name] = make(name, target, *args, plugin=_plugin, **kw)

        impl.function(register=register)
    return found


def _make_executor(
    name: str,
    factory: Callable[[int], Executor],
    *,
    plugin: str,
    crosses_process: bool = False,
    default_max_workers: int | None = None,
    max_workers_limit: int | None = None,
    description: str = "",
) -> ExecutorInfo:
    if not callable(factory):
        raise PluginError(f"plugin {plugin!r}: executor {name!r} factory is not callable")
    return ExecutorInfo(
        name,
        factory,
        bool(crosses_process),
        default_max_workers,
        description,
        plugin,
        max_workers_limit,
    )


def _make_renderer(
    name: str,
    renderer: Callable[[Any], str | bytes],
    *,
    plugin: str,
    suffixes: Iterable[str] = (),
    description: str = "",
) -> RendererInfo:
    if not callable(renderer):
        raise PluginError(f"plugin {plugin!r}: renderer {name!r} is not callable")
    return RendererInfo(name, renderer, tuple(s.lower() for s in suffixes), description, plugin)


def executors() -> dict[str, ExecutorInfo]:
    """Return every registered executor by name."""
    global _executors
    with _lock:
        if _executors is None:
            _executors = _collect("nolead_register_executors", _make_executor)
        return _executors


def renderers() -> dict[str, RendererInfo]:
    """Return every registered renderer by name."""
    global _renderers
    with _lock:
        if _renderers is None:
            _renderers = _collect("nolead_register_renderers", _make_renderer)
        return _renderers


def executor_info(name: str) -> ExecutorInfo:
    """Return the executor registered as ``name``.

    Raises:
        UnknownExecutorError: Listing the registered names.
    """
    known = executors()
    info = known.get(name)
    if info is None:
        raise UnknownExecutorError(
            f"unknown executor {name!r}; registered executors: {', '.join(sorted(known))}"
        )
    return info


def renderer_info(name: str) -> RendererInfo:
    """Return the renderer registered as ``name``.

    Raises:
        UnknownRendererError: Listing the registered names.
    """
    known = renderers()
    info = known.get(name)
    if info is None:
        raise UnknownRendererError(
            f"unknown graph format {name!r}; registered formats: {', '.join(sorted(known))}"
        )
    return info


def renderer_for(suffix: str) -> RendererInfo | None:
    """Return the renderer that claims a file suffix (like ``".dot"``), if any."""
    suffix = suffix.lower()
    for info in renderers().values():
        if suffix in info.suffixes:
            return info
    return None


def executor_slot(name: str) -> ExecutorSlot:
    """Return the live executor ``name``, creating it on first use and reusing it after."""
    slot = _slots.get(name)
    if slot is not None:
        return slot
    from nolead import config

    with _lock:
        slot = _slots.get(name)
        if slot is None:
            info = executor_info(name)
            workers = config.max_workers() or info.default_max_workers or (os.cpu_count() or 1)
            if info.max_workers_limit is not None:
                workers = min(workers, info.max_workers_limit)
            slot = _slots[name] = ExecutorSlot(info, workers)
        return slot


def discard_executors(names: Iterable[str] | None = None) -> None:
    """Shut down live executors (all, or those named) so the next use creates them anew."""
    with _lock:
        chosen = list(_slots) if names is None else [n for n in names if n in _slots]
        old = [_slots.pop(name) for name in chosen]
    for slot in old:
        slot.executor.shutdown(wait=False)


def register_plugin(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object at run time (tests, notebooks) and refresh the registries.

    Args:
        plugin: A module or object with ``@hookimpl`` functions.
        name: The plugin's name (default: pluggy's choice).

    Returns:
        The name it was registered under.
    """
    global _executors, _renderers
    pm = plugin_manager()
    with _lock:
        registered = pm.register(plugin, name=name)
        try:
            _check_pending(pm)
        except PluginError:
            pm.unregister(name=registered)
            raise
        _executors = _renderers = None
        try:
            executors()
            renderers()
        except PluginError:
            pm.unregister(name=registered)
            _executors = _renderers = None
            raise
    _changed()
    return str(registered)


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered with :func:`register_plugin` and refresh the registries."""
    global _executors, _renderers
    pm = plugin_manager()
    with _lock:
        before = set(executors())
        pm.unregister(name=name)
        _executors = _renderers = None
        gone = before - set(executors())
    discard_executors(gone)
    _changed()
