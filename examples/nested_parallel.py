"""Nested parallel(): regions fan out to stations, on a bounded, reused thread pool.

Run it with ``python examples/nested_parallel.py``.  Each station "download" sleeps
for 0.1 s, standing in for a network call.  Twelve of them one after another would take
about 1.2 s; the nested fan-out takes about as long as the slowest single download.

The second pass limits the pool to 4 threads.  Nothing deadlocks and no extra threads
appear: a thread that waits for its own parallel() call runs the call's pending tasks
itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from nolead import Task, configure, parallel, reset_pipeline, run_task

DOWNLOAD_SECONDS = 0.1
STATIONS = {
    "north": ["tromso", "bodo", "alta", "kiruna"],
    "central": ["oslo", "bergen", "trondheim", "stavanger"],
    "south": ["kristiansand", "arendal", "mandal", "farsund"],
}

# Names of the threads that ran a download, to show that the pool stays bounded.
threads_used: set[str] = set()


def station_task(station: str) -> Callable[[], dict[str, Any]]:
    """Make the task that downloads one station's latest reading."""

    @Task(name=f"station:{station}")
    def download() -> dict[str, Any]:
        threads_used.add(threading.current_thread().name)
        time.sleep(DOWNLOAD_SECONDS)  # the network call
        return {"station": station, "celsius": 4.0 + len(station) % 5}

    return download


def region_task(region: str, stations: list[str]) -> Callable[[], dict[str, Any]]:
    """Make the task that downloads all stations of a region at once."""
    downloads = [station_task(station) for station in stations]

    @Task(name=f"region:{region}")
    def collect() -> dict[str, Any]:
        readings = parallel(downloads)  # a parallel() inside a task run by parallel()
        values = [reading["celsius"] for reading in readings.values()]
        return {"region": region, "stations": len(values), "mean": sum(values) / len(values)}

    return collect


regions = [region_task(region, stations) for region, stations in STATIONS.items()]


@Task()
def country() -> list[dict[str, Any]]:
    """Collect every region at once."""
    return list(parallel(regions).values())


def timed_run(label: str) -> None:
    """Run the pipeline from scratch and print the timing and the threads it used."""
    reset_pipeline()
    threads_used.clear()
    started = time.perf_counter()
    summary = run_task(country)
    elapsed = time.perf_counter() - started
    downloads = sum(region["stations"] for region in summary)
    pool = len(threads_used - {threading.main_thread().name})
    print(f"{label}: {downloads} downloads in {elapsed:.2f} s")
    print(f"    threads used: the main thread and {pool} pool threads")
    for region in summary:
        name, count, mean = region["region"], region["stations"], region["mean"]
        print(f"    {name:<8} {count} stations, mean {mean:.1f} C")


def main() -> None:
    print(f"One after another this would take about {12 * DOWNLOAD_SECONDS:.1f} s.")
    print()
    timed_run("default thread pool")
    print()
    configure(max_workers=4)
    timed_run("pool of 4 threads")
    configure(reset=True)


if __name__ == "__main__":
    main()
