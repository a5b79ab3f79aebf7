"""Temp files beside their target, for writes that a rename makes atomic.

Its own module, importing nothing of corpus, so local storage and the S3
download path share it without importing each other.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def open_temp_beside(target: Path, suffix: str = ".tmp") -> tuple[int, Path]:
    """A new, hidden file beside `target` for writing, then renaming into place.

    Created like any new file (mode 0666 less the umask), not with mkstemp's
    0600, so what is renamed into place can be read as the user's umask says.
    """
    while True:
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
