"""manifest.json: the run's table of contents, written last.

Its presence means the run is complete. It is a pure function of the inputs and
config (no wall-clock time inside), so a rerun writes the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from corpus.layout import MANIFEST
from corpus.shard_entry import ShardEntry
from corpus.storage import Storage

FORMAT = 1


def read_manifest(out: Storage) -> dict[str, Any]:
    """The manifest of the complete run at `out`; FileNotFoundError when the run is not complete."""
    if not out.exists(MANIFEST):
        raise FileNotFoundError(
            f"no {MANIFEST} at {out.uri}: the run there is not complete (or the URI is wrong)"
        )
    try:
        return json.loads(out.read_bytes(MANIFEST))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{out.url(MANIFEST)} is not valid JSON: {exc}") from None


def build_manifest(
    run_id: str,
    created: str | None,
    config_sha256: str,
    tokenizer: dict[str, Any] | None,
    shards: list[ShardEntry],
    removed: list[ShardEntry] = (),
) -> dict[str, Any]:
    """`created` is the newest fetch time among the run's documents: the data's date.

    `removed` lists the parts of `removed/` (what the filters removed, for audit
    and `corpus recut`) apart from the shards: the language totals and a plain
    `corpus pull` count only the shards.
    """
    languages: dict[str, dict[str, int]] = {}
    for shard in shards:
        totals = languages.setdefault(shard.lang, {"docs": 0, "tokens": 0, "bytes": 0})
        totals["docs"] += shard.docs
        totals["tokens"] += shard.tokens
        totals["bytes"] += shard.bytes
    return {
        "format": FORMAT,
        "run_id": run_id,
        "created": created,
        "config_sha256": config_sha256,
        "tokenizer": tokenizer,
        "languages": {lang: languages[lang] for lang in sorted(languages)},
        "shards": [s.to_dict() for s in shards],
        "removed": [s.to_dict() for s in removed],
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()


def checked_path(path: object, where: str) -> str:
    """`path` if it names a file inside the run, else ValueError naming the entry `where`.

    Manifests may come from anyone who can write to a bucket, and readers join
    their paths onto a destination folder or a run's prefix. Only plain relative
    '/' paths are accepted, so no entry can reach outside either: no absolute
    path, no '..' (or '.' or empty) segment, no backslash, no ':' (drive letters,
    alternate streams), no control characters.
    """
    problem = None
    if not isinstance(path, str) or not path:
        problem = "it is empty or not a string"
    elif path.startswith("/"):
        problem = "it is absolute"
    elif "\\" in path or ":" in path:
        problem = "it holds a backslash or ':' (a Windows path or drive letter)"
    elif any(ord(c) < 32 for c in path):
        problem = "it holds a control character"
    elif any(part in ("", ".", "..") for part in path.split("/")):
        problem = "it has an empty, '.' or '..' segment"
    if problem:
        raise ValueError(
            f"manifest entry {where} has path {path!r}, which is refused because {problem}: "
            "a manifest lists files inside the run by relative '/' paths. Nothing was read or written "
            "for this manifest; do not trust the run it came from."
        )
    return path
