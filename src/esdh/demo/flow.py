"""The demo flow: snapshot, API start, health, preview, smoke checks, summary; the API is always stopped.

Every step is logged as a JSON line (timestamp, level, event, run id, fields) to ``<root>/demo_flow.jsonl``,
rotated at 1 MB with one older file kept. A failed or interrupted step raises :class:`DemoFailed` carrying
a diagnostics dictionary; the API the demo started is stopped first.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import signal
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from esdh.demo.layout import LOG, apply_retention, claim_snapshot_dir, point_latest
from esdh.demo.server import ApiProcess, recorded_server, start_api, stop_api, wait_healthy
from esdh.demo.smoke import Check
from esdh.errors import EsdhError, UsageError
from esdh.logs import JsonFormatter, event, logger, run_context

STEPS = 5
LOG_MAX_BYTES = 1_000_000
Echo = Callable[[str], None]


@dataclass
class DemoOptions:
    root: Path
    clock: Callable[[], dt.datetime]  # the current UTC time, for the snapshot folder's name
    profile: str | None = None
    skip_smoke: bool = False
    port: int | None = None
    host: str = "127.0.0.1"
    health_timeout: float = 30.0


@dataclass
class DemoResult:
    profile: str
    snapshot_dir: Path
    latest: Path
    seed: int
    counts: dict[str, int]
    api_url: str
    api_log: Path
    log_path: Path
    timings: dict[str, float] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    removed_snapshots: list[str] = field(default_factory=list)


class DemoFailed(EsdhError):
    """A demo step failed (or the demo was interrupted); ``diagnostics`` says where and why."""

    def __init__(self, message: str, diagnostics: dict[str, Any], exit_code: int = 1):
        super().__init__(message)
        self.diagnostics = diagnostics
        self.exit_code = exit_code


class SmokeFailed(EsdhError):
    """One or more smoke checks failed."""


class _RunTag(logging.Filter):
    """Tags the demo log's records with this demo's run id."""

    run_id: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "run_id", None) is None:
            record.run_id = self.run_id
        return True


@contextmanager
def demo_log(path: Path) -> Iterator[_RunTag]:
    """ESDH's log records at info and above also go to ``path`` as JSON lines while the demo runs; the
    handlers configured before (stderr) keep their level."""
    log = logger()
    tag = _RunTag()
    handler = RotatingFileHandler(path, maxBytes=LOG_MAX_BYTES, backupCount=1, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    handler.addFilter(tag)
    handler.setLevel(logging.INFO)
    before = log.level
    quieted = [h for h in log.handlers if h.level == logging.NOTSET]
    for existing in quieted:
        existing.setLevel(log.getEffectiveLevel())
    log.setLevel(min(log.getEffectiveLevel(), logging.INFO))
    log.addHandler(handler)
    try:
        yield tag
    finally:
        log.removeHandler(handler)
        handler.close()
        log.setLevel(before)
        for existing in quieted:
            existing.setLevel(logging.NOTSET)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A SIGTERM to the demo stops it like Ctrl-C (so the API is stopped too)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while the API is spawned and recorded (so it is never started without the
    demo knowing it) and while it is stopped; they act right after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


@dataclass
class _State:
    options: DemoOptions
    root: Path
    echo: Echo
    step: str = "start"
    last_ok: str | None = None
    profile_name: str | None = None
    snapshot_dir: Path | None = None
    api: ApiProcess | None = None
    api_exit_code: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def banner(self, number: int, title: str) -> None:
        self.step = title
        self.echo(f"\n[ STEP {number}/{STEPS} ] {title}")

    def done(self, metric: str, started: float) -> None:
        seconds = round(time.perf_counter() - started, 3)
        self.timings[metric] = seconds
        self.last_ok = self.step
        event("demo.step", step=self.step, seconds=seconds, metric=metric)

    def diagnostics(self, exc: BaseException) -> dict[str, Any]:
        from esdh.version import __version__

        api = self.api
        tail: list[str] = []
        if api is not None and api.log_path.is_file():
            tail = api.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        error = "interrupted (Ctrl-C or SIGTERM)" if isinstance(exc, KeyboardInterrupt) else str(exc)
        return {"error": error, "error_type": type(exc).__name__, "failed_step": self.step,
                "last_successful_step": self.last_ok, "profile": self.profile_name or self.options.profile,
                "root": str(self.root), "run_dir": str(self.snapshot_dir) if self.snapshot_dir else None,
                "skip_smoke": self.options.skip_smoke, "api_port": api.port if api else self.options.port,
                "api_pid": api.pid if api else None, "api_exit_code": self.api_exit_code,
                "api_log": str(api.log_path) if api else None, "api_log_tail": tail,
                "timings": self.timings, "python_version": platform.python_version(),
                "esdh_version": __version__, "platform": platform.platform()}


def run_demo(options: DemoOptions, echo: Echo = print) -> DemoResult:
    """Run the five steps and print as they go; raises DemoFailed (the API stopped) on any failure."""
    root = options.root.expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise UsageError(f"the demo root {root} is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    state = _State(options, root, echo)
    started = time.perf_counter()
    with demo_log(root / LOG) as tag, _sigterm_as_interrupt(), ExitStack() as context:
        event("demo.start", profile=options.profile, skip_smoke=options.skip_smoke, port=options.port,
              root=str(root))
        try:
            try:
                result = _steps(state, tag, context)
            finally:
                if state.api is not None:
                    with _signals_deferred():
                        state.api_exit_code = stop_api(state.api)
                    event("demo.api_stopped", pid=state.api.pid, port=state.api.port, exit_code=state.api_exit_code)
                    echo(f"API stopped (pid {state.api.pid}, port {state.api.port})")
        except (Exception, KeyboardInterrupt) as exc:
            diagnostics = state.diagnostics(exc)
            event("demo.error", level=logging.WARNING, **diagnostics)  # the caller prints them: not twice
            code = 130 if isinstance(exc, KeyboardInterrupt) else 1
            raise DemoFailed(f"the demo failed at '{state.step}': {diagnostics['error']}", diagnostics,
                             code) from exc
        result.timings["total_seconds"] = round(time.perf_counter() - started, 3)
        event("demo.summary", profile=result.profile, run_dir=str(result.snapshot_dir), api_url=result.api_url,
              counts=result.counts, seed=result.seed, timings=result.timings,
              checks=[c.as_dict() for c in result.checks])
    for line in summary_lines(result):
        echo(line)
    return result


def _steps(state: _State, tag: _RunTag, context: ExitStack) -> DemoResult:
    from esdh import library

    options, root, echo = state.options, state.root, state.echo
    state.step = "load profile"
    profile = library.profiles.load_profile(options.profile)
    state.profile_name = profile.name
    _refuse_running(root)
    snapshot_dir = claim_snapshot_dir(root, profile.name, options.clock)
    state.snapshot_dir = snapshot_dir
    tag.run_id = snapshot_dir.name
    context.enter_context(run_context(snapshot_dir.name))
    event("demo.run", profile=profile.name, run_dir=str(snapshot_dir), records=profile.records, seed=profile.seed,
          randomize=profile.randomize)
    echo(f"demo profile {profile.name}: {profile.description} ({profile.records} persons, "
         f"{'randomized seed' if profile.randomize else f'seed {profile.seed}'})")

    state.banner(1, "Generate the snapshot")
    began = time.perf_counter()
    snapshot = library.snapshot.generate_snapshot(snapshot_dir, records=profile.records, seed=profile.seed,
                                                  randomize=profile.randomize, dataset=profile.dataset)
    latest = point_latest(root, snapshot_dir)
    removed = [p.name for p in apply_retention(root, protect=snapshot_dir)]
    echo(f"snapshot: {snapshot_dir} (seed {snapshot.seed}{', randomized' if snapshot.randomized else ''})")
    echo("counts: " + ", ".join(f"{e} {n}" for e, n in snapshot.record_counts.items()))
    echo(f"latest: {latest} -> {snapshot_dir.name}")
    if removed:
        echo(f"retention: removed {len(removed)} older snapshot(s): {', '.join(removed)}")
    event("demo.snapshot", run_dir=str(snapshot_dir), seed=snapshot.seed, counts=snapshot.record_counts,
          latest=str(latest), removed=removed)
    state.done("snapshot_seconds", began)

    state.banner(2, "Start the API")
    began = time.perf_counter()
    key = os.environ.get("ESDH_API_KEY", "").strip() or None
    with _signals_deferred():
        state.api = api = start_api(root, snapshot_dir / "api.log", options.host, options.port)
    event("demo.api_started", pid=api.pid, port=api.port, url=api.url, api_key=bool(key))
    wait_healthy(api, options.health_timeout, key)
    echo(f"API on {api.url} (pid {api.pid}{', X-API-Key sent' if key else ''}; log {api.log_path})")
    state.done("api_start_seconds", began)

    state.banner(3, "Health check")
    from esdh.demo.client import call_ok

    echo(f"GET {api.url}/healthz:")
    echo(json.dumps(call_ok("GET", f"{api.url}/healthz", key=key, timeout=10), indent=2))
    state.last_ok = state.step

    state.banner(4, "Preview data through the API")
    began = time.perf_counter()
    _preview(api, key, profile, echo)
    state.done("preview_seconds", began)

    state.banner(5, "Smoke checks")
    checks: list[Check] = []
    if options.skip_smoke:
        echo("Smoke checks skipped (--skip-smoke).")
        state.last_ok = state.step
    else:
        began = time.perf_counter()
        checks = _smoke(api, key, profile.dataset, profile.records, snapshot.seed, snapshot_dir,
                        snapshot.manifest["synthetic_marker"], echo)
        state.done("smoke_seconds", began)
    return DemoResult(profile.name, snapshot_dir, latest, snapshot.seed, dict(snapshot.record_counts), api.url,
                      api.log_path, root / LOG, dict(state.timings), checks, removed)


def _refuse_running(root: Path) -> None:
    found = recorded_server(root)
    if found is not None and found.is_server:
        raise UsageError(f"a demo API from an earlier demo is still running (pid {found.pid}, port {found.port}); "
                         f"stop it with: esdh demo stop --root {root}")


def _preview(api: ApiProcess, key: str | None, profile: Any, echo: Echo) -> None:
    from esdh.demo.client import call_ok

    body = {"records": profile.records, "seed": profile.seed, "randomize": profile.randomize}
    answer = call_ok("POST", f"{api.url}/generate/profile", body, key)
    profiles = answer.get("profiles") or []
    echo(f"POST /generate/profile {json.dumps(body)}: {answer.get('record_count', len(profiles))} profiles, "
         f"seed {answer.get('seed')}; the first:")
    echo(json.dumps(profiles[0] if profiles else None, indent=2))
    query = urllib.parse.urlencode({"rows": 3})
    path = f"/v1/datasets/{profile.dataset}/tables/persons/preview?{query}"
    echo(f"GET {path}:")
    echo(json.dumps(call_ok("GET", api.url + path, key=key), indent=2))
    event("demo.preview", profiles=len(profiles), seed=answer.get("seed"))


def _smoke(api: ApiProcess, key: str | None, dataset: str, records: int, seed: int, snapshot_dir: Path, marker: str,
           echo: Echo) -> list[Check]:
    from esdh.demo.smoke import check_determinism, check_manifest, check_marker

    determinism, bundle = check_determinism(api.url, key, dataset, records, seed)
    checks = [determinism, check_manifest(snapshot_dir), check_marker(snapshot_dir, marker, bundle)]
    for check in checks:
        echo(f"{'PASS' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
        event("demo.smoke", level=logging.INFO if check.ok else logging.WARNING, **check.as_dict())
    failed = [c.name for c in checks if not c.ok]
    if failed:
        raise SmokeFailed(f"{len(failed)} of {len(checks)} smoke checks failed: {', '.join(failed)}")
    return checks


def summary_lines(result: DemoResult) -> list[str]:
    timings = ", ".join(f"{k.removesuffix('_seconds').replace('_', ' ')} {v:.2f} s" for k, v in result.timings.items())
    passed = sum(c.ok for c in result.checks)
    return [
        "", "===== Demo summary =====",
        f"profile:   {result.profile} (seed {result.seed})",
        f"snapshot:  {result.snapshot_dir}",
        f"latest:    {result.latest}",
        "counts:    " + ", ".join(f"{e} {n}" for e, n in result.counts.items()),
        f"API:       {result.api_url} (stopped; its log: {result.api_log})",
        f"smoke:     {f'{passed}/{len(result.checks)} passed' if result.checks else 'skipped'}",
        f"timings:   {timings}",
        f"demo log:  {result.log_path}",
    ]
