"""The command examples of docs/governance.md and docs/api.md run as written (in a scratch folder; the API
examples against a real server on a free port instead of :8000)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from esdh.api import ApiSettings
from tests.api_server import running_server

DOCS = Path(__file__).resolve().parent.parent / "docs"
FIRST_CONSOLE = re.compile(r"```console\n(.*?)```", re.DOTALL)


def commands(page: str) -> list[str]:
    """The ``$ `` lines of the page's first console block, without their comments."""
    block = FIRST_CONSOLE.search((DOCS / page).read_text(encoding="utf-8")).group(1)
    return [line[2:].split("  #")[0].strip() for line in block.splitlines() if line.startswith("$ ")]


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "ESDH_REGISTRY": ""})


def test_governance_examples_run_as_written(tmp_path: Path) -> None:
    lines = commands("governance.md")
    assert len(lines) == 6 and lines[0] == "esdh run finance_transactions"
    for command in lines:
        done = shell(command, tmp_path)
        if command.startswith("esdh report"):  # 1.1.0 moves the fraud rate on purpose: the verdict is fail
            assert done.returncode == 1, done.stderr
            report = json.loads(done.stdout)
            assert report["verdict"] == "fail" and report["summary"]["drifted_columns"] == ["transactions.is_fraud"]
        else:
            assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert (tmp_path / "runs" / "finance_transactions" / "1.1.0" / "datapackage.json").is_file()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_api_examples_run_as_written(tmp_path: Path) -> None:
    lines = [c for c in commands("api.md") if c.startswith("curl ")]
    assert len(lines) == 3
    with running_server(ApiSettings(api_keys=["change-me"])) as base:
        host = base.removeprefix("http://")
        outputs = []
        for command in lines:
            done = shell(command.replace("curl ", "curl --fail ", 1).replace("localhost:8000", host), tmp_path)
            assert done.returncode == 0, (command, done.stdout, done.stderr)
            outputs.append(done.stdout)
    assert json.loads(outputs[0])["status"] == "ok"
    assert json.loads(outputs[1])["record_count"] == 3
    assert pq.read_table(tmp_path / "persons.parquet").num_rows == 100_000


def test_the_readme_python_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Python block, in a scratch folder: the package's own names do what it says."""
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", readme, re.DOTALL).group(1)
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert (tmp_path / "out" / "insurance" / "datapackage.json").is_file()
    persons = scope["persons"]
    assert persons.num_rows == 5 and "person_id" in persons.column_names  # type: ignore[attr-defined]
