"""API load benchmark: the real server (``esdh serve``, a subprocess on a free loopback port) under concurrent
clients for a bounded time.

``--clients`` clients (default 50) loop over previews (``GET /v1/datasets/insurance/tables/persons/preview``)
and bundles (``POST /generate/bundle``, 30 records) in the ``--mix`` ratio, while ``--stream-clients``
(default 1) download ``GET /v1/datasets/insurance/generate?format=ndjson&table=persons&rows=persons=1000000``
and discard it, for ``--seconds`` (default 20). Reported: requests/s, p50/p95/p99 latency per kind, streaming
MB/s, errors by status, the server's peak memory (VmRSS of its process tree sampled every 0.1 s, and its
VmHWM) and the CPU seconds of server and clients. A table is printed and JSON written to
``benchmarks/results/api_load-<UTC>.json``. The clients are asyncio + httpx in this process (uvloop when
installed), so on a small machine they compete with the server for the same cores: their CPU time is reported.

    python -m benchmarks.api_load                       # 50 clients + 1 stream, 20 s
    python -m benchmarks.api_load --seconds 10 --clients 20 --repeat 3    # medians of 3 runs
    python -m benchmarks.api_load --server-limits       # the server's default rate limit and generation slots
    python -m benchmarks.api_load --quick               # 5 s, 10 clients, a 100k-row stream

Run from the repository root. Needs the api and test extras (fastapi, uvicorn, httpx, psutil).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__:
    from .measure import ensure_esdh_importable
    from .persons import RESULTS, child_env, git_revision, versions
else:  # python benchmarks/api_load.py
    from measure import ensure_esdh_importable
    from persons import RESULTS, child_env, git_revision, versions

KINDS = ("preview", "bundle", "stream")
DATASET = "insurance"


@dataclass
class Settings:
    seconds: float = 20.0
    clients: int = 50
    stream_clients: int = 1
    mix: dict[str, int] = field(default_factory=lambda: {"preview": 3, "bundle": 1})
    preview_rows: int = 10
    bundle_records: int = 30
    stream_rows: int = 1_000_000
    seeds: int = 1000  # requests cycle over this many seeds (the server may cache plans per seed)
    server_limits: bool = False  # keep the server's default rate limit and generation slots
    server_workers: int = 1
    pin: bool = False  # server on the first allowed CPU, clients on the second
    repeat: int = 1


# ---- the server --------------------------------------------------------------------------------------
def server_env(settings: Settings) -> dict[str, str]:
    env = child_env(ensure_esdh_importable())
    for name in ("ESDH_API_KEY", "ESDH_API_KEYS"):
        env.pop(name, None)
    env["ESDH_API_MAX_ROWS"] = str(max(settings.stream_rows, 1_000_000))
    if not settings.server_limits:  # one client address: the per-caller rate limit would be all we measure
        env["ESDH_API_RATE_LIMIT"] = str(10**9)
        env["ESDH_API_MAX_CONCURRENT"] = str(settings.clients + settings.stream_clients)
    return env


def start_server(settings: Settings, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    from esdh.demo.server import free_port

    port = free_port()
    cpus = sorted(os.sched_getaffinity(0))
    preexec = (lambda: os.sched_setaffinity(0, cpus[:1])) if settings.pin and len(cpus) > 1 else None
    command = [sys.executable, "-m", "esdh", "serve", "--port", str(port), "--workers", str(settings.server_workers)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=server_env(settings), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, preexec_fn=preexec, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode}; see {log_path}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2, trust_env=False).status_code == 200:
                return process, url
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the server was not healthy after 60 s; see {log_path}")
        time.sleep(0.2)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


class ServerMemory:
    """Samples the server's process tree: summed VmRSS every ``interval`` s, VmHWM and CPU time at the end."""

    def __init__(self, pid: int, interval: float = 0.1):
        import psutil

        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_tree_rss = 0
        self.samples = 0
        self.hwm_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.cpu_start = self._cpu()

    def _tree(self) -> list[Any]:
        import psutil

        with contextlib.suppress(psutil.Error):
            return [self.root, *self.root.children(recursive=True)]
        return []

    def _cpu(self) -> float:
        import psutil

        total = 0.0
        for proc in self._tree():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def _sample(self) -> None:
        total = 0
        for proc in self._tree():
            status = _status(proc.pid)
            total += status.get("VmRSS", 0) * 1024
            if "VmHWM" in status:
                self.hwm_kb[proc.pid] = max(self.hwm_kb.get(proc.pid, 0), status["VmHWM"])
        self.samples += 1
        self.peak_tree_rss = max(self.peak_tree_rss, total)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> ServerMemory:
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        self._sample()
        return {"peak_tree_rss_mb": round(self.peak_tree_rss / (1 << 20), 1),
                "vmhwm_mb": round(max(self.hwm_kb.values(), default=0) / 1024, 1),
                "processes": len(self.hwm_kb), "samples": self.samples,
                "cpu_s": round(self._cpu() - self.cpu_start, 2)}


