"""The work the benchmarks do, as module-level functions.

They live in an importable module so that every system ships them to worker processes
the same way: by reference (module and name), not by value.
"""

from __future__ import annotations

import time
from typing import Any


def trivial(value: int) -> int:
    """Do next to nothing: the cost measured is the framework's."""
    return value


def increment(value: int) -> int:
    """Add one (one link of a chain)."""
    return value + 1


def nap(seconds: float) -> float:
    """Sleep, standing in for I/O (releases the GIL)."""
    time.sleep(seconds)
    return seconds


def burn(iterations: int) -> int:
    """Pure-Python arithmetic that holds the GIL for the whole call."""
    total = 0
    for number in range(iterations):
        total = (total + number * number) % 1_000_003
    return total


def calibrate(seconds: float) -> int:
    """Return how many :func:`burn` iterations take about ``seconds`` on this machine."""
    probe = 200_000
    for _ in range(2):  # a rough guess, then a probe of about a fifth of the target
        begin = time.perf_counter()
        burn(probe)
        took = time.perf_counter() - begin
        estimate = max(1, int(probe * seconds / took))
        probe = max(1, estimate // 5)
    return estimate


def make_array(nbytes: int) -> Any:
    """Return a float64 NumPy array of ``nbytes`` bytes, filled (so its pages are real)."""
    import numpy as np

    return np.arange(nbytes // 8, dtype=np.float64)


def array_sum(array: Any) -> float:
    """Read every element of an array once."""
    return float(array.sum())
