"""`corpus pull`: exactly the files a run's manifest lists, verified, resumable.

A file already at its place with the manifest's sha256 is skipped; anything
else is fetched to a temp file, hashed, and only moved into place when the
hash matches, so DEST never holds a wrong file under a shard's name. A file
that still hashes wrong after `attempts` fetches is reported, and the pull
fails. The manifest is written to DEST last, like the run itself.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from corpus.manifest import MANIFEST, manifest_bytes
from corpus.publish import file_sha256, read_manifest
from corpus.storage import LocalStorage, Storage, open_storage

ATTEMPTS = 3


@dataclass
class PullResult:
    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes_fetched: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


def pull(
    uri: str,
    dest: str | Path,
    langs: list[str] | None = None,
    workers: int = 8,
    tokenized: bool = False,
    progress: bool = True,
    attempts: int = ATTEMPTS,
) -> PullResult:
    """Download the manifest's shards (of `langs`, or all; plus `tokenized/` when asked) into `dest`."""
    source = open_storage(uri)
    manifest = read_manifest(source)
    entries = manifest["shards"] + (manifest.get("tokenized", []) if tokenized else [])
    if langs:
        entries = [e for e in entries if e["lang"] in langs]
    dest = Path(dest)
    result = PullResult()
    lock = threading.Lock()
    bar = tqdm(total=sum(e["bytes"] for e in entries), unit="B", unit_scale=True, desc="pull", disable=not progress)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for entry, outcome, n in pool.map(lambda e: _fetch_verified(source, e, dest, attempts), entries):
            with lock:
                bar.update(entry["bytes"])
                if outcome == "skipped":
                    result.skipped.append(entry["path"])
                elif outcome == "fetched":
                    result.fetched.append(entry["path"])
                else:
                    result.failed[entry["path"]] = outcome
                result.bytes_fetched += n
    bar.close()
    if result.ok:
        LocalStorage(dest).write_bytes(MANIFEST, manifest_bytes(manifest))
    return result


def _fetch_verified(source: Storage, entry: dict, dest: Path, attempts: int) -> tuple[dict, str, int]:
    """("skipped" | "fetched" | why it failed, bytes downloaded) for one manifest entry."""
    target = dest / entry["path"]
    if target.is_file() and file_sha256(target) == entry["sha256"]:
        return entry, "skipped", 0
    part = target.with_name(f".{target.name}.pull")
    fetched, got = 0, None
    try:
        for _ in range(attempts):
            source.download_file(entry["path"], part)
            fetched += part.stat().st_size
            got = file_sha256(part)
            if got == entry["sha256"]:
                os.replace(part, target)
                return entry, "fetched", fetched
    except Exception as exc:  # noqa: BLE001 - reported for this file; the pull fails
        return entry, f"download failed: {type(exc).__name__}: {exc}", fetched
    finally:
        part.unlink(missing_ok=True)
    return entry, f"sha256 {got} after {attempts} fetches, manifest says {entry['sha256']}", fetched
