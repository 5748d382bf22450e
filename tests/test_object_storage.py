"""Object storage destinations: every engine writes its partitions straight into an S3-compatible store (a real
moto server process, reached over HTTP like any S3 endpoint), with the same bytes as a local run; finished
outputs are never written over; interrupted runs resume; the checks read the parts from the store."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from esdh import library
from esdh.checks.results import CheckFailed
from esdh.cli.main import cli
from esdh.errors import OutputError, UsageError
from esdh.output import partition
from esdh.output.checksum import sha256_file

s3fs = pytest.importorskip("s3fs", reason="needs the s3 extra")
pytest.importorskip("moto.server", reason="needs moto[s3] and flask (the test extra)")

PERSONS = 150_000  # three partitions of 65,536 rows
PART = 65_536
FORMATS = ["parquet", "csv"]
BUCKET = "esdh-test"
VOLATILE = {"lineage_events.json"}  # the one file with times and a run id
CREDENTIALS = {"key": "testing", "secret": "testing"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto S3 server in its own process, answering on a free port."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto server did not start on {url}")
                time.sleep(0.1)
        yield url
    finally:
        server.kill()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def options(endpoint: str) -> dict[str, Any]:
    """Storage options for the server; 5 MiB upload blocks (S3's smallest part) so that the larger CSV parts
    are sent as multipart uploads."""
    found = {"endpoint_url": endpoint, **CREDENTIALS, "default_block_size": 5 * 2**20}
    s3fs.S3FileSystem(**found).mkdir(BUCKET)
    return found


def stored(options: dict[str, Any], url: str, volatile: bool = False) -> dict[str, bytes]:
    """Every object under a URL's prefix, by key relative to it."""
    fs = s3fs.S3FileSystem(**options, use_listings_cache=False)
    root = url.removeprefix("s3://")
    return {key[len(root) + 1:]: fs.cat_file(key) for key in sorted(fs.find(root))
            if volatile or key.rsplit("/", 1)[-1] not in VOLATILE}


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in VOLATILE}


def generate(url: str, options: dict[str, Any], **extra: Any) -> library.Result:
    return library.generate("insurance", url, rows={"persons": PERSONS}, formats=FORMATS, part_rows=PART,
                            storage_options=options, **extra)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> library.Result:
    out = tmp_path_factory.mktemp("local") / "out"
    return library.generate("insurance", out, rows={"persons": PERSONS}, formats=FORMATS, part_rows=PART)


