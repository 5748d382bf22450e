"""`esdh verify` against tampering: every class of change to an output or a registered run is a finding
(exit 1, one line each), nothing outside the run is ever opened, nothing crashes; copying a run elsewhere
or touching its mtimes still verifies."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli
from esdh.library.generated_run import run_generated
from esdh.runs import verify as verify_module
from esdh.runs.registry import Registry
from esdh.runs.run import make_writable
from esdh.runs.verify import verify_folder, verify_run

SHOP_ROWS = {"customers": 300}


@pytest.fixture
def output(small_spec: Path, tmp_path: Path) -> Path:
    return library.generate(small_spec, tmp_path / "plain" / "out", rows=SHOP_ROWS).folder


@pytest.fixture
def registered(small_spec: Path, tmp_path: Path) -> tuple[Registry, Path]:
    registry = Registry(tmp_path / "runs")
    folder = run_generated(small_spec, registry, rows=SHOP_ROWS, command="test").folder
    make_writable(folder)  # to tamper with it
    return registry, folder


def cli_verify(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["verify", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output.strip().splitlines()


def edit_manifest(folder: Path, change: Any) -> None:
    path = folder / "datapackage.json"
    manifest = json.loads(path.read_text())
    result = change(manifest)
    path.write_text(json.dumps(manifest if result is None else result))


def failed(lines: list[str], count: int) -> bool:
    return lines[-1].startswith(f"FAILED: {count} problem(s) in ")


def forge_data_and_manifest(folder: Path) -> None:
    """Change a data file and make the manifest agree with it: what only a digest kept apart can catch."""
    data = folder / "customers.parquet"
    data.write_bytes(data.read_bytes() + b"forged")
    size, sha = verify_module.hash_regular(data)

    def forge(manifest: dict[str, Any]) -> None:
        manifest["resources"][0].update(bytes=size, hash=f"sha256:{sha}")

    edit_manifest(folder, forge)


# -- links and special files --------------------------------------------------------------------------------


def test_a_fifo_is_a_finding_and_is_never_opened(output: Path) -> None:
    os.mkfifo(output / "fifo")
    (output / "schema_metadata.json").unlink()
    os.mkfifo(output / "schema_metadata.json")  # a listed name: opening it would block
    code, lines = cli_verify(str(output))
    assert code == 1
    assert "special file: fifo (a FIFO; not opened)" in lines
    assert "special file: schema_metadata.json (a FIFO; not opened)" in lines
    assert failed(lines, 2)


def test_a_symlinked_file_is_a_finding_even_with_the_right_bytes(output: Path, tmp_path: Path) -> None:
    data = output / "customers.parquet"
    shutil.copy(data, tmp_path / "elsewhere.parquet")
    data.unlink()
    data.symlink_to(tmp_path / "elsewhere.parquet")
    code, lines = cli_verify(str(output))
    assert code == 1 and lines[0] == "link: customers.parquet (a symbolic link; not followed)" and failed(lines, 1)


def test_a_symlinked_folder_is_a_finding_and_is_not_followed(output: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (output / "linked").symlink_to(outside, target_is_directory=True)
    report = verify_folder(output)
    assert not report.ok and report.problems == ["link: linked (a symbolic link; not followed)"]
    assert report.extra == []  # its content was never listed: the link was not followed


def test_an_extra_empty_folder_is_a_finding(output: Path) -> None:
    (output / "empty" / "deeper").mkdir(parents=True)
    code, lines = cli_verify(str(output))
    assert code == 1
    assert lines[:2] == ["extra: empty/ (not in the manifest)", "extra: empty/deeper/ (not in the manifest)"]


# -- paths confined to the run ------------------------------------------------------------------------------


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file verify opens."""
    found: list[Path] = []
    for name in ("hash_regular", "read_regular"):
        original = getattr(verify_module, name)

        def spy(path: Path, original: Any = original) -> Any:
            found.append(Path(path))
            return original(path)

        monkeypatch.setattr(verify_module, name, spy)
    return found


@pytest.mark.parametrize(("path", "reason"), [
    ("../../secret.txt", "climbs out of the run (..)"),
    ("/etc/hostname", "absolute"),
    ("customers\\..\\..\\..\\secret.txt", "holds a backslash"),
    ("customers.parquet\x00.txt", "holds a NUL"),
    ("./customers.parquet", "not a plain relative path"),
])
def test_a_path_outside_the_run_is_a_finding_and_is_never_opened(output: Path, opened: list[Path], path: str,
                                                                 reason: str) -> None:
    secret = output.parent.parent / "secret.txt"  # what ../../secret.txt names: it exists
    secret.write_text("secret")

    def point(manifest: dict[str, Any]) -> None:
        manifest["resources"][0]["path"] = path

    edit_manifest(output, point)
    report = verify_folder(output)
    assert f"unsafe path: {json.dumps(path)} in the manifest ({reason}; not opened)" in report.problems
    assert not report.ok and opened and all(p.resolve().is_relative_to(output) for p in opened)
    assert report.extra == ["customers.parquet"]  # what the resource used to list is now undeclared