def _status(pid: int) -> dict[str, int]:
    """The kB fields of /proc/<pid>/status (VmRSS, VmHWM, ...)."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if value.strip().endswith("kB"):
                found[key] = int(value.split()[0])
    return found


# ---- the clients ---------------------------------------------------------------------------------------
@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    completed: Counter = field(default_factory=Counter)
    ok: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # "kind status" or "kind ExceptionName"
    stream_bytes: int = 0
    streams_done: int = 0
    streams_partial: int = 0
    stream_ttfb: list[float] = field(default_factory=list)
    stream_seconds: float = 0.0


class Load:
    def __init__(self, settings: Settings, url: str):
        self.settings = settings
        self.url = url
        self.tally = Tally()
        self.counter = itertools.count()
        self.deadline = 0.0

    def seed(self) -> int:
        return next(self.counter) % self.settings.seeds

    async def request(self, client: Any, kind: str) -> None:
        s = self.settings
        if kind == "preview":
            call = client.get(f"/v1/datasets/{DATASET}/tables/persons/preview",
                              params={"rows": s.preview_rows, "seed": self.seed()})
        else:
            call = client.post("/generate/bundle", json={"records": s.bundle_records, "seed": self.seed()})
        began = time.perf_counter()
        try:
            response = await call
        except Exception as exc:  # a timeout or a refused connection is a result too
            self.tally.errors[f"{kind} {type(exc).__name__}"] += 1
            return
        if time.perf_counter() > self.deadline:
            return  # finished after the window: not counted (the window's length is the divisor)
        self.tally.completed[kind] += 1
        if response.status_code == 200:
            self.tally.ok[kind] += 1
            self.tally.latencies[kind].append(time.perf_counter() - began)
        else:
            self.tally.errors[f"{kind} {response.status_code}"] += 1

    async def worker(self, client: Any, index: int) -> None:
        kinds = [k for k, weight in self.settings.mix.items() for _ in range(weight)]
        for kind in itertools.islice(itertools.cycle(kinds), index % len(kinds), None):
            if time.perf_counter() >= self.deadline:
                return
            await self.request(client, kind)

    async def streamer(self, client: Any) -> None:
        path = f"/v1/datasets/{DATASET}/generate"
        params = {"format": "ndjson", "table": "persons", "rows": f"persons={self.settings.stream_rows}"}
        while time.perf_counter() < self.deadline:
            began = time.perf_counter()
            received, partial = 0, False
            try:
                async with client.stream("GET", path, params=params) as response:
                    if response.status_code != 200:
                        await response.aread()
                        self.tally.errors[f"stream {response.status_code}"] += 1
                        self.tally.completed["stream"] += 1
                        continue
                    async for chunk in response.aiter_raw():
                        if not received:
                            self.tally.stream_ttfb.append(time.perf_counter() - began)
                        received += len(chunk)
                        self.tally.stream_bytes += len(chunk)
                        if time.perf_counter() >= self.deadline:
                            partial = True
                            break
            except asyncio.CancelledError:  # the window closed while a chunk was awaited
                self.tally.streams_partial += 1
                raise
            except Exception as exc:
                self.tally.errors[f"stream {type(exc).__name__}"] += 1
                partial = True
            finally:
                self.tally.stream_seconds += min(time.perf_counter(), self.deadline) - began
            if partial:
                self.tally.streams_partial += 1
            else:
                self.tally.streams_done += 1
                self.tally.completed["stream"] += 1
                self.tally.ok["stream"] += 1
                self.tally.latencies["stream"].append(time.perf_counter() - began)

    async def run(self) -> float:
        import httpx

        s = self.settings
        connections = s.clients + s.stream_clients + 4
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=self.url, limits=limits, trust_env=False,
                                     timeout=httpx.Timeout(120, connect=10)) as client:
            began = time.perf_counter()
            self.deadline = began + s.seconds
            tasks = [asyncio.create_task(self.worker(client, i)) for i in range(s.clients)]
            tasks += [asyncio.create_task(self.streamer(client)) for _ in range(s.stream_clients)]
            _, pending = await asyncio.wait(tasks, timeout=s.seconds + 0.5)
            for task in pending:  # requests still in flight after the window are not counted
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            return min(time.perf_counter(), self.deadline) - began


def warm_up(url: str, settings: Settings) -> dict[str, float]:
    """One request of each kind before the window (pack load, vocabularies, first plan); their times."""
    import httpx

    times = {}
    with httpx.Client(base_url=url, trust_env=False, timeout=120) as client:
        for kind, call in (
            ("preview", lambda: client.get(f"/v1/datasets/{DATASET}/tables/persons/preview", params={"rows": 10})),
            ("bundle", lambda: client.post("/generate/bundle", json={"records": settings.bundle_records})),
            ("stream_1000_rows", lambda: client.get(f"/v1/datasets/{DATASET}/generate",
                                                    params={"format": "ndjson", "table": "persons",
                                                            "rows": "persons=1000"})),
        ):
            began = time.perf_counter()
            response = call()
            if response.status_code != 200:
                raise SystemExit(f"warm-up {kind} answered {response.status_code}: {response.text[:300]}")
            times[kind] = round(time.perf_counter() - began, 3)
    return times


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summarise(tally: Tally, seconds: float) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    for kind in KINDS:
        lat = tally.latencies[kind]
        kinds[kind] = {"completed": tally.completed[kind], "ok": tally.ok[kind],
                       "req_s": round(tally.completed[kind] / seconds, 1), "ok_s": round(tally.ok[kind] / seconds, 1),
                       **{f"p{q}_ms": None if not lat else round(percentile(lat, q) * 1000, 1) for q in (50, 95, 99)}}
    completed = sum(tally.completed.values())
    ok = sum(tally.ok.values())
    return {
        "window_s": round(seconds, 2), "kinds": kinds,
        "total": {"completed": completed, "ok": ok, "req_s": round(completed / seconds, 1),
                  "ok_s": round(ok / seconds, 1), "errors": sum(tally.errors.values())},
        "errors": dict(sorted(tally.errors.items())),
        "stream": {"mb": round(tally.stream_bytes / 1e6, 1),
                   "mb_s": round(tally.stream_bytes / 1e6 / tally.stream_seconds, 1) if tally.stream_seconds else None,
                   "aggregate_mb_s": round(tally.stream_bytes / 1e6 / seconds, 1),
                   "done": tally.streams_done, "partial": tally.streams_partial,
                   "ttfb_ms": [round(t * 1000, 1) for t in tally.stream_ttfb],
                   "download_s": [round(t, 2) for t in tally.latencies["stream"]]},
    }


def run_once(settings: Settings, log_path: Path) -> dict[str, Any]:
    process, url = start_server(settings, log_path)
    try:
        warm = warm_up(url, settings)
        memory = ServerMemory(process.pid).start()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        with asyncio.Runner(loop_factory=_new_loop) as runner:
            load = Load(settings, url)
            seconds = runner.run(load.run())
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        server = memory.stop()
    finally:
        stop_server(process)
    client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return summarise(load.tally, seconds) | {"warm_up_s": warm, "server": server,
                                            "client_cpu_s": round(client_cpu, 2)}


# ---- medians and the table -----------------------------------------------------------------------------
def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every number over the runs (lists and texts: the first run's; errors: summed)."""
    first = runs[0]
    merged: dict[str, Any] = {}
    for key, value in first.items():
        values = [r.get(key) for r in runs]
        if key == "errors" and isinstance(value, dict):
            total: Counter = Counter()
            for v in values:
                total.update(v or {})
            merged[key] = dict(sorted(total.items()))
        elif isinstance(value, dict):
            merged[key] = median_of([v or {} for v in values])
        elif isinstance(value, int | float) and not isinstance(value, bool) and None not in values:
            merged[key] = round(statistics.median(values), 2)
        else:
            merged[key] = value
    return merged


