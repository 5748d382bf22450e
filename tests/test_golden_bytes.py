"""Golden bytes: every built-in dataset, at two seeds and two chunkings, gives exactly the bytes recorded in
tests/fixtures/golden_bytes.json. Recorded before the issue-12 redesign so that moving code between
packages provably changes no byte of any output.

Text files (CSV, NDJSON, JSON, the data dictionary, the lineage file) are compared always. Parquet files and
the manifest (which records Parquet checksums and library versions) are compared when the recorded library
versions are the ones installed: a newer pyarrow may write other (equally valid) Parquet bytes.

Re-record (only for a deliberate change of output, which then belongs in the CHANGELOG):
    ESDH_RECORD_GOLDEN=1 python -m pytest tests/test_golden_bytes.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from esdh import library
from esdh.packs import pack_names

GOLDEN = Path(__file__).parent / "fixtures" / "golden_bytes.json"
FORMATS = ["parquet", "csv", "ndjson", "json"]
# small but whole: every table of every pack, a few hundred to a few thousand rows each
SCALES = {"tpch": 0.001, "retail": 0.1}  # retail: inventory needs 100 products
DEFAULT_SCALE = 0.02
# (chunk size, part rows): the defaults, and small chunks with part files
CHUNKINGS = {"default": {}, "small": {"chunk_size": 777, "part_rows": 65_536}}
SEEDS = (None, 7)  # the spec's own seed, and another
# one case big enough to be cut into part files under --part-rows 65536
PARTED = ("finance_transactions", {"scale": 0.15, "chunk_size": 4099, "part_rows": 65_536})
VERSIONED = ("parquet",)  # files whose bytes depend on the writer library's version


def _versions(manifest: dict[str, Any]) -> dict[str, str]:
    return manifest["esdh"]["versions"]


def _case_digests(folder: Path) -> dict[str, Any]:
    """sha256 of every file of an output (the OpenLineage run events are run metadata, not output)."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative == "lineage_events.json":
            continue
        files[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    return {"files": files, "versions": _versions(manifest)}


def _cases() -> list[tuple[str, str, int | None, dict[str, Any]]]:
    cases = []
    for pack in pack_names():
        for seed in SEEDS:
            for chunking, options in CHUNKINGS.items():
                opts = {"scale": SCALES.get(pack, DEFAULT_SCALE), **options}
                cases.append((f"{pack}/seed={seed}/{chunking}", pack, seed, opts))
    cases.append((f"{PARTED[0]}/seed=None/parted", PARTED[0], None, PARTED[1]))
    return cases


CASES = _cases()


def _generate(tmp_path: Path, pack: str, seed: int | None, options: dict[str, Any]) -> dict[str, Any]:
    result = library.generate(pack, tmp_path / "out", formats=FORMATS, seed=seed, **options)
    return _case_digests(Path(result.folder))


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    if os.environ.get("ESDH_RECORD_GOLDEN"):
        return {}
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("name", "pack", "seed", "options"), CASES, ids=[c[0] for c in CASES])
def test_output_bytes_equal_the_recorded_ones(tmp_path: Path, golden: dict[str, Any], name: str, pack: str,
                                             seed: int | None, options: dict[str, Any]) -> None:
    digests = _generate(tmp_path, pack, seed, options)
    if os.environ.get("ESDH_RECORD_GOLDEN"):
        recorded = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
        recorded[name] = digests
        GOLDEN.write_text(json.dumps(dict(sorted(recorded.items())), indent=1) + "\n", encoding="utf-8")
        return
    expected = golden[name]
    same_writers = expected["versions"] == digests["versions"]
    assert sorted(digests["files"]) == sorted(expected["files"]), "the output holds other files"
    for path, sha in expected["files"].items():
        if not same_writers and (path.endswith(VERSIONED) or path == "datapackage.json"):
            continue
        assert digests["files"][path] == sha, f"{name}: {path} changed"


def test_every_built_in_dataset_is_recorded(golden: dict[str, Any]) -> None:
    if os.environ.get("ESDH_RECORD_GOLDEN"):
        pytest.skip("recording")
    assert {name.split("/")[0] for name in golden} == set(pack_names())
    assert len(golden) == len(CASES)
