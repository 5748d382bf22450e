"""Faults, for real: a full disk and a read-only file system (small tmpfs mounts), a permission refused, a name
too long for the file system, and a process killed at random points. Each gives one line on stderr and its own
exit code, leaves nothing behind but the documented resume staging (after a kill or an interruption), never
touches a finished output, and ``--resume`` then gives the bytes of a fresh run (docs/cli.md, exit codes).

The mounts need root (or a user namespace: ``unshare -rm``); without either those tests are skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli
from esdh.errors import OutputError

PAGE = 4096
SHOP = textwrap.dedent("""\
    dataset: shop
    version: 1.0.0
    seed: 7
    as_of: 2026-01-01
    tables:
      customers:
        rows: 1500
        primary_key: customer_id
        columns:
          customer_id: {generator: sequence, prefix: "C-", width: 6}
          uid: {generator: uuid}
          age: {generator: uniform_int, min: 18, max: 90}
      orders:
        rows: {per: customers, count: {distribution: poisson, lam: 2, min: 1, max: 4}}
        primary_key: order_id
        columns:
          order_id: {generator: uuid}
          customer_id: {ref: customers.customer_id}
          amount: {generator: lognormal, median: 50, sigma: 0.8, round: 2}
    """)
# several tables cut into parts (65,536 rows each): what a kill interrupts
MULTI = textwrap.dedent("""\
    dataset: multi
    version: 1.0.0
    seed: 11
    as_of: 2026-01-01
    tables:
      people:
        rows: 150000
        primary_key: person_id
        columns:
          person_id: {generator: sequence, prefix: "P-", width: 7}
          age: {generator: uniform_int, min: 18, max: 90}
      visits:
        rows: 150000
        columns:
          person_id: {ref: people.person_id}
          score: {generator: uniform_int, min: 0, max: 1000}
      events:
        rows: 100000
        columns:
          code: {generator: uniform_int, min: 0, max: 99999}
    """)
TIMES = "lineage_events.json"  # holds the run's times: the one file two runs of the same options differ in


# -- helpers ---------------------------------------------------------------------------------------------------

def esdh(*args: str | Path) -> tuple[int, str, str]:
    """Run the CLI in this process: exit code, stdout, stderr."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def one_line(stderr: str) -> str:
    """The error: exactly one line on stderr, and never a traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def listing(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` with its sha256 (folders as 'dir'): what a failed run must not change."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        found[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def names(folder: Path) -> set[str]:
    return set(listing(folder))


def same_bytes(a: Path, b: Path, skip: tuple[str, ...] = (TIMES,)) -> None:
    left = {k: v for k, v in listing(a).items() if Path(k).name not in skip}
    right = {k: v for k, v in listing(b).items() if Path(k).name not in skip}
    assert left == right


def pages(folder: Path) -> int:
    return sum(-(-p.stat().st_size // PAGE) for p in folder.rglob("*") if p.is_file())


def write_spec(folder: Path, text: str, name: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- file systems: small tmpfs mounts -------------------------------------------------------------------------

def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


class Disk:
    """A tmpfs of a given size at ``path``: full disks and read-only file systems on demand."""

    def __init__(self, path: Path, kib: int):
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        _mount("-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(path))

    def resize(self, kib: int) -> None:
        _mount("-o", f"remount,size={kib}k", str(self.path))

    def read_only(self, flag: bool = True) -> None:
        _mount("-o", f"remount,{'ro' if flag else 'rw'}", str(self.path))

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


def _can_mount(where: Path) -> bool:
    try:
        Disk(where, 64).unmount()
        return True
    except (subprocess.CalledProcessError, FileNotFoundError):
        return False


@pytest.fixture
def disks(tmp_path: Path) -> Iterator[Callable[[str, int], Disk]]:
    """Mount tmpfs file systems (unmounted at teardown, always); skipped where mounting is not allowed."""
    if not _can_mount(tmp_path / "probe"):
        pytest.skip("mounting a tmpfs needs root or CAP_SYS_ADMIN (see in_namespace for unshare -rm)")
    mounted: list[Disk] = []

    def mount(name: str, kib: int) -> Disk:
        disk = Disk(tmp_path / name, kib)
        mounted.append(disk)
        return disk

    try:
        yield mount
    finally:
        for disk in reversed(mounted):
            disk.unmount()


def in_namespace(test: str, tmp_path: Path) -> None:
    """Run one of this module's tests in a new user and mount namespace (``unshare -rm``), for a user who may
    not mount here; skipped when that is not allowed either."""
    probe = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "tmpfs", str(tmp_path)], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("neither root nor unshare -rm may mount a tmpfs here")
    done = subprocess.run(["unshare", "-rm", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           f"{__file__}::{test}", "--basetemp", str(tmp_path / "ns")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# -- a full disk ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Fresh outputs on an ordinary disk, to compare with what a resumed run writes."""
    root = tmp_path_factory.mktemp("reference")
    spec = write_spec(root, SHOP, "shop.yaml")
    refs = {"spec": spec}
    for seed in (7, 8):
        assert esdh("generate", spec, "-o", root / f"seed{seed}", "--seed", seed, "--format", "csv", "-q")[0] == 0
        refs[f"seed{seed}"] = root / f"seed{seed}"
    registry = root / "runs"
    assert esdh("run", spec, "--registry", registry, "--format", "csv", "-q")[0] == 0
    assert esdh("run", spec, "--registry", registry, "--version", "1.0.0+2", "--seed", 8, "--format", "csv",
                "-q")[0] == 0
    refs["run"] = registry / "shop" / "1.0.0+2"
    return refs


