"""An object store prefix (``s3://bucket/prefix/insurance``) as the target of an output: the store's
counterpart of :class:`esdh.output.target_folder.FolderTarget`.

An object store has no rename, so a finished output cannot be replaced atomically and an output cannot
be written aside and moved into place. Instead:

- the destination must be new or hold an unfinished ESDH output (its journal, no manifest); a finished
  output or any other data is refused before anything is written;
- parts are written straight to their final keys (an object appears only once its upload is complete);
- the journal lives under ``<prefix>/.esdh-journal/``, as in a local working folder, so ``--resume``
  works the same way: every journaled part is read back and checked (size, sha256), every other object
  under the prefix is deleted and written again;
- the metadata files are built in a local temporary folder and uploaded at the end; the journal is then
  deleted and ``datapackage.json`` uploaded last: its presence is what marks the output finished.

There is no lock: a store offers none that every file system shares, so one writer per prefix is the
user's responsibility.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from esdh.errors import EsdhError, OutputError
from esdh.output.folder import MANIFEST
from esdh.output.journal import JOURNAL, RUN_KEY, resumes
from esdh.output.partition import PartResult
from esdh.output.storage import Store
from esdh.plan.partitions import Part

NO_REPLACE = ("object storage has no atomic replace, so ESDH never writes over an output; choose a new "
              "prefix, e.g. one per version")


def check_store_destination(store: Store, names: list[str]) -> None:
    """Refuse a prefix that holds a finished output or anything but an unfinished ESDH output."""
    if MANIFEST in names:
        raise OutputError(f"{store.url} already holds a finished output ({MANIFEST}); {NO_REPLACE}")
    if names and not any(name.startswith(JOURNAL + "/") for name in names):
        raise OutputError(f"{store.url} holds other data (no ESDH journal, e.g. {store.url_of(names[0])}); "
                          f"{NO_REPLACE} (or, if a generation was interrupted while publishing, delete the prefix "
                          "first)")


class StoreTarget:
    """The output's parts and journal in the store, its metadata in a local temporary folder (``folder``)."""

    def __init__(self, store: Store, dataset: str, key: dict[str, Any], resume: bool = False):
        self.store = store
        self.dataset = dataset
        self.key = key
        self.resume = resume
        self.destination = store.url
        self.folder = Path()  # the local metadata folder, made on entering
        self.resumed = False
        self.kept = False
        self._made = False

    def __enter__(self) -> StoreTarget:
        names = self.store.list()
        check_store_destination(self.store, names)
        self._prepare(names)
        self.folder, self._made = Path(tempfile.mkdtemp(prefix="esdh-metadata-")), True
        return self

    def _prepare(self, names: list[str]) -> None:
        if names:  # an unfinished output (check_store_destination allows nothing else)
            if resumes(self.resume, self._recorded_key(), self.key, self.store.url):
                self.resumed = True
                return
            self.store.delete(names)
        self.store.write_bytes(f"{JOURNAL}/{RUN_KEY}", json.dumps(self.key, sort_keys=True).encode())

    def _recorded_key(self) -> dict[str, Any] | None:
        data = self.store.read_bytes(f"{JOURNAL}/{RUN_KEY}")
        try:
            return json.loads(data) if data is not None else None
        except ValueError:
            return None

    def completed(self, parts: list[Part]) -> dict[str, PartResult]:
        """The journal's partitions among ``parts`` whose objects are all present and unchanged. Every other
        object under the prefix (but the journal) is deleted: it will be written again."""
        if not self.resumed:
            return {}
        found = self._verified(parts)
        keep = {entry["path"] for result in found.values() for entry in result.files.values()}
        self.store.delete([name for name in self.store.list()
                           if not name.startswith(JOURNAL + "/") and name not in keep])
        return found

    def _verified(self, parts: list[Part]) -> dict[str, PartResult]:
        found = {}
        for part in parts:
            data = self.store.read_bytes(f"{JOURNAL}/{part.key}.json")
            try:
                result = PartResult.from_dict(json.loads(data)) if data is not None else None
            except (ValueError, KeyError, TypeError):
                result = None
            if result is not None and all(self._intact(entry) for entry in result.files.values()):
                found[part.key] = result
        return found

    def _intact(self, entry: dict[str, Any]) -> bool:
        intact: bool = (self.store.size(entry["path"]) == entry["bytes"]
                        and self.store.sha256(entry["path"]) == entry["sha256"])
        return intact

    def record(self, part: Part, result: PartResult) -> None:
        # an object is replaced whole when its upload completes: no temporary name needed
        self.store.write_bytes(f"{JOURNAL}/{part.key}.json", json.dumps(result.as_dict()).encode())

    def finish(self) -> None:
        """Nothing yet: the journal is kept until the metadata is uploaded, so that a generation interrupted
        while publishing can still be resumed; it is deleted just before the manifest (see :meth:`_publish`)."""

    def located(self, relative: str) -> str:
        """Where a file of the output is, once published."""
        return self.store.url_of(relative)

    def _publish(self) -> None:
        """Upload the metadata files, delete the journal, upload the manifest: last, as it marks the output
        finished (a reader that waits for it never sees a journal or a missing file)."""
        files = sorted(p for p in self.folder.rglob("*") if p.is_file())
        for path in files:
            if path.name != MANIFEST:
                self.store.upload(path, path.relative_to(self.folder).as_posix())
        self.store.delete_folder(JOURNAL)
        self.store.upload(self.folder / MANIFEST, MANIFEST)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc is None:
                self._publish()
            elif isinstance(exc, EsdhError):  # retrying cannot fix it: leave nothing behind
                self.store.delete(self.store.list())
            else:
                self.kept = True
        finally:
            if self._made:
                shutil.rmtree(self.folder, ignore_errors=True)
