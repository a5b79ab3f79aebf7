"""Where runs read and write: a local folder or an `s3://bucket/prefix`.

Every write is atomic from a reader's point of view (temp file then rename
locally; a single PUT or completed multipart upload on S3), which is what lets
the resume ledger trust that a file that exists is whole. `create_exclusive`
adds create-only writes (the output's claim, the manifest). Local files get
the mode the umask gives (0644 under 022), so teammates on a shared
filesystem can read a run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator, Protocol

from corpus.atomic import open_temp_beside


class Storage(Protocol):
    """A root (folder or bucket prefix) holding relative paths with '/' separators."""

    uri: str

    def write_bytes(self, rel: str, data: bytes) -> None: ...
    def create_exclusive(self, rel: str, data: bytes) -> None: ...
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
        tmp = _temp_with(target, data)
        try:
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def create_exclusive(self, rel: str, data: bytes) -> None:
        """Create `rel` whole, or raise FileExistsError if something is already there.

        The bytes go to a temp file that is then hard-linked to `rel`: link(),
        like O_EXCL, fails when the name exists, and unlike O_EXCL no reader
        ever sees the file half-written.
        """
        target = self.path(rel)
        tmp = _temp_with(target, data, sync=True)
        try:
            os.link(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def upload_file(self, rel: str, local_path: str | Path) -> None:
        target = self.path(rel)
        if Path(local_path).resolve() == target:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = open_temp_beside(target)
        os.close(fd)
        try:
            shutil.copyfile(local_path, tmp)  # keeps the temp file's mode
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
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


def _temp_with(target: Path, data: bytes, sync: bool = False) -> Path:
    """A temp file beside `target` (its folder made) holding `data`; the caller renames or links it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = open_temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def input_identity(uri: str) -> dict[str, object]:
    """What tells one version of an input file from another: size, and the
    modification time (local) or ETag (S3); `size` None when it does not exist."""
    if uri.startswith("s3://"):
        from corpus.s3 import head_object, parse_s3_uri

        head = head_object(*parse_s3_uri(uri))
        if head is None:
            return {"size": None}
        return {"size": int(head["ContentLength"]), "etag": head.get("ETag")}
    try:
        stat = os.stat(uri)
    except OSError:
        return {"size": None}
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


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