@pytest.mark.parametrize("short", ["first part", "a late write"])
def test_full_disk_generate_leaves_the_finished_output_and_resumes(disks, references, short: str) -> None:
    """An earlier output of the dataset is at --out; the new one does not fit beside it."""
    old, new = references["seed7"], references["seed8"]
    room = pages(old) + (2 if short == "first part" else pages(new) - 1)
    disk = disks("disk", room * 4)
    out = disk.path / "out"
    shutil.copytree(old, out)
    before = listing(disk.path)
    code, _, err = esdh("generate", references["spec"], "-o", out, "--seed", 8, "--format", "csv", "-q")
    assert code == 4, err
    line = one_line(err)
    assert line.startswith("error: no space left on device") and str(out) in line, line
    assert listing(disk.path) == before  # nothing left behind; the finished output untouched
    disk.resize((pages(old) + pages(new)) * 8)
    code, _, err = esdh("generate", references["spec"], "-o", out, "--seed", 8, "--format", "csv", "-q", "--resume")
    assert code == 0, err
    same_bytes(out, new)
    assert names(disk.path) == {"out", *(f"out/{n}" for n in names(new))}


def test_full_disk_on_a_new_folder_leaves_no_folder(disks, references) -> None:
    disk = disks("disk", 8)
    out = disk.path / "deep" / "er" / "out"
    code, _, err = esdh("generate", references["spec"], "-o", out, "--seed", 8, "--format", "csv", "-q")
    assert code == 4 and "no space left" in one_line(err) and str(out) in err
    assert listing(disk.path) == {}  # not even the folders it made for --out


@pytest.mark.parametrize("short", ["the registry's first write", "a late write"])
def test_full_disk_run_leaves_the_registry_and_resumes(disks, references, short: str) -> None:
    """A registry with a finished run; the next run does not fit (not even its row in the registry, or
    not its last files)."""
    disk = disks("disk", 4096)
    registry = disk.path / "runs"
    assert esdh("run", references["spec"], "--registry", registry, "--format", "csv", "-q")[0] == 0
    used = pages(disk.path)
    before = {k: v for k, v in listing(disk.path).items() if not k.startswith("runs/registry.sqlite")}
    disk.resize((used + (2 if short.startswith("the registry") else pages(references["run"]) - 1)) * 4)
    args = ("run", references["spec"], "--registry", registry, "--version", "1.0.0+2", "--seed", 8, "--format",
            "csv", "-q")
    code, _, err = esdh(*args)
    assert code == 4, err
    line = one_line(err)
    assert "no space left" in line and str(registry) in line, line
    after = {k: v for k, v in listing(disk.path).items() if not k.startswith("runs/registry.sqlite")}
    assert after == before
    disk.resize(4096)
    assert [r.version for r in library.registry(registry).runs(include_writing=True)] == ["1.0.0"]
    code, _, err = esdh(*args, "--resume")
    assert code == 0, err
    same_bytes(registry / "shop" / "1.0.0+2", references["run"])
    assert library.verify("shop/1.0.0+2", registry).ok


