"""nolead's benchmark suite: nolead and its peers on the same workloads, in one run.

Run ``python -m benchmarks`` (the full suite) or ``python -m benchmarks --quick`` (the
smoke run CI can afford) from the repository root; see ``docs/performance.md``.
"""
