"""Named tasks: refer to a task by its function or by its name, whichever reads better.

Run it with ``python examples/named_tasks.py``.  It builds a tiny inventory check out of
tasks whose names are not valid Python identifiers, runs it, shows what nolead knows
about one task, and writes the graph to ``examples/output/named_tasks.dot``.
"""

from __future__ import annotations

from pathlib import Path

from nolead import (
    Task,
    UnknownTaskError,
    generate_dependency_graph,
    parallel,
    print_task_info,
    run_task,
    uses,
)

OUTPUT = Path(__file__).resolve().parent / "output"


@Task(name="stock/warehouse")
def warehouse_stock() -> dict[str, int]:
    """Units on the shelves of the warehouse."""
    return {"bolt": 1200, "nut": 950, "washer": 40}


@Task(name="stock/shop")
def shop_stock() -> dict[str, int]:
    """Units on the shelves of the shop."""
    return {"bolt": 80, "nut": 15, "washer": 5}


@Task(name="orders/open")
def open_orders() -> dict[str, int]:
    """Units customers have ordered but not received yet."""
    return {"bolt": 300, "nut": 1000, "washer": 20}


@Task()
def shortages() -> dict[str, int]:
    """Items for which the open orders exceed all stock."""
    # Names and functions can be mixed freely in one parallel() list.
    stock = parallel(["stock/warehouse", shop_stock])
    orders = uses("orders/open")
    missing = {}
    for item, wanted in orders.items():
        available = stock["stock/warehouse"][item] + stock["stock/shop"][item]
        if wanted > available:
            missing[item] = wanted - available
    return missing


def main() -> None:
    print("shortages:", run_task("shortages"))

    # The function and the name give the same, cached result.
    print("same result either way:", run_task(open_orders) is run_task("orders/open"))

    # Calling the function directly runs its body again (no cache involved).
    print("direct call:", warehouse_stock())

    # A misspelt name fails with a suggestion.
    try:
        run_task("stock/warehose")
    except UnknownTaskError as error:
        print("error:", error)

    print()
    print_task_info("stock/shop")

    OUTPUT.mkdir(parents=True, exist_ok=True)
    print()
    print("graph written to", generate_dependency_graph(OUTPUT / "named_tasks.dot"))


if __name__ == "__main__":
    main()
