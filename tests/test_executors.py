"""The executor contract, applied to every registered executor.

A class is generated per executor the plugin manager knows, so an executor added by a
plugin (built-in or third-party) is checked without touching this file.
"""

from __future__ import annotations

from nolead import plugins
from nolead.testing import ExecutorContract

for _name in sorted(plugins.executors()):
    _class_name = "TestContract_" + "".join(c if c.isalnum() else "_" for c in _name)
    globals()[_class_name] = type(_class_name, (ExecutorContract,), {"executor": _name})


def test_builtin_executors_are_covered() -> None:
    """The generated classes include the built-in executors."""
    assert "TestContract_thread" in globals()
    assert "TestContract_serial" in globals()
