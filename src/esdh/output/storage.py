"""Where output files go: a local folder, or a prefix in an object store given as an fsspec URL
(``s3://bucket/prefix/insurance``, ``gs://...``, ``file:///...``).

Object stores have no rename, so a file cannot be written aside and moved into place. They do not need
it: an object becomes visible only when its upload completes, so a part is written straight to its final
key. While it is written its bytes are counted and hashed on the way out, so its size and sha256 are
known without reading it back.

Everything a worker needs to reach a store is plain data (the URL and the storage options), so it crosses
process boundaries; each process opens its own file system. fsspec and the store's package (s3fs, ...)
are imported only when a URL is used.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from esdh.errors import EsdhError, MissingExtraError, UsageError
from esdh.output.checksum import sha256_file

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
BLOCK = 1 << 20  # bytes read at a time when hashing an object


def is_url(target: object) -> bool:
    """Whether an output destination is a URL (``s3://...``, ``file://...``) rather than a local path."""
    return isinstance(target, str) and bool(_URL.match(target))


class HashingWriter(io.RawIOBase):
    """A binary file that passes its bytes on to ``inner``, counting and hashing them (sha256)."""

    def __init__(self, inner: BinaryIO):
        super().__init__()
        self.inner = inner
        self.bytes = 0
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.inner.write(view)
        self.digest.update(view)
        self.bytes += view.nbytes
        return view.nbytes

    def tell(self) -> int:  # Parquet asks for its position to record page offsets
        return self.bytes


class Output(Protocol):
    """One file being written: ``target`` is what a writer writes to (a path or a binary file)."""

    @property
    def target(self) -> Path | io.RawIOBase: ...

    def commit(self) -> dict[str, Any]:
        """Make the file visible at its final name; its path (relative), bytes and sha256."""
        ...

    def abort(self) -> None:
        """Drop what was written; nothing becomes visible."""
        ...


class FileOutput:
    """A local file written under a temporary name and renamed into place, so that a file with the final
    name is always complete."""

    def __init__(self, folder: Path, relative: str):
        self.relative = relative
        self.path = folder / relative
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.target = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")

    def commit(self) -> dict[str, Any]:
        os.replace(self.target, self.path)
        return {"path": self.relative, "bytes": self.path.stat().st_size, "sha256": sha256_file(self.path)}

    def abort(self) -> None:
        self.target.unlink(missing_ok=True)


class ObjectOutput:
    """An object written straight to its final key; it appears only once :meth:`commit` completes it."""

    def __init__(self, store: Store, relative: str):
        self.relative = relative
        self._store = store
        self._handle = store.open_write(relative)
        self.target = HashingWriter(self._handle)

    def commit(self) -> dict[str, Any]:
        self._handle.close()  # completes the upload
        return {"path": self.relative, "bytes": self.target.bytes, "sha256": self.target.digest.hexdigest()}

    def abort(self) -> None:
        from fsspec.spec import AbstractBufferedFile

        if isinstance(self._handle, AbstractBufferedFile):
            try:
                self._handle.discard()  # aborts a multipart upload; what is still buffered was never sent
            finally:
                self._handle.closed = True  # closing it would upload the buffer
        else:  # a file system without uploads (file://): remove what was written
            self._handle.close()
            self._store.delete([self.relative])


def commit_all(outputs: dict[str, Output]) -> dict[str, dict[str, Any]]:
    """Commit each output in turn (its facts by key); if one fails, abort the ones not committed, or an
    upload left open would complete when its file object is collected."""
    committed: dict[str, dict[str, Any]] = {}
    try:
        for name, output in outputs.items():
            committed[name] = output.commit()
    except BaseException:
        for name, output in outputs.items():
            if name not in committed:
                output.abort()
        raise
    return committed


def open_output(folder: str, relative: str, storage_options: dict[str, Any] | None = None) -> Output:
    """A file ``relative`` to ``folder`` (a local path, or a URL with its storage options) to write."""
    if is_url(folder):
        return ObjectOutput(Store(folder, storage_options or {}), relative)
    return FileOutput(Path(folder), relative)


_FILE_SYSTEMS: dict[tuple[str, str], tuple[Any, str]] = {}


def _file_system(url: str, options: dict[str, Any]) -> tuple[Any, str]:
    """The fsspec file system of a URL and the URL's path in it, opened once per URL and options in each
    process (a worker reuses its connections from one partition to the next)."""
    token = (url, json.dumps(options, sort_keys=True, default=repr))
    if token not in _FILE_SYSTEMS:
        _FILE_SYSTEMS[token] = _open_file_system(url, options)
    return _FILE_SYSTEMS[token]


def _open_file_system(url: str, options: dict[str, Any]) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as exc:
        raise MissingExtraError("fsspec", "s3") from exc
    try:
        found: tuple[Any, str] = fsspec.core.url_to_fs(url, **options)  # fsspec has no type information
        return found
    except ImportError as exc:
        if url.split("://", 1)[0] in ("s3", "s3a"):
            raise MissingExtraError("s3fs", "s3") from exc
        raise EsdhError(f"cannot write to {url}: {exc}") from exc
    except (ValueError, TypeError) as exc:  # an unknown protocol, an unknown storage option
        raise UsageError(f"cannot write to {url}: {exc}") from exc


@dataclass
class Store:
    """A prefix in an object store: plain data (URL and storage options) with the operations an output needs.
    Paths given to and returned by its methods are relative to the prefix, with ``/`` separators."""

    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")

    @property
    def fs(self) -> Any:
        return _file_system(self.url, self.options)[0]

    @property
    def root(self) -> str:
        return _file_system(self.url, self.options)[1].rstrip("/")

    def key(self, relative: str) -> str:
        return f"{self.root}/{relative}" if relative else self.root

    def url_of(self, relative: str) -> str:
        return f"{self.url}/{relative}"

    def list(self) -> list[str]:
        """Every object under the prefix (relative; ``""`` for an object at the prefix itself)."""
        self.fs.invalidate_cache(self.root)  # workers wrote since the last listing: ask the store
        return sorted(key[len(self.root) + 1:] if key != self.root else "" for key in self.fs.find(self.root))

    def size(self, relative: str) -> int | None:
        try:
            return int(self.fs.info(self.key(relative))["size"])
        except FileNotFoundError:
            return None

    def sha256(self, relative: str) -> str:
        """The sha256 of a stored object, read back in blocks."""
        digest = hashlib.sha256()
        with self.fs.open(self.key(relative), "rb") as handle:
            for block in iter(lambda: handle.read(BLOCK), b""):
                digest.update(block)
        return digest.hexdigest()

    def read_bytes(self, relative: str) -> bytes | None:
        try:
            data: bytes = self.fs.cat_file(self.key(relative))
            return data
        except FileNotFoundError:
            return None

    def write_bytes(self, relative: str, data: bytes) -> None:
        with self.open_write(relative) as handle:
            handle.write(data)

    def upload(self, path: Path, relative: str) -> None:
        with path.open("rb") as source, self.open_write(relative) as handle:
            for block in iter(lambda: source.read(BLOCK), b""):
                handle.write(block)

    def open_write(self, relative: str) -> BinaryIO:
        """A binary file writing the object ``relative``; it is complete (and visible) once closed."""
        key = self.key(relative)
        try:
            handle: BinaryIO = self.fs.open(key, "wb")
        except FileNotFoundError:  # a file system with real folders (file://) needs the parent first
            self.fs.makedirs(self.fs._parent(key), exist_ok=True)
            handle = self.fs.open(key, "wb")
        return handle

    def delete(self, relatives: Iterable[str]) -> None:
        keys = [self.key(r) for r in relatives]
        if keys:
            self.fs.rm(keys)
        self.fs.invalidate_cache(self.root)

    def delete_folder(self, relative: str) -> None:
        """Every object under ``relative/`` (and the folder itself, on a file system that has folders)."""
        key = self.key(relative.rstrip("/"))
        if self.fs.exists(key):
            self.fs.rm(key, recursive=True)
        self.fs.invalidate_cache(self.root)
