"""Unit tests of the output layer: staging, atomic publish, the resume journal and the lock of a folder
target, and the layout of part files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from esdh.errors import OutputError, UsageError
from esdh.output.folder import MANIFEST, publish, publish_new, write_text
from esdh.output.journal import JOURNAL
from esdh.output.layout import part_path
from esdh.output.partition import PartResult
from esdh.output.target_folder import FolderTarget
from esdh.plan.partitions import Part

KEY = {"spec_hash": "sha256:x", "seed": 1}
PARTS = [Part("t", i, i * 10, i * 10 + 10, True) for i in range(3)]


def write_part(target: FolderTarget, part: Part, content: bytes = b"rows") -> PartResult:
    """What a partition writer leaves: its file in the staging folder, then its journal entry."""
    relative = part_path(part, "csv")
    path = target.folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content + part.key.encode())
    result = PartResult(part.table, part.index, part.start, part.stop,
                        files={"csv": {"path": relative, "bytes": path.stat().st_size,
                                       "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}})
    target.record(part, result)
    return result


def finish(target: FolderTarget) -> None:
    target.finish()
    (target.folder / MANIFEST).write_text('{"name": "ds"}', encoding="utf-8")


def test_part_files_and_single_files_are_named_by_the_layout() -> None:
    assert part_path(Part("t", 3, 0, 1, True), "parquet") == "t/part-00003.parquet"
    assert part_path(Part("t", 0, 0, 1, False), "csv") == "t.csv"
    assert part_path(Part("t", 0, 0, 1, False), "csv", "{table}_x.{ext}") == "t_x.csv"


def test_a_finished_output_is_published_whole_and_nothing_is_left_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FolderTarget(out, "ds", KEY) as target:
        for part in PARTS:
            write_part(target, part)
        assert not out.exists()  # nothing visible until published
        finish(target)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        MANIFEST, "t/part-00000.csv", "t/part-00001.csv", "t/part-00002.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder, no lock, no journal


def test_an_error_a_retry_cannot_fix_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(UsageError), FolderTarget(tmp_path / "out", "ds", KEY) as target:
        write_part(target, PARTS[0])
        raise UsageError("bad option")
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_output_keeps_its_journal_and_resumes_what_is_intact(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt), FolderTarget(out, "ds", KEY) as target:
        kept = [write_part(target, part) for part in PARTS[:2]]
        (target.folder / "t" / "part-00002.csv.tmp").write_bytes(b"cut short")
        raise KeyboardInterrupt
    assert target.kept and not out.exists() and (target.folder / JOURNAL).is_dir()
    (target.folder / "t" / "part-00001.csv").write_bytes(b"tampered")  # no longer what the journal says
    with FolderTarget(out, "ds", KEY, resume=True) as resumed:
        assert resumed.resumed
        found = resumed.completed(PARTS)
        assert found == {PARTS[0].key: kept[0]}  # the tampered part and the unjournaled one are redone
        left = sorted(p.name for p in (resumed.folder / "t").iterdir())
        assert left == ["part-00000.csv"]  # the tampered file and the cut-short one are removed
        for part in PARTS[1:]:
            write_part(resumed, part)
        finish(resumed)
    assert (out / "t" / "part-00001.csv").read_bytes() == b"rowst.00001"


def test_a_resume_with_other_options_is_refused_and_without_resume_it_starts_over(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt), FolderTarget(out, "ds", KEY) as target:
        write_part(target, PARTS[0])
        raise KeyboardInterrupt
    with pytest.raises(OutputError, match="started with other options"), \
            FolderTarget(out, "ds", {**KEY, "seed": 2}, resume=True):
        pass
    with FolderTarget(out, "ds", KEY) as fresh:
        assert not fresh.resumed and fresh.completed(PARTS) == {}
        assert not (fresh.folder / "t").exists()
        finish(fresh)


def test_one_writer_per_destination(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FolderTarget(out, "ds", KEY) as first:
        with pytest.raises(OutputError, match="another process is writing to"), \
                FolderTarget(out, "ds", KEY):
            pass
        finish(first)
    with FolderTarget(out, "ds", KEY) as again:  # the lock was let go
        finish(again)


def test_a_folder_holding_other_data_is_never_touched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(OutputError, match="holds no ESDH output"), FolderTarget(out, "ds", KEY):
        pass
    assert (out / "mine.txt").read_text() == "keep me" and [p.name for p in out.iterdir()] == ["mine.txt"]


def test_publish_replaces_an_earlier_output_and_restores_it_if_the_swap_fails(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = tmp_path / "out", tmp_path / ".staged"
    old.mkdir()
    (old / "v").write_text("1")
    new.mkdir()
    (new / "v").write_text("2")
    real_rename = __import__("os").rename

    def failing(src: object, dst: object) -> None:
        if Path(str(src)) == new:
            raise OSError("disk went away")
        real_rename(src, dst)

    monkeypatch.setattr("esdh.output.folder.os.rename", failing)
    with pytest.raises(OSError):
        publish(new, old)
    assert (old / "v").read_text() == "1"  # the earlier output is back in place
    monkeypatch.undo()
    new.mkdir()
    (new / "v").write_text("2")
    publish(new, old)
    assert (old / "v").read_text() == "2" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_text_file_is_written_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "drift.json"
    write_text(report, "old")
    monkeypatch.setattr("esdh.output.folder.os.replace", lambda *_: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        write_text(report, "new")
    assert report.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["drift.json"]


def test_a_run_folder_is_never_published_over_another(tmp_path: Path) -> None:
    staging, final = tmp_path / ".staged", tmp_path / "1.0.0"
    staging.mkdir()
    final.mkdir()  # empty: a plain rename would silently take its place
    with pytest.raises(OutputError, match="appeared while it was written"):
        publish_new(staging, final)
    assert staging.is_dir() and not any(final.iterdir())


@pytest.mark.parametrize("where", ["file/out", "file/deeper/out"])
def test_a_destination_under_a_file_is_one_clear_error(tmp_path: Path, where: str) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OutputError, match=r"cannot write to .*: .*file is not a folder"), \
            FolderTarget(tmp_path / where, "ds", KEY):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
