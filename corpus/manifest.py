"""manifest.json: the run's table of contents, written last.

Its presence means the run is complete. It is a pure function of the inputs and
config (no wall-clock time inside), so a rerun writes the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from corpus.shards import ShardEntry

MANIFEST = "manifest.json"
FORMAT = 1


def build_manifest(
    run_id: str, created: str | None, config_sha256: str, tokenizer: dict[str, Any] | None, shards: list[ShardEntry]
) -> dict[str, Any]:
    """`created` is the newest fetch time among the run's documents: the data's date."""
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
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
