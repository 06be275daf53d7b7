"""Command line: ``python -m benchmarks [--quick] [--json PATH] [--only IDS] [--profile]``.

The parent process runs each workload's children (fresh interpreters: ``python -m
benchmarks --child ID[:PARAM]``) one after another in a fixed order, collects their rows,
judges nolead's targets, optionally profiles what missed, prints the table on stdout and
writes the JSON file.  Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.harness import Options, Workload, gc_state, log, short_error, spin
from benchmarks.workloads import WORKLOADS, by_id

DEFAULT_JSON = report.ROOT / "benchmarks" / "results.json"


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run nolead and its peers on the same workloads and report the figures.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repetitions")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help="where to write the results (default: benchmarks/results.json)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated workload ids to run (default: all; see --list)",
    )
    parser.add_argument("--reps", type=int, default=None, help="repetitions of every bench")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile nolead (cProfile, top 10) on every target it misses",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument(
        "--show",
        type=Path,
        default=None,
        metavar="JSON",
        help="print the report of a saved run (a --json file) instead of running",
    )
    parser.add_argument(
        "--brief", action="store_true", help="with --show: leave out the notes and profiles"
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds allowed per child process"
    )
    # Internal: how the parent starts a child.
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--profile-key", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the suite (or, with ``--child``, one part of it); return the exit status."""
    args = parse(argv)
    opts = Options(quick=args.quick, reps=args.reps)
    if args.child is not None:
        return child(args, opts)
    if args.show is not None:
        document = json.loads(args.show.read_text(encoding="utf-8"))
        print("\n".join(report_text(document, brief=args.brief)))
        return 0
    if args.list:
        for workload in WORKLOADS:
            print(f"{workload.id:<16} {workload.title}")
        return 0
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in wanted if by_id(name) is None]
    if unknown:
        print(f"unknown workload(s): {', '.join(unknown)}; see --list", file=sys.stderr)
        return 2
    return parent(args, opts, [w for w in WORKLOADS if not wanted or w.id in wanted])


# ----------------------------------------------------------------------------- child


def child(args: argparse.Namespace, opts: Options) -> int:
    """Measure (or profile) one child argument and write the outcome as JSON."""
    workload = by_id(args.child.split(":", 1)[0])
    if workload is None or args.result is None:
        print(f"bad child invocation: {args.child!r}", file=sys.stderr)
        return 2
    spin(0.25 if opts.quick else 1.0)
    if args.profile_key is not None:
        if workload.profile is None:
            outcome: dict[str, Any] = {"error": "this workload cannot be profiled"}
        else:
            outcome = workload.profile(args.child, args.profile_key, opts)
    else:
        section = workload.measure(args.child, opts)
        outcome = section.to_json()
        outcome["gc"] = gc_state()
    args.result.write_text(json.dumps(outcome), encoding="utf-8")
    return 0


def child_env() -> dict[str, str]:
    """The environment of a child: nolead's own variables removed, the repo importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOLEAD_")}
    root = str(report.ROOT)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def cpu_times() -> tuple[int, int] | None:
    """Return (all, idle) CPU time of the whole machine in clock ticks, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields), idle


def cpu_busy(interval: float = 0.25) -> float | None:
    """Return the share of CPU time (all cores) spent busy over ``interval`` seconds."""
    sample = cpu_times
    before = sample()
    time.sleep(interval)
    after = sample()
    if before is None or after is None or after[0] == before[0]:
        return None
    total = after[0] - before[0]
    return 1 - (after[1] - before[1]) / total


def wait_for_quiet(limit: float = 15.0, threshold: float = 0.15) -> float:
    """Wait until the machine is idle (worker processes of the last child gone).

    Returns the seconds waited.  Gives up after ``limit`` seconds (and says so).
    """
    begin = time.perf_counter()
    calm = 0
    while time.perf_counter() - begin < limit:
        busy = cpu_busy()
        if busy is None:
            return 0.0
        calm = calm + 1 if busy < threshold else 0
        if calm >= 2:
            return time.perf_counter() - begin
    log(f"   (the machine stayed busy for {limit:.0f} s; going on anyway)")
    return time.perf_counter() - begin


def run_child(
    argument: str, opts: Options, timeout: float, profile_key: str | None = None
) -> dict[str, Any]:
    """Start ``python -m benchmarks --child argument`` and return what it wrote.

    Raises:
        RuntimeError: When the child fails, times out or writes nothing.
    """
    with tempfile.TemporaryDirectory(prefix="nolead-bench-") as scratch:
        result = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "benchmarks", "--child", argument, "--result"]
        command += [str(result), *opts.to_argv()]
        if profile_key is not None:
            command += ["--profile-key", profile_key]
        machine_before = cpu_times()
        own_before = _children_cpu()
        begin = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=report.ROOT, env=child_env(), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"child {argument!r} took more than {timeout:.0f} s") from None
        wall = time.perf_counter() - begin
        if done.returncode != 0 or not result.exists():
            raise RuntimeError(f"child {argument!r} exited with status {done.returncode}")
        data: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
        machine_after = cpu_times()
        if machine_before is not None and machine_after is not None:
            ticks = os.sysconf("SC_CLK_TCK")
            busy = (machine_after[0] - machine_after[1]) - (machine_before[0] - machine_before[1])
            other = busy / ticks - (_children_cpu() - own_before)
            data["load"] = {
                "wall_s": round(wall, 2),
                "other_cpu_s": round(max(0.0, other), 2),
                "other_share": round(max(0.0, other) / (wall * (os.cpu_count() or 1)), 3),
            }
        return data


