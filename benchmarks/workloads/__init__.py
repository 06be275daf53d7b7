"""The workloads, in the fixed order the suite runs them."""

from __future__ import annotations

from benchmarks.harness import Workload
from benchmarks.workloads import array, chain, cpu, fanout, imports, io, nested, render, shared

WORKLOADS: tuple[Workload, ...] = (
    fanout.THREAD,
    fanout.SERIAL_WORKLOAD,
    chain.WORKLOAD,
    io.WORKLOAD,
    cpu.WORKLOAD,
    nested.WORKLOAD,
    shared.WORKLOAD,
    array.WORKLOAD,
    imports.WORKLOAD,
    render.WORKLOAD,
)


def by_id(name: str) -> Workload | None:
    """Return the workload called ``name``, or ``None``."""
    for workload in WORKLOADS:
        if workload.id == name:
            return workload
    return None
