"""The reporting side: the machine, ratios between systems, the table and the JSON file."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.harness import NOLEAD

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "nolead",
    "dask",
    "pipefunc",
    "joblib",
    "loky",
    "cloudpickle",
    "numpy",
    "pluggy",
    "pydot",
    "pyinstrument",
)
SCHEMA = "nolead-benchmarks/1"


def machine() -> dict[str, Any]:
    """Describe the machine, the interpreter, the packages and the nolead checkout."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "memory": memory,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "packages": versions,
        "nolead_checkout": checkout(),
    }


def checkout() -> dict[str, Any]:
    """The commit nolead was measured at and its uncommitted files (read-only git calls)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain", "--", "nolead").splitlines()]
    return {"commit": git("rev-parse", "HEAD") or None, "uncommitted_in_nolead": changed}


# ---------------------------------------------------------------------------- ratios


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Give every peer/reference row the ratio of medians nolead / this row.

    The nolead figure is the case's primary nolead row; rows are compared only within a
    case and a unit, and only when both have a median.
    """
    primaries = {
        (row["case"], row["unit"]): row for row in rows if row["primary"] and not row["error"]
    }
    for row in rows:
        row["nolead_over_this"] = None
        if row["kind"] == NOLEAD or row["error"] or not row["median"]:
            continue
        mine = primaries.get((row["case"], row["unit"]))
        if mine is not None and mine["median"] is not None:
            row["nolead_over_this"] = mine["median"] / row["median"]


def attach_checks(rows: list[dict[str, Any]], checks: list[dict[str, Any]]) -> None:
    """Give each row the short form of the targets read from it and whether they are met."""
    for row in rows:
        mine = [c for c in checks if c["case"] == row["case"] and c["system"] == row["system"]]
        row["target"] = "; ".join(c["short"] for c in mine)
        judged = [c["met"] for c in mine if not c.get("report_only")]
        row["met"] = verdict(judged) if judged else None


def verdict(values: list[bool | None]) -> bool | None:
    """All met: True; any missed: False; otherwise undecided (None)."""
    if any(value is False for value in values):
        return False
    if values and all(value is True for value in values):
        return True
    return None


def met_word(value: bool | None, has_target: bool = True) -> str:
    """How a verdict reads in the table."""
    if not has_target:
        return ""
    return {True: "yes", False: "NO", None: "n/a"}[value]


# ----------------------------------------------------------------------------- table


def number(value: float | None) -> str:
    """Four significant digits, without exponent for everyday magnitudes."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 10:
        return f"{value:.2f}"
    if magnitude >= 0.01:
        return f"{value:.3f}"
    return f"{value:.2e}"


COLUMNS = (
    ("case", "<"),
    ("system", "<"),
    ("median", ">"),
    ("min", ">"),
    ("max", ">"),
    ("unit", "<"),
    ("n", ">"),
    ("nolead/this", ">"),
    ("target", "<"),
    ("met?", "<"),
)


def _judged(row: dict[str, Any]) -> bool:
    """Whether a row carries a target with a limit (not only a reported figure)."""
    return bool(row.get("target")) and row.get("target") != "reported"


def table_lines(sections: list[dict[str, Any]], notes: bool = True) -> list[str]:
    """Render every section: a header, aligned rows, then (``notes``) each row's note."""
    cells_by_section = []
    for section in sections:
        cells = []
        for row in section["rows"]:
            ratio = row.get("nolead_over_this")
            cells.append(
                [
                    row["case"],
                    row["system"],
                    _status(row) if row["error"] or not row["samples"] else number(row["median"]),
                    number(row["min"]) if not row["error"] else "",
                    number(row["max"]) if not row["error"] else "",
                    row["unit"],
                    str(row["reps"]),
                    f"{ratio:.2f}" if ratio is not None else ("-" if row["primary"] else ""),
                    row.get("target", ""),
                    met_word(row.get("met"), bool(row.get("target")))
                    if row.get("met") is not None or _judged(row)
                    else "",
                ]
            )
        cells_by_section.append(cells)
    widths = [len(name) for name, _ in COLUMNS]
    for cells in cells_by_section:
        for line in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, line)]

    def join(values: list[str]) -> str:
        parts = [
            value.ljust(width) if align == "<" else value.rjust(width)
            for value, width, (_, align) in zip(values, widths, COLUMNS)
        ]
        return "  ".join(parts).rstrip()

    header = join([name for name, _ in COLUMNS])
    lines: list[str] = []
    for section, cells in zip(sections, cells_by_section):
        lines.append("")
        lines.append(f"== {section['id']}: {section['title']}")
        busy = [
            f"{load['other_share']:.0%} during {argument}"
            for argument, load in (section.get("load") or {}).items()
            if load and load.get("other_share", 0) > 0.05
        ]
        if busy:
            lines.append(
                f"   (CPU used outside this workload's own processes, approx.: {', '.join(busy)};"
                " worker processes it did not wait for count here too)"
            )
        if section.get("error"):
            lines.append(f"   ERROR: {section['error']}")
        if not cells:
            continue
        lines.append(header)
        lines.append("-" * len(header))
        lines.extend(join(line) for line in cells)
        if not notes:
            continue
        remarks = [
            f"   [{row['case']} | {row['system']}] {row['note'] or ''}"
            + (
                f" {'CANNOT RUN IT' if row.get('limitation') else 'ERROR'}: {row['error']}"
                if row["error"]
                else ""
            )
            for row in section["rows"]
            if row["note"] or row["error"]
        ]
        if remarks:
            lines.append("   notes:")
            lines.extend(remarks)
    return lines


