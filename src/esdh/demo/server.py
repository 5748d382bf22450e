"""The demo's API process: ``python -m esdh serve`` on a free loopback port, its pid and port files, health
polling, and stopping it (terminate, wait 5 s, kill), also when an earlier demo left one running."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import esdh
from esdh.demo.client import call
from esdh.demo.layout import PID_FILE, PORT_FILE
from esdh.errors import EsdhError, UsageError
from esdh.processes import pid_alive

STOP_GRACE_SECONDS = 5.0


class ApiStartError(EsdhError):
    """The API did not come up: the port is taken, the process exited, or it never became healthy."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free now (bind port 0)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_taken(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


@dataclass
class ApiProcess:
    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path
    root: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid


def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def start_api(root: Path, log_path: Path, host: str = "127.0.0.1", port: int | None = None) -> ApiProcess:
    """Start the API on ``port`` (default: a free one), its output to ``log_path``; write the pid/port files.
    The environment is passed on, ESDH_API_KEY included."""
    if port is None:
        port = free_port(host)
    elif port_taken(host, port):
        raise ApiStartError(f"port {port} on {host} is already in use; choose another --port or leave it out "
                            "to take a free one")
    env = dict(os.environ)
    package_parent = str(Path(esdh.__file__).resolve().parent.parent)  # the same esdh, installed or not
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "esdh", "serve", "--host", host, "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, start_new_session=True,  # Ctrl-C reaches the demo, which stops it
                                   preexec_fn=_unblock_stop_signals)
    api = ApiProcess(process, host, port, log_path, root)
    _write_atomic(root / PID_FILE, f"{process.pid}\n")
    _write_atomic(root / PORT_FILE, f"{port}\n")
    return api


def _unblock_stop_signals() -> None:
    """In the child: the demo spawns it with SIGINT/SIGTERM blocked, a mask the child would inherit."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def wait_healthy(api: ApiProcess, timeout: float = 30.0, key: str | None = None) -> dict[str, Any]:
    """Poll /healthz until it answers ``{"status": "ok"}``; fail at once if the process exits."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        code = api.process.poll()
        if code is not None:
            raise ApiStartError(f"the API process exited with code {code} before it was healthy "
                                f"(see {api.log_path})")
        try:
            status, body = call("GET", f"{api.url}/healthz", key=key, timeout=2.0)
            if status == 200 and isinstance(body, dict) and body.get("status") == "ok":
                return body
            last = f"HTTP {status}: {body}"
        except OSError as exc:
            last = str(exc)
        if time.monotonic() > deadline:
            raise ApiStartError(f"the API was not healthy after {timeout:.0f} s ({last}; see {api.log_path})")
        time.sleep(0.2)


def stop_api(api: ApiProcess) -> int | None:
    """Stop the API (SIGTERM to its process group, wait 5 s, then SIGKILL) and remove the pid/port files;
    returns its exit code."""
    process = api.process
    try:
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(STOP_GRACE_SECONDS)
        return process.returncode
    finally:
        _remove_files(api.root, process.pid)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the server was started in its own session: its group is its pid
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _remove_files(root: Path, pid: int | None = None) -> None:
    """Remove the pid/port files (only if they still name ``pid``, when given)."""
    pid_file = root / PID_FILE
    if pid is not None and _read_int(pid_file) not in (None, pid):
        return  # another demo's server by now
    pid_file.unlink(missing_ok=True)
    (root / PORT_FILE).unlink(missing_ok=True)


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


# -- a server an earlier demo left behind ----------------------------------------------------------------

def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count)."""
    return pid_alive(pid)


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_esdh_server(argv: list[str], port: int | None = None) -> bool:
    """``... -m esdh serve ...`` or ``.../esdh serve ...`` (with ``--port port`` when a port is recorded)."""
    if "serve" not in argv:
        return False
    serve = argv.index("serve")
    runs_esdh = any(a == "esdh" or Path(a).name == "esdh" for a in argv[:serve])
    if not runs_esdh:
        return False
    if port is not None and "--port" in argv:
        given = argv.index("--port") + 1
        return given < len(argv) and argv[given] == str(port)
    return True


@dataclass
class Recorded:
    pid: int
    port: int | None
    running: bool
    argv: list[str]

    @property
    def is_server(self) -> bool:
        return self.running and is_esdh_server(self.argv, self.port)


def recorded_server(root: Path) -> Recorded | None:
    """What ``.demo_api.pid`` names, or None when there is no pid file."""
    pid = _read_int(root / PID_FILE)
    if pid is None:
        return None
    running = alive(pid)
    return Recorded(pid, _read_int(root / PORT_FILE), running, command_line(pid) if running else [])


def stop_recorded(root: Path) -> str:
    """Stop the API a demo left running under ``root``; refuses a pid that is not an ``esdh serve``."""
    found = recorded_server(root)
    if found is None:
        _remove_files(root)
        return f"no demo API is running (no {PID_FILE} in {root})"
    if not found.running:
        _remove_files(root)
        return f"no demo API is running (pid {found.pid} has exited); removed the stale pid file"
    if not found.is_server:
        shown = " ".join(found.argv) or "unknown"
        raise UsageError(f"pid {found.pid} in {root / PID_FILE} is not an esdh server (command line: {shown}); "
                         "not stopping it. Remove the file if it is stale.")
    os.kill(found.pid, signal.SIGTERM)
    if not _gone(found.pid, STOP_GRACE_SECONDS):
        os.kill(found.pid, signal.SIGKILL)
        _gone(found.pid, STOP_GRACE_SECONDS)
    _remove_files(root)
    where = f" on port {found.port}" if found.port else ""
    return f"stopped the demo API (pid {found.pid}{where})"


def _gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
