"""The command line against a hostile user (tests/fixtures/hostile_cli/corpus.py): every subcommand and option
given numbers in other scripts, overflowing and NaN numbers, malformed TABLE=N, paths that are folders,
FIFOs, /dev/null, binary or empty files, outputs where specs belong, unknown formats and names, very long
and unicode arguments. Every call ends with its exit code and one message, never a traceback, a hang or
files left behind.

Most calls run in this process (CliRunner, fast); the ones whose failure could only show in a real process
(a FIFO, stdin, the environment, long arguments, exit paths) run in subprocesses, with their peak memory
measured. ``python -m tests.fixtures.hostile_cli.probe`` runs the whole corpus in subprocesses.
"""

from __future__ import annotations

import os
import signal
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType

import pytest
from click.testing import CliRunner

from esdh.cli.main import cli
from tests.fixtures.hostile_cli.corpus import (
    TIMEOUT,
    Call,
    Outcome,
    build_workspace,
    calls,
    own_folder,
    tree,
)
from tests.fixtures.hostile_cli.probe import run_one

CORPUS = calls()
# a real process for these: what a FIFO, stdin, the environment or a long argument does to the process
IN_SUBPROCESS = {
    "check-spec-fifo", "generate-spec-fifo", "validate-path-fifo", "ingest-path-fifo", "verify-path-fifo",
    "generate-out-fifo", "runs-list-registry-fifo", "generate-out-devnull", "check-spec-devnull",
    "generate-scale-nan", "run-scale-exp309", "serve-port-bad", "demo-port-bad", "log-level-env-bad",
    "profile-env-unknown", "demo-clean-ask-eof", "check-spec-long", "generate-out-long", "validate-file-nul",
    "verify-digest-long", "snapshot-records-huge", "generate-chunk-huge",
}
# calls that take seconds even when right: in a subprocess only (the probe runs them)
SLOW = {"validate-json-wide", "ingest-data-wide"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("hostile") / "w")


class Hang(BaseException):
    pass


@pytest.fixture
def alarm() -> Iterator[None]:
    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer in {TIMEOUT:.0f} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def run_in_process(call: Call, workspace: Path, scratch: Path) -> Outcome:
    own = own_folder(call, workspace, scratch)
    before = tree(own)
    cwd = os.getcwd()
    os.chdir(own)
    signal.alarm(int(TIMEOUT))
    try:
        result = CliRunner().invoke(cli, call.argv(workspace, own), env=call.env, input=call.stdin)
    except Hang:
        return Outcome(call, None, TIMEOUT, 0, "", "")
    finally:
        signal.alarm(0)
        os.chdir(cwd)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
    outcome = Outcome(call, result.exit_code, 0.0, 0, result.stdout, stderr)
    if result.exit_code != 0 and not (result.exit_code == 1 and call.verdict):
        outcome.left = sorted(tree(own) - before)
    return outcome


def test_the_corpus_covers_every_command() -> None:
    def names(group: object, prefix: str = "") -> set[str]:
        found = set()
        for name, command in getattr(group, "commands", {}).items():
            found.add(prefix + name)
            found |= names(command, prefix + name + " ")
        return found

    used = {" ".join(a for a in call.args[:2] if not a.startswith("-") and "{" not in a) for call in CORPUS}
    covered = {name for name in names(cli) if any(u == name or u.startswith(name + " ") for u in used)}
    assert names(cli) - covered == set()
    assert len(CORPUS) >= 500


@pytest.mark.usefixtures("alarm")
def test_every_hostile_call_in_process_ends_plainly(workspace: Path, tmp_path: Path) -> None:
    findings = []
    for call in CORPUS:
        if call.name in IN_SUBPROCESS or call.name in SLOW or call.name.startswith(("serve-", "demo-port")):
            continue
        outcome = run_in_process(call, workspace, tmp_path)
        findings += [f"{call.name}: {finding}" for finding in outcome.findings()]
    assert findings == [], "\n".join(findings)


def test_hostile_calls_in_subprocesses_end_plainly_within_time_and_memory(workspace: Path, tmp_path: Path) -> None:
    selected = [call for call in CORPUS if call.name in IN_SUBPROCESS]
    assert len(selected) == len(IN_SUBPROCESS)
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda call: run_one(call, workspace, tmp_path), selected))
    findings = [f"{o.call.name}: {finding}" for o in outcomes for finding in o.findings()]
    assert findings == [], "\n".join(findings)


@pytest.mark.parametrize(("args", "phrase"), [
    (["plan", "{W}/shop.yaml", "--scale", "nan"], "Invalid value for '--scale': 'nan' is not a finite number"),
    (["plan", "{W}/shop.yaml", "--seed", "\u0661\u0660\u0660"], "is not a whole number (digits 0-9 only)"),
    (["generate", "{W}/shop.yaml", "-o", "out", "--chunk-size", "\uff11\uff10"], "is not a whole number"),
])
def test_hostile_numbers_are_usage_errors_in_one_line(workspace: Path, tmp_path: Path, args: list[str],
                                                      phrase: str) -> None:
    result = CliRunner().invoke(cli, [a.replace("{W}", str(workspace)) for a in args])
    assert result.exit_code == 2, result.output
    assert phrase in result.stderr.strip().splitlines()[-1]