def print_table(result: dict[str, Any], settings: Settings) -> None:
    def show(value: Any) -> str:
        return "-" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"

    print(f"\n{settings.clients} clients (mix {settings.mix}) + {settings.stream_clients} streaming, "
          f"{result['window_s']} s window" + (f", median of {settings.repeat} runs" if settings.repeat > 1 else ""))
    header = ["kind", "completed", "ok", "req/s", "ok/s", "p50 ms", "p95 ms", "p99 ms"]
    rows = [[k, *(show(result["kinds"][k][c]) for c in ("completed", "ok", "req_s", "ok_s", "p50_ms", "p95_ms",
                                                       "p99_ms"))] for k in KINDS]
    total = result["total"]
    rows.append(["total", show(total["completed"]), show(total["ok"]), show(total["req_s"]), show(total["ok_s"]),
                 "", "", ""])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                             strict=True))))
    stream = result["stream"]
    print(f"stream: {show(stream['mb_s'])} MB/s per download, {show(stream['aggregate_mb_s'])} MB/s in all "
          f"({show(stream['mb'])} MB; {stream['done']} downloads of "
          f"{settings.stream_rows:,} rows done, {stream['partial']} cut at the end of the window)")
    server = result["server"]
    print(f"server: peak RSS {show(server['peak_tree_rss_mb'])} MB (process tree, sampled), VmHWM "
          f"{show(server['vmhwm_mb'])} MB, CPU {show(server['cpu_s'])} s; clients CPU "
          f"{show(result['client_cpu_s'])} s")
    print(f"errors: {result['errors'] or 'none'}")
    print(f"warm-up (first request of each kind): {result['warm_up_s']}")