# -- a malformed manifest -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "malformed manifest: datapackage.json is not JSON"),
    ("[1, 2]", "malformed manifest: datapackage.json is a JSON list, not an object"),
    ('{"resources": {"a": 1}}', "malformed manifest: resources is a dict, not a list"),
    ('{"resources": [7]}', "malformed manifest: resource 0 is not an object"),
    ('{"resources": [{"name": "x", "path": 3}]}', "malformed manifest: resource 0 has no usable path (3)"),
    ('{"resources": [{"name": "x", "esdh:parts": "p"}]}',
     "malformed manifest: resource 0's esdh:parts is not a list of parts"),
    ('{"resources": [{"path": "customers.parquet"}]}', "malformed manifest: customers.parquet has no sha256 hash"),
])
def test_a_malformed_manifest_is_a_finding_not_a_crash(output: Path, text: str, message: str) -> None:
    (output / "datapackage.json").write_text(text)
    code, lines = cli_verify(str(output))
    assert code == 1 and any(line.startswith(message) for line in lines), lines
    assert lines[-1].startswith("FAILED: ")


def test_lineage_events_of_a_plain_output_must_be_openlineage_events(output: Path) -> None:
    events = output / "lineage_events.json"
    assert json.loads(events.read_text())  # what generate wrote passes
    events.write_text('{"edited": true}')
    code, lines = cli_verify(str(output))
    assert code == 1 and "malformed lineage: lineage_events.json is not a list of OpenLineage events" in lines


# -- the manifest's digest ----------------------------------------------------------------------------------