def test_full_disk_through_a_user_namespace(tmp_path: Path) -> None:
    """Where this process may not mount but a user namespace may, the full disk tests run in one."""
    if _can_mount(tmp_path / "probe"):
        pytest.skip("mounting works here: the tests above ran")
    in_namespace("test_full_disk_on_a_new_folder_leaves_no_folder", tmp_path)


# -- a read-only target, a permission refused ----------------------------------------------------------------

def test_read_only_target_generate(disks, references) -> None:
    disk = disks("disk", 4096)
    out = disk.path / "out"
    shutil.copytree(references["seed7"], out)
    disk.read_only()
    before = listing(disk.path)
    for target in (out, disk.path / "new" / "out"):
        code, _, err = esdh("generate", references["spec"], "-o", target, "--seed", 8, "--format", "csv", "-q")
        assert code == 5, err
        line = one_line(err)
        assert line.startswith("error: read-only file system") and str(target) in line, line
    assert listing(disk.path) == before
    disk.read_only(False)
    code, _, err = esdh("generate", references["spec"], "-o", out, "--seed", 8, "--format", "csv", "-q", "--resume")
    assert code == 0, err
    same_bytes(out, references["seed8"])


def test_read_only_registry_run(disks, references) -> None:
    disk = disks("disk", 4096)
    registry = disk.path / "runs"
    assert esdh("run", references["spec"], "--registry", registry, "--format", "csv", "-q")[0] == 0
    disk.read_only()
    before = listing(disk.path)
    args = ("run", references["spec"], "--registry", registry, "--version", "1.0.0+2", "--seed", 8, "--format",
            "csv", "-q")
    code, _, err = esdh(*args)
    assert code == 5, err
    line = one_line(err)
    assert "read-only file system" in line and str(registry) in line, line
    assert listing(disk.path) == before
    disk.read_only(False)
    code, _, err = esdh(*args, "--resume")
    assert code == 0, err
    same_bytes(registry / "shop" / "1.0.0+2", references["run"])