def machine() -> dict[str, Any]:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "allowed_cpus": sorted(os.sched_getaffinity(0)), "loadavg": os.getloadavg(),
            "versions": versions(("enterprise-synthetic-data-hub", "fastapi", "uvicorn", "httpx", "uvloop",
                                  "pyarrow")), "git": git_revision()}


def parse_mix(text: str) -> dict[str, int]:
    mix = {}
    for item in text.split(","):
        kind, _, weight = item.partition("=")
        if kind.strip() not in ("preview", "bundle") or not weight.strip().isdigit():
            raise SystemExit(f"--mix: '{item}' is not preview=N or bundle=N")
        mix[kind.strip()] = int(weight)
    if not any(mix.values()):
        raise SystemExit("--mix needs a weight above 0")
    return {k: v for k, v in mix.items() if v}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=50, help="preview/bundle clients at once")
    parser.add_argument("--stream-clients", type=int, default=1, help="clients downloading the large stream")
    parser.add_argument("--mix", default="preview=3,bundle=1", help="weights of previews and bundles")
    parser.add_argument("--stream-rows", type=float, default=1e6, help="persons per streamed download")
    parser.add_argument("--server-limits", action="store_true",
                        help="keep the server's default rate limit (600/min per client) and generation slots (4)")
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument("--pin", action="store_true", help="server on one CPU, the clients on another")
    parser.add_argument("--repeat", type=int, default=1, help="runs (fresh server each); medians are reported")
    parser.add_argument("--quick", action="store_true", help="5 s, 10 clients, a 100,000-row stream")
    parser.add_argument("--json", type=Path, help="default: benchmarks/results/api_load-<UTC>.json")
    args = parser.parse_args(argv)
    settings = Settings(seconds=5 if args.quick else args.seconds, clients=10 if args.quick else args.clients,
                        stream_clients=args.stream_clients, mix=parse_mix(args.mix),
                        stream_rows=100_000 if args.quick else int(args.stream_rows),
                        server_limits=args.server_limits, server_workers=args.server_workers, pin=args.pin,
                        repeat=args.repeat)
    ensure_esdh_importable()
    cpus = sorted(os.sched_getaffinity(0))
    if settings.pin and len(cpus) > 1:
        os.sched_setaffinity(0, cpus[1:2])  # the server gets cpus[0] (start_server)
    started = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = Path(tempfile.gettempdir()) / f"api_load-{started}-server.log"  # results/ keeps JSON only
    load_start = os.getloadavg()
    runs = []
    for index in range(settings.repeat):
        print(f"run {index + 1}/{settings.repeat}: {settings.seconds:.0f} s ...", flush=True)
        runs.append(run_once(settings, log_path))
    result = median_of(runs) if len(runs) > 1 else runs[0]
    print_table(result, settings)
    out = args.json or RESULTS / f"api_load-{started}{'-quick' if args.quick else ''}.json"
    document = {"started_utc": started, "command": " ".join(sys.argv), "settings": asdict(settings),
                "machine": machine() | {"loadavg_start": load_start, "loadavg_end": os.getloadavg()},
                "result": result, "runs": runs, "server_log": str(log_path)}
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
