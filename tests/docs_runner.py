"""Run the Python examples of a Markdown page and compare them with the shown output.

Each fenced ``python`` block runs in a fresh interpreter, in a scratch directory.  When
the next fenced block is ``text``, the program's standard output must equal it.  A block
preceded by ``<!-- example: NAME -->`` continues the earlier blocks marked with the same
NAME (their code runs first; only the new output is compared).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
MARKER = re.compile(r"<!-- example: (\S+) -->\s*$")


@dataclass(frozen=True)
class Example:
    """One runnable block: its code (with what it continues) and the expected output."""

    page: str
    line: int
    prefix: str
    code: str
    expected: str | None


def examples(page: Path) -> list[Example]:
    """Return the python blocks of a Markdown page, in order."""
    text = page.read_text(encoding="utf-8")
    blocks = [(m.group(1), m.group(2), m.start()) for m in FENCE.finditer(text)]
    chains: dict[str, str] = {}
    found = []
    for index, (language, body, start) in enumerate(blocks):
        if language != "python":
            continue
        marker = MARKER.search(text[:start])
        chain = marker.group(1) if marker else None
        prefix = chains.get(chain, "") if chain else ""
        expected = None
        if index + 1 < len(blocks) and blocks[index + 1][0] == "text":
            expected = blocks[index + 1][1]
        found.append(Example(page.name, text[:start].count("\n") + 1, prefix, body, expected))
        if chain:
            chains[chain] = prefix + body + "\n"
    return found


def run(code: str) -> tuple[int, str, str]:
    """Run ``code`` in a fresh interpreter in a scratch directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOLEAD_")}
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "example.py"
        script.write_text(code, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
    return done.returncode, done.stdout, done.stderr


def check(example: Example) -> None:
    """Run an example; raise AssertionError when it fails or prints something else."""
    before = run(example.prefix)[1] if example.prefix else ""
    code, out, err = run(example.prefix + example.code)
    where = f"{example.page}:{example.line}"
    assert code == 0, f"{where} exited {code}:\n{err[-3000:]}"
    if example.expected is not None:
        new = out[len(before) :] if out.startswith(before) else out
        assert new.rstrip("\n") == example.expected.rstrip("\n"), (
            f"{where} printed:\n{new}\nbut the page shows:\n{example.expected}"
        )
