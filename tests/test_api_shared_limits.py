"""Limits that hold for a whole server, not per process: with a state folder (which `esdh serve --workers N`
makes), the generation slots are flock'ed files and the rate-limit buckets live in SQLite, so that N worker
processes together allow max_concurrent generations and rate_limit requests a minute."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fcntl")
pytest.importorskip("uvicorn")

from esdh.api.errors import ApiError
from esdh.api.settings import ApiSettings
from esdh.api.shared_limits import SharedRateLimiter, SharedSlots
from tests.api_server import free_port

SRC = Path(__file__).resolve().parents[1] / "src"


def test_slots_are_shared_by_every_holder_of_the_folder(tmp_path: Path) -> None:
    one, other = SharedSlots(tmp_path, 2), SharedSlots(tmp_path, 2)  # as two processes would open them
    first, second = one.acquire(), other.acquire()
    with pytest.raises(ApiError) as refused:
        one.acquire()
    assert (refused.value.status, refused.value.code, refused.value.headers) == (429, "busy", {"Retry-After": "1"})
    first()
    first()  # giving a slot back twice frees it once
    third = other.acquire()
    with pytest.raises(ApiError):
        one.acquire()
    second()
    third()
    assert [one.acquire(), one.acquire()]


def test_a_dead_process_never_keeps_a_slot(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from esdh.api.shared_limits import "
         "SharedSlots; SharedSlots(Path(sys.argv[1]), 1).acquire(); print('held', flush=True); time.sleep(120)",
         str(tmp_path)], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(SRC)})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ApiError):
            SharedSlots(tmp_path, 1).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    SharedSlots(tmp_path, 1).acquire()()  # the kernel freed the lock of the killed process


def test_rate_limit_buckets_are_shared(tmp_path: Path) -> None:
    now = [1000.0]
    one = SharedRateLimiter(tmp_path, 6, clock=lambda: now[0])
    other = SharedRateLimiter(tmp_path, 6, clock=lambda: now[0])
    for limiter in (one, other, one, other, one, other):
        limiter.take("key-a")
    with pytest.raises(ApiError) as refused:
        other.take("key-a")
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "10"}  # 6 a minute: one per 10 s
    one.take("key-b")  # another caller has a bucket of its own
    now[0] += 10
    one.take("key-a")
    with pytest.raises(ApiError):
        other.take("key-a")


def test_a_clock_that_went_back_never_locks_a_caller_out(tmp_path: Path) -> None:
    """A state folder kept across a reboot holds times of the monotonic clock from before it restarted."""
    before = SharedRateLimiter(tmp_path, 6, clock=lambda: 9_000_000.0)
    before.take("key-a")
    after = SharedRateLimiter(tmp_path, 6, clock=lambda: 50.0)
    for _ in range(5):  # the 5 tokens left are still there, not minus months of refill
        after.take("key-a")
    with pytest.raises(ApiError):
        after.take("key-a")


def test_settings_read_the_state_folder(tmp_path: Path) -> None:
    assert ApiSettings.from_env({"ESDH_API_STATE_DIR": str(tmp_path)}).state_dir == tmp_path
    assert ApiSettings.from_env({}).state_dir is None


@pytest.fixture()
def two_workers(tmp_path: Path):
    """`esdh serve --workers 2` as a user starts it, with one generation slot and 20 requests a minute."""
    port = free_port()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "PYTHONPATH": str(SRC), "ESDH_API_MAX_CONCURRENT": "1", "ESDH_API_RATE_LIMIT": "20",
           "TMPDIR": str(scratch)}
    for name in ("ESDH_API_KEY", "ESDH_API_KEYS", "ESDH_API_STATE_DIR"):
        env.pop(name, None)
    server = subprocess.Popen([sys.executable, "-m", "esdh", "serve", "--port", str(port), "--workers", "2",
                               "--registry", str(tmp_path / "runs")], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, f"esdh serve exited with {server.returncode}"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.2)
    workers = _children(server.pid)
    assert [p.name[:15] for p in scratch.iterdir()] == ["esdh-api-state-"]  # the folder the workers share
    try:
        yield base, workers
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    assert not list(scratch.glob("esdh-api-state-*"))  # removed when the server stopped


def _children(pid: int) -> list[int]:
    deadline = time.monotonic() + 30
    while True:
        found = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        if len(found) >= 2 or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads worker processes from /proc")
def test_two_workers_hold_one_limit_together(two_workers) -> None:
    base, workers = two_workers
    assert len(workers) >= 2  # uvicorn's worker processes (and its process manager's helpers, if any)
    params = {"format": "ndjson", "table": "customers", "rows": "customers=900000"}
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=60) as streaming, \
            streaming.stream("GET", "/v1/datasets/ecommerce_orders/generate", params=params) as response:
        assert response.status_code == 200
        pieces = response.iter_bytes()  # kept: a dropped iterator closes the response, and the stream ends
        next(pieces)
        # every new connection, whichever worker takes it, finds the one slot taken
        answers = [httpx.post(f"{base}/generate/person", json={"records": 1}, timeout=30) for _ in range(8)]
    assert [a.status_code for a in answers] == [429] * 8, [a.text[:80] for a in answers]
    assert {a.json()["error"]["code"] for a in answers} == {"busy"}
    # 20 requests a minute for the whole server: the stream and the 8 above took 9 tokens, 11 are left, and one
    # more comes back every 3 s. Per-process buckets (20 each, 40 in all) would let all 20 of these through.
    statuses = [httpx.get(f"{base}/v1/datasets", timeout=30).status_code for _ in range(20)]
    elapsed = time.monotonic() - started
    admitted = statuses.count(200)
    assert set(statuses) <= {200, 429}
    assert 11 <= admitted <= 11 + int(elapsed / 3) + 1, (admitted, elapsed)
    if elapsed < 20:  # on a machine so slow that the bucket refills that much, the two cannot be told apart
        assert admitted < 20, (admitted, elapsed)
