"""A small sales-report pipeline: load, clean, four statistics in parallel, one report.

Run it from anywhere::

    python examples/report_pipeline.py

It prints the report, then writes the pipeline's dependency graph as text and as
Graphviz DOT to ``examples/output/`` (next to this script).  Turn the DOT file into a
picture with ``dot -Tsvg examples/output/report_pipeline.dot -o report.svg``.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from nolead import Task, done, generate_dependency_graph, parallel, run_task, uses

OUTPUT = Path(__file__).resolve().parent / "output"

REGIONS = ("North", "South", "East", "West")
PRODUCTS = {"kettle": 39.0, "toaster": 29.5, "blender": 74.0, "grinder": 52.0, "scale": 18.0}


@Task()
def load_sales(rows: int = 400, seed: int = 7) -> list[dict[str, Any]]:
    """Generate a quarter of raw sales records, a few of them broken."""
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    records = []
    for number in range(rows):
        product = rng.choice(list(PRODUCTS))
        record: dict[str, Any] = {
            "order": 1000 + number,
            "day": start + timedelta(days=rng.randrange(90)),
            "region": rng.choice(REGIONS),
            "product": product,
            "units": rng.randint(1, 12),
            "unit_price": PRODUCTS[product],
        }
        # Real exports are never clean: blank regions, negative units, lost prices.
        flaw = rng.random()
        if flaw < 0.03:
            record["region"] = ""
        elif flaw < 0.05:
            record["units"] = -record["units"]
        elif flaw < 0.06:
            record["unit_price"] = None
        records.append(record)
    return records


@Task()
def clean_sales() -> list[dict[str, Any]]:
    """Drop broken records and add each order's revenue."""
    cleaned = []
    for record in uses(load_sales):
        if not record["region"] or record["units"] <= 0 or record["unit_price"] is None:
            continue
        cleaned.append({**record, "revenue": record["units"] * record["unit_price"]})
    return cleaned


@Task()
def revenue_by_region() -> dict[str, float]:
    """Total revenue per region, largest first."""
    totals: dict[str, float] = defaultdict(float)
    for record in uses(clean_sales):
        totals[record["region"]] += record["revenue"]
    return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))


@Task()
def top_products(limit: int = 3) -> list[tuple[str, int]]:
    """The best-selling products by units sold."""
    units: Counter[str] = Counter()
    for record in uses(clean_sales):
        units[record["product"]] += record["units"]
    return units.most_common(limit)


@Task()
def monthly_revenue() -> dict[str, float]:
    """Revenue per calendar month."""
    months: dict[str, float] = defaultdict(float)
    for record in uses(clean_sales):
        months[record["day"].strftime("%Y-%m")] += record["revenue"]
    return dict(sorted(months.items()))


@Task()
def order_statistics() -> dict[str, float]:
    """Mean, median and spread of order values."""
    values = [record["revenue"] for record in uses(clean_sales)]
    return {
        "orders": len(values),
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
        "stdev": statistics.stdev(values),
    }


@Task()
def build_report() -> str:
    """Run the statistics side by side and lay them out as text."""
    raw_count = len(uses(load_sales))
    stats = parallel([revenue_by_region, top_products, monthly_revenue, order_statistics])
    orders = stats["order_statistics"]

    lines = ["Quarterly sales report", "======================", ""]
    lines.append(f"Orders: {orders['orders']:.0f} kept of {raw_count} loaded")
    lines.append(
        f"Order value: mean {orders['mean']:.2f}, median {orders['median']:.2f}, "
        f"stdev {orders['stdev']:.2f}"
    )
    lines += ["", "Revenue by region:"]
    for region, total in stats["revenue_by_region"].items():
        lines.append(f"  {region:<6} {total:>10,.2f}")
    lines += ["", "Revenue by month:"]
    for month, total in stats["monthly_revenue"].items():
        lines.append(f"  {month}  {total:>10,.2f}")
    lines += ["", "Top products (units):"]
    for rank, (product, units) in enumerate(stats["top_products"], start=1):
        lines.append(f"  {rank}. {product:<8} {units:>5}")
    return done("\n".join(lines))


def main() -> None:
    print(run_task(build_report))

    # After the run the graph holds both what was found in the code and what was seen.
    OUTPUT.mkdir(parents=True, exist_ok=True)
    text_file = generate_dependency_graph(OUTPUT / "report_pipeline.txt")
    dot_file = generate_dependency_graph(OUTPUT / "report_pipeline.dot")
    print()
    print(f"Dependency graph (text) written to {text_file}")
    print(f"Dependency graph (DOT)  written to {dot_file}")


if __name__ == "__main__":
    main()
