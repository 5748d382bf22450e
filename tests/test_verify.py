"""`esdh verify`: every checksum of an output folder recomputed; missing, changed and extra files reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli


@pytest.fixture()
def output(tmp_path: Path) -> Path:
    # persons in three part files, so that parts are verified one by one
    return library.generate("insurance", tmp_path / "out", rows={"persons": 140_000}, formats=["parquet", "csv"],
                            part_rows=65_536).folder


def verify(folder: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["verify", str(folder)])
    return result.exit_code, result.output


def test_an_untouched_output_verifies(output: Path) -> None:
    code, text = verify(output)
    files = [p for p in output.rglob("*") if p.is_file() and p.name not in ("datapackage.json", "lineage_events.json")]
    assert code == 0 and text.strip() == f"ok: {len(files)} files verified in {output}"


def test_a_changed_byte_a_deleted_and_an_added_file_are_each_reported(output: Path) -> None:
    part = output / "persons" / "part-00001.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01
    part.write_bytes(bytes(data))
    (output / "schema_metadata.json").unlink()
    (output / "persons" / "notes.txt").write_text("hello")
    code, text = verify(output)
    assert code == 1
    lines = text.strip().splitlines()
    assert lines[0] == "missing: schema_metadata.json"
    assert lines[1].startswith("changed: persons/part-00001.parquet (sha256 ")
    assert lines[2] == "extra: persons/notes.txt (not in the manifest)"
    assert lines[3] == f"FAILED: 3 problem(s) in {output}"
    report = json.loads(CliRunner().invoke(cli, ["verify", str(output), "--json"]).output)
    assert (report["ok"], report["missing"]) == (False, ["schema_metadata.json"])
    assert report["extra"] == ["persons/notes.txt"]
    assert [c["path"] for c in report["changed"]] == ["persons/part-00001.parquet"]


def test_a_folder_without_a_manifest_is_not_an_output(tmp_path: Path) -> None:
    code, text = verify(tmp_path)
    assert code == 3 and "has no datapackage.json: it is not an ESDH output" in text
