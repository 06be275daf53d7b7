"""The plugin manager: built-ins as plugins, entry points, errors, lazy loading."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import pytest

import nolead
from nolead import plugins
from nolead.errors import PluginError, UnknownExecutorError


class FakeEntryPoint:
    """Stands in for importlib.metadata.EntryPoint."""

    def __init__(self, name: str, target: Any, loads: list[str]) -> None:
        self.name = name
        self.value = f"fake_{name}"
        self.group = "nolead"
        self._target = target
        self._loads = loads

    def load(self) -> Any:
        self._loads.append(self.name)
        if isinstance(self._target, BaseException):
            raise self._target
        return self._target


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Replace the installed entry points with fakes; rebuild the manager around the test."""
    points: list[FakeEntryPoint] = []
    loads: list[str] = []

    def entry_points(group: str) -> list[FakeEntryPoint]:
        return [p for p in points if p.group == group]

    monkeypatch.setattr("importlib.metadata.entry_points", entry_points)
    plugins.reset_manager()

    def add(name: str, target: Any) -> None:
        points.append(FakeEntryPoint(name, target, loads))

    add.loads = loads  # type: ignore[attr-defined]
    yield add
    monkeypatch.undo()
    plugins.reset_manager()


def _executor_plugin(name: str) -> types.ModuleType:
    module = types.ModuleType(f"fake_plugin_{name}")

    @nolead.hookimpl
    def nolead_register_executors(register: Any) -> None:
        register(name, lambda workers: ThreadPoolExecutor(workers), description="fake")

    module.nolead_register_executors = nolead_register_executors  # type: ignore[attr-defined]
    return module


def test_builtins_register_through_hooks() -> None:
    """thread, serial, text and dot come from the built-in plugin modules."""
    executors = plugins.executors()
    assert executors["thread"].plugin == "nolead.default_plugins.threads"
    assert executors["serial"].plugin == "nolead.default_plugins.serial"
    renderers = plugins.renderers()
    assert renderers["text"].plugin == "nolead.default_plugins.text"
    assert renderers["dot"].plugin == "nolead.default_plugins.dot"
    assert plugins.plugin_manager().project_name == "nolead"


def test_entry_point_plugin_is_loaded_once(fake_entry_points: Any) -> None:
    """An entry-point plugin's executor becomes usable; entry points load once."""
    fake_entry_points("fancy", _executor_plugin("fancy"))
    assert plugins.executor_info("fancy").plugin == "fancy"
    plugins.executors()
    plugins.renderers()
    assert fake_entry_points.loads == ["fancy"]
    nolead.configure(executor="fancy", max_workers=2)

    @nolead.Task(name="plugins_fancy_task")
    def task() -> int:
        return 7

    assert nolead.parallel([task]) == {"plugins_fancy_task": 7}


def test_duplicate_name_names_both_plugins(fake_entry_points: Any) -> None:
    """Two plugins registering one name is an error naming both."""
    fake_entry_points("first", _executor_plugin("same"))
    fake_entry_points("second", _executor_plugin("same"))
    with pytest.raises(PluginError) as caught:
        plugins.executors()
    assert "'first'" in str(caught.value) and "'second'" in str(caught.value)


def test_duplicate_of_a_builtin_is_refused(fake_entry_points: Any) -> None:
    """A plugin cannot silently replace a built-in executor."""
    fake_entry_points("impostor", _executor_plugin("thread"))
    with pytest.raises(PluginError, match=r"nolead\.default_plugins\.threads"):
        plugins.executors()


def test_misspelt_hook_is_an_error(fake_entry_points: Any) -> None:
    """check_pending() rejects a hook implementation nolead does not define."""
    module = types.ModuleType("typo_plugin")

    @nolead.hookimpl
    def nolead_register_executor(register: Any) -> None:  # missing "s"
        raise AssertionError("never called")

    module.nolead_register_executor = nolead_register_executor  # type: ignore[attr-defined]
    fake_entry_points("typo", module)
    with pytest.raises(PluginError, match="typo"):
        plugins.plugin_manager()


def test_broken_plugin_warns_and_nolead_still_works(fake_entry_points: Any) -> None:
    """A plugin that fails to import gives a warning naming it and is skipped."""
    fake_entry_points("broken", ImportError("no module named nowhere"))
    with pytest.warns(RuntimeWarning, match="'broken'"):
        names = set(plugins.executors())
    assert {"thread", "serial"} <= names


@pytest.mark.parametrize("setting", ["fancy", "other, fancy", "all"])
def test_disable_plugins(
    fake_entry_points: Any, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    """NOLEAD_DISABLE_PLUGINS skips named plugins, or all third-party ones."""
    monkeypatch.setenv("NOLEAD_DISABLE_PLUGINS", setting)
    fake_entry_points("fancy", _executor_plugin("fancy"))
    assert "fancy" not in plugins.executors()
    assert fake_entry_points.loads == []
    assert "thread" in plugins.executors()


def test_register_plugin_for_a_test(nolead_plugin: Any) -> None:
    """The nolead_plugin fixture registers a plugin for one test."""
    nolead_plugin(_executor_plugin("temporary"), name="temporary-plugin")
    assert plugins.executor_info("temporary").plugin == "temporary-plugin"


def test_registered_plugin_is_gone_after_the_test() -> None:
    """(Runs after the previous test.)  The temporary executor is unknown again."""
    with pytest.raises(UnknownExecutorError, match="serial, thread"):
        plugins.executor_info("temporary")


def test_renderer_plugin_claims_a_suffix(nolead_plugin: Any, tmp_path: Any) -> None:
    """A renderer registered with a suffix is picked by generate_dependency_graph."""
    module = types.ModuleType("yaml_like")

    def render(graph: Any) -> bytes:
        return ("tasks: " + ", ".join(graph.tasks)).encode()

    @nolead.hookimpl
    def nolead_register_renderers(register: Any) -> None:
        register("listing", render, suffixes=(".lst",))

    module.nolead_register_renderers = nolead_register_renderers  # type: ignore[attr-defined]
    nolead_plugin(module)

    @nolead.Task(name="plugins_listed")
    def listed() -> None:
        return None

    out = nolead.generate_dependency_graph(tmp_path / "g.lst", include_tasks=["plugins_listed"])
    with open(out, "rb") as handle:
        assert handle.read() == b"tasks: plugins_listed"


def test_executor_factory_gets_configured_workers(nolead_plugin: Any) -> None:
    """The factory receives max_workers from configure()."""
    seen: list[int] = []
    module = types.ModuleType("counting")

    def factory(workers: int) -> Executor:
        seen.append(workers)
        return ThreadPoolExecutor(workers)

    @nolead.hookimpl
    def nolead_register_executors(register: Any) -> None:
        register("counting", factory)

    module.nolead_register_executors = nolead_register_executors  # type: ignore[attr-defined]
    nolead_plugin(module)
    nolead.configure(executor="counting", max_workers=3)

    @nolead.Task(name="plugins_counting")
    def task() -> int:
        return 1

    nolead.parallel([task])
    assert seen == [3]


def test_import_is_lazy() -> None:
    """Importing nolead loads none of loky, pydot, cloudpickle or pluggy."""
    code = (
        "import sys, nolead\n"
        "heavy = [m for m in ('loky', 'pydot', 'cloudpickle', 'pluggy') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