@pytest.mark.parametrize("engine", ["local", "processes", "dask"])
def test_every_engine_writes_a_local_runs_bytes_into_the_store(engine: str, options: dict[str, Any],
                                                               local_run: library.Result) -> None:
    url = f"s3://{BUCKET}/{engine}/insurance"
    result = generate(url, options, engine=engine, workers=2)
    objects = stored(options, url)
    assert objects == files_of(local_run.folder)
    assert result.folder == url and not result.resumed
    assert all(isinstance(f, str) and f.startswith(url + "/") for f in result.files)
    # the checks ran over the parts in the store, with the same findings as over local files
    assert [c.as_dict() for c in result.checks] == [c.as_dict() for c in local_run.checks]
    # the manifest lists every part with the sha256 and size of the stored object
    manifest = json.loads(objects["datapackage.json"])
    listed = [part for resource in manifest["resources"] for part in resource.get("esdh:parts", [])]
    assert {p["path"] for p in listed} == {k for k in objects if "/part-" in k}
    for part in listed:
        assert part["hash"] == "sha256:" + _sha256(objects[part["path"]])
        assert part["bytes"] == len(objects[part["path"]])
    assert "lineage_events.json" in stored(options, url, volatile=True)  # written, and no journal left
    assert not any(k.startswith(".esdh-journal") for k in stored(options, url, volatile=True))


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_a_finished_output_or_other_data_is_refused_and_untouched(options: dict[str, Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"s3://{BUCKET}/finished/insurance"
    library.generate("insurance", url, rows={"persons": 50}, storage_options=options)
    before = stored(options, url, volatile=True)
    with pytest.raises(OutputError, match=r"finished output .*no atomic replace.*choose a new prefix"):
        library.generate("insurance", url, rows={"persons": 50}, storage_options=options)
    # the command line: credentials and endpoint from the environment, as usual for s3fs; exit code 3
    monkeypatch.setenv("AWS_ENDPOINT_URL", options["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["secret"])
    result = CliRunner().invoke(cli, ["generate", "insurance", "--rows", "persons=50", "--out", url, "-q"])
    assert result.exit_code == 3 and "no atomic replace" in result.output
    assert stored(options, url, volatile=True) == before
    other = f"s3://{BUCKET}/other"
    s3fs.S3FileSystem(**options).pipe(f"{BUCKET}/other/notes.txt", b"not ESDH's")
    result = CliRunner().invoke(cli, ["generate", "insurance", "--rows", "persons=50", "--out", other, "-q"])
    assert result.exit_code == 3 and "holds other data" in result.output
    assert stored(options, other) == {"notes.txt": b"not ESDH's"}


def test_the_command_line_writes_to_a_store(options: dict[str, Any], tmp_path: Path) -> None:
    url = f"s3://{BUCKET}/cli/insurance"
    args = ["generate", "insurance", "--rows", "persons=300", "--format", "parquet,csv", "--out", url, "-q",
            "--storage-option", f"endpoint_url={options['endpoint_url']}", "--storage-option", "key=testing",
            "--storage-option", "secret=testing", "--storage-option", "default_block_size=5242880"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"-> {url}" in result.output and f"manifest: {url}/datapackage.json" in result.output
    local = library.generate("insurance", tmp_path / "o", rows={"persons": 300}, formats=["parquet", "csv"])
    assert stored(options, url) == files_of(local.folder)


def test_an_interrupted_run_resumes_to_the_same_bytes(options: dict[str, Any], local_run: library.Result,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"s3://{BUCKET}/resumed/insurance"
    real, written = partition.write_partition, []

    def failing(plan: Any, part: Any, job: Any, progress: Any = None) -> Any:
        if part.key == "vehicles.00001":
            def lost(table: str, rows: int) -> None:  # after the partition's first chunk went out
                raise RuntimeError("the machine went away")

            return real(plan, part, job, lost)
        return real(plan, part, job, progress)

    monkeypatch.setattr(partition, "write_partition", failing)
    with pytest.raises(RuntimeError, match="went away"):
        generate(url, options)
    kept = stored(options, url)
    assert sorted(k for k in kept if not k.startswith(".esdh-journal/")) == [
        *(f"persons/part-0000{i}.{ext}" for i in range(3) for ext in ("csv", "parquet")),
        "vehicles/part-00000.csv", "vehicles/part-00000.parquet"]  # the aborted uploads left nothing
    assert ".esdh-journal/run.json" in kept and "datapackage.json" not in kept
    fs = s3fs.S3FileSystem(**options)
    assert fs.list_multipart_uploads(BUCKET) == []  # the lost partition's CSV upload (multipart) was aborted
    fs.pipe(f"{BUCKET}/resumed/insurance/persons/part-00000.csv", b"tampered")  # must be written again
    fs.pipe(f"{BUCKET}/resumed/insurance/claims/part-00007.csv", b"stray")  # must go

    def counting(plan: Any, part: Any, job: Any, progress: Any = None) -> Any:
        written.append(part.key)
        return real(plan, part, job, progress)

    monkeypatch.setattr(partition, "write_partition", counting)
    result = generate(url, options, resume=True)
    assert result.resumed
    assert "persons.00000" in written and not {"persons.00001", "persons.00002", "vehicles.00000"} & set(written)
    assert stored(options, url) == files_of(local_run.folder)
    assert not any(k.startswith(".esdh-journal") for k in stored(options, url, volatile=True))


def test_failed_checks_are_reported_and_nothing_is_published(options: dict[str, Any]) -> None:
    text = ("dataset: broken\nseed: 5\nas_of: 2026-01-01\ntables:\n  t:\n    rows: 70000\n    columns:\n"
            "      n: {generator: uniform_int, min: 1, max: 9}\n    rules:\n      - name: small\n"
            "        check: n < 5\n")
    url = f"s3://{BUCKET}/broken/out"
    with pytest.raises(CheckFailed, match="rule:small"):
        library.generate(text, url, part_rows=PART, storage_options=options)
    assert stored(options, url, volatile=True) == {}  # no manifest, and nothing else either


def test_a_file_url_follows_the_object_store_rules(tmp_path: Path) -> None:
    url = (tmp_path / "out").as_uri()
    result = library.generate("insurance", url, rows={"persons": 300}, formats=["parquet", "ndjson", "json"])
    local = library.generate("insurance", tmp_path / "local", rows={"persons": 300},
                             formats=["parquet", "ndjson", "json"])
    assert result.folder == url and files_of(tmp_path / "out") == files_of(local.folder)
    manifest = json.loads((tmp_path / "out" / "datapackage.json").read_text())
    assert all(r["hash"] == "sha256:" + sha256_file(tmp_path / "out" / r["path"]) for r in manifest["resources"])
    with pytest.raises(OutputError, match="finished output"):
        library.generate("insurance", url, rows={"persons": 300})


def test_storage_options_are_for_urls_and_unknown_protocols_are_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="storage options are for object store URLs"):
        library.generate("insurance", tmp_path / "o", rows={"persons": 10}, storage_options={"anon": True})
    with pytest.raises(UsageError, match="nosuchprotocol://x/y"):
        library.generate("insurance", "nosuchprotocol://x/y", rows={"persons": 10})
    assert not (tmp_path / "o").exists()


def test_an_unfinished_run_is_started_over_without_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, real = (tmp_path / "out").as_uri(), partition.write_partition

    def failing(plan: Any, part: Any, job: Any, progress: Any = None) -> Any:
        if part.key == "policies.00000":
            raise RuntimeError("interrupted")
        return real(plan, part, job, progress)

    monkeypatch.setattr(partition, "write_partition", failing)
    with pytest.raises(RuntimeError):
        library.generate("insurance", url, rows={"persons": 300})
    monkeypatch.undo()
    assert (tmp_path / "out" / ".esdh-journal" / "run.json").is_file()
    with pytest.raises(OutputError, match="started with other options"):
        library.generate("insurance", url, rows={"persons": 301}, resume=True)
    result = library.generate("insurance", url, rows={"persons": 300})  # no --resume: start over
    assert not result.resumed
    local = library.generate("insurance", tmp_path / "local", rows={"persons": 300})
    assert files_of(tmp_path / "out") == files_of(local.folder)
    assert not (tmp_path / "out" / ".esdh-journal").exists()