def _status(row: dict[str, Any]) -> str:
    if row["error"]:
        return "cannot" if row.get("limitation") else "error"
    return "n/a"


def target_lines(sections: list[dict[str, Any]], profiles: bool = True) -> list[str]:
    """List every target: the measured figure, the verdict, the margin (and profiles)."""
    lines = ["", "== targets (nolead; reported, never asserted)"]
    shown: set[tuple[str, Any]] = set()
    for section in sections:
        for item in section["checks"]:
            word = "rep" if item.get("report_only") else met_word(item["met"])
            lines.append(
                f"[{word:>3}] {section['id']} | {item['case']} | {item['system']}: "
                f"{item['target']} -> {item['measured']}"
                + (f"; {item['margin']}" if item["margin"] else "")
            )
            if item["note"]:
                lines.append(f"        note: {item['note']}")
            profile = item.get("profile") if profiles else None
            if profile and profile.get("functions"):
                marker = (section["id"], item.get("profile_key"))
                if marker in shown:
                    lines.append("        profile: as above")
                    continue
                shown.add(marker)
                lines += profile_lines(profile)
            elif profile and profile.get("error"):
                lines.append(f"        profile: {profile['error']}")
    return lines


def profile_lines(profile: dict[str, Any], by_self: int = 5) -> list[str]:
    """A profile as text: the top functions by cumulative time, then the top by self time."""
    threads = profile.get("threads", 1)
    lines = [
        f"        profile (cProfile, one run, {profile['total_s'] * 1e3:.1f} ms under the "
        f"profiler, {threads} thread(s)); top {len(profile['functions'])} by cumulative time:"
    ]
    if profile.get("caveat"):
        lines.append(f"          ({profile['caveat']})")

    def entry_line(entry: dict[str, Any]) -> str:
        return (
            f"          {entry['cumtime_s'] * 1e3:10.2f} ms cum {entry['tottime_s'] * 1e3:9.2f} ms "
            f"self {entry['ncalls']:>8}  {entry['function']}"
        )

    lines += [entry_line(entry) for entry in profile["functions"]]
    if profile.get("by_self"):
        lines.append(f"        top {by_self} by self time:")
        lines += [entry_line(entry) for entry in profile["by_self"][:by_self]]
    return lines


def summary(sections: list[dict[str, Any]]) -> dict[str, int]:
    """Count the targets met, missed and undecided, and the errors."""
    checks = [item for section in sections for item in section["checks"]]
    rows = [row for section in sections for row in section["rows"]]
    errors = sum(1 for row in rows if row["error"] and not row.get("limitation"))
    errors += sum(1 for s in sections if s.get("error"))
    return {
        "targets": sum(1 for c in checks if not c.get("report_only")),
        "met": sum(1 for c in checks if c["met"] is True),
        "missed": sum(1 for c in checks if c["met"] is False),
        "undecided": sum(1 for c in checks if c["met"] is None and not c.get("report_only")),
        "reported": sum(1 for c in checks if c.get("report_only")),
        "limitations": sum(1 for row in rows if row.get("limitation")),
        "errors": errors,
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write the results, creating the directory when needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
