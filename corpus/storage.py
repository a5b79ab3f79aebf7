"""Where runs read and write: a local folder or an `s3://bucket/prefix`.

Every write is atomic from a reader's point of view (temp file then rename
locally; a single PUT or completed multipart upload on S3), which is what lets
the resume ledger trust that a file that exists is whole.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, Protocol


class Storage(Protocol):
    """A root (folder or bucket prefix) holding relative paths with '/' separators."""

    uri: str

    def write_bytes(self, rel: str, data: bytes) -> None: ...
    def upload_file(self, rel: str, local_path: str | Path) -> None: ...
    def read_bytes(self, rel: str) -> bytes: ...
    def download_file(self, rel: str, local_path: str | Path) -> None: ...
    def exists(self, rel: str) -> bool: ...
    def list(self, prefix: str = "") -> list[str]: ...
    def delete(self, rel: str) -> None: ...
    def url(self, rel: str) -> str: ...


def open_storage(uri: str) -> Storage:
    """Storage for a local path or an s3:// URI."""
    if uri.startswith("s3://"):
        from corpus.s3 import S3Storage

        return S3Storage(uri)
    return LocalStorage(uri)


class LocalStorage:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.uri = str(self.root)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def url(self, rel: str) -> str:
        return str(self.path(rel))

    def write_bytes(self, rel: str, data: bytes) -> None:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def upload_file(self, rel: str, local_path: str | Path) -> None:
        target = self.path(rel)
        if Path(local_path).resolve() == target:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        try:
            shutil.copyfile(local_path, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read_bytes(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    def download_file(self, rel: str, local_path: str | Path) -> None:
        Path(local_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path(rel), local_path)

    def exists(self, rel: str) -> bool:
        return self.path(rel).is_file()

    def list(self, prefix: str = "") -> list[str]:
        base = self.path(prefix) if prefix else self.root
        if base.is_file():
            return [prefix]
        if not base.is_dir():
            return []
        return sorted(
            str(p.relative_to(self.root)).replace(os.sep, "/")
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    def delete(self, rel: str) -> None:
        self.path(rel).unlink(missing_ok=True)

    def walk(self) -> Iterator[Path]:
        yield from self.root.rglob("*")


def open_input(uri: str):
    """A readable binary stream over an input file, local or s3://."""
    if uri.startswith("s3://"):
        from corpus.s3 import open_s3_object

        return open_s3_object(uri)
    return open(uri, "rb")


def expand_inputs(patterns: list[str]) -> list[str]:
    """Input URIs for path globs and s3:// prefixes or globs, sorted, without repeats.

    A pattern that matches nothing is kept as is, so the reader reports it as a
    missing file instead of the run silently processing less.
    """
    import glob

    found: set[str] = set()
    for pattern in patterns:
        if pattern.startswith("s3://"):
            from corpus.s3 import expand_s3

            matches = expand_s3(pattern)
        else:
            matches = [str(Path(p).resolve()) for p in glob.glob(os.path.expanduser(pattern), recursive=True)]
            matches = [m for m in matches if Path(m).is_file()] if matches else []
        found.update(matches or [pattern])
    return sorted(found)
