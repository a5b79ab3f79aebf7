"""Where runs read and write, and where inputs come from: one seam over every store.

A URI's scheme picks its backend from a registry: a plain path or `file://`
is the local filesystem, `s3://BUCKET/PREFIX` is S3 (or any S3-compatible
store, endpoint from `AWS_ENDPOINT_URL`). A scheme nothing is registered for
is refused (`UnknownScheme`) naming the ones that are. Nothing outside this
package tests a URI's scheme itself: it asks `is_local`, or lets the backend
answer (tests/test_storage_seam.py keeps it so).

Every write through a `Storage` is whole or absent to a reader (temp file then
rename locally, `corpus.storage.atomic`; one PUT on S3), which is what lets
the resume ledger trust that a file that exists is complete. The S3 backend
(and boto3) is imported only when an `s3://` URI is first used.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO, Callable

from corpus.storage.base import Backend, Storage, UnknownScheme
from corpus.storage.local import LocalBackend, LocalStorage, path_of

__all__ = [
    "Storage", "LocalStorage", "UnknownScheme", "open_storage", "open_input", "input_identity", "read_range",
    "expand", "expand_inputs", "is_local", "local_path", "SCHEMES",
]  # fmt: skip

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def open_storage(uri: str) -> Storage:
    """The storage rooted at a local path or URI (a run's output, an index, a mixture)."""
    return backend_for(uri).open_storage(uri)


def open_input(uri: str) -> BinaryIO:
    """A readable binary stream over one input file (seekable on every backend)."""
    return backend_for(uri).open_input(uri)


def input_identity(uri: str) -> dict[str, object]:
    """What tells one version of an input file from another: size, and the
    modification time (local) or ETag (S3); `size` None when it does not exist."""
    return backend_for(uri).input_identity(uri)


def read_range(uri: str, start: int, end: int) -> bytes:
    """Bytes [start, end) of one file (fewer when it is shorter); FileNotFoundError when it is not there."""
    return backend_for(uri).read_range(uri, start, end)


def expand(pattern: str) -> list[str]:
    """The files a path glob, or the objects an s3:// prefix or glob, matches; empty when none."""
    return backend_for(pattern).expand(pattern)


def expand_inputs(patterns: list[str]) -> list[str]:
    """Input URIs for path globs and s3:// prefixes or globs, sorted, without repeats.

    A pattern that matches nothing is kept as is, so the reader reports it as a
    missing file instead of the run silently processing less.
    """
    found: set[str] = set()
    for pattern in patterns:
        found.update(expand(pattern) or [pattern])
    return sorted(found)


def is_local(uri: str) -> bool:
    """True when `uri` names a file or folder on this machine (a path or `file://`)."""
    return backend_for(uri).local


def local_path(uri: str) -> Path:
    """The filesystem path of a local URI (`~` expanded); ValueError for any other."""
    if not is_local(uri):
        raise ValueError(f"{uri} is not on this machine's filesystem: expected a path or file:// URI")
    return path_of(uri)


def backend_for(uri: str) -> Backend:
    """The backend of `uri`'s scheme (no scheme: a local path)."""
    match = _SCHEME.match(uri)
    scheme = match.group(1) if match else ""
    if scheme not in _backends:
        if scheme not in SCHEMES:
            known = ", ".join(f"{s}://" for s in sorted(SCHEMES) if s)
            raise UnknownScheme(
                f"{uri}: no storage is registered for {scheme}:// URIs; use a local path or one of {known}"
            )
        _backends[scheme] = SCHEMES[scheme]()
    return _backends[scheme]


def _s3_backend() -> Backend:
    from corpus.storage.s3 import S3Backend  # boto3 loads only when an s3:// URI is used

    return S3Backend()


# The registry: scheme ("" for a plain path) -> what makes its backend, called on first use.
# A new store is one backend module (see base.Backend) and one line here.
SCHEMES: dict[str, Callable[[], Backend]] = {"": LocalBackend, "file": LocalBackend, "s3": _s3_backend}
_backends: dict[str, Backend] = {}
