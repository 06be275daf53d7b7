"""``import nolead``: how long it takes, and what it drags in.

Each repetition is a fresh ``python -X importtime -c "import nolead"``; the figure is the
cumulative time of the top-level ``nolead`` line of that report (the import itself,
without interpreter start-up).  The same is done for ``concurrent.futures`` (the standard
library's executors, the natural yardstick) and, in a full run, for the peers' top-level
packages.  A separate fresh interpreter checks that loky, pydot and cloudpickle (needed
only for processes and DOT output) are not imported by ``import nolead``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from benchmarks.harness import (
    PEER,
    REFERENCE,
    Options,
    Section,
    Workload,
    check,
    find_row,
    log,
    make_row,
    median_of,
    short_error,
)

HEAVY = ("loky", "pydot", "cloudpickle")
WATCHED = (*HEAVY, "pluggy", "concurrent.futures", "numpy", "asyncio", "ast", "inspect")
CASE = "import, fresh interpreter"


def modules(opts: Options) -> list[tuple[str, str]]:
    """``(module, kind)`` pairs to time, nolead first."""
    found = [("nolead", "nolead"), ("concurrent.futures", REFERENCE)]
    if not opts.quick:
        found += [("dask", PEER), ("joblib", PEER), ("pipefunc", PEER)]
    return found


def import_time(module: str) -> float:
    """Return the cumulative import time of ``module`` in a fresh interpreter, in ms.

    Raises:
        RuntimeError: When the import fails or its line is missing from the report.
    """
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import {module} failed: {done.stderr.strip()[-300:]}")
    found = None
    for line in done.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() == module and parts[2].startswith(" " + module):
            found = int(parts[1].strip())  # top-level line: no extra indentation
    if found is None:
        raise RuntimeError(f"no top-level line for {module!r} in the -X importtime report")
    return found / 1e3


def loaded_by_nolead() -> dict[str, bool]:
    """Which watched modules are in ``sys.modules`` after ``import nolead`` (fresh process)."""
    code = (
        "import sys, json; before = set(sys.modules); import nolead; "
        f"print(json.dumps({{m: (m in sys.modules and m not in before) for m in {WATCHED!r}}}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-300:])
    result: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure_imports(argument: str, opts: Options) -> Section:
    """Child side: time each import ``opts.heavy`` times, then check what nolead loads."""
    section = Section("imports")
    reps = opts.heavy
    for module, kind in modules(opts):
        samples: list[float] = []
        error = None
        begin = time.perf_counter()
        try:
            samples = [import_time(module) for _ in range(reps)]
        except Exception as exc:
            error = short_error(exc)
        log(f"    import {module:<30} {samples}  ({time.perf_counter() - begin:.1f} s)")
        section.add(
            make_row(
                CASE,
                f"import {module}",
                samples,
                "ms",
                kind=kind,
                primary=module == "nolead",
                error=error,
                note="cumulative time of its top-level line in python -X importtime",
            )
        )
    try:
        section.extra["loaded"] = loaded_by_nolead()
    except Exception as exc:
        section.extra["loaded_error"] = short_error(exc)
    return section


def evaluate_imports(
    rows: list[dict[str, Any]], extra: dict[str, Any], opts: Options
) -> list[dict[str, Any]]:
    """Targets: imports none of loky/pydot/cloudpickle; the time is reported beside
    ``import concurrent.futures`` (no limit)."""
    data = extra.get("imports", {})
    loaded = data.get("loaded")
    checks = []
    if loaded is None:
        checks.append(
            check(
                CASE,
                "import nolead",
                "imports none of loky, pydot, cloudpickle",
                f"could not check: {data.get('loaded_error')}",
                None,
            )
        )
    else:
        heavy = [name for name in HEAVY if loaded.get(name)]
        others = [name for name in WATCHED if name not in HEAVY and loaded.get(name)]
        checks.append(
            check(
                CASE,
                "import nolead",
                "imports none of loky, pydot, cloudpickle",
                f"imported: {', '.join(heavy) or 'none of them'}; also loaded: "
                f"{', '.join(others) or 'none of the other watched modules'}",
                not heavy,
                short="no heavy imports",
            )
        )
    mine = median_of(find_row(rows, CASE, "import nolead"))
    futures = median_of(find_row(rows, CASE, "import concurrent.futures"))
    if mine is not None and futures is not None:
        checks.append(
            check(
                CASE,
                "import nolead",
                "cumulative import time, reported beside import concurrent.futures",
                f"{mine:.1f} ms vs {futures:.1f} ms ({mine / futures:.2f}x)",
                None,
                note="reported only: the issue sets no limit",
                short="reported",
                report_only=True,
            )
        )
    return checks


WORKLOAD = Workload(
    id="imports",
    title="import nolead: time and heavy dependencies",
    about="Cumulative -X importtime of import nolead, and what it imports.",
    children=lambda opts: ["imports"],
    measure=measure_imports,
    evaluate=evaluate_imports,
)