def test_generate_prints_the_manifests_digest_and_verify_digest_checks_it(small_spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["generate", str(small_spec), "--out", str(out), "--rows", "customers=300",
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    found = re.search(r"^  manifest: (.+)/datapackage\.json \((sha256:[0-9a-f]{64})\)$", result.output, re.M)
    assert found and Path(found[1]) == out.resolve()
    digest = found[2]
    assert cli_verify(str(out), "--digest", digest)[0] == 0
    assert library.verify(out, digest=digest).ok
    # data and manifest forged together: only the digest kept apart catches it
    forge_data_and_manifest(out)
    assert cli_verify(str(out))[0] == 0
    code, lines = cli_verify(str(out), "--digest", digest)
    assert code == 1 and lines[0].startswith("digest: datapackage.json has sha256 ") and failed(lines, 1)
    code, lines = cli_verify(str(out), "--digest", "sha256:nope")
    assert code != 0 and code != 1 and "is not a sha256 digest" in "\n".join(lines)


# -- a registered run against its registry row ---------------------------------------------------------------


def update_row(registry: Registry, **values: Any) -> None:
    with sqlite3.connect(registry.path) as con:
        assignments = ", ".join(f"{name} = ?" for name in values)
        con.execute(f"UPDATE runs SET {assignments} WHERE dataset = 'shop'", list(values.values()))
    con.close()


def test_an_untouched_registered_run_verifies(registered: tuple[Registry, Path]) -> None:
    registry, folder = registered
    record = registry.get("shop", "1.0.0")
    assert set(record.meta_files or {}) == {"run.json", "lineage_events.json"} and record.record_sha256
    assert cli_verify("shop/1.0.0", "--registry", str(registry.root))[0] == 0
    assert verify_run(folder, registry.root).ok


def test_an_edited_run_json_is_caught(registered: tuple[Registry, Path]) -> None:
    registry, _ = registered
    run_json = registry.root / "shop" / ".meta" / "1.0.0" / "run.json"
    run_json.write_text(run_json.read_text().replace('"command": "test"', '"command": "edited"'))
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1 and lines[0].startswith("changed: shop/.meta/1.0.0/run.json (sha256 ") and failed(lines, 1)


def test_edited_or_added_lineage_events_are_caught(registered: tuple[Registry, Path]) -> None:
    registry, folder = registered
    events = registry.root / "shop" / ".meta" / "1.0.0" / "lineage_events.json"
    events.write_text(events.read_text().replace("COMPLETE", "FAIL"))
    shutil.copy(events, folder / "lineage_events.json")  # in a registered run's folder it is undeclared
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1
    assert "extra: lineage_events.json (not in the manifest)" in lines
    assert any(line.startswith("changed: shop/.meta/1.0.0/lineage_events.json (sha256 ") for line in lines)


def test_an_edited_registry_checksum_is_caught(registered: tuple[Registry, Path]) -> None:
    registry, _ = registered
    files = dict(registry.get("shop", "1.0.0").files)
    files["customers.parquet"] = "0" * 64
    update_row(registry, files=json.dumps(files, sort_keys=True))
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1
    assert any(line.startswith(f"registry: customers.parquet has sha256 {'0' * 64} in the registry, ")
               for line in lines)
    assert "registry: the row of shop/1.0.0 does not match the digest recorded in it (edited after publication)" \
        in lines


def test_an_edited_registry_row_count_is_caught(registered: tuple[Registry, Path]) -> None:
    registry, _ = registered
    counts = dict(registry.get("shop", "1.0.0").row_counts)
    counts["customers"] += 1
    update_row(registry, row_counts=json.dumps(counts))
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1 and any(line.startswith("registry: row counts ") for line in lines)


def test_a_row_recomputed_with_its_digest_is_still_caught_by_the_manifest(registered: tuple[Registry, Path]) -> None:
    registry, _ = registered
    record = registry.get("shop", "1.0.0")
    record.row_counts["customers"] += 1
    from esdh.runs.registry import record_digest

    update_row(registry, row_counts=json.dumps(record.row_counts), record_sha256=record_digest(record.as_dict()))
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1 and any(line.startswith("registry: row counts ") for line in lines) and failed(lines, 1)


def test_data_and_manifest_forged_together_on_a_registered_run_are_caught(registered: tuple[Registry, Path]) -> None:
    registry, folder = registered
    forge_data_and_manifest(folder)
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1 and lines[0].startswith("changed: datapackage.json (sha256 ")
    assert any(line.startswith("registry: customers.parquet has sha256 ") for line in lines)


def test_a_registry_that_is_not_a_database_is_a_finding(registered: tuple[Registry, Path]) -> None:
    registry, folder = registered
    for suffix in ("", "-wal", "-shm"):
        Path(f"{registry.path}{suffix}").unlink(missing_ok=True)
    registry.path.write_bytes(b"garbage, not a SQLite database" * 100)
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1 and lines[0].startswith("malformed registry: ") and failed(lines, 1)
    code, lines = cli_verify(str(folder), "--registry", str(registry.root))  # its folder: verified, and the finding
    assert code == 1 and lines[0].startswith("malformed registry: ") and failed(lines, 1)


def test_a_registry_row_naming_a_folder_outside_is_not_followed(registered: tuple[Registry, Path],
                                                               opened: list[Path]) -> None:
    registry, _ = registered
    update_row(registry, folder="../../elsewhere")
    report = verify_run("shop/1.0.0", registry.root)
    assert not report.ok
    assert report.problems[0].startswith('registry: the run\'s folder is recorded as "../../elsewhere"')
    assert opened == []


# -- negative controls --------------------------------------------------------------------------------------


def test_a_copy_of_an_output_or_a_run_elsewhere_verifies(output: Path, registered: tuple[Registry, Path],
                                                          tmp_path: Path) -> None:
    _, folder = registered
    shutil.copytree(output, tmp_path / "copy-of-output")
    subprocess.run(["cp", "-r", str(folder), str(tmp_path / "copy-of-run")], check=True)
    code, lines = cli_verify(str(tmp_path / "copy-of-output"))
    assert code == 0 and lines[-1].startswith("ok: ")
    assert verify_folder(tmp_path / "copy-of-run").ok


def test_touched_mtimes_still_verify(output: Path, registered: tuple[Registry, Path]) -> None:
    registry, folder = registered
    for root in (output, folder, registry.root / "shop" / ".meta"):
        for path in [root, *root.rglob("*")]:
            os.utime(path, (1_000_000_000, 1_000_000_000))
    assert verify_folder(output).ok
    assert verify_run("shop/1.0.0", registry.root).ok


# -- more classes of tampering (the hostile corpus of issue 13) ---------------------------------------------


def test_a_hard_link_to_a_file_outside_the_run_is_a_finding(output: Path, tmp_path: Path) -> None:
    """Same inode, same bytes today: but whoever holds the other name can change the run's bytes later."""
    data = output / "customers.parquet"
    outside = tmp_path / "outside.parquet"
    os.link(data, outside)
    code, lines = cli_verify(str(output))
    assert code == 1
    assert lines[0] == "hard link: customers.parquet (2 names for its bytes; one may be outside the run)"
    assert failed(lines, 1)


def test_a_file_replaced_by_a_folder_of_its_name_is_a_finding(output: Path) -> None:
    (output / "customers.parquet").unlink()
    (output / "customers.parquet").mkdir()
    code, lines = cli_verify(str(output))
    assert code == 1 and lines == ["not a file: customers.parquet (a folder)", lines[-1]] and failed(lines, 1)


def test_a_resource_listed_twice_is_a_finding(output: Path) -> None:
    edit_manifest(output, lambda m: m["resources"].append(dict(m["resources"][0])))
    code, lines = cli_verify(str(output))
    assert code == 1 and "malformed manifest: customers.parquet is listed twice" in lines and failed(lines, 1)


@pytest.mark.parametrize(("path", "reason"), [
    ("http://example.com/customers.parquet", "a URL or a drive (NAME:)"),
    ("file:///etc/hostname", "a URL or a drive (NAME:)"),
    ("https:customers.parquet", "a URL or a drive (NAME:)"),
    ("C:/Windows/customers.parquet", "a URL or a drive (NAME:)"),
    ("customers/../../secret", "climbs out of the run (..)"),
])
def test_a_url_or_a_climbing_path_in_the_manifest_is_never_opened(output: Path, opened: list[Path], path: str,
                                                                  reason: str) -> None:
    edit_manifest(output, lambda m: m["resources"][0].update(path=path))
    code, lines = cli_verify(str(output))
    assert code == 1
    assert f"unsafe path: {json.dumps(path)} in the manifest ({reason}; not opened)" in lines
    assert all(p.name != "hostname" and "example" not in str(p) for p in opened)


def test_names_that_differ_only_in_unicode_normalisation_or_case_are_findings(output: Path) -> None:
    nfc, nfd = "caf\u00e9.bin", "cafe\u0301.bin"
    (output / nfd).write_bytes(b"data")
    size, sha = verify_module.hash_regular(output / nfd)
    edit_manifest(output, lambda m: m["resources"].append({"name": "cafe", "path": nfc, "bytes": size,
                                                           "hash": f"sha256:{sha}"}))
    (output / "customers.parquet").rename(output / "Customers.parquet")
    code, lines = cli_verify(str(output))
    assert code == 1
    assert {f"missing: {nfc}", f"extra: {nfd} (not in the manifest)", "missing: customers.parquet",
            "extra: Customers.parquet (not in the manifest)"} <= set(lines)
    assert failed(lines, 4)


def test_a_huge_manifest_is_refused_unread(output: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with (output / "datapackage.json").open("r+b") as handle:
        handle.truncate(100 * 2**20)  # 100 MB (sparse): never read
    code, lines = cli_verify(str(output))
    assert code == 1
    assert lines[0].startswith("malformed manifest: datapackage.json is 104,857,600 bytes, more than ")


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"resources": ' + "[" * 50_000 + "]" * 50_000 + "}",
                                  '{"a": ' * 100_000 + "1" + "}" * 100_000])
def test_a_deeply_nested_manifest_is_a_finding_not_a_recursion_error(output: Path, text: str) -> None:
    (output / "datapackage.json").write_text(text)
    code, lines = cli_verify(str(output))
    assert code == 1 and lines[0].startswith("malformed manifest: datapackage.json is not JSON") and failed(lines, 1)


def test_deeply_nested_lineage_events_are_a_finding(output: Path) -> None:
    (output / "lineage_events.json").write_text("[" * 100_000 + "]" * 100_000)
    code, lines = cli_verify(str(output))
    assert code == 1 and lines[0].startswith("malformed lineage: lineage_events.json is not JSON")


@pytest.mark.parametrize(("digest", "finding"), [
    ("sha256:" + "A" * 64, "malformed manifest: customers.parquet has a sha256 that is not 64 lowercase hex digits"),
    ("sha256:abc", "malformed manifest: customers.parquet has a sha256 that is not 64 lowercase hex digits"),
    ("sha256:", "malformed manifest: customers.parquet has a sha256 that is not 64 lowercase hex digits"),
    ("SHA256:" + "0" * 64, "malformed manifest: customers.parquet has no sha256 hash"),
    ("md5:" + "0" * 32, "malformed manifest: customers.parquet has no sha256 hash"),
    ("sha256:sha256:" + "0" * 64, "malformed manifest: customers.parquet has a sha256 that is not 64 lowercase hex "
                                  "digits"),
])
def test_a_hash_of_the_wrong_form_is_a_finding(output: Path, digest: str, finding: str) -> None:
    edit_manifest(output, lambda m: m["resources"][0].update(hash=digest))
    code, lines = cli_verify(str(output))
    assert code == 1 and finding in lines and failed(lines, 1)


@pytest.mark.parametrize(("size", "finding"), [
    (1, "changed: customers.parquet (1 bytes recorded, "),
    (-1, "changed: customers.parquet (-1 bytes recorded, "),
    (1.5, "malformed manifest: customers.parquet has a size that is not a number"),
    (True, "malformed manifest: customers.parquet has a size that is not a number"),
    ("12", "malformed manifest: customers.parquet has a size that is not a number"),
    (10**400, "changed: customers.parquet ("),
])
def test_a_wrong_byte_count_with_the_right_hash_is_a_finding(output: Path, size: object, finding: str) -> None:
    edit_manifest(output, lambda m: m["resources"][0].update(bytes=size))
    code, lines = cli_verify(str(output))
    assert code == 1 and any(line.startswith(finding) for line in lines) and failed(lines, 1)


def test_a_data_file_replaced_by_a_link_to_an_identical_copy_inside_the_run_is_a_finding(
        registered: tuple[Registry, Path]) -> None:
    registry, folder = registered
    data = folder / "customers.parquet"
    shutil.copy(data, folder / "reports" / "copy.parquet")
    data.unlink()
    data.symlink_to("reports/copy.parquet")
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1
    assert "link: customers.parquet (a symbolic link; not followed)" in lines
    assert "extra: reports/copy.parquet (not in the manifest)" in lines


def test_changed_permission_bits_are_not_a_finding(registered: tuple[Registry, Path]) -> None:
    """Permission bits are no part of what a run records (a copy of a run loses its read-only bits): a run
    made writable still verifies; what matters is that its bytes did not change."""
    registry, folder = registered
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o777)
    assert cli_verify("shop/1.0.0", "--registry", str(registry.root))[0] == 0


