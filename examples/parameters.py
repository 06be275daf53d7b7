"""Parameterised tasks: one result per parameter set, and shared arguments in parallel.

Run it with ``python examples/parameters.py``.  It prints which calls really ran and
which were answered from the cache, then writes the graph (with the parameters on its
edges) to ``examples/output/parameters.txt``.
"""

from __future__ import annotations

import math
from pathlib import Path

from nolead import (
    Task,
    TaskParameterError,
    generate_dependency_graph,
    reset_pipeline,
    run_parallel,
    run_task,
    uses,
)

OUTPUT = Path(__file__).resolve().parent / "output"

# Every time a task body really runs, it adds a line here.
ran: list[str] = []


@Task()
def readings(city: str, year: int = 2024) -> list[float]:
    """Daily mean temperatures for one city and year (made up, but repeatable)."""
    ran.append(f"readings(city={city!r}, year={year!r})")
    base = {"Oslo": 6.0, "Lisbon": 17.5, "Cairo": 22.5}[city]
    swing = {"Oslo": 10.0, "Lisbon": 5.5, "Cairo": 7.0}[city]
    shift = int(year) % 7 / 10
    return [
        round(base + shift + swing * math.sin(2 * math.pi * (day - 105) / 365), 1)
        for day in range(365)
    ]


@Task()
def summer_mean(city: str, year: int = 2024) -> float:
    """Mean temperature from June to August."""
    ran.append(f"summer_mean(city={city!r})")
    days = uses(readings, city=city, year=year)[151:243]
    return round(sum(days) / len(days), 1)


@Task()
def winter_mean(city: str, year: int = 2024) -> float:
    """Mean temperature in January, February and December."""
    ran.append(f"winter_mean(city={city!r})")
    values = uses(readings, city=city, year=year)
    days = values[:59] + values[334:]
    return round(sum(days) / len(days), 1)


@Task()
def hottest_day(city: str, year: int = 2024) -> float:
    """The warmest daily mean of the year."""
    ran.append(f"hottest_day(city={city!r})")
    return max(uses(readings, city=city, year=year))


def show(title: str, value: object) -> None:
    """Print a result and the task bodies that ran to produce it.

    The lines are sorted: under run_parallel() the tasks run concurrently, so the order
    in which they start varies from run to run.
    """
    print(f"{title:<48} -> {value}")
    for line in sorted(ran):
        print(f"    ran {line}")
    ran.clear()


def main() -> None:
    print("1. Results are cached per parameter set")
    show("run_task(hottest_day, city='Oslo')", run_task(hottest_day, city="Oslo"))
    show("run_task(hottest_day, city='Oslo')  again", run_task(hottest_day, city="Oslo"))
    # Defaults are applied before the cache key is made: year=2024 is the same call.
    show(
        "run_task(hottest_day, city='Oslo', year=2024)",
        run_task(hottest_day, city="Oslo", year=2024),
    )
    show("run_task(hottest_day, city='Lisbon')", run_task(hottest_day, city="Lisbon"))

    print()
    print("2. Values of different types are different parameters")
    # year="2024" is a str, not the int default, so it is a new key and runs again.
    show(
        "run_task(hottest_day, city='Oslo', year='2024')",
        run_task(hottest_day, city="Oslo", year="2024"),
    )

    print()
    print("3. run_parallel() gives every task the same keyword arguments")
    show(
        "run_parallel([...], city='Cairo')",
        run_parallel([summer_mean, winter_mean, hottest_day], city="Cairo"),
    )
    show(
        "run_parallel([...], city='Oslo', year=2023)",
        run_parallel([summer_mean, winter_mean, hottest_day], city="Oslo", year=2023),
    )

    print()
    print("4. Parameters are checked against the signature before anything runs")
    try:
        run_parallel([summer_mean, winter_mean], town="Oslo")
    except TaskParameterError as error:
        print(f"    TaskParameterError: {error}")

    # The graph shows each dependency with the arguments it was called with.
    OUTPUT.mkdir(parents=True, exist_ok=True)
    graph_file = generate_dependency_graph(OUTPUT / "parameters.txt")

    print()
    print("5. reset_pipeline() forgets the results, so the next call computes again")
    reset_pipeline()
    show("run_task(hottest_day, city='Oslo')", run_task(hottest_day, city="Oslo"))

    print()
    print(f"Dependency graph written to {graph_file}")


if __name__ == "__main__":
    main()
