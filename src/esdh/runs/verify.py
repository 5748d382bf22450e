"""Verify an output folder against its manifest: every listed file present, of its size and sha256, and
nothing else in the folder but the manifest itself and the run's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esdh.errors import EsdhError, OutputError
from esdh.output.checksum import sha256_file
from esdh.output.datapackage import read_manifest
from esdh.output.folder import MANIFEST

UNLISTED = {MANIFEST, "lineage_events.json"}  # the manifest cannot list itself; events hold times and a run id


@dataclass
class Verification:
    folder: Path
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.extra)

    def as_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "ok": self.ok, "checked": self.checked, "missing": self.missing,
                "changed": self.changed, "extra": self.extra}


def listed_files(manifest: dict[str, Any]) -> dict[str, tuple[int | None, str | None]]:
    """Every file the manifest lists: relative path -> (bytes, sha256 hex)."""
    files: dict[str, tuple[int | None, str | None]] = {}
    for resource in manifest.get("resources", []):
        parts = resource.get("esdh:parts")
        if parts:
            for part in parts:
                files[part["path"]] = (part.get("bytes"), _hex(part.get("hash")))
        elif isinstance(resource.get("path"), str):
            files[resource["path"]] = (resource.get("bytes"), _hex(resource.get("hash")))
    return files


def _hex(digest: str | None) -> str | None:
    return digest.split(":", 1)[1] if digest and digest.startswith("sha256:") else digest


def verify_folder(folder: Path) -> Verification:
    """Recompute every checksum the folder's manifest records; collect every difference."""
    folder = Path(folder).resolve()
    manifest = read_manifest(folder)
    report = Verification(folder)
    listed = listed_files(manifest)
    for relative, (size, digest) in sorted(listed.items()):
        path = folder / relative
        if not path.is_file():
            report.missing.append(relative)
            continue
        report.checked += 1
        actual_size = path.stat().st_size
        actual = sha256_file(path)
        if (digest is not None and actual != digest) or (size is not None and actual_size != size):
            report.changed.append({"path": relative, "expected_sha256": digest, "found_sha256": actual,
                                   "expected_bytes": size, "found_bytes": actual_size})
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    report.extra = sorted(present - set(listed) - UNLISTED)
    return report


def verify_run(run: str | Path, registry_root: Path | str) -> Verification:
    """Verify an output folder, or a run of the registry (``DATASET/VERSION``, ``DATASET`` for its latest, or
    its folder). A registered run's manifest is also checked against the sha256 the registry recorded when
    the run was published, so a manifest edited to match edited data is caught too."""
    from esdh.runs.registry import Registry

    registry = Registry(registry_root)
    path = Path(run)
    record = None
    if registry.path.exists():
        try:
            record = registry.resolve(run)
        except EsdhError:
            if not path.is_dir():
                raise
    elif not path.is_dir():
        raise OutputError(f"{run} is neither a folder nor a run of a registry ({registry.path} does not exist; "
                          "give --registry)")
    if record is None:
        return verify_folder(path)
    folder = registry.folder_of(record)
    report = verify_folder(folder)
    found = sha256_file(folder / MANIFEST)
    if record.manifest_sha256 and found != record.manifest_sha256:
        report.changed.insert(0, {"path": MANIFEST, "expected_sha256": record.manifest_sha256, "found_sha256": found,
                                  "expected_bytes": None, "found_bytes": (folder / MANIFEST).stat().st_size})
    return report
