"""Process measurements shared by the benchmarks: CPU pinning and peak resident memory.

Standard library only at import time: tpch.py imports this module in the DuckDB side's own virtual
environment, which has neither psutil nor esdh (psutil is imported when a TreeMemory starts).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType


def ensure_esdh_importable() -> Path:
    """The folder that holds the ``esdh`` package (the repository's ``src`` is added to sys.path if needed)."""
    if importlib.util.find_spec("esdh") is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    spec = importlib.util.find_spec("esdh")
    if spec is None or spec.origin is None:
        raise SystemExit("cannot import esdh; run from the repository root or set PYTHONPATH=src")
    return Path(spec.origin).resolve().parent.parent


def run_child(cmd: list[str], env: dict[str, str], what: str) -> dict:
    """Run a measurement in a fresh process; its last stdout line is its result as JSON."""
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.1f}k" if x >= 1e3 else f"{x:.0f}"


def pin_cpus(cpus: int) -> list[int]:
    """Restrict this process to its first ``cpus`` allowed CPUs (0: leave as is); returns the CPU set."""
    allowed = sorted(os.sched_getaffinity(0))
    if cpus > 0:
        allowed = allowed[:cpus]
        os.sched_setaffinity(0, allowed)
    return allowed


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def children_peak_rss_mb() -> float:
    """The largest peak RSS among this process's finished (waited-for) descendants; 0 if none.

    Exact, but per process: it says nothing about several workers alive at once, hence TreeMemory."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class TreeMemory:
    """Peak of the summed RSS of this process and all its descendants, sampled by a thread.

    ru_maxrss only sees one process, while a pool of worker processes holds memory in several at once;
    the sum over the process tree is what the machine must provide. Sampling can miss a spike shorter
    than ``interval``, so :attr:`peak_mb` is never reported below this process's own exact ru_maxrss.
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.sampled_peak_bytes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> TreeMemory:
        import psutil

        self._root = psutil.Process()
        self._errors = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="tree-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        total = self._root.memory_info().rss
        try:
            children = self._root.children(recursive=True)
        except self._errors:
            children = []
        for child in children:
            with contextlib.suppress(*self._errors):  # a worker may end between listing and reading it
                total += child.memory_info().rss
        self.samples += 1
        self.sampled_peak_bytes = max(self.sampled_peak_bytes, total)

    @property
    def sampled_peak_mb(self) -> float:
        return self.sampled_peak_bytes / (1 << 20)

    @property
    def peak_mb(self) -> float:
        """max(sampled peak of the tree's summed RSS, this process's exact peak RSS)."""
        return max(self.sampled_peak_mb, peak_rss_mb())
