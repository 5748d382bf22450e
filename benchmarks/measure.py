"""Process measurements shared by the benchmarks: CPU pinning and peak resident memory."""

from __future__ import annotations

import os
import resource


def pin_cpus(cpus: int) -> list[int]:
    """Restrict this process to its first ``cpus`` allowed CPUs (0: leave as is); returns the CPU set."""
    allowed = sorted(os.sched_getaffinity(0))
    if cpus > 0:
        allowed = allowed[:cpus]
        os.sched_setaffinity(0, allowed)
    return allowed


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
