"""The one way a local file is written whole: a temp file beside it, then a rename.

Local storage, the S3 download path and every other local writer (the
portfolio page) go through `atomic_file`, so no reader ever sees a file
half-written and a failed write leaves no temp file behind. On S3 the same
guarantee comes from a single PUT (or a completed multipart upload), in the
S3 backend. Its own module, importing nothing of corpus.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_file(target: Path, exclusive: bool = False, suffix: str = ".tmp") -> Iterator[Path]:
    """A new temp path beside `target` (its folder made) to fill; when the block ends
    without error the temp file becomes `target`, whole.

    Renamed over `target`, or with `exclusive` hard-linked to it: link(), like
    O_EXCL, raises FileExistsError when the name exists, and unlike O_EXCL no
    reader ever sees the file half-written. Either way the temp file is gone
    afterwards, and `target` is untouched when the block fails.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temp_beside(target, suffix)
    try:
        yield tmp
        if exclusive:
            os.link(tmp, target)
        else:
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(target: Path, data: bytes, exclusive: bool = False) -> None:
    """`target` holds `data` whole, or (an error raised) is as it was; `exclusive`
    as for `atomic_file`, with the bytes on disk before the name appears."""
    with atomic_file(target, exclusive) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
            if exclusive:
                handle.flush()
                os.fsync(handle.fileno())


def _new_temp_beside(target: Path, suffix: str) -> Path:
    """A new, empty, hidden file beside `target`.

    Created like any new file (mode 0666 less the umask), not with mkstemp's
    0600, so what is renamed into place can be read as the user's umask says;
    later writes through `open(..., "wb")` keep that mode.
    """
    while True:
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}{suffix}"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
