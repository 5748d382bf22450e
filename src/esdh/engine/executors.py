"""Engines: where partitions run. An engine runs one task (a picklable callable, e.g. the output layer's
partition writer) on every partition; the task, not the engine, decides what a partition produces, so every
engine gives the same results. Engines differ only in how many partitions run at once and where.

- ``local``: one after another in this process (progress per chunk);
- ``processes``: a pool of local worker processes (``--workers``, default and at most: the CPUs this
  process may use; more processes than cores cannot go faster, each only adds its memory);
- ``dask``: a Dask cluster (``--cluster ADDRESS``, or a LocalCluster); workers write straight into the
  destination, which must be a path they share with this process or an object store URL they can reach
  (the output's task carries the storage options).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from esdh.engine.recipe import Recipe
from esdh.errors import UsageError
from esdh.plan.partitions import Part
from esdh.plan.planner import Plan

if TYPE_CHECKING:
    from concurrent.futures import Future

ENGINES = ("local", "processes", "dask")
ChunkProgress = Callable[[str, int], None]  # (table, rows just done)
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class PartTask(Protocol[R_co]):
    """What an engine runs on each partition; it must pickle, to run in another process."""

    def __call__(self, plan: Plan, part: Part, progress: ChunkProgress | None = None) -> R_co: ...


class Engine(Protocol):
    name: str

    def run(self, plan: Plan, task: PartTask[R], parts: list[Part],
            progress: ChunkProgress | None = None) -> Iterator[R]:
        """Run ``task`` on ``parts``; yield each result as its partition finishes (in any order)."""
        ...


class LocalEngine:
    name = "local"

    def run(self, plan: Plan, task: PartTask[R], parts: list[Part],
            progress: ChunkProgress | None = None) -> Iterator[R]:
        for part in parts:
            yield task(plan, part, progress)


def _quiet_worker() -> None:
    """Ctrl-C (and a SIGTERM sent to a whole group, as service managers do) goes to every process; the parent
    decides what stops, workers just end. A worker
    also ends with its parent: a parent killed (SIGKILL, the OOM killer) would otherwise leave its workers
    behind for good, blocked on a queue no one feeds, or writing into an output being resumed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _end_with_parent()


PR_SET_PDEATHSIG = 1


def _end_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux ``prctl``; elsewhere nothing)."""
    import ctypes
    import multiprocessing
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the parent died before prctl took effect
        os._exit(1)


def _run_part(recipe: Recipe, part: Part, task: PartTask[R]) -> R:
    """A partition in a worker process or on a Dask worker: the plan rebuilt there from its recipe."""
    return task(recipe.plan(), part)


@dataclass
class ProcessEngine:
    workers: int | None = None
    name: str = "processes"

    def run(self, plan: Plan, task: PartTask[R], parts: list[Part],
            progress: ChunkProgress | None = None) -> Iterator[R]:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        if not parts:
            return
        workers = max(1, min(self.workers or usable_cpus(), usable_cpus(), len(parts)))
        if workers == 1:  # one partition (or one worker): a process to start would only cost time
            yield from LocalEngine().run(plan, task, parts, progress)
            return
        recipe = Recipe.of(plan)
        # spawn, not fork: the parent has Arrow and DuckDB thread pools that a fork would copy mid-flight
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_quiet_worker)
        try:
            # a bounded window of submitted partitions keeps results (and their memory) flowing in order
            pending: set[Future[R]] = set()
            queue = list(parts)
            while queue or pending:
                while queue and len(pending) < 2 * workers:
                    pending.add(pool.submit(_run_part, recipe, queue.pop(0), task))
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class DaskEngine:
    address: str | None = None
    workers: int | None = None
    name: str = "dask"

    def run(self, plan: Plan, task: PartTask[R], parts: list[Part],
            progress: ChunkProgress | None = None) -> Iterator[R]:
        try:
            from dask.distributed import Client, LocalCluster, as_completed
        except ImportError as exc:
            raise UsageError("--engine dask needs Dask: pip install 'enterprise-synthetic-data-hub[dask]'") from exc
        if not parts:
            return
        cluster = None
        if self.address is None:
            cluster = LocalCluster(n_workers=min(self.workers or usable_cpus(), usable_cpus()), threads_per_worker=1,
                                   processes=True, dashboard_address=None)
        client = Client(cluster if cluster is not None else self.address)
        futures = []
        try:
            recipe = client.scatter(Recipe.of(plan), broadcast=True)
            futures = [client.submit(_run_part, recipe, part, task, key=f"esdh-{part.key}-{os.getpid()}",
                                     pure=False, retries=1) for part in parts]
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()
            client.close()
            if cluster is not None:
                cluster.close()


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, which containers and ``taskset`` narrow), the most
    worker processes a local pool or LocalCluster starts."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def engine_for(name: str, workers: int | None = None, cluster: str | None = None) -> Engine:
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    if cluster is not None and name != "dask":
        raise UsageError("--cluster is for --engine dask")
    if name == "local":
        return LocalEngine()
    if name == "processes":
        return ProcessEngine(workers)
    if name == "dask":
        return DaskEngine(cluster, workers)
    raise UsageError(f"unknown engine '{name}'; choose from {', '.join(ENGINES)}")
