"""Atomic publish: a run's output counts as complete only once its manifest exists.

Shards and every other file go up first; `manifest.json` goes last and only if
no manifest is there yet (`If-None-Match: *` on S3, an exclusive hard link
locally). So:
- an interrupted run never looks complete: no manifest, nothing for a trainer;
- rerunning the same run finds its own manifest and changes nothing;
- a different run aimed at a prefix that already holds a complete manifest is
  refused before it writes anything, and the manifest stays as it was, even
  when two writers race for the same prefix.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from corpus.layout import LISTED, MANIFEST
from corpus.manifest import manifest_bytes, read_manifest
from corpus.storage import Storage


class PublishRefused(RuntimeError):
    """The output belongs to another run (its complete manifest, or its claim while
    it runs): a usage error, since the fix is another output or removing that run."""


def published_run(out: Storage, run_id: str) -> dict[str, Any] | None:
    """The manifest when `out` already holds this run complete, None when it holds none.

    Raises PublishRefused when it holds another run: call this before writing
    anything, so a refused run cannot touch the published shards.
    """
    if not out.exists(MANIFEST):
        return None
    existing = read_manifest(out)
    if existing.get("run_id") != run_id:
        raise PublishRefused(_refusal(out, existing, run_id))
    return existing


def publish_manifest(out: Storage, manifest: dict[str, Any]) -> bool:
    """Write the manifest last and only if absent. True if written, False if this run was already there.

    Every file the manifest lists must exist first; a missing one is an error
    (the manifest would lie).
    """
    missing = [e["path"] for e in _listed(manifest) if not out.exists(e["path"])]
    if missing:
        raise FileNotFoundError(f"not publishing {out.uri}: listed files are missing: {', '.join(missing[:5])}")
    try:
        out.create_exclusive(MANIFEST, manifest_bytes(manifest))
        return True
    except FileExistsError:
        published_run(out, manifest["run_id"])
        return False


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB pieces: how manifests name their files' content."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _listed(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for kind in LISTED for entry in manifest.get(kind, [])]


def _refusal(out: Storage, existing: dict[str, Any], run_id: str) -> str:
    return (
        f"{out.uri} already holds the complete run {existing.get('run_id')} "
        f"(config {str(existing.get('config_sha256'))[:12]}); this run is {run_id}. "
        "Published runs are never overwritten: choose a new output prefix, or delete the old run first."
    )