def test_permission_denied_for_an_unprivileged_user(references) -> None:
    """Root ignores permission bits: the command runs as nobody, on a folder it may not write."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the command as another user")
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="esdh-faults-"))  # pytest's own folders are closed to other users
    try:
        home.chmod(0o755)
        locked = home / "locked"
        locked.mkdir(mode=0o555)
        spec = write_spec(home, SHOP, "shop.yaml")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "esdh",
                   "generate", str(spec), "-o", str(locked / "out"), "--format", "csv", "-q"]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HOME": str(home)},
                              cwd=home, timeout=120)
        if done.returncode != 5 and "esdh" not in done.stderr:
            pytest.skip(f"nobody cannot run this interpreter here: {done.stderr.strip()[:200]}")
        assert done.returncode == 5, done.stderr
        line = one_line(done.stderr)
        assert line.startswith("error: permission denied") and str(locked / "out") in line, line
        assert list(locked.iterdir()) == []
    finally:
        shutil.rmtree(home)


# -- a name too long for the file system ---------------------------------------------------------------------

def test_names_too_long_are_refused_before_anything_is_written(tmp_path: Path, references) -> None:
    spec = references["spec"]
    work = tmp_path / "work"
    work.mkdir()
    cases = [
        ("generate", spec, "-o", work / ("a" * 300) / "out"),  # a folder name over the limit
        ("generate", spec, "-o", work / ("b" * 240)),  # under it, but not with the hidden working names
        ("run", spec, "--registry", work / "runs", "--version", "1.0.0+" + "c" * 240),
        ("generate-snapshot", "--output-dir", work / ("d" * 300), "--records", 5),
    ]
    for args in cases:
        code, _, err = esdh(*args, "-q") if args[0] != "generate-snapshot" else esdh(*args)
        assert code == 6, (args[0], err)
        line = one_line(err)
        assert "too long" in line and "255" in line, line
        assert list(work.iterdir()) == [], args[0]


# -- a killed process ----------------------------------------------------------------------------------------

def _start(args: list[str | Path], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "esdh", *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@contextlib.contextmanager
def _reaped(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _leftovers(parent: Path) -> set[str]:
    return {p.name for p in parent.iterdir()} - {"out"}


def test_killed_at_random_points_resumes_byte_identical(tmp_path: Path) -> None:
    """SIGKILL at eight points spread over a run (measured once), alternately with one process and with
    two workers: the finished output at --out is the earlier one untouched or the new one whole; only the
    hidden resume staging is left; --resume (or a fresh run) then writes the bytes of an uninterrupted run."""
    spec = write_spec(tmp_path, MULTI, "multi.yaml")
    common = ["--format", "csv", "--part-rows", "65536", "-q"]
    reference = tmp_path / "reference"
    started = time.monotonic()
    with _reaped(_start(["generate", spec, "-o", reference, *common], tmp_path)) as process:
        process.wait(timeout=300)
    duration = time.monotonic() - started
    assert process.returncode == 0
    earlier = tmp_path / "earlier"
    assert esdh("generate", spec, "-o", earlier, "--seed", 1, *common)[0] == 0
    earlier_files = listing(earlier)
    points = [duration * (0.15 + 0.8 * i / 7) for i in range(8)]
    outcomes = []
    for i, delay in enumerate(points):
        folder = tmp_path / f"kill{i}"
        folder.mkdir()
        out = folder / "out"
        shutil.copytree(earlier, out)
        engine = ["--engine", "processes", "--workers", "2"] if i % 2 else []
        with _reaped(_start(["generate", spec, "-o", out, *common, *engine], tmp_path)) as process:
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
        outcomes.append(process.returncode)
        if not out.exists():  # killed between the two renames of a publish: the next run puts it back
            assert [p.name for p in folder.glob(".out.esdh-retired-*")], _leftovers(folder)
            assert esdh("generate", spec, "-o", out, *common, "--resume")[0] == 0
            same_bytes(out, reference)
            continue
        finished = json.loads((out / "datapackage.json").read_text())["esdh"]["seed"]
        if finished == 1:
            assert listing(out) == earlier_files  # the earlier output, untouched
        else:
            assert library.verify(str(out)).ok
            same_bytes(out, reference)
        # the resume staging; and the earlier output's copy, if killed just before removing it after a publish
        staging = {n for n in _leftovers(folder) if not n.startswith(".out.esdh-retired-")}
        assert staging <= {".out.esdh-partial", ".out.esdh-lock"}, _leftovers(folder)
        if (folder / ".out.esdh-partial").exists():
            with pytest.raises(OutputError, match="not a finished one"):  # no manifest: never taken for an output
                library.verify(str(folder / ".out.esdh-partial"))
        resume = ["--resume"] if i != 3 else []  # a new run without --resume discards the staging, starts over
        code, _, err = esdh("generate", spec, "-o", out, *common, *resume)
        assert code == 0, err
        same_bytes(out, reference)
        assert _leftovers(folder) == set() and library.verify(str(out)).ok
    assert -signal.SIGKILL in outcomes  # at least one point interrupted a run (most do)


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated")])
def test_interrupted_keeps_the_staging_for_resume(tmp_path: Path, sig: int, code: int, word: str) -> None:
    spec = write_spec(tmp_path, MULTI, "multi.yaml")
    common = ["--format", "csv", "--part-rows", "65536", "-q"]
    out = tmp_path / "out"
    journal = tmp_path / ".out.esdh-partial" / ".esdh-journal"
    with _reaped(_start(["generate", spec, "-o", out, *common], tmp_path)) as process:
        deadline = time.monotonic() + 120
        while len(list(journal.glob("*.0*.json"))) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(sig)
        _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    line = one_line(err)
    assert line.startswith(word) and "--resume" in line, line
    assert not out.exists() and _leftovers(tmp_path) >= {".out.esdh-partial"}
    assert _leftovers(tmp_path) - {"multi.yaml"} <= {".out.esdh-partial", ".out.esdh-lock"}
    code_, stdout, err = esdh("generate", spec, "-o", out, *common, "--resume")
    assert code_ == 0 and "resumed" in stdout, err
    fresh = tmp_path / "fresh"
    assert esdh("generate", spec, "-o", fresh, *common)[0] == 0
    same_bytes(out, fresh)


def test_killed_run_resumes_under_the_same_version(tmp_path: Path) -> None:
    """``esdh run`` killed at three points of its second half (partitions, checks and reports, publishing):
    no finished run, or a whole one that verifies; only hidden staging beside the runs; ``--resume`` then
    registers the run with the bytes of an uninterrupted one."""
    spec = write_spec(tmp_path, MULTI, "multi.yaml")
    common = ["--format", "csv", "--part-rows", "65536", "-q"]
    reference = tmp_path / "reference"
    started = time.monotonic()
    with _reaped(_start(["run", spec, "--registry", reference, *common], tmp_path)) as process:
        process.wait(timeout=300)
    duration = time.monotonic() - started
    assert process.returncode == 0
    for i, fraction in enumerate((0.55, 0.8, 0.95)):
        registry = tmp_path / f"kill{i}"
        with _reaped(_start(["run", spec, "--registry", registry, *common], tmp_path)) as process:
            try:
                process.wait(timeout=duration * fraction)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
        if (registry / "multi").exists():
            hidden = {p.name for p in (registry / "multi").iterdir()} - {"1.0.0", ".meta"}
            assert hidden <= {"..1.0.0.esdh-pending.esdh-partial", "..1.0.0.esdh-pending.esdh-lock",
                              ".1.0.0.esdh-pending"}, hidden
        done = [r for r in library.registry(registry).runs()]
        if done:
            assert library.verify("multi/1.0.0", registry).ok
        code, _, err = esdh("run", spec, "--registry", registry, *common, "--resume")
        if done:
            assert code == 3 and "already exists" in one_line(err)
        else:
            assert code == 0, err
        same_bytes(registry / "multi" / "1.0.0", reference / "multi" / "1.0.0")
        assert library.verify("multi/1.0.0", registry).ok
        assert {p.name for p in (registry / "multi").iterdir()} == {"1.0.0", ".meta"}


def test_a_publish_killed_between_its_renames_is_finished_by_the_next_run(tmp_path: Path, references) -> None:
    """SIGKILL between moving the earlier output aside and renaming the new one into place (a window too
    short to hit by timing): the next run puts the earlier output back before anything else, or drops the
    copy aside when the new output made it into place."""
    spec, out = references["spec"], tmp_path / "out"
    aside = tmp_path / ".out.esdh-retired-0123456789ab"
    shutil.copytree(references["seed7"], aside)  # the state the kill left: no out, the earlier output aside
    code, _, err = esdh("generate", spec, "-o", out, "--seed", 8, "--format", "csv", "-q", "--resume")
    assert code == 0, err
    same_bytes(out, references["seed8"])
    assert {p.name for p in tmp_path.iterdir()} == {"out"}
    shutil.copytree(references["seed7"], aside)  # killed after the new output was in place
    code, _, err = esdh("generate", spec, "-o", out, "--seed", 8, "--format", "csv", "-q")
    assert code == 0 and {p.name for p in tmp_path.iterdir()} == {"out"}


def test_a_run_killed_after_publishing_before_registering_is_redone(tmp_path: Path, references) -> None:
    """The run folder is in place but its writer died before the registry marked it complete: ``--resume``
    takes the reservation over and redoes the run (the folder was never a finished run)."""
    import sqlite3

    spec, registry = references["spec"], tmp_path / "runs"
    assert esdh("run", spec, "--registry", registry, "--format", "csv", "-q")[0] == 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    con = sqlite3.connect(registry / "registry.sqlite")
    con.execute("UPDATE runs SET status = 'writing', pid = ? WHERE version = '1.0.0'", (int(gone.stdout),))
    con.commit()
    con.close()
    code, _, err = esdh("run", spec, "--registry", registry, "--format", "csv", "-q", "--resume")
    assert code == 0, err
    assert library.verify("shop/1.0.0", registry).ok
    same_bytes(registry / "shop" / "1.0.0", references["run"].parent / "1.0.0")
