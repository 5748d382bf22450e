"""esdh demo: the whole flow against a real API subprocess, retention and the latest pointer, the JSON log,
failures that exit non-zero with diagnostics and leave no server, demo stop and demo clean."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from esdh.cli.main import cli
from esdh.demo import flow
from esdh.demo.layout import (
    LATEST,
    LOG,
    PID_FILE,
    PORT_FILE,
    apply_retention,
    claim_snapshot_dir,
    latest_snapshot,
    point_latest,
    snapshot_dirs,
)
from esdh.demo.server import alive, command_line, free_port, is_esdh_server
from esdh.logs import event

pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")

SRC = Path(__file__).resolve().parents[1] / "src"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ESDH_DEMO_ROOT", "DEMO_PROFILE", "ESDH_API_KEY", "ESDH_API_KEYS")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def _esdh(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "esdh", *map(str, args)], capture_output=True, text=True,
                          env=env or _env(), timeout=120, check=False)


def _servers_on(port: int) -> list[int]:
    """Pids of running esdh servers listening on ``port`` (by their command lines)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and alive(int(entry.name)) and is_esdh_server(command_line(int(entry.name)), port):
            found.append(int(entry.name))
    return found


def _log_lines(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / LOG).read_text(encoding="utf-8").splitlines()]


def _old_run(root: Path, day: int) -> Path:
    folder = root / f"202001{day:02d}T000000000000Z_baseline"
    folder.mkdir(parents=True)
    (folder / "api.log").write_text("old\n")
    return folder


