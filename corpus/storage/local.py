"""The local backend: a folder as run storage, files and globs as inputs.

Paths come plain or as `file://` URIs. Writes go through `atomic_file` (temp
then rename; a hard link for create-only writes). Local files get the mode the
umask gives (0644 under 022), so teammates on a shared filesystem can read a run.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import BinaryIO

from corpus.storage.atomic import atomic_file, write_atomic

FILE_SCHEME = "file://"


class LocalStorage:
    """A folder holding a run; relative paths use '/' like every other storage."""

    def __init__(self, root: str | Path) -> None:
        self.root = path_of(str(root)).resolve()
        self.uri = str(self.root)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def url(self, rel: str) -> str:
        return str(self.path(rel))

    def checked_url(self, rel: str) -> str:
        """The URL of `rel`, refused when a symlink leads it outside the root."""
        resolved = self.path(rel).resolve()
        if not resolved.is_relative_to(self.root):
            raise ValueError(
                f"{self.url(rel)} leads through a symlink to {resolved}, outside the run at {self.uri}: "
                "refusing to read it"
            )
        return self.url(rel)

    def write_bytes(self, rel: str, data: bytes) -> None:
        write_atomic(self.path(rel), data)

    def create_exclusive(self, rel: str, data: bytes) -> None:
        """Create `rel` whole, or raise FileExistsError if something is already there."""
        write_atomic(self.path(rel), data, exclusive=True)

    def upload_file(self, rel: str, local_path: str | Path) -> None:
        target = self.path(rel)
        if Path(local_path).resolve() == target:
            return
        with atomic_file(target) as tmp:
            shutil.copyfile(local_path, tmp)  # keeps the temp file's mode

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


class LocalBackend:
    """Paths and `file://` URIs on this machine."""

    local = True

    def open_storage(self, uri: str) -> LocalStorage:
        return LocalStorage(uri)

    def open_input(self, uri: str) -> BinaryIO:
        return open(path_of(uri), "rb")

    def input_identity(self, uri: str) -> dict[str, object]:
        try:
            stat = os.stat(path_of(uri))
        except OSError:
            return {"size": None}
        return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}

    def expand(self, pattern: str) -> list[str]:
        """Resolved paths of the files a glob (recursive `**` included) matches."""
        found = glob.glob(os.path.expanduser(pattern.removeprefix(FILE_SCHEME)), recursive=True)
        matches = [str(Path(p).resolve()) for p in found]
        return [m for m in matches if Path(m).is_file()]

    def read_range(self, uri: str, start: int, end: int) -> bytes:
        with open(path_of(uri), "rb") as handle:
            handle.seek(start)
            return handle.read(end - start)


def path_of(uri: str) -> Path:
    """The path a plain path or `file://` URI names (`~` expanded, not resolved)."""
    return Path(uri.removeprefix(FILE_SCHEME)).expanduser()
