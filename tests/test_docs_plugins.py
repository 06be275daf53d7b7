"""docs/plugins.md documents every hook with its exact signature and a tested example."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from nolead import hookspecs
from tests.docs_runner import check, examples

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "plugins.md"
HOOKS = sorted(
    name
    for name, value in vars(hookspecs).items()
    if name.startswith("nolead_") and hasattr(value, "nolead_spec")
)


def _section(name: str) -> tuple[str, int]:
    text = PAGE.read_text(encoding="utf-8")
    signature = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    heading = f"### {name}({signature})\n"
    assert heading in text, f"docs/plugins.md has no heading {heading.strip()!r}"
    start = text.index(heading)
    end = text.find("\n### ", start + 1)
    return text[start : end if end != -1 else len(text)], text[:start].count("\n") + 1


def _run_section_examples(name: str) -> None:
    _, first_line = _section(name)
    section_text, _ = _section(name)
    last_line = first_line + section_text.count("\n")
    chosen = [e for e in examples(PAGE) if first_line <= e.line <= last_line]
    assert chosen, f"the {name} section has no Python example"
    assert any(e.expected is not None for e in chosen), f"{name}: no example shows output"
    for example in chosen:
        check(example)


def test_every_hook_is_documented_and_tested() -> None:
    """A hook without a reference heading, or without a test named after it, fails here."""
    assert HOOKS == ["nolead_register_executors", "nolead_register_renderers"]
    tested = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                tested.add(node.name)
    for name in HOOKS:
        section, _ = _section(name)
        assert "register(" in section, f"{name}: the section does not say what register takes"
        assert f"test_{name}" in tested, f"no test named test_{name}"


def test_nolead_register_executors() -> None:
    """The executor example registers an executor that runs tasks."""
    _run_section_examples("nolead_register_executors")


def test_nolead_register_renderers() -> None:
    """The renderer example registers a format picked by its suffix."""
    _run_section_examples("nolead_register_renderers")


@pytest.mark.parametrize("name", HOOKS)
def test_hook_signature_matches_the_heading(name: str) -> None:
    """The documented signature is the hookspec's signature."""
    section, _ = _section(name)
    assert section.startswith(f"### {name}(register)")