def test_a_registered_run_whose_folder_is_gone_is_a_finding(registered: tuple[Registry, Path]) -> None:
    registry, folder = registered
    shutil.rmtree(folder)
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1 and lines[0] == "missing: shop/1.0.0/ (the run's folder, recorded in the registry)"


def test_a_truncated_registry_is_a_finding(registered: tuple[Registry, Path]) -> None:
    registry, _ = registered
    for suffix in ("-wal", "-shm"):
        Path(f"{registry.path}{suffix}").unlink(missing_ok=True)
    data = registry.path.read_bytes()
    registry.path.write_bytes(data[: len(data) // 3])
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1 and lines[0].startswith(("malformed registry: ", "registry: ")) and lines[-1].startswith("FAILED")


def test_a_registry_of_a_newer_schema_is_a_finding(registered: tuple[Registry, Path]) -> None:
    registry, _ = registered
    with sqlite3.connect(registry.path) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert code == 1 and "newer ESDH (registry schema 99)" in lines[0] and lines[-1].startswith("FAILED")


def test_a_registry_with_a_wrong_table_is_a_finding(registered: tuple[Registry, Path]) -> None:
    registry, _ = registered
    with sqlite3.connect(registry.path) as con:
        con.execute("DROP TABLE runs")
        con.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, dataset TEXT, surprise BLOB)")
        con.execute("INSERT INTO runs VALUES (1, 'shop', x'00')")
    con.close()
    code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
    assert (code in (1, 2) and lines[-1].startswith(("FAILED", "error:"))) or lines[0].startswith("malformed registry")


def test_a_locked_registry_is_a_finding_soon(registered: tuple[Registry, Path]) -> None:
    registry, _ = registered
    holder = subprocess.Popen(["python", "-c", (
        "import sqlite3, sys, time\n"
        f"con = sqlite3.connect({str(registry.path)!r}, isolation_level=None)\n"
        "con.execute('PRAGMA locking_mode = EXCLUSIVE'); con.execute('BEGIN EXCLUSIVE')\n"
        "con.execute(\"UPDATE meta SET value = value WHERE key = 'schema_version'\")\n"
        "print('locked', flush=True); time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        code, lines = cli_verify("shop/1.0.0", "--registry", str(registry.root))
        assert time.monotonic() - started < 15
        assert code == 1 and lines[0].startswith("registry: ") and "locked" in lines[0]
    finally:
        holder.kill()
        holder.wait()
