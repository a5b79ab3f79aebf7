"""Runs made by hand: a manifest listing whatever a test needs, for what `pull` must do with it."""

from __future__ import annotations

import hashlib
import json

from corpus.storage import open_storage


def publish_fake_run(uri: str, files: dict[str, bytes], paths: list[str] | None = None) -> None:
    """A run at `uri` whose manifest lists `paths` (default: the files' own), each with the bytes of `files`."""
    store = open_storage(uri)
    for rel, data in files.items():
        store.write_bytes(rel, data)
    listed = paths or list(files)
    data = list(files.values())
    shards = [
        {"path": path, "lang": "ko", "docs": 1, "tokens": 1, "bytes": len(d), "sha256": hashlib.sha256(d).hexdigest()}
        for path, d in zip(listed, data)
    ]
    manifest = {"format": 1, "run_id": "made-by-hand", "languages": {"ko": {"docs": 1, "tokens": 1, "bytes": 1}}, "shards": shards}
    store.write_bytes("manifest.json", json.dumps(manifest).encode())
