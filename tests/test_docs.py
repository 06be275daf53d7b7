"""Every Python example in the README and docs/ runs and prints what the page shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs_runner import Example, check, examples

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ALL = [example for page in PAGES for example in examples(page)]

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("example", ALL, ids=[f"{e.page}:{e.line}" for e in ALL])
def test_example(example: Example) -> None:
    """The example runs and its output matches the page."""
    check(example)


def test_pages_have_examples() -> None:
    """The runner finds the examples (guards against a broken fence pattern)."""
    assert len(ALL) >= 20
    assert {example.page for example in ALL} >= {"README.md", "concepts.md", "plugins.md"}
