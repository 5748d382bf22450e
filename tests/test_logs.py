"""Structured logs: JSON lines with timestamp, level, event and run id; a plain format for terminals;
level and format from options or environment variables."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from esdh import logs
from esdh.errors import UsageError


@pytest.fixture(autouse=True)
def _reset_logging():
    yield
    log = logging.getLogger("esdh")
    for handler in list(log.handlers):
        log.removeHandler(handler)
    log.setLevel(logging.NOTSET)


def test_json_lines_carry_timestamp_level_event_run_id_and_fields():
    stream = io.StringIO()
    logs.configure("info", "json", stream)
    with logs.run_context("run-123"):
        logs.event("table.written", table="orders", rows=42, path=Path("/x/orders.parquet"))
    logs.event("outside", level=logging.WARNING)
    logs.event("too.quiet", level=logging.DEBUG)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["table.written", "outside"]
    first = lines[0]
    assert first["level"] == "info" and first["run_id"] == "run-123"
    assert first["table"] == "orders" and first["rows"] == 42 and first["path"] == "/x/orders.parquet"
    assert first["timestamp"].endswith("Z") and "T" in first["timestamp"]
    assert lines[1]["run_id"] is None and lines[1]["level"] == "warning"


def test_text_format_for_people():
    stream = io.StringIO()
    logs.configure("debug", "text", stream)
    with logs.run_context("r1"):
        logs.event("run.published", dataset="shop", version="1.0.0")
    line = stream.getvalue().strip()
    assert "info" in line and "run.published dataset=shop version=1.0.0 run=r1" in line
    with pytest.raises(ValueError):
        json.loads(line)


def test_environment_and_bad_values(monkeypatch):
    monkeypatch.setenv("ESDH_LOG_LEVEL", "error")
    monkeypatch.setenv("ESDH_LOG_FORMAT", "json")
    stream = io.StringIO()
    logs.configure(stream=stream)
    logs.event("hidden", level=logging.WARNING)
    logs.event("shown", level=logging.ERROR)
    assert [json.loads(x)["event"] for x in stream.getvalue().splitlines()] == ["shown"]
    with pytest.raises(UsageError, match="unknown log level 'loud'"):
        logs.configure("loud")
    with pytest.raises(UsageError, match="unknown log format 'xml'"):
        logs.configure("info", "xml")


def test_cli_generate_logs_json_lines_to_stderr(small_spec: Path, tmp_path: Path):
    env = {**os.environ, "ESDH_LOG_LEVEL": "info", "ESDH_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-m", "esdh", "generate", str(small_spec), "--out", str(tmp_path / "o"),
                           "-q"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "generate.started" and names[-1] == "generate.published"
    assert {e["table"] for e in events if e["event"] == "table.written"} == {"customers", "orders"}
    assert next(e for e in events if e["event"] == "checks.passed")["checks"] > 0
    assert "seed: 7" in done.stdout  # the report for people stays on stdout
    # options win over the environment
    quiet = subprocess.run([sys.executable, "-m", "esdh", "--log-level", "error", "generate", str(small_spec),
                            "--out", str(tmp_path / "o2"), "-q"], capture_output=True, text=True, env=env, timeout=120)
    assert quiet.returncode == 0 and quiet.stderr == ""