def test_full_demo_runs_keeps_five_runs_stops_its_api_and_logs_json(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    old = [_old_run(root, day) for day in range(1, 6)]
    result = _esdh("demo", "--root", root, env=_env(ESDH_API_KEY="demo-test-key"))  # the key must be sent
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in range(1, 6):
        assert f"[ STEP {step}/5 ]" in out
    assert "===== Demo summary =====" in out and "smoke:     3/3 passed" in out
    assert out.count("PASS  ") == 3 and "FAIL" not in out
    assert '"synthetic_source": "enterprise-synthetic-data-hub v0.1"' in out  # the previews were printed
    for metric in ("snapshot", "api start", "preview", "smoke", "total"):
        assert f"{metric} " in out.split("timings:", 1)[1]

    runs = snapshot_dirs(root)
    assert len(runs) == 5 and not old[0].exists() and all(p.exists() for p in old[1:])  # six runs, five kept
    newest = runs[-1]
    assert newest.name.endswith("_baseline") and newest not in old
    assert (root / LATEST).is_symlink() and latest_snapshot(root) == newest
    assert (newest / "snapshot_manifest_v0_1.json").is_file() and (newest / "api.log").is_file()

    lines = _log_lines(root)
    assert all({"timestamp", "level", "event"} <= line.keys() for line in lines)
    events = [line["event"] for line in lines]
    for name in ("demo.start", "demo.snapshot", "demo.api_started", "demo.smoke", "demo.api_stopped",
                 "demo.summary"):
        assert name in events
    started = next(line for line in lines if line["event"] == "demo.api_started")
    assert started["run_id"] == newest.name and started["api_key"] is True
    assert not alive(started["pid"]) and not _servers_on(started["port"])
    assert not (root / PID_FILE).exists() and not (root / PORT_FILE).exists()

    cleaned = _esdh("demo", "clean", "--root", root, "--yes")
    assert cleaned.returncode == 0, cleaned.stderr
    assert not root.exists()


def test_a_bad_profile_fails_with_diagnostics(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    result = _esdh("demo", "--root", root, "--profile", "nope")
    assert result.returncode != 0
    assert "===== Demo failed: diagnostics =====" in result.stderr
    diagnostics = json.loads(result.stderr.split("=====\n", 1)[1].rsplit("\nerror:", 1)[0])
    assert "unknown demo profile 'nope'" in diagnostics["error"] and diagnostics["api_pid"] is None
    assert not snapshot_dirs(root) and not (root / PID_FILE).exists()
    assert _log_lines(root)[-1]["event"] == "demo.error"


def test_a_port_already_taken_fails_and_leaves_no_server(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _esdh("demo", "--root", root, "--port", port, "--skip-smoke")
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert '"last_successful_step": "Generate the snapshot"' in result.stderr
    assert not _servers_on(port) and not (root / PID_FILE).exists()


def test_an_api_that_exits_fails_fast_with_its_log(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    began = time.monotonic()
    result = _esdh("demo", "--root", root, "--skip-smoke", env=_env(ESDH_API_MAX_ROWS="lots"))
    assert result.returncode == 1 and time.monotonic() - began < 25  # not the 30 s health timeout
    assert "the API process exited with code" in result.stderr
    assert "ESDH_API_MAX_ROWS must be a whole number" in result.stderr  # the api.log tail
    assert not (root / PID_FILE).exists()


def _wait_healthy(port: int, process: subprocess.Popen) -> None:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not become healthy")


def test_demo_stop_stops_a_server_left_running_and_a_new_demo_refuses_meanwhile(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    root.mkdir()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "esdh", "serve", "--port", str(port)], env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        (root / PID_FILE).write_text(f"{server.pid}\n")
        (root / PORT_FILE).write_text(f"{port}\n")
        _wait_healthy(port, server)
        refused = _esdh("demo", "--root", root, "--skip-smoke")
        assert refused.returncode != 0 and f"still running (pid {server.pid}" in refused.stderr
        assert not snapshot_dirs(root)
        stopped = _esdh("demo", "stop", "--root", root)
        assert stopped.returncode == 0, stopped.stderr
        assert f"stopped the demo API (pid {server.pid} on port {port})" in stopped.stdout
        assert server.wait(10) is not None
        assert not (root / PID_FILE).exists() and not (root / PORT_FILE).exists()
        again = _esdh("demo", "stop", "--root", root)
        assert again.returncode == 0 and "no demo API is running" in again.stdout
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_demo_stop_refuses_a_pid_that_is_not_an_esdh_server(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    root.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (root / PID_FILE).write_text(f"{other.pid}\n")
        result = CliRunner().invoke(cli, ["demo", "stop", "--root", str(root)])
        assert result.exit_code == 2 and "is not an esdh server" in result.output
        time.sleep(0.2)
        assert other.poll() is None  # untouched
    finally:
        other.kill()
        other.wait()


def test_demo_clean_refuses_a_foreign_folder_and_asks_first(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "demo"
    run = _old_run(root, 1)
    point_latest(root, run)
    (root / LOG).write_text("{}\n")
    (root / f"{LOG}.1").write_text("{}\n")
    (root / "notes.txt").write_text("mine")
    refused = runner.invoke(cli, ["demo", "clean", "--root", str(root), "--yes"])
    assert refused.exit_code == 2 and "notes.txt" in refused.output and run.exists()
    (root / "notes.txt").unlink()
    declined = runner.invoke(cli, ["demo", "clean", "--root", str(root)], input="n\n")
    assert declined.exit_code == 1 and run.exists()
    done = runner.invoke(cli, ["demo", "clean", "--root", str(root)], input="y\n")
    assert done.exit_code == 0 and "removed 4 item(s)" in done.output and not root.exists()
    nothing = runner.invoke(cli, ["demo", "clean", "--root", str(root), "--yes"])
    assert nothing.exit_code == 0 and "nothing to clean" in nothing.output


def test_run_folders_never_collide_and_latest_is_replaced(tmp_path: Path) -> None:
    ticks = iter([0, 0, 0, 1, 1, 2, *range(3, 100)])  # the same microsecond twice: the next one is taken
    start = dt.datetime(2026, 11, 30, 12, 0, 0, tzinfo=dt.UTC)

    def clock() -> dt.datetime:
        return start + dt.timedelta(microseconds=next(ticks))

    names = [claim_snapshot_dir(tmp_path, "baseline", clock).name for _ in range(50)]
    assert len(set(names)) == 50 and names[:3] == [f"20261130T1200000000{i:02d}Z_baseline" for i in range(3)]
    runs = snapshot_dirs(tmp_path)
    point_latest(tmp_path, runs[0])
    point_latest(tmp_path, runs[-1])
    assert latest_snapshot(tmp_path) == runs[-1] and os.readlink(tmp_path / LATEST) == runs[-1].name
    removed = apply_retention(tmp_path)
    assert len(removed) == 45 and snapshot_dirs(tmp_path) == runs[-5:]


def test_only_esdh_serve_command_lines_count_as_servers() -> None:
    assert is_esdh_server(["/usr/bin/python3", "-m", "esdh", "serve", "--port", "8123"], 8123)
    assert is_esdh_server(["/venv/bin/python", "/venv/bin/esdh", "serve"], None)
    assert not is_esdh_server(["/venv/bin/python", "-m", "esdh", "serve", "--port", "8123"], 9000)
    assert not is_esdh_server(["python", "-c", "import time; time.sleep(60)"], None)
    assert not is_esdh_server(["python", "-m", "http.server", "serve"], None)


def test_the_demo_log_is_rotated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow, "LOG_MAX_BYTES", 4_000)
    path = tmp_path / LOG
    before = logging.getLogger("esdh").level
    with flow.demo_log(path) as tag:
        tag.run_id = "run-1"
        for index in range(200):
            event("demo.test", index=index, padding="x" * 50)
    assert logging.getLogger("esdh").level == before
    assert path.stat().st_size <= 4_000 and (tmp_path / f"{LOG}.1").stat().st_size <= 4_000
    assert not (tmp_path / f"{LOG}.2").exists()
    last = json.loads(path.read_text().splitlines()[-1])
    assert last["event"] == "demo.test" and last["index"] == 199 and last["run_id"] == "run-1"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_the_api_it_started(tmp_path: Path, sig: signal.Signals) -> None:
    root = tmp_path / "demo"
    # As in a terminal, Ctrl-C acts on the demo: when the tests run as a background job of a shell, SIGINT is
    # ignored and that would be inherited (a shell ignores SIGINT in its background jobs without job control)
    demo = subprocess.Popen([sys.executable, "-m", "esdh", "demo", "--root", str(root)], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while not (root / PID_FILE).exists():  # the API has been started
            assert demo.poll() is None and time.monotonic() < deadline, demo.communicate()
            time.sleep(0.05)
        server = int((root / PID_FILE).read_text())
        demo.send_signal(sig)
        _, err = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 130 and "interrupted" in err
    assert not alive(server) and not (root / PID_FILE).exists()