def _children_cpu() -> float:
    """CPU seconds used by this process's finished children (and theirs, when reaped)."""
    try:
        import resource
    except ImportError:  # not on this platform: no estimate of other activity
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------- parent


def parent(args: argparse.Namespace, opts: Options, workloads: list[Workload]) -> int:
    """Run the workloads, print the table, write the JSON; 1 when anything errored."""
    timeout = args.timeout or (120.0 if opts.quick else 1200.0)
    started = datetime.now(timezone.utc)
    begin = time.perf_counter()
    meta = report.machine()
    log(
        f"nolead benchmarks ({'quick' if opts.quick else 'full'}) on {meta['cpu_model']}, "
        f"{meta['cpu_count']} cores, Python {meta['python']}"
    )
    sections = []
    gc_seen: dict[str, Any] = {}
    for workload in workloads:
        log(f"== {workload.id}: {workload.title}")
        section = run_workload(workload, opts, timeout, args.profile, gc_seen)
        sections.append(section)
    elapsed = time.perf_counter() - begin
    meta.update(
        {
            "mode": "quick" if opts.quick else "full",
            "started_utc": started.isoformat(timespec="seconds"),
            "duration_s": round(elapsed, 1),
            "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
            "gc": gc_seen or gc_state(),
            "timer": "time.perf_counter",
            "repetitions": {"light": opts.light, "heavy": opts.heavy},
        }
    )
    document = {
        "schema": report.SCHEMA,
        "meta": meta,
        "sections": sections,
        "summary": report.summary(sections),
    }
    report.write_json(args.json, document)
    lines = report_text(document)
    lines.append(f"JSON written to {args.json}")
    print("\n".join(lines))
    return 1 if document["summary"]["errors"] else 0


def report_text(document: dict[str, Any], brief: bool = False) -> list[str]:
    """The printed report of a run: header, table, targets, counts."""
    meta = document["meta"]
    sections = document["sections"]
    lines = [
        f"nolead benchmarks, {meta['mode']} run of {meta['started_utc']} "
        f"({meta['duration_s']:.0f} s): {meta['cpu_model']}, {meta['cpu_count']} cores, "
        f"Python {meta['python']}; gc enabled: {meta['gc'].get('enabled')}",
        "median/min/max over n repetitions; nolead/this = median of the case's primary "
        "nolead row / median of this row (< 1: nolead is faster)",
    ]
    lines += report.table_lines(sections, notes=not brief)
    lines += report.target_lines(sections, profiles=not brief)
    counts = document["summary"]
    lines += [
        "",
        f"targets: {counts['met']} met, {counts['missed']} missed, {counts['undecided']} "
        f"undecided, of {counts['targets']} (and {counts['reported']} figures reported); "
        f"peers unable to run a case: {counts['limitations']}; errors: {counts['errors']}",
    ]
    return lines


def run_workload(
    workload: Workload,
    opts: Options,
    timeout: float,
    profile: bool,
    gc_seen: dict[str, Any],
) -> dict[str, Any]:
    """Run every child of a workload, then judge the targets (and profile the misses)."""
    rows: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    load: dict[str, Any] = {}
    errors = []
    for argument in workload.children(opts):
        wait_for_quiet(3.0 if opts.quick else 15.0)
        try:
            data = run_child(argument, opts, timeout)
        except RuntimeError as exc:
            errors.append(str(exc))
            log(f"   ERROR: {exc}")
            continue
        gc_seen.update(data.get("gc", {}))
        load[argument] = data.get("load")
        share = (data.get("load") or {}).get("other_share")
        if share is not None and share > 0.1:
            log(f"   note: other activity used ~{share:.0%} of the machine during {argument!r}")
        for row in data["rows"]:
            row["child"] = argument
        rows += data["rows"]
        extra[argument] = data.get("extra", {})
    try:
        checks = workload.evaluate(rows, extra, opts)
    except Exception as exc:  # a broken evaluation is reported, not fatal
        errors.append(f"evaluating the targets failed: {short_error(exc)}")
        checks = []
    if profile:
        add_profiles(workload, rows, checks, opts, timeout)
    report.add_ratios(rows)
    report.attach_checks(rows, checks)
    return {
        "id": workload.id,
        "title": workload.title,
        "about": workload.about,
        "error": "; ".join(errors) or None,
        "rows": rows,
        "checks": checks,
        "extra": extra,
        "load": load,
    }


def add_profiles(
    workload: Workload,
    rows: list[dict[str, Any]],
    checks: list[dict[str, Any]],
    opts: Options,
    timeout: float,
) -> None:
    """Profile, once per bench, every missed target that names a bench to profile."""
    done: dict[str, dict[str, Any]] = {}
    for item in checks:
        key = item.get("profile_key")
        if item["met"] is not False or not key:
            continue
        if key not in done:
            row = next((r for r in rows if f"{r['case']} | {r['system']}" == key), None)
            argument = row["child"] if row is not None else workload.children(opts)[0]
            log(f"   profiling {key!r} ({argument})")
            wait_for_quiet(3.0 if opts.quick else 15.0)
            try:
                done[key] = run_child(argument, opts, timeout, profile_key=key)
            except RuntimeError as exc:
                done[key] = {"error": str(exc)}
        item["profile"] = done[key]
