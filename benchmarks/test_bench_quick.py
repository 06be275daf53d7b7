"""Smoke test of the benchmark harness: ``python -m benchmarks --quick`` runs and writes
well-formed JSON.

It checks the shape of the results only — never a timing, never whether a target is met —
so it cannot fail because the machine is slow or busy.  It takes under a minute.  The
suite runs in subprocesses from the repository root, so the test works in any pytest
import mode.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

ROW_KEYS = {"case", "system", "kind", "primary", "unit", "reps", "samples", "median", "min"}
ROW_KEYS |= {"max", "note", "error", "limitation", "nolead_over_this", "target", "met"}
CHECK_KEYS = {"case", "system", "target", "measured", "met", "margin", "note", "report_only"}


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Any]:
    """Run the quick suite once for every test of this module."""
    path = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    document = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return done, document


def test_quick_run_succeeds_and_prints_the_table(quick_run: Any) -> None:
    done, document = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    assert document is not None
    assert "== targets" in done.stdout
    for section in document["sections"]:
        assert f"== {section['id']}:" in done.stdout


def workload_ids() -> list[str]:
    """The workload ids, in order, as ``python -m benchmarks --list`` prints them."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]


def test_json_is_well_formed(quick_run: Any) -> None:
    _, document = quick_run
    assert document["schema"] == "nolead-benchmarks/1"
    meta = document["meta"]
    assert meta["mode"] == "quick"
    assert meta["cpu_count"] >= 1
    assert isinstance(meta["gc"]["enabled"], bool)
    assert {"python", "packages", "cpu_model", "duration_s"} <= set(meta)
    assert [s["id"] for s in document["sections"]] == workload_ids()
    for section in document["sections"]:
        assert section["error"] is None, section["error"]
        assert section["rows"], section["id"]
        for row in section["rows"]:
            assert set(row) >= ROW_KEYS, (section["id"], sorted(ROW_KEYS - set(row)))
            assert row["kind"] in {"nolead", "peer", "reference"}
            assert row["reps"] == len(row["samples"])
            if row["samples"]:
                values = [row["min"], row["median"], row["max"]]
                assert all(isinstance(v, float) and math.isfinite(v) for v in values)
                assert row["min"] <= row["median"] <= row["max"]
            assert row["met"] in (True, False, None)
        for item in section["checks"]:
            assert set(item) >= CHECK_KEYS, (section["id"], sorted(CHECK_KEYS - set(item)))
            assert item["met"] in (True, False, None)
    counts = document["summary"]
    assert counts["errors"] == 0
    assert counts["targets"] == counts["met"] + counts["missed"] + counts["undecided"]
